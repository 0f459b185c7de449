"""How the plugin reaches LM Studio: the API key llm knows and the transport's connection."""

from __future__ import annotations

import llm

from lmstudio_provider.transport import Connection

KEY_ALIAS = "lmstudio"  # `llm keys set lmstudio`
KEY_ENV_VAR = "LMSTUDIO_API_KEY"


def llm_key(explicit: str | None = None) -> str | None:
    """The key llm knows: ``--key``, `llm keys set lmstudio`, then LMSTUDIO_API_KEY.

    It overrides the settings' own key (``Connection.settings_with_key``).
    """
    return llm.get_key(explicit_key=explicit, key_alias=KEY_ALIAS, env_var=KEY_ENV_VAR) or None


def load_connection() -> Connection:
    """The shared settings (arguments, environment, config file) and their clients."""
    return Connection.load()
