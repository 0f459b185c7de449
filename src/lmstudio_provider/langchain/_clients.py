"""Connection fields shared by ``ChatLMStudio`` and ``LMStudioEmbeddings``.

Both read the shared ``Settings`` (arguments > environment > YAML file > defaults),
so the ``llm`` plugin and LangChain are configured alike, and both reuse one sync
and one async transport client per instance, created on first use: constructing a
model makes no network call. The async client keeps one connection pool per event
loop, closed by that loop as it shuts down, so a model outlives ``asyncio.run``.
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
    ConfigError,
    LMStudioClient,
    LMStudioError,
    Settings,
    closest_name,
    looks_like_token,
    looks_secret,
    resolve_settings,
)

__all__ = ["LMStudioConnection"]


def _refuse_credentials(cls: type[BaseModel], data: dict[str, Any]) -> None:
    """Refuse an unknown keyword that looks like a credential (its name, or its value):
    it would otherwise travel in request bodies and serialisations."""
    known = set(cls.model_fields)
    known |= {field.alias for field in cls.model_fields.values() if field.alias}
    for name, value in data.items():
        if name in known or not (looks_secret(name) or looks_like_token(value)):
            continue
        close = closest_name(name, sorted(known))
        suggestion = f" (did you mean {close}?)" if close else ""
        raise ConfigError(
            f"{name} is not a {cls.__name__} parameter{suggestion} and looks like a "
            "credential, so it is refused: it is neither sent nor kept (its value is not "
            "shown).",
            hint="Pass the server's token as api_key=... (or set LMSTUDIO_API_KEY); put a "
            "deliberate extra request field in extra_body.",
        )


def _configuration_error(cls: type[BaseModel], error: ValidationError) -> LMStudioError:
    """The error a validator raised (``ConfigError``, ``InvalidParameterError``), else one
    ``ConfigError`` for pydantic's own findings; never a value that may be a secret."""
    problems = []
    for item in error.errors():
        cause = (item.get("ctx") or {}).get("error")
        if isinstance(cause, LMStudioError):
            return cause
        where = ".".join(str(part) for part in item["loc"]) or "value"
        given = item.get("input")
        shown = "" if looks_secret(where) or looks_like_token(given) else f"={given!r}"
        problems.append(f"{where}{shown}: {item['msg'].removeprefix('Value error, ')}")
    return ConfigError(
        f"Invalid {cls.__name__} arguments: " + "; ".join(problems),
        hint=f"Fix the arguments named above; see help({cls.__name__}) for each field.",
    )


class LMStudioConnection(BaseModel):
    """Where LM Studio is and how to talk to it; every value defaults to the settings."""

    model_config = ConfigDict(arbitrary_types_allowed=True, populate_by_name=True)

    def __init__(self, **data: Any) -> None:
        """Raises ``ConfigError`` (or ``InvalidParameterError``), never pydantic's
        ``ValidationError``: pydantic wraps what validators raise, so it is unwrapped here."""
        _refuse_credentials(type(self), data)
        try:
            super().__init__(**data)
        except ValidationError as error:
            raise _configuration_error(type(self), error) from None

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

    load_timeout: float | None = None
    """Longest wait, in seconds, for a model that is not loaded yet: LM Studio loads it
    just in time and sends nothing until then (default 600, ``http.load_timeout_secs``)."""

    settings: Settings | None = Field(default=None, exclude=True)
    """Complete shared settings to start from (default: read them from the environment
    and the YAML file); the fields above override them."""

    http_client: httpx2.Client | None = Field(default=None, exclude=True)
    """An ``httpx2.Client`` for sync calls (its ``base_url`` and headers are used as they
    are); it is not closed by this model."""

    http_async_client: httpx2.AsyncClient | None = Field(default=None, exclude=True)
    """An ``httpx2.AsyncClient`` for async calls; it is not closed by this model."""

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
        """The transport client this model talks through, for what LangChain has no word
        for: LM Studio's model runtime (``load_model``, ``loaded_models``,
        ``unload_model``, ``download_model``, ``warm_model``), ``list_models``, ``health``.

        Example:
            .. code-block:: python

                chat = ChatLMStudio(model="qwen/qwen3-4b-2507")
                chat.client.load_model("qwen/qwen3-4b-2507", context_length=8192)
        """
        return self._transport()

    @property
    def async_client(self) -> AsyncLMStudioClient:
        """The async twin of ``client`` (``await chat.async_client.load_model(...)``)."""
        return self._atransport()

    def _transport(self) -> LMStudioClient:
        """The sync transport, created on first use and reused (closed when collected)."""
        if self._sync_transport is None:
            self._sync_transport = LMStudioClient(self._settings, http_client=self.http_client)
        return self._sync_transport

    def _atransport(self) -> AsyncLMStudioClient:
        """The async transport, created on first use and reused: it keeps a pool per event
        loop, each closed as its loop shuts down."""
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
