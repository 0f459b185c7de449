"""Embedding with the chat model: refused, naming the server's embedding models only."""

from __future__ import annotations

import pytest

from lmstudio_provider import LMStudioClient, ModelNotFoundError
from realserver import ServerUnderTest


def test_the_chat_model_cannot_embed(
    server: ServerUnderTest, client: LMStudioClient, embedding_model: str
) -> None:
    with pytest.raises(ModelNotFoundError) as raised:
        client.embed(["hello"], model=server.chat_model)

    error = raised.value
    assert "not an embedding model" in error.message
    assert embedding_model in error.available
    assert server.chat_model not in error.available
