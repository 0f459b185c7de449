"""The start-up benchmark still runs: every scenario, every server state, no traceback.

A smoke test with one timed run per scenario: it asserts no timings (they belong in
the benchmark's report), only that each scenario ran and is reported.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).with_name("bench_startup.py")
STATES = ("refused", "black-holed", "silent", "trickling", "malformed", "500")


def test_every_scenario_runs_and_is_reported() -> None:
    finished = subprocess.run(  # noqa: S603 (our own script, with our own interpreter)
        [sys.executable, str(BENCH), "--repeat", "1", "--states"],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert finished.returncode == 0, finished.stderr  # a traceback in any run fails it
    rows = [line for line in finished.stdout.splitlines() if line.startswith("| `llm")]
    assert len(rows) == 4 + len(STATES)
    assert "| `llm --help, with plugin` |" in finished.stdout
    for state in STATES:
        assert f"| `llm models, server {state}` |" in finished.stdout
