"""langchain-tests' standard unit suite for ``LMStudioEmbeddings`` (no network)."""

from __future__ import annotations

from typing import Any

from langchain_tests.unit_tests import EmbeddingsUnitTests

from lmstudio_provider.langchain import LMStudioEmbeddings


class TestLMStudioEmbeddingsUnit(EmbeddingsUnitTests):
    @property
    def embeddings_class(self) -> type[LMStudioEmbeddings]:
        return LMStudioEmbeddings

    @property
    def embedding_model_params(self) -> dict[str, Any]:
        return {"model": "text-embedding-nomic-embed-text-v1.5"}

    @property
    def init_from_env_params(self) -> tuple[dict[str, str], dict[str, Any], dict[str, Any]]:
        return (
            {"LMSTUDIO_API_KEY": "api_key", "LMSTUDIO_BASE_URL": "http://lmstudio.test:1234"},
            {"model": "text-embedding-nomic-embed-text-v1.5"},
            {"api_key": "api_key", "base_url": "http://lmstudio.test:1234"},
        )
