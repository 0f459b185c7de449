"""Model listing and name resolution, replayed from recorded LM Studio model lists.

Cassettes (``cassettes/test_models/``, built by ``build_cassettes.py``):

* ``v0_models_duplicates``: ``/api/v0/models`` from
  ``j-shelfwood__prj-php-lmstudio__tests_mocks_models_list.json__ebd9e1f6.json``
  (``qwen2.5-7b-instruct`` listed twice, the loaded entry first);
* ``v0_models_loaded``: ``/api/v0/models`` from
  ``j-shelfwood__prj-php-lmstudio__tests_mocks_models_list.json__710ca4ad.json``;
* ``openai_models_instance``: ``/v1/models`` from
  ``j-shelfwood__prj-php-lmstudio__tests_mocks_v1_models_list.json__8cbd37b9.json``
  (a ``:2`` instance id and a repeated id);
* ``openai_models_variants``: ``/v1/models`` from ``cs3b__ace__spec_cassettes_llm_lmstudio_
  query_integration_queries_lm_studio_with_simple_prompt.yml__79d1a045.yml``
  (``@q4_k_m`` / ``@q8_0`` variants).

Each listing first meets ``GET /api/v1/models`` answered the LM Studio 0.3 way (200 with
"Unexpected endpoint"), so every replay also checks the transport's fallback order.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import vcr

from lmstudio_provider import (
    AmbiguousModelError,
    AsyncLMStudioClient,
    LMStudioClient,
    ModelInfo,
    ModelNotFoundError,
)

BASE_URL = "http://localhost:1234"
CASSETTES = Path(__file__).resolve().parents[3] / "cassettes" / "test_models"
replay = vcr.VCR(
    cassette_library_dir=str(CASSETTES),
    record_mode="none",
    match_on=["method", "uri", "body"],
    filter_headers=["authorization"],
)

# /api/v0/models of capture ebd9e1f6: 7 entries, qwen2.5-7b-instruct twice.
DUPLICATES_IDS = [
    "qwen2.5-7b-instruct",
    "qwen2.5-coder-32b-instruct",
    "text-embedding-nomic-embed-text-v1.5",
    "text-embedding-mxbai-embed-large-v1",
    "qwen2.5-14b-instruct",
    "deepseek-ai.deepseek-r1-distill-qwen-32b",
]
# /api/v0/models of capture 710ca4ad: 8 entries, no repeats.
LOADED_IDS = [
    "qwen2.5-7b-instruct",
    "text-embedding-nomic-embed-text-v1.5",
    "deepseek-r1-distill-qwen-7b",
    "qwq-32b",
    "granite-3.2-8b-instruct",
    "qwen2.5-7b-instruct-1m",
    "text-embedding-mxbai-embed-large-v1",
    "qwen2.5-14b-instruct",
]
# /v1/models of capture 8cbd37b9: 8 entries, qwen2.5-7b-instruct-1m twice.
INSTANCE_IDS = [
    "qwen2.5-7b-instruct-1m",
    "qwen2.5-7b-instruct-1m:2",
    "qwen2.5-coder-32b-instruct",
    "text-embedding-nomic-embed-text-v1.5",
    "text-embedding-mxbai-embed-large-v1",
    "qwen2.5-14b-instruct",
    "deepseek-ai.deepseek-r1-distill-qwen-32b",
]
# /v1/models of capture 79d1a045 (LM Studio 0.3.16): 21 entries.
VARIANT_IDS = [
    "mistralai/devstral-small-2505",
    "deepseek/deepseek-r1-0528-qwen3-8b",
    "text-embedding-nomic-embed-text-v1.5",
    "phi-4-reasoning-plus-mlx",
    "phi-4-reasoning-mlx",
    "phi-4-mini-reasoning-mlx",
    "qwen3-30b-a3b-mlx",
    "mistral-small-3.1-24b-instruct-2503",
    "deepseek-r1-distill-qwen-32b",
    "sfr-embedding-mistral",
    "text-embedding-granite-embedding-278m-multilingual",
    "gemma-3-27b-it@q4_k_m",
    "gemma-3-27b-it@q8_0",
    "gemma-3-4b-it",
    "watt-tool-8b",
    "gemma-3-12b-it",
    "gemma-3-1b-it",
    "phi-4-mini-instruct",
    "phi-4",
    "forgotten-safeword-24b",
    "pantheon-rp-pure-x-cydonia-ub-v1.3-36b-i1",
]


def client() -> LMStudioClient:
    return LMStudioClient(base_url=BASE_URL, max_retries=0)


def check_duplicates_listing(models: list[ModelInfo]) -> None:
    """The expectations for capture ebd9e1f6, shared by the sync and async tests."""
    assert [m.id for m in models] == DUPLICATES_IDS
    # The repeated id keeps its loaded entry (granite arch, 16384 loaded), not the
    # not-loaded one that follows it (qwen2 arch, 1010000 context).
    assert models[0].as_dict() == {
        "id": "qwen2.5-7b-instruct",
        "type": "llm",
        "state": "loaded",
        "architecture": "granite",
        "quantization": "Q8_0",
        "max_context_length": 131072,
        "loaded_context_length": 16384,
        "capabilities": [],
        "publisher": "lmstudio-community",
        "format": "gguf",
        "display_name": None,
        "size_bytes": None,
        "instance_ids": [],
        "instances": [],
    }
    by_id = {m.id: m for m in models}
    nomic = by_id["text-embedding-nomic-embed-text-v1.5"]
    assert (nomic.type, nomic.state, nomic.quantization) == ("embeddings", "not-loaded", "Q4_K_M")
    assert (nomic.architecture, nomic.publisher, nomic.max_context_length) == (
        "nomic-bert",
        "nomic-ai",
        2048,
    )
    assert nomic.loaded_context_length is None
    assert nomic.is_embedding
    assert by_id["text-embedding-mxbai-embed-large-v1"].quantization == "F16"
    assert by_id["qwen2.5-coder-32b-instruct"].quantization == "Q3_K_M"
    assert by_id["qwen2.5-coder-32b-instruct"].publisher == "Qwen"
    assert by_id["deepseek-ai.deepseek-r1-distill-qwen-32b"].quantization == "Q2_K"
    assert [m.type for m in models] == ["llm", "llm", "embeddings", "embeddings", "llm", "llm"]
    assert [m.id for m in models if m.is_loaded] == ["qwen2.5-7b-instruct"]


def test_v0_listing_drops_the_repeated_id_and_keeps_the_loaded_entry() -> None:
    """Capture ebd9e1f6 via /api/v0/models after /api/v1/models is refused."""
    with replay.use_cassette("v0_models_duplicates.yaml", record_mode="none") as cassette:
        with client() as lm:
            models = lm.list_models()
        assert cassette.all_played
    check_duplicates_listing(models)


async def test_v0_listing_async() -> None:
    """Capture ebd9e1f6 through AsyncLMStudioClient."""
    with replay.use_cassette("v0_models_duplicates.yaml", record_mode="none") as cassette:
        async with AsyncLMStudioClient(base_url=BASE_URL, max_retries=0) as lm:
            models = await lm.list_models()
        assert cassette.all_played
    check_duplicates_listing(models)


def test_v0_listing_is_cached() -> None:
    """Capture 710ca4ad: a second listing within the cache time sends nothing."""
    with replay.use_cassette("v0_models_loaded.yaml", record_mode="none") as cassette:
        with client() as lm:
            first = lm.list_models()
            second = lm.list_models()
        assert cassette.play_count == 2  # /api/v1/models and /api/v0/models, once each
    assert first == second
    assert [m.id for m in first] == LOADED_IDS


def test_v0_listing_loaded_context_and_quantizations() -> None:
    """Capture 710ca4ad: loaded_context_length 4096 on the loaded model only."""
    with replay.use_cassette("v0_models_loaded.yaml", record_mode="none"), client() as lm:
        models = lm.list_models()
    by_id = {m.id: m for m in models}
    loaded = by_id["qwen2.5-7b-instruct"]
    assert (loaded.state, loaded.max_context_length, loaded.loaded_context_length) == (
        "loaded",
        32768,
        4096,
    )
    assert loaded.architecture == "qwen2"
    assert [m.loaded_context_length for m in models if m.id != loaded.id] == [None] * 7
    assert {m.id: m.quantization for m in models} == {
        "qwen2.5-7b-instruct": "Q8_0",
        "text-embedding-nomic-embed-text-v1.5": "Q4_K_M",
        "deepseek-r1-distill-qwen-7b": "Q8_0",
        "qwq-32b": "Q3_K_L",
        "granite-3.2-8b-instruct": "Q8_0",
        "qwen2.5-7b-instruct-1m": "Q8_0",
        "text-embedding-mxbai-embed-large-v1": "F16",
        "qwen2.5-14b-instruct": "Q6_K",
    }
    assert [m.id for m in models if m.type == "embeddings"] == [
        "text-embedding-nomic-embed-text-v1.5",
        "text-embedding-mxbai-embed-large-v1",
    ]
    assert {m.type for m in models} == {"llm", "embeddings"}  # no vlm in any capture
    assert by_id["qwen2.5-7b-instruct-1m"].max_context_length == 1010000


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        (None, "qwen2.5-7b-instruct"),  # the loaded model
        ("qwen2.5-7b-instruct", "qwen2.5-7b-instruct"),  # exact, though -1m contains it
        ("QWEN2.5-7B-INSTRUCT", "qwen2.5-7b-instruct"),  # case-insensitive
        ("qwq", "qwq-32b"),  # unique substring
        ("granite", "granite-3.2-8b-instruct"),
        ("R1-DISTILL", "deepseek-r1-distill-qwen-7b"),
        ("instruct-1m", "qwen2.5-7b-instruct-1m"),
    ],
)
def test_v0_resolve(name: str | None, expected: str) -> None:
    """Capture 710ca4ad: exact, case-insensitive and unique-substring names."""
    with replay.use_cassette("v0_models_loaded.yaml", record_mode="none"), client() as lm:
        assert lm.resolve_model(name).id == expected


def test_v0_resolve_embeddings_default() -> None:
    """Capture 710ca4ad: no embedding model is loaded, so the first downloaded one is used."""
    with replay.use_cassette("v0_models_loaded.yaml", record_mode="none"), client() as lm:
        info = lm.resolve_model(kind="embeddings")
    assert info.id == "text-embedding-nomic-embed-text-v1.5"
    assert info.state == "not-loaded"


def test_v0_resolve_ambiguous_lists_candidates() -> None:
    """Capture 710ca4ad: 'qwen2.5-7b' is part of two ids."""
    with (
        replay.use_cassette("v0_models_loaded.yaml", record_mode="none"),
        client() as lm,
        pytest.raises(AmbiguousModelError) as caught,
    ):
        lm.resolve_model("qwen2.5-7b")
    assert caught.value.candidates == ["qwen2.5-7b-instruct", "qwen2.5-7b-instruct-1m"]
    assert "qwen2.5-7b-instruct, qwen2.5-7b-instruct-1m" in caught.value.message
    assert caught.value.status_code == 400


def test_v0_resolve_unknown_lists_available() -> None:
    """Capture 710ca4ad: an unknown chat model name lists the chat models (not embeddings)."""
    with replay.use_cassette("v0_models_loaded.yaml", record_mode="none") as cassette:
        with client() as lm, pytest.raises(ModelNotFoundError) as caught:
            lm.resolve_model("llama-3.1-8b")
        assert cassette.play_count == 2  # the fresh list is trusted: no second fetch
    chat_ids = [i for i in LOADED_IDS if not i.startswith("text-embedding")]
    assert caught.value.available == chat_ids
    assert caught.value.message == (
        f"LM Studio has no model 'llama-3.1-8b'. Available: {', '.join(chat_ids)}."
    )
    assert caught.value.hint is not None
    assert "lms get" in caught.value.hint


def test_v0_resolve_embedding_model_for_chat() -> None:
    """Capture 710ca4ad: an embedding model cannot chat; the chat models are listed."""
    with (
        replay.use_cassette("v0_models_loaded.yaml", record_mode="none"),
        client() as lm,
        pytest.raises(ModelNotFoundError) as caught,
    ):
        lm.resolve_model("text-embedding-mxbai-embed-large-v1")
    assert caught.value.available == [i for i in LOADED_IDS if not i.startswith("text-embedding")]


def test_openai_listing_with_instance_id() -> None:
    """Capture 8cbd37b9 via /v1/models after both /api routes are refused."""
    with replay.use_cassette("openai_models_instance.yaml", record_mode="none") as cassette:
        with client() as lm:
            models = lm.list_models()
        assert cassette.all_played
    assert [m.id for m in models] == INSTANCE_IDS
    # /v1/models says nothing but ids: embedding models are recognised by name.
    assert [m.type for m in models] == [
        "unknown",
        "unknown",
        "unknown",
        "embeddings",
        "embeddings",
        "unknown",
        "unknown",
    ]
    assert {m.state for m in models} == {"unknown"}
    assert {m.quantization for m in models} == {None}


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("qwen2.5-7b-instruct-1m:2", "qwen2.5-7b-instruct-1m:2"),  # the instance, kept
        ("qwen2.5-7b-instruct-1m", "qwen2.5-7b-instruct-1m"),  # exact beats the instance
        ("Qwen2.5-7B-Instruct-1M:2", "qwen2.5-7b-instruct-1m:2"),
        (None, "qwen2.5-7b-instruct-1m"),  # first chat model (states are unknown)
        ("coder", "qwen2.5-coder-32b-instruct"),
    ],
)
async def test_openai_resolve_instance_async(name: str | None, expected: str) -> None:
    """Capture 8cbd37b9 through AsyncLMStudioClient."""
    with replay.use_cassette("openai_models_instance.yaml", record_mode="none"):
        async with AsyncLMStudioClient(base_url=BASE_URL, max_retries=0) as lm:
            assert (await lm.resolve_model(name)).id == expected


def test_openai_resolve_instance_substring_picks_the_model() -> None:
    """Capture 8cbd37b9: 'instruct-1m' matches the model and its own ':2' instance: one model."""
    with replay.use_cassette("openai_models_instance.yaml", record_mode="none"), client() as lm:
        assert lm.resolve_model("instruct-1m").id == "qwen2.5-7b-instruct-1m"
        assert lm.resolve_model("instruct-1m:2").id == "qwen2.5-7b-instruct-1m:2"


def test_openai_listing_with_variants() -> None:
    """Capture 79d1a045 (cs3b, LM Studio 0.3.16): 21 ids, @q4_k_m and @q8_0 variants."""
    with replay.use_cassette("openai_models_variants.yaml", record_mode="none") as cassette:
        with client() as lm:
            models = lm.list_models()
        assert cassette.all_played
    assert [m.id for m in models] == VARIANT_IDS
    assert [m.id for m in models if m.type == "embeddings"] == [
        "text-embedding-nomic-embed-text-v1.5",
        "sfr-embedding-mistral",
        "text-embedding-granite-embedding-278m-multilingual",
    ]


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("gemma-3-27b-it@q4_k_m", "gemma-3-27b-it@q4_k_m"),
        ("GEMMA-3-27B-IT@Q8_0", "gemma-3-27b-it@q8_0"),
        ("q4_k_m", "gemma-3-27b-it@q4_k_m"),
        ("devstral", "mistralai/devstral-small-2505"),
        ("phi-4", "phi-4"),  # exact, though five other ids contain it
        ("gemma-3-1b", "gemma-3-1b-it"),
        ("deepseek/", "deepseek/deepseek-r1-0528-qwen3-8b"),
    ],
)
def test_openai_resolve_variants(name: str, expected: str) -> None:
    """Capture 79d1a045: variant ids resolve exactly, case-insensitively or by substring."""
    with replay.use_cassette("openai_models_variants.yaml", record_mode="none"), client() as lm:
        assert lm.resolve_model(name).id == expected


@pytest.mark.parametrize(
    ("name", "candidates"),
    [
        ("gemma-3-27b", ["gemma-3-27b-it@q4_k_m", "gemma-3-27b-it@q8_0"]),
        ("phi-4-mini", ["phi-4-mini-reasoning-mlx", "phi-4-mini-instruct"]),
        (
            "gemma-3",
            [
                "gemma-3-27b-it@q4_k_m",
                "gemma-3-27b-it@q8_0",
                "gemma-3-4b-it",
                "gemma-3-12b-it",
                "gemma-3-1b-it",
            ],
        ),
    ],
)
def test_openai_resolve_variants_ambiguous(name: str, candidates: list[str]) -> None:
    """Capture 79d1a045: a name shared by both variants is ambiguous, candidates listed."""
    with (
        replay.use_cassette("openai_models_variants.yaml", record_mode="none"),
        client() as lm,
        pytest.raises(AmbiguousModelError) as caught,
    ):
        lm.resolve_model(name)
    assert caught.value.candidates == candidates
    for candidate in candidates:
        assert candidate in caught.value.message


async def test_openai_resolve_unknown_async() -> None:
    """Capture 79d1a045: 21 ids; the message shows 20 and says one more."""
    with replay.use_cassette("openai_models_variants.yaml", record_mode="none"):
        async with AsyncLMStudioClient(base_url=BASE_URL, max_retries=0) as lm:
            with pytest.raises(ModelNotFoundError) as caught:
                await lm.resolve_model("llama-3.3-70b")
    chat_ids = [i for i in VARIANT_IDS if "embed" not in i]  # chat requests list chat models
    assert caught.value.available == chat_ids
    assert caught.value.message == (
        f"LM Studio has no model 'llama-3.3-70b'. Available: {', '.join(chat_ids)}."
    )
