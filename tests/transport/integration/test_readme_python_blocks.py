"""Every Python block of the README, as written, against the server under test.

The blocks are read from README.md (``readme_examples``) and each runs as a script of its
own in a fresh interpreter of this environment, with ``LMSTUDIO_BASE_URL`` at the server,
so that the README cannot show code that does not run. A block that prints a finish
reason last must print a natural one.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from readme_examples import Example, python_blocks
from realserver import ServerUnderTest

BLOCKS = python_blocks()
BLOCK_TIMEOUT_SECS = 110


def test_the_readme_shows_python_blocks() -> None:
    assert len(BLOCKS) >= 2


@pytest.mark.parametrize("block", BLOCKS, ids=lambda block: block.id)
def test_readme_python_block(block: Example, server: ServerUnderTest, tmp_path: Path) -> None:
    if block.names_standin_model and server.kind != "llama.cpp stand-in":
        pytest.skip("names the stand-in's chat model")
    if block.needs_lm_studio and not server.is_lmstudio:
        pytest.skip(f"{block.comment} (the server under test is the {server.kind})")
    script = tmp_path / f"readme_{block.line}.py"
    script.write_text(block.text)
    env = {
        **os.environ,
        "LMSTUDIO_BASE_URL": server.base_url,
        "LMSTUDIO_HTTP_TIMEOUT_SECS": "100",
    }

    done = subprocess.run(  # noqa: S603 (this environment's interpreter, the README's code)
        [sys.executable, str(script)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=BLOCK_TIMEOUT_SECS,
        check=False,
    )

    assert done.returncode == 0, f"README line {block.line}:\n{done.stdout}\n{done.stderr}"
    assert done.stdout.strip()
    if "finish_reason)" in block.text.splitlines()[-1]:
        assert done.stdout.splitlines()[-1] in {"stop", "tool_calls"}, done.stdout
