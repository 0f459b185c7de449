"""The LangChain examples of ``examples/`` run as the README says, against the server.

Each runs in a fresh interpreter of this environment with ``LMSTUDIO_BASE_URL`` at the
server under test. With nothing listening there, each fails with the error's message
and hint on stderr (exit code 1), not a chained traceback.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from lmstudio_provider.standin import free_port
from realserver import ServerUnderTest

EXAMPLES = Path(__file__).parents[3] / "examples"
SCRIPTS = sorted(path.name for path in EXAMPLES.glob("langchain_*.py"))
# The stand-in rejects `json_schema` output (the README's examples table says so).
NEEDS_LM_STUDIO = {"langchain_structured_output.py"}


def run_example(name: str, base_url: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "LMSTUDIO_BASE_URL": base_url, "LMSTUDIO_HTTP_TIMEOUT_SECS": "100"}
    return subprocess.run(  # noqa: S603 (this environment's interpreter, our own example)
        [sys.executable, str(EXAMPLES / name)],
        env=env,
        capture_output=True,
        text=True,
        timeout=110,
        check=False,
    )


def test_there_are_examples() -> None:
    assert len(SCRIPTS) >= 4


@pytest.mark.parametrize("name", SCRIPTS)
def test_the_example_runs(name: str, server: ServerUnderTest) -> None:
    if name in NEEDS_LM_STUDIO and not server.is_lmstudio:
        pytest.skip(f"needs LM Studio: the {server.kind} rejects json_schema output")

    done = run_example(name, server.base_url)

    assert done.returncode == 0, done.stderr
    assert done.stdout.strip()


@pytest.mark.parametrize("name", SCRIPTS)
def test_with_nothing_listening_the_example_says_so_in_one_message(name: str) -> None:
    base_url = f"http://127.0.0.1:{free_port()}"  # nothing listens there now

    done = run_example(name, base_url)

    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    assert done.stderr.startswith(f"LM Studio is not reachable at {base_url}"), done.stderr
    assert "\nHint: " in done.stderr
    assert len(done.stderr.splitlines()) == 2, done.stderr
