"""Per-read timeouts shrunk to the time a call has left: the drivers' half of the deadlines.

httpcore gives each socket read its own timeout, so a server that sends a byte every few
tenths of a second never trips it, and holds a call for as long as it likes. The clients'
connection pools therefore connect, write and read through these network backends, which
shrink every timeout to the time left before the deadline the driver set for the operation
under way (``set_deadline``, right before it, cleared right after). Which deadline applies
to which call, and the error it becomes, is ``_core``'s and ``_error_mapping``'s business.

The ``Deadline`` of the operation under way is held in a context variable: each thread,
and each asyncio task, has its own.
"""

from __future__ import annotations

import ssl
import time
from collections.abc import Iterable
from contextvars import ContextVar
from typing import Any

import httpcore2

__all__ = ["AsyncDeadlineBackend", "Deadline", "DeadlineBackend", "install", "set_deadline"]


class Deadline:
    """When an answer (or a stream's next event) must have arrived, and the bytes read since.

    ``at`` is a ``time.monotonic()`` instant; a stream moves it on after each event.
    """

    __slots__ = ("at", "received")

    def __init__(self, at: float) -> None:
        self.at = at
        self.received = 0  # bytes read through the backends under this deadline

    @classmethod
    def after(cls, secs: float) -> Deadline:
        """The deadline ``secs`` seconds from now."""
        return cls(time.monotonic() + secs)

    @property
    def passed(self) -> bool:
        return time.monotonic() >= self.at - 0.01  # a shrunk read times out right at it


_deadline: ContextVar[Deadline | None] = ContextVar("lmstudio_provider_deadline", default=None)


# Bound every read, write and connect of this thread (or task) by a ``Deadline``, or by
# none (``None``); the drivers call it right before each read and right after.
set_deadline = _deadline.set


def _shrunk(timeout: float | None, expired: type[Exception]) -> float | None:
    deadline = _deadline.get()
    if deadline is None:
        return timeout
    left = deadline.at - time.monotonic()
    if left <= 0:
        raise expired("the call's deadline passed")
    return left if timeout is None else min(timeout, left)


class _Stream(httpcore2.NetworkStream):
    def __init__(self, inner: httpcore2.NetworkStream) -> None:
        self._inner = inner

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        deadline = _deadline.get()
        if deadline is None:
            return self._inner.read(max_bytes, timeout)
        left = deadline.at - time.monotonic()
        if left <= 0:
            raise httpcore2.ReadTimeout("the call's deadline passed")
        data = self._inner.read(max_bytes, left if timeout is None or left < timeout else timeout)
        deadline.received += len(data)
        return data

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, _shrunk(timeout, httpcore2.WriteTimeout))

    def close(self) -> None:
        self._inner.close()

    def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore2.NetworkStream:
        timeout = _shrunk(timeout, httpcore2.ConnectTimeout)
        return _Stream(self._inner.start_tls(ssl_context, server_hostname, timeout))

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


class DeadlineBackend(httpcore2.NetworkBackend):
    """httpcore's sync network backend, with every timeout shrunk to the deadline."""

    def __init__(self, inner: httpcore2.NetworkBackend) -> None:
        self._inner = inner

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore2.NetworkStream:
        timeout = _shrunk(timeout, httpcore2.ConnectTimeout)
        return _Stream(self._inner.connect_tcp(host, port, timeout, local_address, socket_options))

    def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None
    ) -> httpcore2.NetworkStream:
        timeout = _shrunk(timeout, httpcore2.ConnectTimeout)
        return _Stream(self._inner.connect_unix_socket(path, timeout, socket_options))

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


class _AsyncStream(httpcore2.AsyncNetworkStream):
    def __init__(self, inner: httpcore2.AsyncNetworkStream) -> None:
        self._inner = inner

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        deadline = _deadline.get()
        if deadline is None:
            return await self._inner.read(max_bytes, timeout)
        left = deadline.at - time.monotonic()
        if left <= 0:
            raise httpcore2.ReadTimeout("the call's deadline passed")
        data = await self._inner.read(
            max_bytes, left if timeout is None or left < timeout else timeout
        )
        deadline.received += len(data)
        return data

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        await self._inner.write(buffer, _shrunk(timeout, httpcore2.WriteTimeout))

    async def aclose(self) -> None:
        await self._inner.aclose()

    async def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore2.AsyncNetworkStream:
        timeout = _shrunk(timeout, httpcore2.ConnectTimeout)
        return _AsyncStream(await self._inner.start_tls(ssl_context, server_hostname, timeout))

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


class AsyncDeadlineBackend(httpcore2.AsyncNetworkBackend):
    """httpcore's async network backend, with every timeout shrunk to the deadline."""

    def __init__(self, inner: httpcore2.AsyncNetworkBackend) -> None:
        self._inner = inner

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore2.AsyncNetworkStream:
        timeout = _shrunk(timeout, httpcore2.ConnectTimeout)
        stream = await self._inner.connect_tcp(host, port, timeout, local_address, socket_options)
        return _AsyncStream(stream)

    async def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None
    ) -> httpcore2.AsyncNetworkStream:
        timeout = _shrunk(timeout, httpcore2.ConnectTimeout)
        return _AsyncStream(await self._inner.connect_unix_socket(path, timeout, socket_options))

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


def install(transport: Any, backend: type[DeadlineBackend | AsyncDeadlineBackend]) -> Any:
    """Make ``transport``'s connection pool use a deadline backend (httpx2 takes no backend
    argument, so its pool's is wrapped); returns the transport."""
    pool = getattr(transport, "_pool", None)
    inner = getattr(pool, "_network_backend", None)
    if inner is not None and not isinstance(inner, backend):
        pool._network_backend = backend(inner)  # type: ignore[union-attr]
    return transport
