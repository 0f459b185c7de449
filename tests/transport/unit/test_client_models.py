"""Model listing, resolution and caching, embeddings and ``health()`` of both clients.

Every test runs against ``LMStudioClient`` and ``AsyncLMStudioClient`` (the ``api``
fixture is parametrized) with respx standing in for LM Studio: no socket is opened.
Model lists use the shapes of ``../shared/LMSTUDIO-API.md``; tests that replay a
recorded body name the capture.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx2
import pytest
import respx

import lmstudio_provider.transport._core
from client_api import Api
from lmstudio_provider.transport._errors import (
    AmbiguousModelError,
    AuthenticationError,
    BadRequestError,
    InvalidParameterError,
    ModelMismatchError,
    ModelNotAllowedError,
    ModelNotFoundError,
    NoModelLoadedError,
)
from lmstudio_provider.transport._models import ModelInfo
from lmstudio_provider.transport._results import Usage

BASE = "http://localhost:1234"
V1_MODELS_URL = f"{BASE}/api/v1/models"
V0_MODELS_URL = f"{BASE}/api/v0/models"
OPENAI_MODELS_URL = f"{BASE}/v1/models"
GREETING_URL = f"{BASE}/lmstudio-greeting"
CHAT_URL = f"{BASE}/v1/chat/completions"
EMBEDDINGS_URL = f"{BASE}/v1/embeddings"
CAPTURES = Path(__file__).resolve().parents[4] / "shared" / "lmstudio-captures"
V0_CAPTURE = "j-shelfwood__prj-php-lmstudio__tests_mocks_v0_models_list.json__53b1841e.json"
V0_DUPLICATES_CAPTURE = (
    "j-shelfwood__prj-php-lmstudio__tests_mocks_v0_models_list.json__af1d513f.json"
)
OPENAI_CAPTURE = "j-shelfwood__prj-php-lmstudio__tests_mocks_v1_models_list.json__8cbd37b9.json"
UNEXPECTED_ENDPOINT = {"error": "Unexpected endpoint or method. (GET /api/v1/models)"}

EMBEDDER = "text-embedding-nomic-embed-text-v1.5"
LOADED = "qwen/qwen3-4b"
GEMMA = "google/gemma-3-4b"
CODER = "qwen/qwen3-coder-30b"
SECRET = "sk-lm-AbCdEfGh:SeCrEtToKeN1234567890"


def read_capture(name: str) -> Any:
    """A JSON capture without its ``# SOURCE`` first line."""
    first, _, rest = (CAPTURES / name).read_text(encoding="utf-8").partition("\n")
    assert first.startswith("# SOURCE")
    return json.loads(rest)


def wire(response: httpx2.Response) -> Any:
    """A response for respx: its annotations name ``httpx``, aliased to ``httpx2`` at run time."""
    return response


# -- /api/v1/models (LM Studio 0.4) ------------------------------------------------------


def llm_entry(
    key: str,
    *,
    loaded: bool,
    vision: bool = False,
    tools: bool = True,
    **extra: Any,
) -> dict[str, Any]:
    publisher = key.split("/")[0]
    return {
        "type": "llm",
        "publisher": publisher,
        "key": key,
        "display_name": key.split("/")[-1].title(),
        "architecture": "gemma3" if publisher == "google" else "qwen3",
        "quantization": {"name": "Q4_K_M", "bits_per_weight": 4},
        "size_bytes": 2497280256,
        "params_string": "4B",
        "loaded_instances": (
            [
                {
                    "id": key,
                    "config": {
                        "context_length": 4096,
                        "eval_batch_size": 512,
                        "flash_attention": True,
                        "offload_kv_cache_to_gpu": True,
                    },
                }
            ]
            if loaded
            else []
        ),
        "max_context_length": 131072,
        "format": "gguf",
        "capabilities": {"vision": vision, "trained_for_tool_use": tools},
        **extra,
    }


