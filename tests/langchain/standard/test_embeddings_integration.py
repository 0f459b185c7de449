"""langchain-tests' standard integration suite for ``LMStudioEmbeddings`` on the real server."""

from __future__ import annotations

from typing import Any

import pytest
from langchain_tests.integration_tests import EmbeddingsIntegrationTests

from lmstudio_provider.langchain import LMStudioEmbeddings
from realserver import ServerUnderTest


class TestLMStudioEmbeddingsIntegration(EmbeddingsIntegrationTests):
    server: ServerUnderTest
    model_id: str

    @pytest.fixture(autouse=True)
    def _server_under_test(self, server: ServerUnderTest, embedding_model: str) -> None:
        self.server = server
        self.model_id = embedding_model

    @property
    def embeddings_class(self) -> type[LMStudioEmbeddings]:
        return LMStudioEmbeddings

    @property
    def embedding_model_params(self) -> dict[str, Any]:
        return {"model": self.model_id, "base_url": self.server.base_url, "timeout": 120}
