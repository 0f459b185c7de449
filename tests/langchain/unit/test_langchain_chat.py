"""``ChatLMStudio`` against a respx LM Studio: construction, requests, answers and errors.

What the standard suites do not reach: LM Studio's own shapes (stats, reasoning in its
three forms, tool-call fragments as recorded, typed errors) and per-call overrides.
"""

from __future__ import annotations

import json
import warnings
from typing import Any

import pytest
import respx
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage

from langchain_fakes import (
    CAPTURED_MODEL,
    CAPTURED_V0_MODEL,
    CHAT_URL,
    V0_CHAT,
    V0_TOOL_CHAT,
    capture_json,
    completion,
    delta_event,
    sent_body,
    serve_models,
    sse,
    stream_reply,
)
from langchain_runs import (
    USAGE_WITH_REASONING,
    Recorder,
)
from lmstudio_provider import (
    ConfigError,
    InvalidParameterError,
    ModelNotFoundError,
    ServerError,
    StreamInterruptedError,
)
from lmstudio_provider.langchain import ChatLMStudio

# The per-call typo warning names the caller's file: these callers live in this file.


def merged(chunks: list[AIMessageChunk]) -> AIMessageChunk:
    total = chunks[0]
    for chunk in chunks[1:]:
        total = total + chunk
    return total


async def collect(chat: Any, prompt: Any, kind: str, **kwargs: Any) -> list[AIMessageChunk]:
    if kind == "sync":
        return list(chat.stream(prompt, **kwargs))
    return [chunk async for chunk in chat.astream(prompt, **kwargs)]


async def invoke(chat: Any, prompt: Any, kind: str, **kwargs: Any) -> BaseMessage:
    if kind == "sync":
        result: BaseMessage = chat.invoke(prompt, **kwargs)
        return result
    return await chat.ainvoke(prompt, **kwargs)  # type: ignore[no-any-return]


# -- Construction ---------------------------------------------------------------


def test_construction_makes_no_network_call(respx_mock: respx.MockRouter) -> None:
    model = ChatLMStudio(temperature=0.2, top_k=40)
    assert model.model is None
    assert model.base_url == "http://localhost:1234"
    assert not respx_mock.calls


def test_out_of_range_parameter_fails_at_construction() -> None:
    # LMStudioError subclasses, not pydantic's ValidationError wrapping their text.
    with pytest.raises(ConfigError, match="temperature=3: Input should be less than or equal"):
        ChatLMStudio(temperature=3)
    with pytest.raises(ConfigError, match="logit_bias keys are token ids"):
        ChatLMStudio(logit_bias={"hello": -100})


def test_unknown_argument_goes_to_the_request_body_with_a_warning(
    respx_mock: respx.MockRouter,
) -> None:
    serve_models(respx_mock)
    route = respx_mock.post(CHAT_URL).respond(200, json=completion({"content": "hi"}))
    with pytest.warns(UserWarning, match="num_ctx is not a ChatLMStudio field"):
        model = ChatLMStudio(num_ctx=4096)
    assert model.model_kwargs == {"num_ctx": 4096}
    model.invoke("Hi")
    assert sent_body(route)["num_ctx"] == 4096


CALL_TYPO = r"temprature is not a ChatLMStudio parameter \(did you mean temperature\?\)"