EMBEDDER_ENTRY: dict[str, Any] = {
    "type": "embedding",
    "publisher": "nomic-ai",
    "key": EMBEDDER,
    "display_name": "Nomic Embed Text v1.5",
    "architecture": "nomic-bert",
    "quantization": {"name": "Q4_K_M", "bits_per_weight": 4},
    "size_bytes": 84106624,
    "params_string": None,
    "loaded_instances": [{"id": EMBEDDER, "config": {"context_length": 2048}}],
    "max_context_length": 2048,
    "format": "gguf",
}
# The loaded embedding model comes first: "the loaded model" must still mean the LLM.
V1_BODY: dict[str, Any] = {
    "models": [
        EMBEDDER_ENTRY,
        llm_entry(
            GEMMA,
            loaded=False,
            vision=True,
            tools=False,
            format="mlx",
            variants=["google/gemma-3-4b@4bit"],
            selected_variant="google/gemma-3-4b@4bit",
        ),
        llm_entry(
            LOADED,
            loaded=True,
            capabilities={"vision": False, "trained_for_tool_use": True, "reasoning": True},
        ),
        llm_entry(CODER, loaded=False),
    ]
}
V1_PARSED = [
    ModelInfo(
        id=EMBEDDER,
        type="embeddings",
        state="loaded",
        architecture="nomic-bert",
        quantization="Q4_K_M",
        max_context_length=2048,
        loaded_context_length=2048,
        capabilities=frozenset(),
        publisher="nomic-ai",
        format="gguf",
        display_name="Nomic Embed Text v1.5",
        size_bytes=84106624,
        instance_ids=(EMBEDDER,),
    ),
    ModelInfo(
        id=GEMMA,
        type="vlm",
        state="not-loaded",
        architecture="gemma3",
        quantization="Q4_K_M",
        max_context_length=131072,
        loaded_context_length=None,
        capabilities=frozenset({"vision"}),
        publisher="google",
        format="mlx",
        display_name="Gemma-3-4B",
        size_bytes=2497280256,
        instance_ids=(),
    ),
    ModelInfo(
        id=LOADED,
        type="llm",
        state="loaded",
        architecture="qwen3",
        quantization="Q4_K_M",
        max_context_length=131072,
        loaded_context_length=4096,
        capabilities=frozenset({"tool_use", "reasoning"}),
        publisher="qwen",
        format="gguf",
        display_name="Qwen3-4B",
        size_bytes=2497280256,
        instance_ids=(LOADED,),
    ),
    ModelInfo(
        id=CODER,
        type="llm",
        state="not-loaded",
        architecture="qwen3",
        quantization="Q4_K_M",
        max_context_length=131072,
        loaded_context_length=None,
        capabilities=frozenset({"tool_use"}),
        publisher="qwen",
        format="gguf",
        display_name="Qwen3-Coder-30B",
        size_bytes=2497280256,
        instance_ids=(),
    ),
]
ALL_IDS = [EMBEDDER, GEMMA, LOADED, CODER]


def serve_models(respx_mock: respx.MockRouter, body: Mapping[str, Any] = V1_BODY) -> respx.Route:
    return respx_mock.get(V1_MODELS_URL).respond(200, json=dict(body))


def completion(model: str, content: str = "Hello") -> dict[str, Any]:
    return {
        "id": "chatcmpl-abc123",
        "object": "chat.completion",
        "created": 1740598352,
        "model": model,
        "choices": [
            {
                "index": 0,
                "logprobs": None,
                "finish_reason": "stop",
                "message": {"role": "assistant", "content": content},
            }
        ],
        "usage": {"prompt_tokens": 5, "completion_tokens": 1, "total_tokens": 6},
        "system_fingerprint": model,
    }


def sent_body(route: respx.Route, index: int = -1) -> Any:
    return json.loads(route.calls[index].request.content)


def echo_model(request: httpx2.Request) -> Any:
    """A chat answer from the model the request named."""
    return wire(httpx2.Response(200, json=completion(json.loads(request.content)["model"])))


