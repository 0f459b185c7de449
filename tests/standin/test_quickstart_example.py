"""The quick start (``examples/quickstart.py --standin``): the answer, its metrics, then
the stand-in's own messages, never one in the middle of the other.

stdout and stderr share one pipe here, as in a terminal or a CI log, where a block-buffered
stdout used to be written out after "Stand-in stopped.".
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

QUICKSTART = Path(__file__).parents[2] / "examples" / "quickstart.py"

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("llama_cpp") is None,
    reason="the stand-in is not installed (the `integration` dependency group)",
)


def test_the_stand_in_messages_come_after_the_answer_and_its_metrics() -> None:
    done = subprocess.run(  # noqa: S603 (this environment's interpreter, our own example)
        [sys.executable, str(QUICKSTART), "--standin", "Say hi in one sentence."],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=200,
        check=False,
    )

    lines = done.stdout.splitlines()
    assert done.returncode == 0, done.stdout
    assert lines[0].startswith("Starting the stand-in")
    assert lines[1].startswith("Stand-in ready at http://127.0.0.1:")
    assert "finish reason:       stop" in lines
    assert lines[-2].startswith("wall time:")
    assert lines[-1] == "Stand-in stopped."
