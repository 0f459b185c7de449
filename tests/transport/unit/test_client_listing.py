"""Model listing (``/api/v1``, then ``/api/v0``, then ``/v1``) and its cache, in both clients.

Every test runs against ``LMStudioClient`` and ``AsyncLMStudioClient`` (the ``api``
fixture is parametrized) with respx standing in for LM Studio: no socket is opened.
Tests that replay a recorded body name the capture.
"""

from __future__ import annotations

from typing import Any

import httpx2
import pytest
import respx

from client_api import Api
from lmstudio_provider.transport._errors import (
    AuthenticationError,
    BadRequestError,
    ModelNotFoundError,
)
from lmstudio_provider.transport._models import ModelInfo
from model_fakes import (
    ALL_IDS,
    BASE,
    CHAT_URL,
    LOADED,
    OPENAI_CAPTURE,
    OPENAI_MODELS_URL,
    UNEXPECTED_ENDPOINT,
    V0_CAPTURE,
    V0_DUPLICATES_CAPTURE,
    V0_MODELS_URL,
    V1_BODY,
    V1_MODELS_URL,
    V1_PARSED,
    Clock,
    completion,
    llm_entry,
    read_capture,
    sent_body,
    serve_models,
    wire,
)

# -- Listing ---------------------------------------------------------------------------


async def test_list_models_parses_api_v1(api: Api, respx_mock: respx.MockRouter) -> None:
    v1 = serve_models(respx_mock)
    v0 = respx_mock.get(V0_MODELS_URL).respond(200, json={"data": []})

    models = await api.list_models()

    assert models == V1_PARSED
    assert [m.supports_vision for m in models] == [False, True, False, False]
    assert [m.supports_tools for m in models] == [False, False, True, True]
    assert [m.is_embedding for m in models] == [True, False, False, False]
    assert (v1.call_count, v0.call_count) == (1, 0)


V0_PARSED_HEAD = [
    ModelInfo(
        id="granite-3.1-8b-instruct",
        type="llm",
        state="loaded",
        architecture="granite",
        quantization="Q8_0",
        max_context_length=131072,
        loaded_context_length=16384,
        capabilities=frozenset(),
        publisher="lmstudio-community",
        format="gguf",
    ),
    ModelInfo(
        id="qwen2.5-coder-32b-instruct",
        type="llm",
        state="not-loaded",
        architecture="qwen2",
        quantization="Q3_K_M",
        max_context_length=131072,
        publisher="Qwen",
        format="gguf",
    ),
    ModelInfo(
        id="text-embedding-nomic-embed-text-v1.5",
        type="embeddings",
        state="not-loaded",
        architecture="nomic-bert",
        quantization="Q4_K_M",
        max_context_length=2048,
        publisher="nomic-ai",
        format="gguf",
    ),
]

V1_UNAVAILABLE = [
    pytest.param(200, UNEXPECTED_ENDPOINT, id="200-unexpected-endpoint"),
    pytest.param(404, UNEXPECTED_ENDPOINT, id="404"),
]


@pytest.mark.parametrize(("status", "body"), V1_UNAVAILABLE)
async def test_list_models_falls_back_to_api_v0(
    api: Api, respx_mock: respx.MockRouter, status: int, body: dict[str, Any]
) -> None:
    """Capture: j-shelfwood v0/models/list.json (LM Studio 0.3.x)."""
    v1 = respx_mock.get(V1_MODELS_URL).respond(status, json=body)
    v0 = respx_mock.get(V0_MODELS_URL).respond(200, json=read_capture(V0_CAPTURE))
    openai = respx_mock.get(OPENAI_MODELS_URL).respond(200, json={"data": []})

    models = await api.list_models()

    assert models[:3] == V0_PARSED_HEAD
    assert [m.id for m in models] == [
        "granite-3.1-8b-instruct",
        "qwen2.5-coder-32b-instruct",
        "text-embedding-nomic-embed-text-v1.5",
        "qwen2.5-7b-instruct-1m",
        "text-embedding-mxbai-embed-large-v1",
        "qwen2.5-14b-instruct",
        "deepseek-ai.deepseek-r1-distill-qwen-32b",
    ]
    assert (v1.call_count, v0.call_count, openai.call_count) == (1, 1, 0)
    assert respx_mock.calls[0].request.url == V1_MODELS_URL
    assert respx_mock.calls[1].request.url == V0_MODELS_URL


async def test_api_v0_duplicates_keep_the_loaded_entry(
    api: Api, respx_mock: respx.MockRouter
) -> None:
    """Capture: j-shelfwood v0/models/list.json (an id listed loaded, then again not loaded)."""
    respx_mock.get(V1_MODELS_URL).respond(200, json=UNEXPECTED_ENDPOINT)
    respx_mock.get(V0_MODELS_URL).respond(200, json=read_capture(V0_DUPLICATES_CAPTURE))

    models = await api.list_models()

    ids = [m.id for m in models]
    assert ids.count("qwen2.5-7b-instruct-1m") == 1
    first = models[0]
    assert (first.id, first.state, first.loaded_context_length, first.architecture) == (
        "qwen2.5-7b-instruct-1m",
        "loaded",
        16384,
        "granite",
    )
    assert len(models) == 6


