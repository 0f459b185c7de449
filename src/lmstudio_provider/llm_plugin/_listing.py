"""How the plugin reaches LM Studio: the API key llm knows, the shared settings, and the
transport's quick model listing, saved in llm's own folder (``LLM_USER_PATH``)."""

from __future__ import annotations

from pathlib import Path

import llm

from lmstudio_provider.transport import Connection, ModelListCache, QuickListing

KEY_ALIAS = "lmstudio"  # `llm keys set lmstudio`
KEY_ENV_VAR = "LMSTUDIO_API_KEY"


def llm_key(explicit: str | None = None) -> str | None:
    """The key llm knows (``--key``, `llm keys set lmstudio`, LMSTUDIO_API_KEY); it
    overrides the settings' own key (``Connection.settings_with_key``)."""
    return llm.get_key(explicit_key=explicit, key_alias=KEY_ALIAS, env_var=KEY_ENV_VAR) or None


def cache_path() -> Path:
    path: Path = llm.user_dir() / "lmstudio-models.json"  # type: ignore[no-untyped-call]
    return path


def model_list_cache() -> ModelListCache:
    return ModelListCache(cache_path())


def current_listing() -> QuickListing:
    """LM Studio's models: listed now, reused from moments ago, or the saved list."""
    return model_list_cache().quick_listing(Connection.load(), llm_key())
