"""A stand-in for LM Studio: llama.cpp's OpenAI-compatible server with two small models.

LM Studio is a desktop app; its engine is llama.cpp. Where LM Studio cannot run
(CI, a headless box), the integration tests and the quick start use this
stand-in: ``llama-cpp-python``'s server with SmolLM2 135M Instruct as the chat model
(instruction-tuned: it ends its answers and follows system prompts) and Gemma 3 270M
with mean pooling as the embedding model (see ``_model_files`` for where each file
comes from). It speaks the OpenAI-compatible ``/v1`` API only: none of LM Studio's
``/api/v0`` or ``/api/v1`` endpoints, no streamed usage, no ``stats``.

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
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType, TracebackType
from typing import IO, Any, Self

import httpx2

from lmstudio_provider.standin import _model_files as model_files

__all__ = [
    "STANDIN_CHAT_MODEL",
    "STANDIN_EMBEDDING_MODEL",
    "StandInError",
    "StandInServer",
    "start_standin",
]

STANDIN_CHAT_MODEL = "smollm2-135m-instruct"
STANDIN_EMBEDDING_MODEL = "text-embedding-gemma-3-270m"
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


def server_config(
    chat_model: Path, embedding_model: Path, host: str, port: int, n_ctx: int
) -> dict[str, object]:
    """llama-cpp-python's multi-model config: a chat model and an embedding model.

    The chat model has no ``chat_format``: llama.cpp then applies the chat template
    stored in the GGUF, as LM Studio does.
    """
    return {
        "host": host,
        "port": port,
        # By default a new request cuts off the one streaming; LM Studio queues instead.
        "interrupt_requests": False,
        "models": [
            {
                "model": str(chat_model),
                "model_alias": STANDIN_CHAT_MODEL,
                "n_ctx": n_ctx,
                "verbose": False,
            },
            {
                "model": str(embedding_model),
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

    def stop(self, timeout: float = 10.0, *, keep_log: bool = False) -> None:
        """Terminate the server and everything it started; idempotent.

        Its directory goes too, unless ``keep_log`` (a failed server's log is evidence).
        """
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
        if self.workdir is not None and not keep_log:
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
    """Start the stand-in on a free loopback port and wait until it lists its models.

    Raises:
        StandInError: if a package or model file is missing, the port is taken, the
            server exits, or it does not answer within ``startup_timeout`` seconds. When
            the server itself failed, its log is kept and the message says where.
    """
    if importlib.util.find_spec("llama_cpp") is None:
        raise StandInError(f"llama-cpp-python is not installed. {model_files.INSTALL_HINT}")
    if port:
        ensure_port_free(host, port)
    else:
        port = free_port(host)
    try:
        chat_gguf = model_files.chat_model_file()
        embedding_gguf = model_files.embedding_model_file()
    except model_files.ModelFileError as error:
        raise StandInError(str(error)) from None
    workdir = Path(tempfile.mkdtemp(prefix=WORKDIR_PREFIX))
    config_path = workdir / "config.json"
    config_path.write_text(json.dumps(server_config(chat_gguf, embedding_gguf, host, port, n_ctx)))
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
    try:
        _wait_until_serving(server, startup_timeout)
    except StandInError:
        server.stop(keep_log=True)
        raise
    except BaseException:
        server.stop()
        raise
    return server


def ensure_port_free(host: str, port: int) -> None:
    """Refuse, in one line, a port another program listens on.

    ``SO_REUSEADDR`` as the server sets it: connections of a stopped server lingering in
    TIME_WAIT do not count, only a listener does.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        if sys.platform != "win32":
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as error:
            raise StandInError(
                f"Port {port} on {host} is taken ({error.strerror or error}): another program "
                f"listens there. Stop it, or choose another port with --port."
            ) from None


def _wait_until_serving(server: StandInServer, startup_timeout: float) -> None:
    """Wait until the server we started (not another one) lists the stand-in's models."""
    deadline = time.monotonic() + startup_timeout
    with httpx2.Client(base_url=server.base_url, timeout=2.0) as client:
        while True:
            if server.process.poll() is not None:
                raise StandInError(
                    f"The stand-in server exited with code {server.process.returncode} "
                    f"while starting; its log is kept at {server.log_path}:\n"
                    f"{server.log_tail()}"
                )
            with contextlib.suppress(httpx2.HTTPError, ValueError):
                reply = client.get("/v1/models")
                if reply.status_code == 200 and server.chat_model in reply.text:
                    return
            if time.monotonic() > deadline:
                raise StandInError(
                    f"The stand-in server did not answer GET /v1/models within "
                    f"{startup_timeout:g} s; its log is kept at {server.log_path}:\n"
                    f"{server.log_tail()}"
                )
            time.sleep(0.2)


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


def _stream_errors_as_events(chunks: Iterator[Any]) -> Iterator[Any]:
    """Send why llama.cpp failed mid-stream as an ``error`` event, as LM Studio does.

    llama-cpp-python's server has already answered 200 when generation starts; when it
    then fails (a prompt longer than the context, say), it ends the stream silently and
    writes the reason only to its log. LM Studio sends ``{"error": {...}}`` instead.
    """
    try:
        yield from chunks
    except Exception as error:
        yield {"error": {"message": str(error), "type": "server_error"}}


def _run_server(config_path: str) -> None:
    import llama_cpp
    from llama_cpp.server.__main__ import main as server_main

    original_init = llama_cpp.Llama.__init__

    def init_with_pooling(self: llama_cpp.Llama, *args: object, **kwargs: object) -> None:
        if kwargs.get("embedding"):
            kwargs.setdefault("pooling_type", llama_cpp.LLAMA_POOLING_TYPE_MEAN)
        original_init(self, *args, **kwargs)  # type: ignore[arg-type]

    original_chat = llama_cpp.Llama.create_chat_completion

    def chat_with_stream_errors(self: llama_cpp.Llama, *args: Any, **kwargs: Any) -> Any:
        answer: Any = original_chat(self, *args, **kwargs)
        return _stream_errors_as_events(answer) if kwargs.get("stream") else answer

    llama_cpp.Llama.__init__ = init_with_pooling  # type: ignore[method-assign]
    llama_cpp.Llama.create_chat_completion = chat_with_stream_errors  # type: ignore[method-assign]
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
    try:
        server = start_standin(host=args.host, port=args.port)
    except StandInError as error:
        sys.stderr.write(f"{error}\n")
        return 1
    with server:
        sys.stdout.write(
            f"Stand-in server at {server.base_url} (models: {server.chat_model}, "
            f"{server.embedding_model}); log: {server.log_path}; Ctrl-C stops it.\n"
        )
        sys.stdout.flush()
        with contextlib.suppress(KeyboardInterrupt):
            server.process.wait()
        if server.process.returncode:
            server.stop(keep_log=True)
            sys.stderr.write(
                f"The stand-in server exited with code {server.process.returncode}; "
                f"its log is kept at {server.log_path}.\n"
            )
            return 1
    return 0
