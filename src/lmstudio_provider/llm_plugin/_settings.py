"""How the plugin reaches LM Studio: the shared settings, the API key and the clients.

The clients (and with them tenacity and the rest of the transport) are imported when
models are listed or used, never by ``llm --help``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import llm

from lmstudio_provider.transport import ConfigError, Settings, load_settings

if TYPE_CHECKING:
    from lmstudio_provider.transport import AsyncLMStudioClient, LMStudioClient, ModelInfo

__all__ = ["KEY_ALIAS", "KEY_ENV_VAR", "Connection", "llm_key", "load_connection"]

KEY_ALIAS = "lmstudio"  # `llm keys set lmstudio`
KEY_ENV_VAR = "LMSTUDIO_API_KEY"


def llm_key(explicit: str | None = None) -> str | None:
    """The key llm knows: ``--key``, `llm keys set lmstudio`, then LMSTUDIO_API_KEY.

    It overrides the settings' own key (``Connection.settings_with_key``).
    """
    return llm.get_key(explicit_key=explicit, key_alias=KEY_ALIAS, env_var=KEY_ENV_VAR) or None


@dataclass
class Connection:
    """The effective settings (or why there are none) and the clients made from them.

    Client lifetime, one rule: one sync and one async client per API key, kept for the
    process (a tool chain or ``llm chat`` reuses their connections) and closed by
    ``close()``. The async one keeps a pool per event loop, closed by that loop as it
    shuts down (``asyncio.run`` per ``llm --async`` prompt).
    """

    settings: Settings | None
    error: ConfigError | None = None
    _clients: dict[str | None, LMStudioClient] = field(default_factory=dict, repr=False)
    _async_clients: dict[str | None, AsyncLMStudioClient] = field(default_factory=dict, repr=False)

    def checked_settings(self) -> Settings:
        if self.settings is None:
            assert self.error is not None
            raise self.error
        return self.settings

    def settings_with_key(self, key: str | None) -> Settings:
        """The settings, with ``key`` as the API key when one is given."""
        return self.checked_settings().with_overrides(api_key=key)

    def client(self, key: str | None, models: list[ModelInfo] | None = None) -> LMStudioClient:
        """The process's sync client for this key."""
        from lmstudio_provider.transport import LMStudioClient

        client = self._clients.get(key)
        if client is None:
            client = self._clients[key] = LMStudioClient(self.settings_with_key(key))
        if models:
            client.remember_models(models)
        return client

    def async_client(
        self, key: str | None, models: list[ModelInfo] | None = None
    ) -> AsyncLMStudioClient:
        """The process's async client for this key."""
        from lmstudio_provider.transport import AsyncLMStudioClient

        client = self._async_clients.get(key)
        if client is None:
            client = self._async_clients[key] = AsyncLMStudioClient(self.settings_with_key(key))
        if models:
            client.remember_models(models)
        return client

    def close(self) -> None:
        """Close the sync clients and drop the async ones (their loops close their pools)."""
        clients, self._clients = self._clients, {}
        self._async_clients = {}
        for client in clients.values():
            client.close()


def load_connection() -> Connection:
    """The settings from arguments, environment and config file; a bad one is kept as an error."""
    try:
        return Connection(load_settings())
    except ConfigError as error:
        return Connection(None, error)
