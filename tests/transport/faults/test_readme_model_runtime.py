"""The Python example of the README's "Model runtime" section, run as written against
a loopback LM Studio 0.4 (``tests/lmstudio_v1.py``) that has yet to download the model."""

from __future__ import annotations

import contextlib
import io
from typing import TYPE_CHECKING

import pytest

from readme_examples import python_blocks

if TYPE_CHECKING:
    from fault_server import FaultServer
    from lmstudio_v1 import RuntimeState

QWEN = "qwen/qwen3-4b-2507"


def test_the_python_example_runs(
    fault_server: FaultServer, lmstudio_v1: RuntimeState, monkeypatch: pytest.MonkeyPatch
) -> None:
    from lmstudio_provider.transport import _sync_client

    [example] = [b.text for b in python_blocks() if "client.download_model(" in b.text]
    lmstudio_v1.entries = [e for e in lmstudio_v1.entries if e["key"] != QWEN]
    monkeypatch.setenv("LMSTUDIO_BASE_URL", fault_server.base_url)
    monkeypatch.setattr(_sync_client, "DOWNLOAD_POLL_SECS", 0.0)
    printed = io.StringIO()

    with contextlib.redirect_stdout(printed):
        exec(compile(example, "README.md", "exec"), {})  # noqa: S102

    lines = printed.getvalue().splitlines()
    assert lines[0] == "downloading 0 1200000 3.0"
    assert lines[1:4] == [
        "downloading 400000 1200000 2.0",
        "downloading 800000 1200000 1.0",
        "completed 1200000 1200000 0.0",
    ]
    assert lines[4] == f"{QWEN} 16384 2.5"  # 32768 asked, lowered to fit
    assert lines[5] == f"Loaded {QWEN} as {QWEN} in 2.5 s (context 16384 tokens; 32768 asked)."
    assert lines[6].startswith(f"{QWEN} {QWEN} 16384 {{'context_length': 16384")
    assert lines[7] == f"[{QWEN!r}]"  # the warm (JIT) load, unloaded by unload_all
    assert lmstudio_v1.ttls == {QWEN: 600}
    assert lmstudio_v1.instance_ids() == []