class Clock:
    """``time.monotonic`` for the model cache, moved by hand."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.now = 1000.0
        fake_time = SimpleNamespace(monotonic=lambda: self.now, perf_counter=time.perf_counter)
        monkeypatch.setattr(lmstudio_provider.transport._core, "time", fake_time)


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


# -- Resolution --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        pytest.param(None, LOADED, id="none"),
        pytest.param("local-model", LOADED, id="local-model"),
        pytest.param("  ", LOADED, id="blank"),
        pytest.param("QWEN/Qwen3-4B", LOADED, id="exact-case-insensitive"),
        pytest.param("gemma", GEMMA, id="unique-substring"),
        pytest.param("CODER", CODER, id="unique-substring-case"),
    ],
)
async def test_resolution(
    api: Api, respx_mock: respx.MockRouter, name: str | None, expected: str
) -> None:
    serve_models(respx_mock)
    route = respx_mock.post(CHAT_URL).respond(200, json=completion(expected))

    info = await api.resolve_model(name)
    result = await api.chat(model=name)

    assert info == next(m for m in V1_PARSED if m.id == expected)
    assert sent_body(route)["model"] == expected
    assert result.model == expected


async def test_default_model_setting_is_used(
    make_api: Callable[..., Api], respx_mock: respx.MockRouter
) -> None:
    api = make_api(default_model="gemma")
    serve_models(respx_mock)
    route = respx_mock.post(CHAT_URL).mock(side_effect=echo_model)

    await api.chat()
    await api.chat(model="local-model")
    await api.chat(model=CODER)

    assert [sent_body(route, i)["model"] for i in range(3)] == [GEMMA, GEMMA, CODER]
    assert (await api.resolve_model()).id == GEMMA


@pytest.mark.parametrize("alias", ["local-model", "Local-Model", " LOCAL-MODEL "])
async def test_local_model_alias_is_case_insensitive(
    make_api: Callable[..., Api], respx_mock: respx.MockRouter, alias: str
) -> None:
    serve_models(respx_mock)
    route = respx_mock.post(CHAT_URL).mock(side_effect=echo_model)

    await make_api(default_model=GEMMA).chat(model=alias)
    await make_api(allowed_models=[LOADED]).chat(model=alias)

    assert [sent_body(route, i)["model"] for i in range(2)] == [GEMMA, LOADED]


async def test_loaded_instance_ids_resolve_to_that_instance(
    api: Api, respx_mock: respx.MockRouter
) -> None:
    twice = llm_entry(LOADED, loaded=True)
    twice["loaded_instances"].append({"id": f"{LOADED}:2", "config": {"context_length": 8192}})
    serve_models(respx_mock, {"models": [twice]})
    route = respx_mock.post(CHAT_URL).mock(side_effect=echo_model)

    info = await api.resolve_model(f"{LOADED.upper()}:2")
    await api.chat(model=f"{LOADED}:2")
    await api.chat(model=LOADED)
    await api.chat(model="qwen3-4b")  # the model and its instance ":2" are one model

    assert (info.id, info.instance_ids, info.loaded_context_length) == (
        f"{LOADED}:2",
        (LOADED, f"{LOADED}:2"),
        4096,
    )
    assert [sent_body(route, i)["model"] for i in range(3)] == [f"{LOADED}:2", LOADED, LOADED]


async def test_no_loaded_model(api: Api, respx_mock: respx.MockRouter) -> None:
    unloaded = {
        "models": [
            {**EMBEDDER_ENTRY, "loaded_instances": []},
            llm_entry(GEMMA, loaded=False),
            llm_entry(CODER, loaded=False),
        ]
    }
    serve_models(respx_mock, unloaded)
    chat = respx_mock.post(CHAT_URL).respond(200, json=completion(GEMMA))

    with pytest.raises(NoModelLoadedError) as caught:
        await api.chat()

    error = caught.value
    assert error.message == (
        f"No model is loaded in LM Studio, and none was named (downloaded: {GEMMA}, {CODER})."
    )
    assert error.available == [GEMMA, CODER]
    assert error.hint is not None
    assert "`lms load <model>`" in error.hint
    assert chat.call_count == 0


async def test_ambiguous_name(api: Api, respx_mock: respx.MockRouter) -> None:
    serve_models(respx_mock)
    chat = respx_mock.post(CHAT_URL).respond(200, json=completion(LOADED))

    with pytest.raises(AmbiguousModelError) as caught:
        await api.chat(model="qwen")

    assert caught.value.candidates == [LOADED, CODER]
    assert caught.value.message == f"Model name 'qwen' matches 2 models: {LOADED}, {CODER}."
    assert chat.call_count == 0


async def test_unknown_name_lists_the_available_models(
    api: Api, respx_mock: respx.MockRouter
) -> None:
    models = serve_models(respx_mock)
    chat = respx_mock.post(CHAT_URL).respond(200, json=completion(LOADED))

    with pytest.raises(ModelNotFoundError) as caught:
        await api.chat(model="llama-3.1-8b")

    error = caught.value
    assert type(error) is ModelNotFoundError
    assert error.message == (
        f"LM Studio has no model 'llama-3.1-8b'. Available: {GEMMA}, {LOADED}, {CODER}."
    )
    assert error.available == [GEMMA, LOADED, CODER]
    assert error.hint is not None
    assert "lms get" in error.hint

    with pytest.raises(ModelNotFoundError) as embedding_error:
        await api.embed(["x"], model="mistral-embed")
    assert embedding_error.value.message == (
        f"LM Studio has no embedding model 'mistral-embed'. Available: {EMBEDDER}."
    )
    # The list was fetched just now: it is not fetched again.
    assert (models.call_count, chat.call_count) == (1, 0)


async def test_chat_refuses_an_embedding_model(api: Api, respx_mock: respx.MockRouter) -> None:
    serve_models(respx_mock)
    chat = respx_mock.post(CHAT_URL).respond(200, json=completion(EMBEDDER))

    with pytest.raises(ModelNotFoundError) as caught:
        await api.chat(model="nomic")

    assert caught.value.message == (
        f"'{EMBEDDER}' is an embedding model: it cannot chat (chat models: {GEMMA}, "
        f"{LOADED}, {CODER})."
    )
    assert chat.call_count == 0


# -- allowed_models ----------------------------------------------------------------------


async def test_allowed_models_are_enforced_before_any_request(
    make_api: Callable[..., Api], respx_mock: respx.MockRouter
) -> None:
    api = make_api(allowed_models=[LOADED, EMBEDDER])
    serve_models(respx_mock)
    respx_mock.post(CHAT_URL).respond(200, json=completion(GEMMA))
    respx_mock.post(EMBEDDINGS_URL).respond(200, json={"data": []})
    expected = f"Model {GEMMA!r} is not in allowed_models ({LOADED}, {EMBEDDER}); nothing was sent."

    with pytest.raises(ModelNotAllowedError) as chat_error:
        await api.chat(model=GEMMA)
    with pytest.raises(ModelNotAllowedError) as stream_error:
        await api.stream(model=GEMMA)
    with pytest.raises(ModelNotAllowedError) as resolve_error:
        await api.resolve_model(GEMMA)
    with pytest.raises(ModelNotAllowedError) as embed_error:
        await api.embed(["x"], model=GEMMA)

    for error in (chat_error, stream_error, resolve_error, embed_error):
        assert error.value.message == expected
        assert error.value.allowed == [LOADED, EMBEDDER]
        assert error.value.status_code == 403
    assert respx_mock.calls.call_count == 0


async def test_allowed_models_resolve_within_the_allowed_list(
    make_api: Callable[..., Api], respx_mock: respx.MockRouter
) -> None:
    api = make_api(allowed_models=[LOADED])
    serve_models(respx_mock)
    route = respx_mock.post(CHAT_URL).respond(200, json=completion(LOADED))

    await api.chat(model="qwen")  # ambiguous on the server, unique among the allowed

    assert sent_body(route)["model"] == LOADED


async def test_allowed_models_also_bound_the_default_model(
    make_api: Callable[..., Api], respx_mock: respx.MockRouter
) -> None:
    api = make_api(allowed_models=[LOADED], default_model=GEMMA)
    serve_models(respx_mock)

    with pytest.raises(ModelNotAllowedError):
        await api.chat()
    assert respx_mock.calls.call_count == 0


async def test_allowed_models_also_bound_the_loaded_model(
    make_api: Callable[..., Api], respx_mock: respx.MockRouter
) -> None:
    api = make_api(allowed_models=[GEMMA])
    models = serve_models(respx_mock)
    chat = respx_mock.post(CHAT_URL).respond(200, json=completion(LOADED))

    with pytest.raises(ModelNotAllowedError) as caught:
        await api.chat()

    assert caught.value.message == (
        f"Model {LOADED!r} is not in allowed_models ({GEMMA}); nothing was sent."
    )
    assert (models.call_count, chat.call_count) == (1, 0)


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


# -- Which model answered ------------------------------------------------------------------


async def test_answer_from_another_model_is_refused(api: Api, respx_mock: respx.MockRouter) -> None:
    serve_models(respx_mock)
    respx_mock.post(CHAT_URL).respond(200, json=completion(GEMMA))

    with pytest.raises(ModelMismatchError) as caught:
        await api.chat(model=LOADED)

    error = caught.value
    assert (error.requested, error.answered) == (LOADED, GEMMA)
    assert error.message.startswith(f"Asked for model {LOADED!r}, but LM Studio answered with ")
    assert error.hint == f"Load {LOADED!r} (`lms load {LOADED}`), or ask for {GEMMA!r}."


async def test_streamed_answer_from_another_model_is_refused(
    api: Api, respx_mock: respx.MockRouter
) -> None:
    serve_models(respx_mock)
    event = {
        "id": "chatcmpl-1",
        "object": "chat.completion.chunk",
        "model": GEMMA,
        "choices": [{"index": 0, "delta": {"content": "Hi"}, "finish_reason": None}],
    }
    respx_mock.post(CHAT_URL).respond(
        200,
        content=f"data: {json.dumps(event)}\n\ndata: [DONE]\n\n".encode(),
        headers={"content-type": "text/event-stream"},
    )

    with pytest.raises(ModelMismatchError) as caught:
        await api.stream(model=LOADED)
    assert (caught.value.requested, caught.value.answered) == (LOADED, GEMMA)


@pytest.mark.parametrize(
    "answered",
    ["QWEN/QWEN3-4B", "qwen/qwen3-4b@q4_k_m", "qwen/qwen3-4b:2", "qwen3-4b"],
)
async def test_answering_model_may_differ_in_spelling(
    api: Api, respx_mock: respx.MockRouter, answered: str
) -> None:
    serve_models(respx_mock)
    respx_mock.post(CHAT_URL).respond(200, json=completion(answered, "Fine"))

    result = await api.chat(model=LOADED)

    assert (result.text, result.model) == ("Fine", answered)


# -- Embeddings --------------------------------------------------------------------------

TEXTS = ["alpha", "beta", "gamma", "delta", "epsilon"]
VECTORS = {text: [float(i), float(len(text)), 0.5] for i, text in enumerate(TEXTS)}


def embeddings_reply(request: httpx2.Request, *, model: str = EMBEDDER) -> Any:
    """LM Studio's embeddings answer, with ``data`` in reverse index order."""
    inputs = json.loads(request.content)["input"]
    data = [
        {"object": "embedding", "embedding": VECTORS[text], "index": index}
        for index, text in enumerate(inputs)
    ]
    return wire(
        httpx2.Response(
            200,
            json={
                "object": "list",
                "data": data[::-1],
                "model": model,
                "usage": {"prompt_tokens": len(inputs), "total_tokens": len(inputs)},
            },
        )
    )


