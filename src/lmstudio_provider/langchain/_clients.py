"""Connection fields shared by ``ChatLMStudio`` and ``LMStudioEmbeddings``: the shared
``Settings`` (arguments > environment > YAML > defaults) and one sync and one async
transport client per instance, created on first use.
"""

from __future__ import annotations

from typing import Any, Self

import httpx2
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    SecretStr,
    ValidationError,
    model_validator,
)

from lmstudio_provider.transport import (
    AsyncLMStudioClient,
    LMStudioClient,
    Settings,
    config_error_from_validation,
    field_keywords,
    refuse_credential_keywords,
    resolve_settings,
)


class LMStudioConnection(BaseModel):
    """Where LM Studio is and how to talk to it; every value defaults to the settings."""

    model_config = ConfigDict(arbitrary_types_allowed=True, populate_by_name=True)

    def __init__(self, **data: Any) -> None:
        """Raises ``ConfigError`` (or ``InvalidParameterError``), never pydantic's
        ``ValidationError``: pydantic wraps what validators raise, so it is unwrapped here."""
        owner = type(self).__name__
        refuse_credential_keywords(data, field_keywords(type(self)), owner=owner)
        try:
            super().__init__(**data)
        except ValidationError as error:
            raise config_error_from_validation(error, owner=owner) from None

    base_url: str | None = None
    """LM Studio's server, e.g. ``http://localhost:1234`` (``/v1`` may follow); unset:
    ``LMSTUDIO_BASE_URL``, then ``inference.base_url`` in the YAML file."""

    api_key: SecretStr | None = None
    """API token, when the server requires one (LM Studio 0.4+); unset:
    ``LMSTUDIO_API_KEY`` (or ``LM_API_TOKEN``), then ``inference.api_key``."""

    timeout: float | None = None
    """Read timeout in seconds: the longest wait for the next bytes (default 60)."""

    max_retries: int | None = None
    """Retries of failed connections, 502/503/504 and model-loading answers (default 2)."""

    load_timeout: float | None = None
    """Longest wait, in seconds, for a model LM Studio loads just in time (default 600)."""

    settings: Settings | None = Field(default=None, exclude=True)
    """Complete shared settings to start from (default: from the environment and the
    YAML file); the fields above override them."""

    http_client: httpx2.Client | None = Field(default=None, exclude=True)
    """An ``httpx2.Client`` for sync calls, used as it is and never closed by this model."""

    http_async_client: httpx2.AsyncClient | None = Field(default=None, exclude=True)
    """An ``httpx2.AsyncClient`` for async calls, used as it is and never closed here."""

    _settings: Settings = PrivateAttr()
    _sync_transport: LMStudioClient | None = PrivateAttr(default=None)
    _async_transport: AsyncLMStudioClient | None = PrivateAttr(default=None)

    @model_validator(mode="after")
    def _resolve_settings(self) -> Self:
        settings = resolve_settings(
            self.settings,
            base_url=self.base_url,
            api_key=self.api_key,
            timeout=self.timeout,
            max_retries=self.max_retries,
            load_timeout=self.load_timeout,
        )
        self._settings = settings
        # Show the effective values, wherever they came from.
        self.base_url = settings.base_url
        self.api_key = settings.api_key
        self.timeout = settings.http.timeout_secs
        self.max_retries = settings.max_retries
        self.load_timeout = settings.http.load_timeout_secs
        return self

    @property
    def lmstudio_settings(self) -> Settings:
        """The effective settings this model uses."""
        return self._settings

    @property
    def client(self) -> LMStudioClient:
        """The transport client this model talks through (created on first use), for what
        LangChain has no word for: LM Studio's model runtime (``load_model``,
        ``loaded_models``, ``unload_model``, ``download_model``, ``warm_model``),
        ``list_models``, ``health``: ``chat.client.load_model("qwen3-8b")``."""
        if self._sync_transport is None:
            self._sync_transport = LMStudioClient(self._settings, http_client=self.http_client)
        return self._sync_transport

    @property
    def async_client(self) -> AsyncLMStudioClient:
        """The async twin of ``client``: one connection pool per event loop, each closed as
        its loop shuts down (``await chat.async_client.load_model(...)``)."""
        if self._async_transport is None:
            self._async_transport = AsyncLMStudioClient(
                self._settings, http_client=self.http_async_client
            )
        return self._async_transport

    def close(self) -> None:
        """Release the sync client's pooled connections (injected clients stay open)."""
        client, self._sync_transport = self._sync_transport, None
        if client is not None:
            client.close()

    async def aclose(self) -> None:
        """Release the running loop's async pooled connections (other loops close theirs
        as they shut down; injected clients stay open)."""
        if self._async_transport is not None:
            await self._async_transport.aclose()
