"""Which model a chat goes to: resolution, ``allowed_models`` and the answering model's check.

Every test runs against ``LMStudioClient`` and ``AsyncLMStudioClient`` (the ``api``
fixture is parametrized) with respx standing in for LM Studio: no socket is opened.
"""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
import respx

from client_api import Api
from lmstudio_provider.transport._errors import (
    AmbiguousModelError,
    ModelMismatchError,
    ModelNotAllowedError,
    ModelNotFoundError,
    NoModelLoadedError,
)
from model_fakes import (
    CHAT_URL,
    CODER,
    EMBEDDER,
    EMBEDDER_ENTRY,
    EMBEDDINGS_URL,
    GEMMA,
    LOADED,
    V1_PARSED,
    completion,
    echo_model,
    llm_entry,
    sent_body,
    serve_models,
)

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
    # Only the model list was read (the name could have been an allowed model's instance).
    assert {call.request.method for call in respx_mock.calls} <= {"GET"}


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
    assert {call.request.method for call in respx_mock.calls} <= {"GET"}


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
