"""Starting the stand-in: a taken port is refused in one line, the log is shown and kept.

These start real stand-ins (or fail to, on purpose) through the CLI a user runs.
"""

from __future__ import annotations

import http.server
import importlib.util
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from lmstudio_provider.standin import StandInError, _model_files, free_port, start_standin

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("llama_cpp") is None,
    reason="the stand-in is not installed (the `integration` dependency group)",
)

CLI = [sys.executable, "-m", "lmstudio_provider.standin", "--port"]


@pytest.fixture
def http_server_port() -> Iterator[int]:
    """Another HTTP server, one that even answers ``GET /v1/models`` with 200."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), http.server.SimpleHTTPRequestHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


@pytest.fixture
def raw_listener_port() -> Iterator[int]:
    """A process that listens but speaks no HTTP."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield sock.getsockname()[1]


@pytest.mark.parametrize("taken_by", ["http_server_port", "raw_listener_port"])
def test_a_taken_port_is_refused_in_one_line(request: pytest.FixtureRequest, taken_by: str) -> None:
    port: int = request.getfixturevalue(taken_by)

    done = subprocess.run(  # noqa: S603 (our own interpreter and module)
        [*CLI, str(port)], capture_output=True, text=True, timeout=60, check=False
    )

    assert done.returncode == 1
    assert done.stdout == ""
    assert done.stderr.count("\n") == 1, done.stderr  # one line, no traceback
    assert f"Port {port} on 127.0.0.1 is taken" in done.stderr
    assert "--port" in done.stderr


def test_the_cli_says_where_its_log_is() -> None:
    port = free_port()
    starter = subprocess.Popen(  # noqa: S603 (our own interpreter and module)
        [*CLI, str(port)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        assert starter.stdout is not None
        banner = starter.stdout.readline()
        found = re.search(r"log: (\S+);", banner)
        assert found, banner
        log = Path(found.group(1))
        assert log.is_file()
        assert f"http://127.0.0.1:{port}" in banner
    finally:
        starter.send_signal(signal.SIGTERM)
        starter.wait(30)
    assert not log.exists()  # a server stopped on purpose leaves nothing behind


def test_a_server_that_fails_keeps_its_log(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    not_a_model = tmp_path / "broken.gguf"
    not_a_model.write_bytes(b"this is no GGUF")
    monkeypatch.setattr(_model_files, "chat_model_file", lambda: not_a_model)

    with pytest.raises(StandInError, match="exited with code") as raised:
        start_standin(startup_timeout=120)

    found = re.search(r"its log is kept at (\S+):", str(raised.value))
    assert found, str(raised.value)
    log = Path(found.group(1))
    try:
        assert log.is_file()
        assert "broken.gguf" in log.read_text(errors="replace")
    finally:
        shutil.rmtree(log.parent, ignore_errors=True)
