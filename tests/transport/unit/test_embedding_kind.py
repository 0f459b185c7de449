"""A chat model asked to embed: refused with the embedding models listed.

Where the list gives types (LM Studio), resolution refuses before sending; where it does
not (an OpenAI-style list, llama.cpp), the server's refusal is recognised and turned into
the same error.
"""

from __future__ import annotations

import pytest

from lmstudio_provider.transport import ModelInfo, ModelNotFoundError, resolve_model_name
from lmstudio_provider.transport._models import not_an_embedding_model

TYPED = [
    ModelInfo("qwen3-4b", type="llm", state="loaded"),
    ModelInfo("text-embedding-nomic-embed-text-v1.5", type="embeddings", state="loaded"),
]
# An OpenAI-style list: the chat model's type unknown, the embedding model's read off its id.
UNTYPED = [
    ModelInfo("smollm2-135m-instruct"),
    ModelInfo("text-embedding-gemma-3-270m", type="embeddings"),
]


def test_a_listed_chat_model_is_refused_before_sending() -> None:
    with pytest.raises(ModelNotFoundError) as raised:
        resolve_model_name("qwen3-4b", TYPED, kind="embeddings")

    assert raised.value.message == (
        "'qwen3-4b' is a llm model, not an embedding model "
        "(embedding models: text-embedding-nomic-embed-text-v1.5)."
    )
    assert raised.value.available == ["text-embedding-nomic-embed-text-v1.5"]


@pytest.mark.parametrize(
    "server_message",
    [
        "Llama model must be created with embedding=True to call this method",  # llama.cpp
        "Model is not embedding model",  # LM Studio
    ],
)
def test_the_servers_refusal_becomes_the_same_error(server_message: str) -> None:
    error = not_an_embedding_model(UNTYPED[0], UNTYPED, server_message)

    assert error is not None
    assert error.message == (
        "'smollm2-135m-instruct' is a chat model, not an embedding model "
        "(embedding models: text-embedding-gemma-3-270m)."
    )
    assert error.available == ["text-embedding-gemma-3-270m"]  # only embedding models
    assert error.server_message == server_message


@pytest.mark.parametrize("server_message", [None, "out of memory", "model crashed"])
def test_other_failures_are_left_alone(server_message: str | None) -> None:
    assert not_an_embedding_model(UNTYPED[0], UNTYPED, server_message) is None


def test_a_listed_embedding_model_keeps_the_servers_error() -> None:
    assert not_an_embedding_model(UNTYPED[1], UNTYPED, "Model is not embedding.") is None