async def test_embeddings_are_batched_and_kept_in_input_order(
    api: Api, respx_mock: respx.MockRouter
) -> None:
    serve_models(respx_mock)
    route = respx_mock.post(EMBEDDINGS_URL).mock(side_effect=embeddings_reply)

    result = await api.embed(TEXTS, model="nomic", batch_size=2)

    assert route.call_count == 3
    assert [sent_body(route, i) for i in range(3)] == [
        {"model": EMBEDDER, "input": ["alpha", "beta"]},
        {"model": EMBEDDER, "input": ["gamma", "delta"]},
        {"model": EMBEDDER, "input": ["epsilon"]},
    ]
    assert result.vectors == [VECTORS[text] for text in TEXTS]
    assert result.model == EMBEDDER
    assert result.usage == Usage(prompt_tokens=5, completion_tokens=0, total_tokens=5)
    assert result.metrics.retries == 0
    assert result.metrics.wall_duration_secs > 0


async def test_embeddings_default_to_the_loaded_embedding_model(
    api: Api, respx_mock: respx.MockRouter
) -> None:
    serve_models(respx_mock)
    route = respx_mock.post(EMBEDDINGS_URL).mock(side_effect=embeddings_reply)

    result = await api.embed(TEXTS)

    assert route.call_count == 1
    assert sent_body(route) == {"model": EMBEDDER, "input": TEXTS}
    assert result.vectors == [VECTORS[text] for text in TEXTS]