@pytest.mark.parametrize("how", ["invoke", "stream", "bind"])
async def test_unknown_per_call_keyword_warns_like_the_constructor_and_is_still_sent(
    kind: str, how: str, respx_mock: respx.MockRouter
) -> None:
    serve_models(respx_mock)
    if how == "stream":
        route = respx_mock.post(CHAT_URL).respond(
            **stream_reply(sse(delta_event({"content": "hi"}), delta_event({}, "stop")))
        )
    else:
        route = respx_mock.post(CHAT_URL).respond(200, json=completion({"content": "hi"}))
    model = ChatLMStudio(temperature=0.5)

    async def call() -> str:
        if how == "stream":
            return merged(await collect(model, "Hi", kind, temprature=0.1)).text
        if how == "bind":
            return (await invoke(model.bind(temprature=0.1), "Hi", kind)).text
        return (await invoke(model, "Hi", kind, temprature=0.1)).text

    with pytest.warns(UserWarning, match=CALL_TYPO) as caught:
        text = await call()
    assert text == "hi"
    [warning] = [w for w in caught if "temprature" in str(w.message)]
    message = str(warning.message)
    assert "it is sent in the request body as it is" in message
    # The known per-call parameters, and the way to send a deliberate extra.
    assert "temperature, tool_choice, tools, top_k, top_p, ttl" in message
    assert "Pass deliberate extras in extra_body (extra_body={'temprature': ...})" in message
    if kind == "sync" or how == "stream":  # ainvoke runs in a task: the caller is not on the stack
        assert warning.filename == __file__  # the caller's line, not LangChain's
    body = sent_body(route)
    assert body["temprature"] == 0.1  # forwarded, as model_kwargs are
    assert body["temperature"] == 0.5


async def test_known_and_extra_body_keywords_per_call_do_not_warn(
    kind: str, respx_mock: respx.MockRouter
) -> None:
    serve_models(respx_mock)
    route = respx_mock.post(CHAT_URL).respond(200, json=completion({"content": "hi"}))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        await invoke(
            ChatLMStudio(),
            "Hi",
            kind,
            model=CAPTURED_MODEL,
            stop=["x"],
            top_k=3,
            stream_usage=False,
            extra_body={"num_draft": 4},
        )
    assert sent_body(route)["num_draft"] == 4


def test_a_constructor_typo_is_named_with_its_likely_field() -> None:
    with pytest.warns(
        UserWarning,
        match=r"temprature is not a ChatLMStudio field \(did you "
        r"mean temperature\?\): it is sent in the request body",
    ) as caught:
        ChatLMStudio(temprature=0.1)
    assert caught[0].filename == __file__


def test_settings_come_from_the_yaml_file(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch, respx_mock: respx.MockRouter
) -> None:
    config = tmp_path / "config.yaml"
    config.write_text(
        "inference:\n  base_url: http://lmstudio.test:4321/v1\n  api_key: sk-lm-abc:def\n"
        "  default_model: qwen\n  defaults:\n    top_k: 7\n",
        encoding="utf-8",
    )
    monkeypatch.setenv("LMSTUDIO_CONFIG", str(config))
    respx_mock.get("http://lmstudio.test:4321/api/v1/models").respond(
        200, json={"models": [{"type": "llm", "key": CAPTURED_MODEL, "loaded_instances": []}]}
    )
    route = respx_mock.post("http://lmstudio.test:4321/v1/chat/completions").respond(
        200, json=completion({"content": "hi"})
    )
    model = ChatLMStudio()
    assert model.base_url == "http://lmstudio.test:4321"
    assert model._get_ls_params()["ls_model_name"] == "qwen"
    model.invoke("Hi")
    request = route.calls[0].request
    assert request.headers["authorization"] == "Bearer sk-lm-abc:def"
    assert sent_body(route)["model"] == CAPTURED_MODEL  # "qwen" resolved on the server's list
    assert sent_body(route)["top_k"] == 7  # the file's defaults apply to LangChain too


# -- Requests -------------------------------------------------------------------


