"""The streaming benchmark still runs, and every contender receives the whole answer.

A smoke test with a short stream: it asserts no timings (they belong in the
benchmark's report, not in the test suite), only that each contender completed.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).with_name("bench_streaming.py")


def test_every_contender_receives_every_chunk(tmp_path: Path) -> None:
    out = tmp_path / "bench.json"
    listed = subprocess.run(  # noqa: S603 (our own script, with our own interpreter)
        [sys.executable, str(BENCH), "--list"], capture_output=True, text=True, check=True
    )
    names = [line.split("  (", 1)[0] for line in listed.stdout.splitlines()]
    assert {"naive-httpx2", "lmstudio-provider sync", "lmstudio-provider async"} <= set(names)

    # The benchmark itself fails when a contender misses a chunk or a character.
    finished = subprocess.run(  # noqa: S603
        [sys.executable, str(BENCH), "--chunks", "300", "--repeat", "1", "--json", str(out)],
        capture_output=True,
        text=True,
        timeout=90,
        check=False,
    )
    assert finished.returncode == 0, finished.stderr
    report = json.loads(out.read_text(encoding="utf-8"))
    assert [entry["name"] for entry in report["results"]] == names
    assert all(len(entry["cpu_secs"]) == 1 for entry in report["results"])
    for name in names:
        assert f"| {name} |" in finished.stdout