async def test_embeddings_refuse_a_chat_model(api: Api, respx_mock: respx.MockRouter) -> None:
    serve_models(respx_mock)
    route = respx_mock.post(EMBEDDINGS_URL).mock(side_effect=embeddings_reply)

    with pytest.raises(ModelNotFoundError) as caught:
        await api.embed(TEXTS, model=LOADED)

    error = caught.value
    assert error.message == (
        f"{LOADED!r} is a llm model, not an embedding model (embedding models: {EMBEDDER})."
    )
    assert error.available == [EMBEDDER]
    assert error.hint is not None
    assert "embedding model" in error.hint
    assert route.call_count == 0


async def test_embedding_a_single_string_is_refused(api: Api, respx_mock: respx.MockRouter) -> None:
    serve_models(respx_mock)
    respx_mock.post(EMBEDDINGS_URL).mock(side_effect=embeddings_reply)

    with pytest.raises(InvalidParameterError) as caught:
        await api.embed("alpha")

    assert caught.value.message == "embed() takes a list of texts, got a single string."
    assert caught.value.hint == "Wrap it in a list: embed([text])."
    assert respx_mock.calls.call_count == 0


async def test_embedding_batch_size_below_one_sends_one_text_a_request(
    api: Api, respx_mock: respx.MockRouter
) -> None:
    serve_models(respx_mock)
    route = respx_mock.post(EMBEDDINGS_URL).mock(side_effect=embeddings_reply)

    result = await api.embed(TEXTS[:3], batch_size=0)

    assert [sent_body(route, i)["input"] for i in range(route.call_count)] == [
        ["alpha"],
        ["beta"],
        ["gamma"],
    ]
    assert result.vectors == [VECTORS[text] for text in TEXTS[:3]]


