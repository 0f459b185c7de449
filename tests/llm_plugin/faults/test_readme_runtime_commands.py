"""The ``llm`` example of the README's "Model runtime" section, each command run as
written against a loopback LM Studio 0.4 (``tests/lmstudio_v1.py``) that has yet to
download the model."""

from __future__ import annotations

import shlex
from typing import TYPE_CHECKING

import pytest

from llm_fixtures import Invoke
from readme_examples import README, llm_commands

if TYPE_CHECKING:
    from fault_server import FaultServer
    from lmstudio_v1 import RuntimeState

QWEN = "qwen/qwen3-4b-2507"


def section_lines(title: str = "## Model runtime") -> range:
    """The README lines of a section."""
    lines = README.read_text(encoding="utf-8").splitlines()
    start = lines.index(title) + 1
    end = next((n for n in range(start, len(lines)) if lines[n].startswith("## ")), len(lines))
    return range(start + 1, end + 1)  # 1-based, as Example.line


def test_the_llm_example_runs(
    fault_server: FaultServer,
    lmstudio_v1: RuntimeState,
    llm_cli: Invoke,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from lmstudio_provider.transport import _sync_client

    commands = [example.text for example in llm_commands() if example.line in section_lines()]
    lmstudio_v1.entries = [e for e in lmstudio_v1.entries if e["key"] != QWEN]
    monkeypatch.setenv("LMSTUDIO_BASE_URL", fault_server.base_url)
    monkeypatch.setattr(_sync_client, "DOWNLOAD_POLL_SECS", 0.0)
    outputs = []

    for command in commands:
        program, *args = shlex.split(command)
        assert program == "llm"
        result = llm_cli(*args)
        assert result.exit_code == 0, (command, result.output)
        outputs.append(result.stdout)

    assert len(outputs) == 5
    assert outputs[0] == f"Downloaded {QWEN}.\n"
    assert outputs[1] == f"Loaded {QWEN} as {QWEN} in 2.5 s (context 16384 tokens; 32768 asked).\n"
    assert outputs[2].splitlines()[1].startswith(f"{QWEN}  {QWEN}  16384")
    assert outputs[3] == "Hi there\n"
    assert outputs[4] == f"Unloaded {QWEN}.\n"
