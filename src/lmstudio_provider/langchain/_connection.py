"""Connection fields shared by ``ChatLMStudio`` and ``LMStudioEmbeddings``.

Both read the shared ``Settings`` (arguments > environment > YAML file > defaults),
so the ``llm`` plugin and LangChain are configured alike, and both reuse one
transport client per instance, created on first use: constructing a model makes
no network call.
"""

from __future__ import annotations

import asyncio
import threading
from typing import Any, Self

import httpx2
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, SecretStr, model_validator

from lmstudio_provider.async_client import AsyncLMStudioClient
from lmstudio_provider.client import LMStudioClient
from lmstudio_provider.config import Settings, settings_from_kwargs

__all__ = ["LMStudioConnection", "effective_settings"]


def effective_settings(base: Settings | None, **overrides: Any) -> Settings:
    """``base`` (or the environment, the YAML file and the defaults) with ``overrides``.

    Raises:
        ConfigError: naming each bad value and where it came from.
    """
    given = {key: value for key, value in overrides.items() if value is not None}
    if base is None:
        return settings_from_kwargs(**given)
    if not given:
        return base
    inherited = base.model_dump(exclude_none=True)
    inherited.pop("provider", None)
    return settings_from_kwargs(**{**inherited, **given})


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
    # An async client belongs to the event loop it first ran on: one per loop.
    _async_transport: tuple[asyncio.AbstractEventLoop, AsyncLMStudioClient] | None = PrivateAttr(
        default=None
    )

    @model_validator(mode="after")
    def _resolve_settings(self) -> Self:
        settings = effective_settings(
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
                    self._sync_transport = LMStudioClient(
                        self._settings, http_client=self.http_client
                    )
                client = self._sync_transport
        return client

    def _async_transport_for_loop(self) -> AsyncLMStudioClient:
        """The async transport of the running event loop, created on first use."""
        loop = asyncio.get_running_loop()
        current = self._async_transport
        if current is not None and current[0] is loop:
            return current[1]
        # A client bound to a loop that has ended cannot be closed any more: drop it.
        client = AsyncLMStudioClient(self._settings, http_client=self.http_async_client)
        self._async_transport = (loop, client)
        return client

    def close(self) -> None:
        """Release the sync client's pooled connections (injected clients stay open)."""
        client, self._sync_transport = self._sync_transport, None
        if client is not None:
            client.close()

    async def aclose(self) -> None:
        """Release the async client's pooled connections (injected clients stay open)."""
        current, self._async_transport = self._async_transport, None
        if current is not None and current[0] is asyncio.get_running_loop():
            await current[1].aclose()