async def test_embeddings_from_another_model_are_refused(
    api: Api, respx_mock: respx.MockRouter
) -> None:
    serve_models(respx_mock)
    respx_mock.post(EMBEDDINGS_URL).mock(
        side_effect=lambda request: embeddings_reply(
            request, model="text-embedding-mxbai-embed-large-v1"
        )
    )

    with pytest.raises(ModelMismatchError) as caught:
        await api.embed(TEXTS)
    assert caught.value.answered == "text-embedding-mxbai-embed-large-v1"


# -- health() ----------------------------------------------------------------------------

HTTP_SETTINGS = {
    "timeout_secs": 60.0,
    "connect_timeout_secs": 10.0,
    "keep_alive_secs": 30.0,
    "max_idle_connections": 10,
}


async def test_health_of_lm_studio(
    make_api: Callable[..., Api], respx_mock: respx.MockRouter
) -> None:
    api = make_api(api_key=SECRET)
    greeting = respx_mock.get(GREETING_URL).respond(200, json={"lmstudio": True})
    models = serve_models(respx_mock)

    await api.list_models()
    report = await api.health()

    assert report.status == "ok"
    assert report.ok
    assert report.server_kind == "lmstudio"
    assert report.base_url == BASE
    assert report.loaded_models == [EMBEDDER, LOADED]
    assert report.model_count == 4
    assert report.latency_ms is not None
    assert report.latency_ms > 0
    assert report.http == HTTP_SETTINGS
    assert (report.error, report.hint) == (None, None)
    assert (greeting.call_count, models.call_count) == (1, 2)  # health looks afresh
    data = report.as_dict()
    assert set(data) == {
        "status",
        "server_kind",
        "base_url",
        "latency_ms",
        "loaded_models",
        "model_count",
        "http",
        "error",
        "hint",
    }
    assert "SeCrEtToKeN" not in json.dumps(data)
    assert "SeCrEtToKeN" not in repr(report)


