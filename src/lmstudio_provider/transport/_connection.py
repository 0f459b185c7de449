"""The effective settings (or why there are none) and one pair of clients per API key.

The clients (and with them tenacity and the rest of the transport) are imported when
one is first made, not with this module.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from lmstudio_provider.transport._config import Settings, load_settings
from lmstudio_provider.transport._errors import ConfigError

if TYPE_CHECKING:
    from lmstudio_provider.transport._async_client import AsyncLMStudioClient
    from lmstudio_provider.transport._models import ModelInfo
    from lmstudio_provider.transport._sync_client import LMStudioClient


@dataclass
class Connection:
    """The effective settings, or why there are none, and the clients made from them.

    One sync and one async client per API key, made on first use and kept until
    ``close()``, so that a tool chain or a chat session reuses their connections. The
    async client keeps a pool per event loop, closed by that loop as it shuts down.
    An invalid configuration is kept as ``error`` and raised by the first call that
    needs the settings, so that a front end can still start (and say so).

    Example:
        .. code-block:: python

            from lmstudio_provider.transport import Connection

            connection = Connection.load()
            client = connection.client(api_key=None)  # the same client on every call
            connection.close()
    """

    settings: Settings | None
    error: ConfigError | None = None
    _clients: dict[str | None, LMStudioClient] = field(default_factory=dict, repr=False)
    _async_clients: dict[str | None, AsyncLMStudioClient] = field(default_factory=dict, repr=False)

    @classmethod
    def load(cls) -> Connection:
        """The settings from environment and config file; an invalid one kept as ``error``."""
        try:
            return cls(load_settings())
        except ConfigError as error:
            return cls(None, error)

    def settings_with_key(self, api_key: str | None) -> Settings:
        """The settings, with ``api_key`` as the API key when one is given.

        Raises:
            ConfigError: the configuration is invalid.
        """
        if self.settings is None:
            assert self.error is not None
            raise self.error
        return self.settings.with_overrides(api_key=api_key)

    def client(
        self, api_key: str | None = None, models: list[ModelInfo] | None = None
    ) -> LMStudioClient:
        """The sync client for ``api_key``; ``models``: a list just fetched, to reuse."""
        from lmstudio_provider.transport._sync_client import LMStudioClient

        client = self._clients.get(api_key)
        if client is None:
            client = self._clients[api_key] = LMStudioClient(self.settings_with_key(api_key))
        if models:
            client.remember_models(models)
        return client

    def async_client(
        self, api_key: str | None = None, models: list[ModelInfo] | None = None
    ) -> AsyncLMStudioClient:
        """The async client for ``api_key``; ``models``: a list just fetched, to reuse."""
        from lmstudio_provider.transport._async_client import AsyncLMStudioClient

        client = self._async_clients.get(api_key)
        if client is None:
            settings = self.settings_with_key(api_key)
            client = self._async_clients[api_key] = AsyncLMStudioClient(settings)
        if models:
            client.remember_models(models)
        return client

    def close(self) -> None:
        """Close the sync clients and drop the async ones (their loops close their pools)."""
        clients, self._clients = self._clients, {}
        self._async_clients = {}
        for client in clients.values():
            client.close()
