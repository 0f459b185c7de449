"""Loopback ports in the states a dead or hung LM Studio leaves behind.

Used by the fault tier and by ``benchmarks/bench_startup.py`` (which puts ``tests/`` on
its import path). Only loopback addresses: nothing leaves the machine.
"""

from __future__ import annotations

import contextlib
import socket
from collections.abc import Iterator

__all__ = ["black_hole", "closed_port"]


def closed_port() -> str:
    """The URL of a loopback port nobody listens on: connecting is refused at once."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


@contextlib.contextmanager
def black_hole() -> Iterator[str]:
    """The URL of a listener whose accept queue is full: a connect is never answered.

    Its SYNs are dropped, as by a firewall or a machine that has gone away, so the
    client waits out its connect timeout.
    """
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    port = listener.getsockname()[1]
    fillers = []
    try:
        for _ in range(4):  # more than the queue holds
            filler = socket.socket()
            filler.setblocking(False)
            with contextlib.suppress(BlockingIOError):
                filler.connect(("127.0.0.1", port))
            fillers.append(filler)
        yield f"http://127.0.0.1:{port}"
    finally:
        for filler in fillers:
            filler.close()
        listener.close()
