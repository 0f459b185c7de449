"""The model list behind ``register_models``: the transport's quick listing, asked with
llm's API key and saved in llm's own folder (``LLM_USER_PATH``, else its app directory)."""

from __future__ import annotations

from pathlib import Path

import llm

from lmstudio_provider.llm_plugin._settings import llm_key, load_connection
from lmstudio_provider.transport import ModelListCache, QuickListing


def cache_path() -> Path:
    path: Path = llm.user_dir() / "lmstudio-models.json"  # type: ignore[no-untyped-call]
    return path


def model_list_cache() -> ModelListCache:
    return ModelListCache(cache_path())


def current_listing() -> QuickListing:
    """LM Studio's models: listed now, reused from moments ago, or the saved list."""
    return model_list_cache().quick_listing(load_connection(), llm_key())


def forget() -> None:
    """Drop the in-process listing and close its connections (the saved list stays)."""
    ModelListCache.forget_recent()