async def test_fields_and_per_call_overrides_reach_the_body(
    kind: str, respx_mock: respx.MockRouter
) -> None:
    serve_models(respx_mock)
    route = respx_mock.post(CHAT_URL).respond(200, json=completion({"content": "hi"}))
    model = ChatLMStudio(
        model=CAPTURED_V0_MODEL,
        temperature=0.1,
        max_tokens=50,
        top_k=40,
        min_p=0.05,
        repeat_penalty=1.1,
        ttl=600,
        draft_model="qwen2.5-0.5b-instruct",
        cache_prompt=True,
        extra_body={"num_draft": 4},
        stop=[],
    )
    await invoke(model, "Hi", kind, model=CAPTURED_MODEL, stop=["\n\n"], top_k=20, seed=3)
    body = sent_body(route)
    assert body["model"] == CAPTURED_MODEL
    assert body["messages"] == [{"role": "user", "content": "Hi"}]
    assert body["temperature"] == 0.1
    assert body["max_tokens"] == 50
    assert body["top_k"] == 20
    assert body["seed"] == 3
    assert body["stop"] == ["\n\n"]
    assert body["min_p"] == 0.05
    assert body["repeat_penalty"] == 1.1
    assert body["ttl"] == 600
    assert body["draft_model"] == "qwen2.5-0.5b-instruct"
    assert body["cache_prompt"] is True
    assert body["num_draft"] == 4
    assert "stream" not in body


async def test_per_call_parameter_out_of_range_raises_the_typed_error(kind: str) -> None:
    model = ChatLMStudio()
    with pytest.raises(InvalidParameterError) as caught:
        await invoke(model, "Hi", kind, top_p=1.5)
    assert "top_p=1.5" in caught.value.message
    assert caught.value.hint == "Fix the value and try again; nothing was sent to LM Studio."


def test_ls_params_follow_a_per_call_model() -> None:
    model = ChatLMStudio(temperature=0.3, max_tokens=9, stop="END")
    params = model._get_ls_params()
    assert params["ls_provider"] == "lmstudio"
    assert params["ls_model_name"] == "local-model"
    assert params["ls_stop"] == ["END"]
    assert params["ls_max_tokens"] == 9
    assert model._get_ls_params(model="qwen3-4b")["ls_model_name"] == "qwen3-4b"


# -- Answers --------------------------------------------------------------------


async def test_invoke_reports_usage_stats_and_the_answering_model(
    kind: str, respx_mock: respx.MockRouter
) -> None:
    serve_models(respx_mock)
    respx_mock.post(CHAT_URL).respond(200, json=capture_json(V0_CHAT))
    message = await invoke(ChatLMStudio(model="1m"), "Weather?", kind)
    assert isinstance(message, AIMessage)
    assert message.text.startswith("I'm sorry for any inconvenience")
    assert message.usage_metadata == {"input_tokens": 49, "output_tokens": 49, "total_tokens": 98}
    metadata = message.response_metadata
    assert metadata["model_name"] == CAPTURED_V0_MODEL
    assert metadata["model_provider"] == "lmstudio"
    assert metadata["finish_reason"] == "stop"
    assert metadata["system_fingerprint"] is None  # the /api/v0 body carries none
    assert metadata["stats"]["tokens_per_second"] == pytest.approx(29.699, abs=1e-3)
    assert metadata["stats"]["time_to_first_token"] == 0.272
    assert metadata["metrics"]["tokens_per_second"] == pytest.approx(29.699, abs=1e-3)
    assert metadata["metrics"]["retries"] == 0


async def test_invoke_parses_a_recorded_tool_call(kind: str, respx_mock: respx.MockRouter) -> None:
    serve_models(respx_mock)
    respx_mock.post(CHAT_URL).respond(200, json=capture_json(V0_TOOL_CHAT))
    message = await invoke(ChatLMStudio(model=CAPTURED_V0_MODEL), "Weather?", kind)
    assert isinstance(message, AIMessage)
    assert message.tool_calls == [
        {
            "name": "get_current_weather",
            "args": {"location": "London"},
            "id": "201464470",
            "type": "tool_call",
        }
    ]
    assert message.response_metadata["finish_reason"] == "tool_calls"  # "stop" before 0.3.15


async def test_unparseable_tool_arguments_become_an_invalid_tool_call(
    respx_mock: respx.MockRouter,
) -> None:
    serve_models(respx_mock)
    call = {"type": "function", "function": {"name": "f", "arguments": "{not json"}}
    respx_mock.post(CHAT_URL).respond(200, json=completion({"content": "", "tool_calls": [call]}))
    message = ChatLMStudio().invoke("Hi")
    assert isinstance(message, AIMessage)
    assert message.tool_calls == []
    [invalid] = message.invalid_tool_calls
    assert invalid["name"] == "f"
    assert invalid["args"] == "{not json"
    assert str(invalid["id"]).startswith("call_")  # generated: none was sent


