"""Embeddings, replayed from recorded model lists and LM Studio's embeddings errors.

Cassettes (``cassettes/test_embeddings/``, built by ``build_cassettes.py``):

* ``embed_chat_model``: ``j-shelfwood__prj-php-lmstudio__tests_mocks_v1_models_list.json__
  8cbd37b9`` then the body of ``..._v0_embeddings_standard-response.json__0bda23ab.json``
  (``Failed to load model ... Model is not embedding.``);
* ``embed_insufficient_resources``: ``..._v1_models_list.json__8ad79845`` then
  ``..._v1_embeddings_standard-response.json__64c71387.json`` (the memory guardrail);
* ``embed_refused_locally``: ``..._v0_models_list.json__af1d513f`` only;
* ``embed_vectors``: ``..._v0_models_list.json__af1d513f`` then a SYNTHESIZED embeddings
  answer: no capture holds a successful embeddings body, so its vectors are made up (and
  sent out of index order, 2, 0, 1) to check that they come back in input order.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import vcr

from lmstudio_provider import (
    AsyncLMStudioClient,
    BadRequestError,
    LMStudioClient,
    ModelNotFoundError,
    Usage,
)
from lmstudio_provider.transport._error_mapping import MEMORY_HINT

BASE_URL = "http://localhost:1234"
replay = vcr.VCR(
    cassette_library_dir=str(Path(__file__).resolve().parents[3] / "cassettes" / "test_embeddings"),
    record_mode="none",
    match_on=["method", "uri", "body"],
    filter_headers=["authorization"],
)
TEXTS = ["The capital of France is Paris.", "LM Studio runs models locally.", "Hello"]
NOMIC = "text-embedding-nomic-embed-text-v1.5"


def test_embed_vectors_in_input_order() -> None:
    """Capture af1d513f (model list) + a synthesized answer listing items 2, 0, 1."""
    with replay.use_cassette("embed_vectors.yaml", record_mode="none") as cassette:
        with LMStudioClient(base_url=BASE_URL, max_retries=0) as lm:
            result = lm.embed(TEXTS, model="nomic")
        assert cassette.all_played
    assert result.vectors == [[0.25, -0.5, 0.0], [1.25, -1.5, 0.125], [2.25, -2.5, 0.25]]
    assert result.model == NOMIC
    assert result.usage == Usage(prompt_tokens=0, total_tokens=0)


async def test_embed_vectors_in_input_order_async() -> None:
    """Capture af1d513f + the synthesized answer; no model named: the embedding default."""
    with replay.use_cassette("embed_vectors.yaml", record_mode="none") as cassette:
        async with AsyncLMStudioClient(base_url=BASE_URL, max_retries=0) as lm:
            result = await lm.embed(TEXTS)
        assert cassette.all_played
    assert [vector[0] for vector in result.vectors] == [0.25, 1.25, 2.25]
    assert result.model == NOMIC


def test_embed_with_a_chat_model_is_refused_by_the_server() -> None:
    """Captures 8cbd37b9 + 0bda23ab: /v1/models cannot tell, so LM Studio says no; its
    refusal becomes the error a listed chat model gets, with the embedding models."""
    with replay.use_cassette("embed_chat_model.yaml", record_mode="none") as cassette:
        with (
            LMStudioClient(base_url=BASE_URL, max_retries=2) as lm,
            pytest.raises(ModelNotFoundError) as caught,
        ):
            lm.embed(TEXTS[:1], model="qwen2.5-7b-instruct-1m")
        assert cassette.all_played  # a 400 is not retried
    error = caught.value
    assert error.server_message == (
        'Failed to load model "qwen2.5-7b-instruct-1m". Error: Model is not embedding.'
    )
    assert error.message.startswith(
        "'qwen2.5-7b-instruct-1m' is a chat model, not an embedding model (embedding models: "
    )
    assert error.available
    assert all(name.startswith("text-embedding-") for name in error.available)
    assert not error.retryable


async def test_embed_refused_for_lack_of_memory_async() -> None:
    """Captures 8ad79845 + 64c71387: the model-loading guardrail refuses the JIT load."""
    with replay.use_cassette("embed_insufficient_resources.yaml", record_mode="none") as cassette:
        async with AsyncLMStudioClient(base_url=BASE_URL, max_retries=2) as lm:
            with pytest.raises(BadRequestError) as caught:
                await lm.embed(TEXTS[:1], model="granite-3.1-8b-instruct")
        assert cassette.all_played
    error = caught.value
    assert error.server_message is not None
    assert error.server_message.startswith(
        'Failed to load model "granite-3.1-8b-instruct". Error: Model loading aborted due to '
        "insufficient system resources."
    )
    assert error.hint == MEMORY_HINT


def test_embed_with_a_known_chat_model_sends_nothing() -> None:
    """Capture af1d513f: /api/v0 says qwen2.5-7b-instruct-1m is an llm; no POST is made."""
    with replay.use_cassette("embed_refused_locally.yaml", record_mode="none") as cassette:
        with (
            LMStudioClient(base_url=BASE_URL, max_retries=0) as lm,
            pytest.raises(ModelNotFoundError) as caught,
        ):
            lm.embed(TEXTS, model="qwen2.5-7b-instruct-1m")
        assert cassette.all_played  # the two model-list requests, and nothing else
        assert cassette.play_count == 2
    assert caught.value.available == [NOMIC, "text-embedding-mxbai-embed-large-v1"]
    assert caught.value.message.startswith(
        "'qwen2.5-7b-instruct-1m' is a llm model, not an embedding model"
    )
