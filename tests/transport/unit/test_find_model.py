"""``find_model``: ``resolve_model_name``'s rules for a caller that only wants to know."""

from __future__ import annotations

import pytest

from lmstudio_provider.transport import ModelInfo, find_model

QWEN = ModelInfo("qwen/qwen3-4b", type="llm", state="loaded", instance_ids=("my-qwen",))
QWEN_CODER = ModelInfo("qwen/qwen2.5-coder-7b", type="llm", state="not-loaded")
GEMMA = ModelInfo("google/gemma-3-4b", type="vlm", state="not-loaded")
NOMIC = ModelInfo("text-embedding-nomic-embed-text-v1.5", type="embeddings")
GEMMA_EMBEDDING = ModelInfo("text-embedding-gemma-300m", type="embeddings")
CHAT = (QWEN, QWEN_CODER, GEMMA)


@pytest.mark.parametrize(
    ("name", "found"),
    [
        ("qwen/qwen3-4b", QWEN),
        ("QWEN/Qwen3-4B", QWEN),  # ids are matched up to case
        ("gemma", GEMMA),  # a unique part
        ("local-model", QWEN),  # the loaded one
        ("qwen", None),  # two models: ambiguous
        ("llama", None),  # none
    ],
)
def test_a_name_among_chat_models(name: str, found: ModelInfo | None) -> None:
    assert find_model(name, CHAT) == found


def test_a_loaded_instance_is_named_as_that_instance() -> None:
    match = find_model("my-qwen", CHAT)
    assert match is not None
    assert (match.id, match.instance_of) == ("my-qwen", QWEN.id)


def test_embedding_models_are_found_among_their_own_kind() -> None:
    """Among embedding models the kind asked for is theirs: no "it cannot chat" refusal."""
    assert find_model("nomic", [NOMIC, GEMMA_EMBEDDING]) == NOMIC
    assert find_model("text-embedding", [NOMIC, GEMMA_EMBEDDING]) is None  # ambiguous
    assert find_model("nomic", CHAT) is None


def test_nothing_listed_finds_nothing() -> None:
    assert find_model("qwen", []) is None
    assert find_model("local-model", []) is None
