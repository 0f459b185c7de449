"""How the plugin reaches LM Studio: the shared settings, the API key and the clients.

The clients (and with them tenacity and the rest of the transport) are imported
only when a model is used, never by ``register_models`` or ``llm --help``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import llm
from pydantic import SecretStr

from lmstudio_provider.transport import ConfigError, Settings, load_settings

if TYPE_CHECKING:
    from lmstudio_provider.transport import AsyncLMStudioClient, LMStudioClient, ModelInfo

__all__ = ["KEY_ALIAS", "KEY_ENV_VAR", "Connection", "api_key", "load_connection"]

KEY_ALIAS = "lmstudio"  # `llm keys set lmstudio`
KEY_ENV_VAR = "LMSTUDIO_API_KEY"


def api_key(settings: Settings | None, explicit: str | None = None) -> str | None:
    """``--key``, `llm keys set lmstudio`, LMSTUDIO_API_KEY, the settings: the first there."""
    key = llm.get_key(explicit_key=explicit, key_alias=KEY_ALIAS, env_var=KEY_ENV_VAR)
    if key:
        return key
    if settings is not None and settings.api_key is not None:
        return settings.api_key.get_secret_value()
    return None


@dataclass
class Connection:
    """The effective settings (or why there are none) and the clients made from them."""

    settings: Settings | None
    error: ConfigError | None = None
    _clients: dict[str | None, LMStudioClient] = field(default_factory=dict, repr=False)

    def checked_settings(self) -> Settings:
        if self.settings is None:
            assert self.error is not None
            raise self.error
        return self.settings

    def settings_with_key(self, key: str | None) -> Settings:
        """The settings, with ``key`` as the API key when one is given."""
        settings = self.checked_settings()
        if key is None or (settings.api_key and settings.api_key.get_secret_value() == key):
            return settings
        return settings.model_copy(update={"api_key": SecretStr(key)})

    def client(self, key: str | None, models: list[ModelInfo] | None = None) -> LMStudioClient:
        """The process's pooled sync client for this key (kept: a tool chain reuses it)."""
        from lmstudio_provider.transport import LMStudioClient

        client = self._clients.get(key)
        if client is None:
            client = LMStudioClient(self.settings_with_key(key))
            self._clients[key] = client
        if models:
            client.remember_models(models)
        return client

    def close(self) -> None:
        """Close the pooled clients (a later ``client()`` makes a new one)."""
        clients, self._clients = self._clients, {}
        for client in clients.values():
            client.close()

    def async_client(
        self, key: str | None, models: list[ModelInfo] | None = None
    ) -> AsyncLMStudioClient:
        """A new async client: its connections belong to the running event loop."""
        from lmstudio_provider.transport import AsyncLMStudioClient

        client = AsyncLMStudioClient(self.settings_with_key(key))
        if models:
            client.remember_models(models)
        return client


def load_connection() -> Connection:
    """The settings from arguments, environment and config file; a bad one is kept as an error."""
    try:
        return Connection(load_settings())
    except ConfigError as error:
        return Connection(None, error)
