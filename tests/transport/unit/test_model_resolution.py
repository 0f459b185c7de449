"""Pure model-name resolution: kinds, allowed_models and the answering-model check."""

from __future__ import annotations

import pytest

from lmstudio_provider.transport._errors import (
    AmbiguousModelError,
    ModelNotAllowedError,
    ModelNotFoundError,
)
from lmstudio_provider.transport._models import ModelInfo, resolve_model_name, same_model

CHAT = ModelInfo(id="gemma-3-270m", type="llm", state="loaded")
EMBEDDER = ModelInfo(id="text-embedding-gemma-3-270m", type="embeddings", state="loaded")
QWEN = ModelInfo(id="qwen3", type="llm", state="loaded")
MODELS = [CHAT, EMBEDDER]


def test_a_name_matching_a_chat_and_an_embedding_model_picks_the_kind_asked_for() -> None:
    assert resolve_model_name("gemma", MODELS).id == CHAT.id
    assert resolve_model_name("gemma", MODELS, kind="embeddings").id == EMBEDDER.id


def test_a_model_of_the_wrong_kind_is_still_named_in_the_error() -> None:
    with pytest.raises(ModelNotFoundError) as caught:
        resolve_model_name("text-embedding", MODELS)
    assert "is an embedding model" in caught.value.message
    assert caught.value.available == [CHAT.id]


def test_ambiguity_within_the_kind_is_still_an_error() -> None:
    other = ModelInfo(id="gemma-3-1b", type="llm", state="not-loaded")
    with pytest.raises(AmbiguousModelError) as caught:
        resolve_model_name("gemma", [*MODELS, other])
    assert caught.value.candidates == [CHAT.id, other.id]


def test_a_resolved_id_that_is_only_part_of_an_allowed_id_is_refused() -> None:
    # The loaded "qwen3" is a substring of the allowed "qwen3-4b-instruct": not the same model.
    with pytest.raises(ModelNotAllowedError) as caught:
        resolve_model_name(None, [QWEN], allowed=["qwen3-4b-instruct"])
    assert caught.value.allowed == ["qwen3-4b-instruct"]
    assert "'qwen3' is not in allowed_models" in caught.value.message


@pytest.mark.parametrize("allowed", ["QWEN3", "qwen3:2"])
def test_a_resolved_id_may_differ_from_an_allowed_one_by_case_or_instance(allowed: str) -> None:
    assert resolve_model_name(None, [QWEN], allowed=[allowed]).id == "qwen3"


@pytest.mark.parametrize(
    ("requested", "answered", "same"),
    [
        ("qwen/qwen3-4b", "qwen/qwen3-4b", True),
        ("qwen/qwen3-4b", "QWEN/Qwen3-4B", True),
        ("gemma-3-27b-it", "gemma-3-27b-it@q4_k_m", True),
        ("qwen2.5-7b-instruct-1m", "qwen2.5-7b-instruct-1m:2", True),
        ("qwen/qwen3-4b", "qwen3-4b", True),
        ("qwen3-4b", "qwen/qwen3-4b", True),
        ("qwen/qwen3-4b", "lmstudio-community/qwen3-4b", False),
        ("qwen/qwen3-4b", "qwen/qwen3-8b", False),
        ("llama-3.1-8b", "granite-3.1-8b-instruct", False),
    ],
)
def test_same_model(requested: str, answered: str, same: bool) -> None:
    assert same_model(requested, answered) is same
