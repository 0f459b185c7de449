"""Fixtures of the cassette tier."""

from __future__ import annotations

import errno
import socket
from typing import Any

import anyio
import pytest


@pytest.fixture
def refused(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, int]]:
    """Make every TCP connect fail with ECONNREFUSED, as the ``server_unavailable``
    captures recorded; returns the addresses tried.

    vcrpy cannot replay a refused connection, so the cassettes of that capture hold no
    interaction; everything above the socket (error mapping, retries) is the real code.
    """
    attempts: list[tuple[str, int]] = []

    def refuse(address: tuple[str, int], *args: Any, **kwargs: Any) -> socket.socket:
        attempts.append(address)
        raise ConnectionRefusedError(errno.ECONNREFUSED, "Connection refused")

    async def refuse_async(remote_host: str, remote_port: int, **kwargs: Any) -> Any:
        attempts.append((remote_host, remote_port))
        raise ConnectionRefusedError(errno.ECONNREFUSED, "Connection refused")

    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(anyio, "connect_tcp", refuse_async)
    return attempts