REASONING_FORMS = {
    "reasoning_content": {"reasoning_content": "Think.", "content": "Answer."},
    "reasoning": {"reasoning": "Think.", "content": "Answer."},
    "inline think": {"content": "<think>Think.</think>\n\nAnswer."},
}


@pytest.mark.parametrize("form", REASONING_FORMS)
async def test_reasoning_is_split_from_the_text(
    form: str, kind: str, respx_mock: respx.MockRouter
) -> None:
    serve_models(respx_mock)
    respx_mock.post(CHAT_URL).respond(
        200, json=completion(REASONING_FORMS[form], usage=USAGE_WITH_REASONING)
    )
    message = await invoke(ChatLMStudio(), "Hi", kind)
    assert message.text == "Answer."
    assert message.additional_kwargs == {"reasoning_content": "Think."}
    assert message.content_blocks[0] == {"type": "reasoning", "reasoning": "Think."}
    assert isinstance(message, AIMessage)
    assert message.usage_metadata is not None
    assert message.usage_metadata["output_token_details"] == {"reasoning": 12}


@pytest.mark.parametrize("form", REASONING_FORMS)
async def test_streamed_reasoning_is_split_from_the_text(
    form: str, kind: str, respx_mock: respx.MockRouter
) -> None:
    serve_models(respx_mock)
    pieces = REASONING_FORMS[form]
    if form == "inline think":
        events = [delta_event({"content": "<thi"}), delta_event({"content": "nk>Think.</think>"})]
    else:
        key = next(iter(pieces))
        events = [delta_event({key: "Thi"}), delta_event({key: "nk."})]
    events += [
        delta_event({"content": "Answer."}),
        delta_event({}, "stop"),
        {**delta_event({}), "choices": [], "usage": USAGE_WITH_REASONING},
    ]
    respx_mock.post(CHAT_URL).respond(**stream_reply(sse(*events)))
    full = merged(await collect(ChatLMStudio(), "Hi", kind))
    assert full.text == "Answer."
    assert full.additional_kwargs == {"reasoning_content": "Think."}
    assert full.content_blocks[0] == {"type": "reasoning", "reasoning": "Think."}
    assert full.usage_metadata is not None
    assert full.usage_metadata["output_token_details"] == {"reasoning": 12}


# -- Errors ---------------------------------------------------------------------


async def test_errors_surface_typed_with_their_hint(
    kind: str, respx_mock: respx.MockRouter
) -> None:
    serve_models(respx_mock)
    with pytest.raises(ModelNotFoundError) as caught:
        await invoke(ChatLMStudio(model="no-such-model"), "Hi", kind)
    assert caught.value.hint is not None
    assert "lms get" in caught.value.hint
    assert CAPTURED_MODEL in caught.value.available
    crashed = {"error": "The model has crashed without additional information. (Exit code: 11)"}
    respx_mock.post(CHAT_URL).respond(400, json=crashed)
    with pytest.raises(ServerError) as crash:
        await collect(ChatLMStudio(), "Hi", kind)
    assert crash.value.server_message == crashed["error"]
    assert crash.value.hint is not None
    assert "Reload it" in crash.value.hint


async def test_a_stream_broken_midway_keeps_the_partial_answer(
    kind: str, respx_mock: respx.MockRouter
) -> None:
    serve_models(respx_mock)
    body = f"data: {json.dumps(delta_event({'content': 'Partial'}))}\n\n"
    respx_mock.post(CHAT_URL).respond(**stream_reply(body))
    recorder = Recorder()
    with pytest.raises(StreamInterruptedError) as caught:
        await collect(ChatLMStudio(), "Hi", kind, config={"callbacks": [recorder]})
    assert caught.value.partial is not None
    assert caught.value.partial.text == "Partial"
    assert recorder.errors == [caught.value]