@pytest.mark.parametrize(("status", "body"), V1_UNAVAILABLE)
async def test_list_models_falls_back_to_openai_v1(
    api: Api, respx_mock: respx.MockRouter, status: int, body: dict[str, Any]
) -> None:
    """Capture: j-shelfwood v1/models/list.json (with a ``:2`` instance id and repeats)."""
    respx_mock.get(V1_MODELS_URL).respond(status, json=body)
    respx_mock.get(V0_MODELS_URL).respond(
        status, json={"error": "Unexpected endpoint or method. (GET /api/v0/models)"}
    )
    openai = respx_mock.get(OPENAI_MODELS_URL).respond(200, json=read_capture(OPENAI_CAPTURE))

    models = await api.list_models()

    assert models == [
        ModelInfo(id="qwen2.5-7b-instruct-1m"),
        ModelInfo(id="qwen2.5-7b-instruct-1m:2"),
        ModelInfo(id="qwen2.5-coder-32b-instruct"),
        ModelInfo(id="text-embedding-nomic-embed-text-v1.5", type="embeddings"),
        ModelInfo(id="text-embedding-mxbai-embed-large-v1", type="embeddings"),
        ModelInfo(id="qwen2.5-14b-instruct"),
        ModelInfo(id="deepseek-ai.deepseek-r1-distill-qwen-32b"),
    ]
    assert all(m.state == "unknown" for m in models)
    assert openai.call_count == 1
    assert [str(call.request.url) for call in respx_mock.calls] == [
        V1_MODELS_URL,
        V0_MODELS_URL,
        OPENAI_MODELS_URL,
    ]


async def test_no_model_endpoint_at_all_is_a_wrong_base_url(
    api: Api, respx_mock: respx.MockRouter
) -> None:
    for url in (V1_MODELS_URL, V0_MODELS_URL, OPENAI_MODELS_URL):
        path = url.removeprefix(BASE)
        respx_mock.get(url).respond(
            200, json={"error": f"Unexpected endpoint or method. (GET {path})"}
        )

    with pytest.raises(BadRequestError) as caught:
        await api.list_models()

    assert caught.value.message == (
        "LM Studio does not know the endpoint GET http://localhost:1234/v1/models: "
        "Unexpected endpoint or method. (GET /v1/models)"
    )
    assert caught.value.hint is not None
    assert "The base URL is probably wrong: it is http://localhost:1234" in caught.value.hint
    assert respx_mock.calls.call_count == 3


async def test_authentication_failure_does_not_fall_back(
    api: Api, respx_mock: respx.MockRouter
) -> None:
    respx_mock.get(V1_MODELS_URL).respond(
        401,
        json={
            "error": {
                "type": "invalid_request",
                "code": "invalid_api_key",
                "message": "An LM Studio API token is required to make requests.",
            }
        },
    )
    v0 = respx_mock.get(V0_MODELS_URL).respond(200, json=read_capture(V0_CAPTURE))

    with pytest.raises(AuthenticationError):
        await api.list_models()
    assert v0.call_count == 0


# -- Caching -----------------------------------------------------------------------------


async def test_model_list_is_cached(api: Api, respx_mock: respx.MockRouter) -> None:
    models = serve_models(respx_mock)
    chat = respx_mock.post(CHAT_URL).respond(200, json=completion(LOADED))

    await api.chat()
    await api.chat(model=LOADED)
    assert (models.call_count, chat.call_count) == (1, 2)

    await api.list_models()
    assert models.call_count == 1
    await api.list_models(refresh=True)
    assert models.call_count == 2


async def test_stale_cache_is_refreshed_once_for_an_unknown_name(
    api: Api, respx_mock: respx.MockRouter, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = Clock(monkeypatch)
    newer = {"models": [*V1_BODY["models"], llm_entry("qwen/qwen3-8b", loaded=False)]}
    models = respx_mock.get(V1_MODELS_URL)
    models.side_effect = [
        wire(httpx2.Response(200, json=V1_BODY)),
        wire(httpx2.Response(200, json=newer)),
        wire(httpx2.Response(200, json=newer)),
    ]
    chat = respx_mock.post(CHAT_URL).respond(200, json=completion("qwen/qwen3-8b"))

    assert [m.id for m in await api.list_models()] == ALL_IDS
    clock.now += 5  # downloaded since: not in the cached list
    await api.chat(model="qwen3-8b")
    assert models.call_count == 2
    assert sent_body(chat)["model"] == "qwen/qwen3-8b"

    # Still unknown in a list fetched just now: no further request.
    with pytest.raises(ModelNotFoundError):
        await api.chat(model="mistral")
    assert models.call_count == 2

    # Still unknown after one refresh: refreshed once, then the error.
    clock.now += 5
    with pytest.raises(ModelNotFoundError):
        await api.chat(model="mistral")
    assert models.call_count == 3
    assert chat.call_count == 1


async def test_cache_expires(
    api: Api, respx_mock: respx.MockRouter, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = Clock(monkeypatch)
    models = serve_models(respx_mock)

    await api.list_models()
    clock.now += 29
    await api.list_models()
    assert models.call_count == 1
    clock.now += 2
    await api.list_models()
    assert models.call_count == 2
