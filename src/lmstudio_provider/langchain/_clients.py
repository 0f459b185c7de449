"""Connection fields shared by ``ChatLMStudio`` and ``LMStudioEmbeddings``.

Both read the shared ``Settings`` (arguments > environment > YAML file > defaults),
so the ``llm`` plugin and LangChain are configured alike, and both reuse one
transport client per instance, created on first use: constructing a model makes
no network call.

An async client's connections belong to the event loop they were opened on, and
once that loop is closed they cannot be closed any more. So each loop gets a client
of its own, and each such client is closed by the loop itself as it shuts down:
a started async generator holds it, and ``loop.shutdown_asyncgens()`` (which
``asyncio.run``, ``asyncio.Runner`` and pytest-asyncio call before closing a loop)
finalises that generator on the loop, closing the client there. A model used in
``asyncio.run`` after ``asyncio.run`` thus leaves no socket behind. (A loop closed
with a bare ``loop.close()`` finalises nothing: its client is dropped, unclosed,
when the model next meets another loop.)
"""

from __future__ import annotations

import asyncio
import threading
import weakref
from collections.abc import AsyncGenerator
from typing import NamedTuple, Self, TypeAlias

import httpx2
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, SecretStr, model_validator

from lmstudio_provider.transport import (
    AsyncLMStudioClient,
    LMStudioClient,
    Settings,
    resolve_settings,
)

__all__ = ["LMStudioConnection"]


class _LoopClient(NamedTuple):
    """The async client of one event loop, and the generator that closes it with the loop."""

    client: AsyncLMStudioClient
    closer: AsyncGenerator[None, None]


_LoopClients: TypeAlias = weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _LoopClient]


async def _close_with_loop(
    client: AsyncLMStudioClient, registry: weakref.ref[_LoopClients]
) -> AsyncGenerator[None, None]:
    """Started on a loop, it waits; the loop's ``shutdown_asyncgens()`` closes ``client``.

    The event loop finalises every async generator still suspended when it shuts down
    (or when the generator is garbage-collected while the loop runs), on that loop:
    the one place ``client``'s connections can still be closed cleanly.
    """
    try:
        yield
    finally:
        clients = registry()
        if clients is not None:
            loop = asyncio.get_running_loop()
            entry = clients.get(loop)
            if entry is not None and entry.client is client:
                del clients[loop]
        await client.aclose()


class LMStudioConnection(BaseModel):
    """Where LM Studio is and how to talk to it; every value defaults to the settings."""

    model_config = ConfigDict(arbitrary_types_allowed=True, populate_by_name=True)

    base_url: str | None = None
    """LM Studio's server, e.g. ``http://localhost:1234`` (``/v1`` may follow).

    Unset: ``LMSTUDIO_BASE_URL``, then ``inference.base_url`` in the YAML file, then
    ``http://localhost:1234``."""

    api_key: SecretStr | None = None
    """API token, when the server requires one (LM Studio 0.4+).

    Unset: ``LMSTUDIO_API_KEY`` (or ``LM_API_TOKEN``), then ``inference.api_key``."""

    timeout: float | None = None
    """Read timeout in seconds: the longest wait for the next bytes (default 60)."""

    max_retries: int | None = None
    """Retries of failed connections, 502/503/504 and model-loading answers (default 2)."""

    settings: Settings | None = Field(default=None, exclude=True)
    """Complete shared settings to start from (default: read them from the environment
    and the YAML file); the fields above override them."""

    http_client: httpx2.Client | None = Field(default=None, exclude=True)
    """An ``httpx2.Client`` for sync calls (its ``base_url`` and headers are used as they
    are); it is not closed by this model."""

    http_async_client: httpx2.AsyncClient | None = Field(default=None, exclude=True)
    """An ``httpx2.AsyncClient`` for async calls; it is not closed by this model."""

    _settings: Settings = PrivateAttr()
    _lock: threading.Lock = PrivateAttr(default_factory=threading.Lock)
    _sync_transport: LMStudioClient | None = PrivateAttr(default=None)
    # Closes the sync client when the model is collected (its sockets would warn).
    _sync_closer: weakref.finalize[[], LMStudioConnection] | None = PrivateAttr(default=None)
    # An async client belongs to the event loop it first ran on: one per loop, closed
    # by that loop as it shuts down (see the module's docstring).
    _async_transports: _LoopClients = PrivateAttr(default_factory=weakref.WeakKeyDictionary)

    @model_validator(mode="after")
    def _resolve_settings(self) -> Self:
        settings = resolve_settings(
            self.settings,
            base_url=self.base_url,
            api_key=self.api_key,
            timeout=self.timeout,
            max_retries=self.max_retries,
        )
        self._settings = settings
        # Show the effective values, wherever they came from.
        self.base_url = settings.base_url
        self.api_key = settings.api_key
        self.timeout = settings.http.timeout_secs
        self.max_retries = settings.max_retries
        return self

    @property
    def lmstudio_settings(self) -> Settings:
        """The effective settings this model uses."""
        return self._settings

    def _transport(self) -> LMStudioClient:
        """The sync transport, created on first use and reused."""
        client = self._sync_transport
        if client is None:
            with self._lock:
                if self._sync_transport is None:
                    client = LMStudioClient(self._settings, http_client=self.http_client)
                    self._sync_closer = weakref.finalize(self, client.close)
                    self._sync_transport = client
                client = self._sync_transport
        return client

    async def _async_transport_for_loop(self) -> AsyncLMStudioClient:
        """The async transport of the running event loop, created on first use.

        It is closed when the loop shuts down (``asyncio.run`` returning), by ``aclose()``
        on that loop, or, on a running loop, when this model is garbage-collected.
        """
        loop = asyncio.get_running_loop()
        clients = self._async_transports
        entry = clients.get(loop)
        if entry is not None:
            return entry.client
        # A loop closed without shutting down its async generators (``loop.close()``
        # alone) never closed its client, and no longer can: forget it, so the model
        # does not keep such loops alive.
        for closed in [other for other in clients if other.is_closed()]:
            clients.pop(closed, None)
        client = AsyncLMStudioClient(self._settings, http_client=self.http_async_client)
        closer = _close_with_loop(client, weakref.ref(clients))
        clients[loop] = _LoopClient(client, closer)
        # Its first step registers it with the loop's async generator hooks.
        await anext(closer)
        return client

    def close(self) -> None:
        """Release the sync client's pooled connections (injected clients stay open)."""
        closer, self._sync_closer = self._sync_closer, None
        self._sync_transport = None
        if closer is not None:
            closer()  # closes the client, once, and forgets it

    async def aclose(self) -> None:
        """Release the running loop's async client's pooled connections.

        Injected clients stay open. Clients of other loops are closed by their own
        loops as they shut down.
        """
        entry = self._async_transports.pop(asyncio.get_running_loop(), None)
        if entry is not None:
            await entry.closer.aclose()  # its ``finally`` closes the client
