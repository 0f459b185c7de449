"""``embed()`` of both clients: batching, order, model choice and checks."""

from __future__ import annotations

import json
from typing import Any

import httpx2
import pytest
import respx

from client_api import Api
from lmstudio_provider.transport._errors import (
    InvalidParameterError,
    ModelMismatchError,
    ModelNotFoundError,
)
from lmstudio_provider.transport._results import Usage
from model_fakes import (
    EMBEDDER,
    EMBEDDINGS_URL,
    LOADED,
    sent_body,
    serve_models,
    wire,
)

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