async def test_health_of_an_older_lm_studio(api: Api, respx_mock: respx.MockRouter) -> None:
    """Capture: j-shelfwood v0/models/list.json (LM Studio 0.3.x has no /api/v1)."""
    respx_mock.get(GREETING_URL).respond(200, json={"lmstudio": True})
    respx_mock.get(V1_MODELS_URL).respond(200, json=UNEXPECTED_ENDPOINT)
    respx_mock.get(V0_MODELS_URL).respond(200, json=read_capture(V0_CAPTURE))

    report = await api.health()

    assert (report.status, report.server_kind) == ("ok", "lmstudio")
    assert report.loaded_models == ["granite-3.1-8b-instruct"]
    assert report.model_count == 7


async def test_health_of_another_openai_compatible_server(
    api: Api, respx_mock: respx.MockRouter
) -> None:
    respx_mock.get(GREETING_URL).respond(404, text="Not Found")
    respx_mock.get(V1_MODELS_URL).respond(404, text="Not Found")
    respx_mock.get(V0_MODELS_URL).respond(404, text="Not Found")
    respx_mock.get(OPENAI_MODELS_URL).respond(
        200, json={"object": "list", "data": [{"id": "llama-3.2-3b", "object": "model"}]}
    )

    report = await api.health()

    assert (report.status, report.server_kind) == ("ok", "openai-compatible")
    assert report.loaded_models == ["llama-3.2-3b"]
    assert report.model_count == 1
    assert report.latency_ms is not None


@pytest.mark.parametrize("failure", [httpx2.ConnectError, httpx2.ConnectTimeout])
async def test_health_of_an_unreachable_server(
    api: Api, respx_mock: respx.MockRouter, failure: type[Exception]
) -> None:
    route = respx_mock.route(host="localhost").mock(side_effect=failure)

    report = await api.health()

    assert report.status == "unreachable"
    assert not report.ok
    assert report.server_kind == "unknown"
    assert report.latency_ms is None
    assert (report.loaded_models, report.model_count) == ([], 0)
    assert report.base_url == BASE
    assert report.http == HTTP_SETTINGS
    assert report.error is not None
    assert BASE in report.error
    assert report.hint is not None
    assert "lms server start" in report.hint
    assert route.call_count == 1  # health() does not retry


async def test_health_reports_a_refusing_server_as_an_error(
    api: Api, respx_mock: respx.MockRouter
) -> None:
    respx_mock.get(GREETING_URL).respond(200, json={"lmstudio": True})
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

    report = await api.health()

    assert (report.status, report.server_kind, report.latency_ms) == ("error", "lmstudio", None)
    assert report.error is not None
    assert "An LM Studio API token is required" in report.error
    assert report.hint is not None
    assert "LMSTUDIO_API_KEY" in report.hint
