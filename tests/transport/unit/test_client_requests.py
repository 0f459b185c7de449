"""What ``LMStudioClient`` and ``AsyncLMStudioClient`` send, and what they make of the answer.

Every test runs against both clients (the ``api`` fixture is parametrized) with
respx standing in for LM Studio: no socket is opened. Shapes follow
``../shared/LMSTUDIO-API.md``; tests that replay a recorded body name the capture.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import AsyncIterator, Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import httpx2
import pytest
import respx

from client_api import MESSAGES, Api
from lmstudio_provider.transport._async_client import AsyncChatStream
from lmstudio_provider.transport._errors import AuthenticationError, InvalidParameterError
from lmstudio_provider.transport._results import (
    ChatChunk,
    ChatResponse,
    ToolCall,
    ToolCallDelta,
    Usage,
)
from lmstudio_provider.transport._sync_client import ChatStream

BASE = "http://localhost:1234"
CHAT_URL = f"{BASE}/v1/chat/completions"
MODELS_URL = f"{BASE}/api/v1/models"
MODEL = "qwen/qwen3-4b"
CAPTURED_MODEL = "qwen2.5-7b-instruct"  # the model of the j-shelfwood captures
CAPTURED_1M_MODEL = "qwen2.5-7b-instruct-1m"  # the model of the v0 standard-response capture
BASE_BODY: dict[str, Any] = {"model": MODEL, "messages": MESSAGES}
STREAM_FIELDS: dict[str, Any] = {"stream": True, "stream_options": {"include_usage": True}}
USAGE_WIRE: dict[str, Any] = {"prompt_tokens": 12, "completion_tokens": 3, "total_tokens": 15}
USAGE = Usage(prompt_tokens=12, completion_tokens=3, total_tokens=15)
CAPTURES = Path(__file__).resolve().parents[4] / "shared" / "lmstudio-captures"
GENERATED_ID = re.compile(r"call_[0-9a-f]{24}")


def read_capture(name: str) -> str:
    """A capture's text without its ``# SOURCE`` first line."""
    first, _, rest = (CAPTURES / name).read_text(encoding="utf-8").partition("\n")
    assert first.startswith("# SOURCE")
    return rest


# -- Fakes ----------------------------------------------------------------------


def v1_entry(key: str, *, loaded: bool = True) -> dict[str, Any]:
    """An ``/api/v1/models`` entry (LM Studio 0.4 shape)."""
    return {
        "type": "llm",
        "publisher": key.split("/")[0],
        "key": key,
        "display_name": key,
        "architecture": "qwen3",
        "quantization": {"name": "Q4_K_M", "bits_per_weight": 4},
        "size_bytes": 2497280256,
        "params_string": "4B",
        "loaded_instances": [{"id": key, "config": {"context_length": 4096}}] if loaded else [],
        "max_context_length": 262144,
        "format": "gguf",
        "capabilities": {"vision": False, "trained_for_tool_use": True},
    }


def serve_models(respx_mock: respx.MockRouter) -> respx.Route:
    """LM Studio 0.4 with MODEL and the captures' models loaded."""
    models = [v1_entry(MODEL), v1_entry(CAPTURED_MODEL), v1_entry(CAPTURED_1M_MODEL)]
    return respx_mock.get(MODELS_URL).respond(200, json={"models": models})


def completion(
    message: Mapping[str, Any],
    *,
    finish: str | None = "stop",
    model: str = MODEL,
    usage: Mapping[str, Any] | None = USAGE_WIRE,
    **extra: Any,
) -> dict[str, Any]:
    """A non-streamed ``/v1/chat/completions`` body."""
    body: dict[str, Any] = {
        "id": "chatcmpl-abc123",
        "object": "chat.completion",
        "created": 1740598352,
        "model": model,
        "choices": [
            {
                "index": 0,
                "logprobs": None,
                "finish_reason": finish,
                "message": {"role": "assistant", **message},
            }
        ],
        "system_fingerprint": model,
        **extra,
    }
    if usage is not None:
        body["usage"] = dict(usage)
    return body


def chunk(
    delta: Mapping[str, Any], finish: str | None = None, *, model: str = MODEL, **extra: Any
) -> dict[str, Any]:
    """One streamed ``chat.completion.chunk``."""
    return {
        "id": "chatcmpl-abc123",
        "object": "chat.completion.chunk",
        "created": 1740598352,
        "model": model,
        "system_fingerprint": model,
        "choices": [{"index": 0, "delta": dict(delta), "logprobs": None, "finish_reason": finish}],
        **extra,
    }


def sse_event(event: Mapping[str, Any] | str) -> bytes:
    data = event if isinstance(event, str) else json.dumps(event)
    return f"data: {data}\n\n".encode()


class PiecedStream(httpx2.SyncByteStream, httpx2.AsyncByteStream):
    """A response body delivered in the given reads, to the sync or the async client."""

    def __init__(self, pieces: Sequence[bytes]) -> None:
        self.pieces = list(pieces)

    def __iter__(self) -> Iterator[bytes]:
        yield from self.pieces

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for piece in self.pieces:
            yield piece


def sse_response(
    events: Sequence[Mapping[str, Any] | str], *, piece_size: int | None = None
) -> Any:
    """An event stream: one read per event, or reads of ``piece_size`` bytes."""
    encoded = [sse_event(event) for event in events]
    if piece_size is not None:
        raw = b"".join(encoded)
        encoded = [raw[i : i + piece_size] for i in range(0, len(raw), piece_size)]
    return wire(
        httpx2.Response(
            200, headers={"content-type": "text/event-stream"}, stream=PiecedStream(encoded)
        )
    )


def wire(response: httpx2.Response) -> Any:
    """A response for respx: its annotations name ``httpx``, aliased to ``httpx2`` at run time."""
    return response


def sent_body(route: respx.Route, index: int = -1) -> Any:
    return json.loads(route.calls[index].request.content)


def without_metrics(result: ChatResponse) -> dict[str, Any]:
    data = result.as_dict()
    del data["metrics"]
    return data


# -- The chat body ----------------------------------------------------------------


async def test_unset_parameters_are_never_sent(api: Api, respx_mock: respx.MockRouter) -> None:
    serve_models(respx_mock)
    route = respx_mock.post(CHAT_URL).respond(200, json=completion({"content": "Hello"}))

    await api.chat()

    assert route.call_count == 1
    assert sent_body(route) == BASE_BODY


async def test_streamed_body_without_parameters(api: Api, respx_mock: respx.MockRouter) -> None:
    serve_models(respx_mock)
    route = respx_mock.post(CHAT_URL).mock(
        return_value=sse_response([chunk({"content": "Hi"}, "stop"), "[DONE]"])
    )

    await api.stream()

    assert sent_body(route) == {**BASE_BODY, **STREAM_FIELDS}


PARAMETERS = [
    pytest.param("max_tokens", 128, 128, id="max_tokens"),
    pytest.param("max_tokens", -1, -1, id="max_tokens-unlimited"),
    pytest.param("temperature", 0.7, 0.7, id="temperature"),
    pytest.param("temperature", 0.0, 0.0, id="temperature-zero"),
    pytest.param("top_p", 0.9, 0.9, id="top_p"),
    pytest.param("frequency_penalty", -1.5, -1.5, id="frequency_penalty"),
    pytest.param("presence_penalty", 1.25, 1.25, id="presence_penalty"),
    pytest.param("stop", "\n\n", "\n\n", id="stop-string"),
    pytest.param("stop", ["END", "###"], ["END", "###"], id="stop-list"),
    pytest.param("seed", 42, 42, id="seed"),
    pytest.param("seed", 0, 0, id="seed-zero"),
    pytest.param("top_k", 40, 40, id="top_k"),
    pytest.param("min_p", 0.05, 0.05, id="min_p"),
    pytest.param("repeat_penalty", 1.1, 1.1, id="repeat_penalty"),
    pytest.param("ttl", 300, 300, id="ttl"),
    pytest.param("draft_model", "qwen/qwen3-0.6b", "qwen/qwen3-0.6b", id="draft_model"),
    pytest.param(
        "logit_bias", {"1234": -100.0, "42": 5.5}, {"1234": -100.0, "42": 5.5}, id="logit_bias"
    ),
    pytest.param("logit_bias", {1234: -100}, {"1234": -100}, id="logit_bias-int-keys"),
    pytest.param("mirostat_mode", 2, 2, id="mirostat_mode"),
    pytest.param("mirostat_tau", 5.0, 5.0, id="mirostat_tau"),
    pytest.param("mirostat_eta", 0.1, 0.1, id="mirostat_eta"),
    pytest.param("cache_prompt", True, True, id="cache_prompt"),
    pytest.param("cache_prompt", False, False, id="cache_prompt-false"),
    pytest.param("reasoning_effort", "low", "low", id="reasoning_effort"),
]


@pytest.mark.parametrize(("name", "value", "wire"), PARAMETERS)
async def test_each_parameter_is_sent_by_its_name(
    api: Api, respx_mock: respx.MockRouter, name: str, value: Any, wire: Any
) -> None:
    serve_models(respx_mock)
    route = respx_mock.post(CHAT_URL).respond(200, json=completion({"content": "Hello"}))

    await api.chat(**{name: value})

    assert sent_body(route) == {**BASE_BODY, name: wire}


ALL_PARAMETERS: dict[str, Any] = {
    "max_tokens": 64,
    "temperature": 0.3,
    "top_p": 0.95,
    "frequency_penalty": 0.5,
    "presence_penalty": -0.5,
    "stop": ["</s>"],
    "seed": 7,
    "top_k": 20,
    "min_p": 0.1,
    "repeat_penalty": 1.05,
    "ttl": 60,
    "draft_model": "qwen/qwen3-0.6b",
    "logit_bias": {"50256": -100},
    "mirostat_mode": 1,
    "mirostat_tau": 4.5,
    "mirostat_eta": 0.2,
    "cache_prompt": True,
    "reasoning_effort": "high",
}


async def test_every_parameter_together_in_a_stream(api: Api, respx_mock: respx.MockRouter) -> None:
    serve_models(respx_mock)
    route = respx_mock.post(CHAT_URL).mock(
        return_value=sse_response([chunk({"content": "Hi"}, "stop"), "[DONE]"])
    )

    await api.stream(**ALL_PARAMETERS)

    assert sent_body(route) == {**BASE_BODY, **ALL_PARAMETERS, **STREAM_FIELDS}


async def test_extra_body_is_forwarded_verbatim_and_wins(
    api: Api, respx_mock: respx.MockRouter
) -> None:
    serve_models(respx_mock)
    route = respx_mock.post(CHAT_URL).respond(200, json=completion({"content": "Hello"}))
    extra = {
        "temperature": 0.9,
        "chat_template_kwargs": {"enable_thinking": False},
        "n_probs": [1, 2],
    }

    await api.chat(temperature=0.2, top_k=5, extra_body=extra)

    assert sent_body(route) == {
        **BASE_BODY,
        "temperature": 0.9,
        "top_k": 5,
        "chat_template_kwargs": {"enable_thinking": False},
        "n_probs": [1, 2],
    }


async def test_settings_defaults_apply_unless_overridden(
    make_api: Callable[..., Api], respx_mock: respx.MockRouter
) -> None:
    api = make_api(defaults={"temperature": 0.1, "max_tokens": 50, "stop": ["END"]})
    serve_models(respx_mock)
    route = respx_mock.post(CHAT_URL).respond(200, json=completion({"content": "Hello"}))

    await api.chat()
    await api.chat(temperature=0.7, seed=3)
    await api.chat(extra_body={"max_tokens": 10})

    defaults = {"temperature": 0.1, "max_tokens": 50, "stop": ["END"]}
    assert sent_body(route, 0) == {**BASE_BODY, **defaults}
    assert sent_body(route, 1) == {**BASE_BODY, **defaults, "temperature": 0.7, "seed": 3}
    assert sent_body(route, 2) == {**BASE_BODY, **defaults, "max_tokens": 10}


async def test_streaming_always_asks_for_a_stream_with_usage(
    make_api: Callable[..., Api], respx_mock: respx.MockRouter
) -> None:
    api = make_api(defaults={"max_tokens": 5})
    serve_models(respx_mock)
    route = respx_mock.post(CHAT_URL).mock(
        return_value=sse_response([chunk({"content": "Hi"}, "stop"), "[DONE]"])
    )

    await api.stream(extra_body={"stream_options": {"include_usage": False, "x": 1}})

    assert sent_body(route) == {
        **BASE_BODY,
        "max_tokens": 5,
        **STREAM_FIELDS,
        "stream_options": {"include_usage": True, "x": 1},
    }


@pytest.mark.parametrize("key", ["model", "messages", "stream"])
async def test_extra_body_may_not_override_what_the_transport_sets(
    make_api: Callable[..., Api], respx_mock: respx.MockRouter, key: str
) -> None:
    api = make_api()
    with pytest.raises(InvalidParameterError) as caught:
        await api.stream(extra_body={key: "x"})
    assert f"extra_body may not set {key}" in caught.value.message
    assert not respx_mock.calls


OUT_OF_RANGE = [
    ("temperature", 3),
    ("temperature", -0.5),
    ("top_p", 2),
    ("frequency_penalty", 3),
    ("frequency_penalty", -3),
    ("presence_penalty", 3),
    ("presence_penalty", -3),
]


@pytest.mark.parametrize(("name", "value"), OUT_OF_RANGE)
async def test_out_of_range_values_fail_before_any_request(
    api: Api, respx_mock: respx.MockRouter, name: str, value: float
) -> None:
    models = serve_models(respx_mock)
    route = respx_mock.post(CHAT_URL).respond(200, json=completion({"content": "Hello"}))
    params: dict[str, Any] = {name: value}

    with pytest.raises(InvalidParameterError) as chat_error:
        await api.chat(**params)
    with pytest.raises(InvalidParameterError) as stream_error:
        api.start_stream(**params)

    for error in (chat_error.value, stream_error.value):
        assert error.message.startswith(f"Invalid request parameter: {name}={value!r}: ")
        assert error.hint == "Fix the value and try again; nothing was sent to LM Studio."
    assert respx_mock.calls.call_count == 0
    assert not models.called
    assert not route.called


# -- Translations -------------------------------------------------------------------

TOOL_A: dict[str, Any] = {
    "type": "function",
    "function": {
        "name": "a",
        "description": "Tool a",
        "parameters": {"type": "object", "properties": {}},
    },
}
TOOL_B: dict[str, Any] = {
    "type": "function",
    "function": {
        "name": "b",
        "description": "Tool b",
        "parameters": {"type": "object", "properties": {"x": {"type": "integer"}}},
    },
}


@pytest.mark.parametrize(
    ("tool_choice", "sent_choice", "sent_tools"),
    [
        pytest.param({"type": "function", "function": {"name": "b"}}, "required", [TOOL_B]),
        pytest.param("b", "required", [TOOL_B], id="bare-name"),
        pytest.param("any", "required", [TOOL_A, TOOL_B], id="any"),
        pytest.param("auto", "auto", [TOOL_A, TOOL_B], id="auto"),
        pytest.param("none", "none", [TOOL_A, TOOL_B], id="none"),
        pytest.param("required", "required", [TOOL_A, TOOL_B], id="required"),
    ],
)
async def test_tool_choice_is_translated(
    api: Api,
    respx_mock: respx.MockRouter,
    tool_choice: str | dict[str, Any],
    sent_choice: str,
    sent_tools: list[dict[str, Any]],
) -> None:
    serve_models(respx_mock)
    route = respx_mock.post(CHAT_URL).respond(200, json=completion({"content": "ok"}))

    await api.chat(tools=[TOOL_A, TOOL_B], tool_choice=tool_choice)

    assert sent_body(route) == {**BASE_BODY, "tools": sent_tools, "tool_choice": sent_choice}


async def test_tool_choice_object_form_is_translated_when_streaming(
    api: Api, respx_mock: respx.MockRouter
) -> None:
    serve_models(respx_mock)
    route = respx_mock.post(CHAT_URL).mock(
        return_value=sse_response([chunk({"content": "Hi"}, "stop"), "[DONE]"])
    )

    await api.stream(
        tools=[TOOL_A, TOOL_B], tool_choice={"type": "function", "function": {"name": "b"}}
    )

    assert sent_body(route) == {
        **BASE_BODY,
        "tools": [TOOL_B],
        "tool_choice": "required",
        **STREAM_FIELDS,
    }


@pytest.mark.parametrize(
    ("tools", "tool_choice", "listed"),
    [
        pytest.param([TOOL_A, TOOL_B], {"type": "function", "function": {"name": "c"}}, "a, b"),
        pytest.param([TOOL_A, TOOL_B], "c", "a, b", id="bare-name"),
        pytest.param(None, "b", "none", id="no-tools"),
    ],
)
async def test_tool_choice_naming_an_absent_tool_fails_before_sending(
    api: Api,
    respx_mock: respx.MockRouter,
    tools: list[dict[str, Any]] | None,
    tool_choice: str | dict[str, Any],
    listed: str,
) -> None:
    serve_models(respx_mock)
    respx_mock.post(CHAT_URL).respond(200, json=completion({"content": "ok"}))
    name = "b" if tools is None else "c"

    with pytest.raises(InvalidParameterError) as chat_error:
        await api.chat(tools=tools, tool_choice=tool_choice)
    with pytest.raises(InvalidParameterError) as stream_error:
        api.start_stream(tools=tools, tool_choice=tool_choice)

    expected = f"tool_choice names {name!r}, which is not among the tools sent ({listed})."
    assert chat_error.value.message == expected
    assert stream_error.value.message == expected
    assert respx_mock.calls.call_count == 0


SCHEMA_FORMAT: dict[str, Any] = {
    "type": "json_schema",
    "json_schema": {
        "name": "answer",
        "strict": True,
        "schema": {
            "type": "object",
            "properties": {"city": {"type": "string"}},
            "required": ["city"],
        },
    },
}


@pytest.mark.parametrize(
    ("response_format", "sent"),
    [
        pytest.param(
            {"type": "json_object"},
            {
                "type": "json_schema",
                "json_schema": {"name": "json_object", "schema": {"type": "object"}},
            },
            id="json_object",
        ),
        pytest.param(SCHEMA_FORMAT, SCHEMA_FORMAT, id="json_schema"),
        pytest.param({"type": "text"}, {"type": "text"}, id="text"),
    ],
)
async def test_response_format_is_translated(
    api: Api,
    respx_mock: respx.MockRouter,
    response_format: dict[str, Any],
    sent: dict[str, Any],
) -> None:
    serve_models(respx_mock)
    route = respx_mock.post(CHAT_URL).respond(200, json=completion({"content": "{}"}))

    await api.chat(response_format=response_format)

    assert sent_body(route) == {**BASE_BODY, "response_format": sent}


async def test_unsupported_response_format_fails_before_sending(
    api: Api, respx_mock: respx.MockRouter
) -> None:
    serve_models(respx_mock)

    with pytest.raises(InvalidParameterError, match="response_format type 'xml'"):
        await api.chat(response_format={"type": "xml"})
    assert respx_mock.calls.call_count == 0


# -- Non-streamed results --------------------------------------------------------------


async def test_text_result(api: Api, respx_mock: respx.MockRouter) -> None:
    serve_models(respx_mock)
    usage = {
        **USAGE_WIRE,
        "completion_tokens_details": {"reasoning_tokens": 2},
        "prompt_tokens_details": {"cached_tokens": 8},
    }
    body = completion(
        {"content": "Hello there!", "reasoning_content": "", "tool_calls": []},
        usage=usage,
        stats={},
    )
    respx_mock.post(CHAT_URL).respond(200, json=body)

    result = await api.chat()

    assert result.text == "Hello there!"
    assert result.reasoning == ""
    assert result.tool_calls == []
    assert result.finish_reason == "stop"
    assert result.model == MODEL
    assert result.id == "chatcmpl-abc123"
    assert result.system_fingerprint == MODEL
    assert result.stats == {}
    assert result.usage == Usage(
        prompt_tokens=12, completion_tokens=3, total_tokens=15, reasoning_tokens=2, cached_tokens=8
    )
    metrics = result.metrics
    assert metrics.wall_duration_secs > 0
    assert metrics.retries == 0
    assert metrics.in_flight_at_start == 0
    assert metrics.time_to_first_token_secs is None
    # No stats from the server: completion tokens over the wall time.
    assert metrics.tokens_per_second == pytest.approx(3 / metrics.wall_duration_secs)


async def test_stats_give_tokens_per_second(api: Api, respx_mock: respx.MockRouter) -> None:
    """Capture: j-shelfwood v0/chat/standard-response.json (an /api/v0 body with stats)."""
    serve_models(respx_mock)
    body = json.loads(
        read_capture(
            "j-shelfwood__prj-php-lmstudio__tests_mocks_v0_chat_standard-response.json__6c951044.json"
        )
    )
    respx_mock.post(CHAT_URL).respond(200, json=body)

    result = await api.chat(model=CAPTURED_1M_MODEL)

    assert result.text == body["choices"][0]["message"]["content"]
    assert result.text.startswith("I'm sorry for any inconvenience")
    assert result.finish_reason == "stop"
    assert result.id == "chatcmpl-jinpu9j96ag0svrr5z6txi9"
    assert result.model == CAPTURED_1M_MODEL
    assert result.system_fingerprint is None
    assert result.usage == Usage(prompt_tokens=49, completion_tokens=49, total_tokens=98)
    assert result.stats == {
        "tokens_per_second": 29.69918291607961,
        "time_to_first_token": 0.272,
        "generation_time": 1.684,
        "stop_reason": "stop",
    }
    assert result.metrics.tokens_per_second == 29.69918291607961


@pytest.mark.parametrize("field", ["reasoning_content", "reasoning"])
async def test_reasoning_fields(api: Api, respx_mock: respx.MockRouter, field: str) -> None:
    serve_models(respx_mock)
    body = completion({"content": "Paris.", field: "The capital of France is Paris."})
    respx_mock.post(CHAT_URL).respond(200, json=body)

    result = await api.chat()

    assert result.text == "Paris."
    assert result.reasoning == "The capital of France is Paris."


async def test_inline_think_is_split_out_of_the_text(
    api: Api, respx_mock: respx.MockRouter
) -> None:
    serve_models(respx_mock)
    body = completion({"content": "<think>2 < 3, so yes.</think>Yes.", "reasoning_content": ""})
    respx_mock.post(CHAT_URL).respond(200, json=body)

    result = await api.chat()

    assert result.text == "Yes."
    assert result.reasoning == "2 < 3, so yes."


async def test_tool_calls_result(api: Api, respx_mock: respx.MockRouter) -> None:
    serve_models(respx_mock)
    tool_calls = [
        {
            "id": "201464470",
            "type": "function",
            "function": {"name": "a", "arguments": '{"location":"London"}'},
        },
        {"id": 7, "type": "function", "function": {"name": "b", "arguments": '{"x": 1}'}},
        {"type": "function", "function": {"name": "b", "arguments": {"x": 2}}},
    ]
    # LM Studio before 0.3.15 finished tool calls with "stop".
    body = completion({"tool_calls": tool_calls}, finish="stop")
    respx_mock.post(CHAT_URL).respond(200, json=body)

    result = await api.chat(tools=[TOOL_A, TOOL_B])

    assert result.text == ""
    assert result.finish_reason == "tool_calls"
    assert result.tool_calls[:2] == [
        ToolCall(id="201464470", name="a", arguments='{"location":"London"}'),
        ToolCall(id="7", name="b", arguments='{"x": 1}'),
    ]
    generated = result.tool_calls[2]
    assert GENERATED_ID.fullmatch(generated.id)
    assert (generated.name, generated.arguments) == ("b", '{"x": 2}')
    assert generated.parsed_arguments() == {"x": 2}


async def test_recorded_tool_call_answer(api: Api, respx_mock: respx.MockRouter) -> None:
    """Capture: j-shelfwood chat/tool-response.json."""
    serve_models(respx_mock)
    body = json.loads(
        read_capture(
            "j-shelfwood__prj-php-lmstudio__tests_mocks_chat_tool-response.json__c9f8d866.json"
        )
    )
    respx_mock.post(CHAT_URL).respond(200, json=body)

    result = await api.chat(model=CAPTURED_MODEL)

    assert result.tool_calls == [
        ToolCall(id="201464470", name="get_current_weather", arguments='{"location":"London"}')
    ]
    assert result.finish_reason == "tool_calls"
    assert result.text == ""
    assert result.usage == Usage(prompt_tokens=502, completion_tokens=34, total_tokens=536)
    assert result.metrics.tokens_per_second == 29.506881004650285


async def test_length_finish_reason_is_kept(api: Api, respx_mock: respx.MockRouter) -> None:
    serve_models(respx_mock)
    respx_mock.post(CHAT_URL).respond(200, json=completion({"content": "Once"}, finish="length"))

    result = await api.chat(max_tokens=1)

    assert (result.text, result.finish_reason) == ("Once", "length")


# -- Streamed results ------------------------------------------------------------------


async def test_streamed_text(api: Api, respx_mock: respx.MockRouter) -> None:
    serve_models(respx_mock)
    events: list[Mapping[str, Any] | str] = [
        chunk({"role": "assistant", "content": ""}),
        chunk({"role": "assistant", "content": "Hel"}),
        chunk({"role": "assistant", "content": "lo"}),
        chunk({"role": "assistant", "content": " world"}),
        chunk({}, "stop", usage=USAGE_WIRE),
        "[DONE]",
    ]
    respx_mock.post(CHAT_URL).mock(return_value=sse_response(events))

    chunks, result = await api.stream()

    assert chunks == [
        ChatChunk(text="Hel", model=MODEL),
        ChatChunk(text="lo", model=MODEL),
        ChatChunk(text=" world", model=MODEL),
        ChatChunk(finish_reason="stop", usage=USAGE, model=MODEL),
    ]
    assert "".join(c.text for c in chunks) == result.text == "Hello world"
    assert result.reasoning == ""
    assert result.tool_calls == []
    assert result.finish_reason == "stop"
    assert result.usage == USAGE
    assert result.stats == {}
    assert result.model == MODEL
    assert result.id == "chatcmpl-abc123"
    assert result.system_fingerprint == MODEL
    metrics = result.metrics
    assert metrics.retries == 0
    assert metrics.in_flight_at_start == 0
    assert metrics.time_to_first_token_secs is not None
    assert 0 <= metrics.time_to_first_token_secs < metrics.wall_duration_secs
    generation = metrics.wall_duration_secs - metrics.time_to_first_token_secs
    assert metrics.tokens_per_second == pytest.approx(3 / generation)


async def test_streamed_usage_in_a_separate_chunk(api: Api, respx_mock: respx.MockRouter) -> None:
    serve_models(respx_mock)
    events: list[Mapping[str, Any] | str] = [
        chunk({"role": "assistant", "content": "Hi"}),
        chunk({}, "stop"),
        {
            "id": "chatcmpl-abc123",
            "object": "chat.completion.chunk",
            "created": 1740598352,
            "model": MODEL,
            "choices": [],
            "usage": USAGE_WIRE,
        },
        "[DONE]",
    ]
    respx_mock.post(CHAT_URL).mock(return_value=sse_response(events))

    chunks, result = await api.stream()

    assert chunks == [
        ChatChunk(text="Hi", model=MODEL),
        ChatChunk(finish_reason="stop", model=MODEL),
        ChatChunk(usage=USAGE),
    ]
    assert result.usage == USAGE
    assert (result.text, result.finish_reason) == ("Hi", "stop")


@pytest.mark.parametrize("field", ["reasoning_content", "reasoning"])
async def test_streamed_reasoning_fields(
    api: Api, respx_mock: respx.MockRouter, field: str
) -> None:
    serve_models(respx_mock)
    events: list[Mapping[str, Any] | str] = [
        chunk({"role": "assistant", field: "Think"}),
        chunk({"role": "assistant", field: "ing."}),
        chunk({"role": "assistant", "content": "Answer", field: ""}),
        chunk({}, "stop"),
        "[DONE]",
    ]
    respx_mock.post(CHAT_URL).mock(return_value=sse_response(events))

    chunks, result = await api.stream()

    assert chunks == [
        ChatChunk(reasoning="Think", model=MODEL),
        ChatChunk(reasoning="ing.", model=MODEL),
        ChatChunk(text="Answer", model=MODEL),
        ChatChunk(finish_reason="stop", model=MODEL),
    ]
    assert (result.text, result.reasoning) == ("Answer", "Thinking.")


async def test_streamed_inline_think_split_across_chunks(
    api: Api, respx_mock: respx.MockRouter
) -> None:
    serve_models(respx_mock)
    events: list[Mapping[str, Any] | str] = [
        chunk({"role": "assistant", "content": "<thi"}),
        chunk({"role": "assistant", "content": "nk>abc</th"}),
        chunk({"role": "assistant", "content": "ink>Hello"}),
        chunk({}, "stop"),
        "[DONE]",
    ]
    respx_mock.post(CHAT_URL).mock(return_value=sse_response(events))

    chunks, result = await api.stream()

    assert chunks == [
        ChatChunk(reasoning="abc", model=MODEL),
        ChatChunk(text="Hello", model=MODEL),
        ChatChunk(finish_reason="stop", model=MODEL),
    ]
    assert "".join(c.text for c in chunks) == result.text == "Hello"
    assert result.reasoning == "abc"


async def test_streamed_tool_call_fragments(api: Api, respx_mock: respx.MockRouter) -> None:
    """Capture: j-shelfwood streaming/tool-stream.txt, delivered in 7-byte reads.

    The first fragment carries id and name with empty arguments; later ones repeat
    ``"name": ""``; the stream finishes with ``stop`` (LM Studio before 0.3.15).
    """
    serve_models(respx_mock)
    raw = read_capture(
        "j-shelfwood__prj-php-lmstudio__tests_mocks_streaming_tool-stream.txt__527beafe.txt"
    ).encode()
    pieces = [raw[i : i + 7] for i in range(0, len(raw), 7)]
    respx_mock.post(CHAT_URL).mock(
        return_value=wire(
            httpx2.Response(
                200, headers={"content-type": "text/event-stream"}, stream=PiecedStream(pieces)
            )
        )
    )

    chunks, result = await api.stream(model=CAPTURED_MODEL)

    fragments = ['{"', "location", '":', ' "', "London", '",', ' "', "unit", '":', ' "']
    fragments += ["c", "elsius", '"}']
    expected = [
        ChatChunk(
            tool_calls=[ToolCallDelta(0, "633167655", "get_current_weather", "")],
            model=CAPTURED_MODEL,
        )
    ]
    expected += [
        ChatChunk(tool_calls=[ToolCallDelta(0, None, None, text)], model=CAPTURED_MODEL)
        for text in fragments
    ]
    # The finishing chunk already says "tool_calls", like the result.
    expected.append(ChatChunk(finish_reason="tool_calls", model=CAPTURED_MODEL))
    assert chunks == expected
    assert result.tool_calls == [
        ToolCall(
            id="633167655",
            name="get_current_weather",
            arguments='{"location": "London", "unit": "celsius"}',
        )
    ]
    assert result.finish_reason == "tool_calls"
    assert result.text == ""
    assert result.id == "chatcmpl-61pkcmbr4z601vtrtffqvqk"


async def test_streamed_tool_calls_accumulate_by_index(
    api: Api, respx_mock: respx.MockRouter
) -> None:
    serve_models(respx_mock)

    def call(index: int, arguments: str, **extra: Any) -> dict[str, Any]:
        return {"tool_calls": [{"index": index, **extra, "function": {"arguments": arguments}}]}

    first = {"index": 0, "id": "41", "type": "function", "function": {"name": "a", "arguments": ""}}
    second = {"index": 1, "type": "function", "function": {"name": "b", "arguments": ""}}
    events: list[Mapping[str, Any] | str] = [
        chunk({"role": "assistant", "tool_calls": [first]}),
        chunk({"role": "assistant", "tool_calls": [second]}),
        chunk(call(1, '{"x":')),
        chunk(call(0, "{}")),
        chunk(call(1, " 5}")),
        chunk({}, "tool_calls", usage=USAGE_WIRE),
        "[DONE]",
    ]
    respx_mock.post(CHAT_URL).mock(return_value=sse_response(events))

    chunks, result = await api.stream(tools=[TOOL_A, TOOL_B])

    assert len(result.tool_calls) == 2
    assert result.tool_calls[0] == ToolCall(id="41", name="a", arguments="{}")
    generated = result.tool_calls[1]
    assert GENERATED_ID.fullmatch(generated.id)
    assert (generated.name, generated.arguments) == ("b", '{"x": 5}')
    # The generated id is announced in the first fragment of that call.
    assert chunks[1].tool_calls == [ToolCallDelta(1, generated.id, "b", "")]
    assert chunks[2].tool_calls == [ToolCallDelta(1, None, None, '{"x":')]
    assert result.finish_reason == "tool_calls"
    assert result.usage == USAGE


async def test_streamed_stats(api: Api, respx_mock: respx.MockRouter) -> None:
    serve_models(respx_mock)
    stats = {"tokens_per_second": 55.5, "time_to_first_token": 0.12, "stop_reason": "eosFound"}
    events: list[Mapping[str, Any] | str] = [
        chunk({"role": "assistant", "content": "Hi"}),
        chunk({}, "stop", usage=USAGE_WIRE, stats=stats),
        "[DONE]",
    ]
    respx_mock.post(CHAT_URL).mock(return_value=sse_response(events))

    chunks, result = await api.stream()

    assert chunks[-1] == ChatChunk(finish_reason="stop", usage=USAGE, stats=stats, model=MODEL)
    assert result.stats == stats
    assert result.metrics.tokens_per_second == 55.5


async def test_stream_result_equals_the_non_streamed_result(
    api: Api, respx_mock: respx.MockRouter
) -> None:
    serve_models(respx_mock)
    usage = {**USAGE_WIRE, "completion_tokens_details": {"reasoning_tokens": 1}}
    tool_call = {
        "id": "11",
        "type": "function",
        "function": {"name": "a", "arguments": '{"q": 1}'},
    }
    whole = completion(
        {"content": "Sure.", "reasoning_content": "Plan.", "tool_calls": [tool_call]},
        finish="tool_calls",
        usage=usage,
        stats={},
    )
    streamed: list[Mapping[str, Any] | str] = [
        chunk({"role": "assistant", "reasoning_content": "Pl"}),
        chunk({"role": "assistant", "reasoning_content": "an."}),
        chunk({"role": "assistant", "content": "Sur"}),
        chunk({"role": "assistant", "content": "e."}),
        chunk(
            {
                "role": "assistant",
                "tool_calls": [
                    {"index": 0, "id": "11", "type": "function", "function": {"name": "a"}}
                ],
            }
        ),
        chunk({"tool_calls": [{"index": 0, "function": {"name": "", "arguments": '{"q"'}}]}),
        chunk({"tool_calls": [{"index": 0, "function": {"name": "", "arguments": ": 1}"}}]}),
        chunk({}, "tool_calls"),
        {"id": "chatcmpl-abc123", "model": MODEL, "choices": [], "usage": usage},
        "[DONE]",
    ]
    respx_mock.post(CHAT_URL).mock(
        side_effect=[wire(httpx2.Response(200, json=whole)), sse_response(streamed)]
    )

    result = await api.chat(tools=[TOOL_A])
    chunks, streamed_result = await api.stream(tools=[TOOL_A])

    assert without_metrics(streamed_result) == without_metrics(result)
    assert without_metrics(result) == {
        "id": "chatcmpl-abc123",
        "model": MODEL,
        "text": "Sure.",
        "reasoning": "Plan.",
        "tool_calls": [{"id": "11", "name": "a", "arguments": '{"q": 1}'}],
        "finish_reason": "tool_calls",
        "usage": {
            "prompt_tokens": 12,
            "completion_tokens": 3,
            "total_tokens": 15,
            "reasoning_tokens": 1,
            "cached_tokens": None,
        },
        "stats": {},
        "system_fingerprint": MODEL,
    }
    assert "".join(c.text for c in chunks) == streamed_result.text
    assert "".join(c.reasoning for c in chunks) == streamed_result.reasoning


async def test_stream_sends_nothing_until_read(api: Api, respx_mock: respx.MockRouter) -> None:
    models = serve_models(respx_mock)
    route = respx_mock.post(CHAT_URL).mock(
        return_value=sse_response([chunk({"content": "Hi"}, "stop"), "[DONE]"])
    )

    stream = api.start_stream()

    assert respx_mock.calls.call_count == 0
    with pytest.raises(RuntimeError, match="has not been read to its end"):
        _ = stream.result
    if isinstance(stream, ChatStream):
        texts = [c.text for c in stream]
    else:
        texts = [c.text async for c in stream]
    assert texts == ["Hi"]
    assert (models.call_count, route.call_count) == (1, 1)
    assert stream.result.text == "Hi"


async def test_in_flight_at_start_counts_an_open_stream(
    api: Api, respx_mock: respx.MockRouter
) -> None:
    serve_models(respx_mock)
    events: list[Mapping[str, Any] | str] = [
        chunk({"role": "assistant", "content": "A"}),
        chunk({"role": "assistant", "content": "B"}),
        chunk({}, "stop"),
        "[DONE]",
    ]
    respx_mock.post(CHAT_URL).mock(
        side_effect=[
            sse_response(events),
            wire(httpx2.Response(200, json=completion({"content": "C"}))),
        ]
    )

    stream: ChatStream | AsyncChatStream
    if api.sync is not None:
        stream = sync_stream = api.sync.stream_chat(MESSAGES)
        chunks = iter(sync_stream)
        first = next(chunks)
        during = api.in_flight
        result = await api.chat()
        rest = list(chunks)
    else:
        assert api.aio is not None
        stream = async_stream = api.aio.stream_chat(MESSAGES)
        achunks = aiter(async_stream)
        first = await anext(achunks)
        during = api.in_flight
        result = await api.chat()
        rest = [item async for item in achunks]

    assert first.text == "A"
    assert [c.text for c in rest] == ["B", ""]
    assert during == 1
    assert result.text == "C"
    assert result.metrics.in_flight_at_start == 1
    assert stream.result.metrics.in_flight_at_start == 0
    assert api.in_flight == 0


# -- Headers and logging -------------------------------------------------------------

SECRET = "sk-lm-AbCdEfGh:SeCrEtToKeN1234567890"


async def test_headers(make_api: Callable[..., Api], respx_mock: respx.MockRouter) -> None:
    serve_models(respx_mock)
    route = respx_mock.post(CHAT_URL).respond(200, json=completion({"content": "Hello"}))

    await make_api().chat()
    await make_api(api_key=SECRET).chat()

    anonymous, authenticated = route.calls[0].request, route.calls[1].request
    assert "authorization" not in anonymous.headers
    assert authenticated.headers["authorization"] == f"Bearer {SECRET}"
    for request in (anonymous, authenticated):
        assert request.headers["user-agent"].startswith("lmstudio-provider/")
        assert request.headers["content-type"] == "application/json"


async def test_debug_log_summarises_requests_without_the_key(
    make_api: Callable[..., Api], respx_mock: respx.MockRouter, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="lmstudio_provider")
    api = make_api(api_key=SECRET)
    serve_models(respx_mock)
    route = respx_mock.post(CHAT_URL)
    route.side_effect = [
        wire(httpx2.Response(200, json=completion({"content": "Hello"}))),
        wire(
            httpx2.Response(
                401,
                json={
                    "error": {
                        "type": "invalid_request",
                        "code": "invalid_api_key",
                        "message": "An LM Studio API token is required to make requests.",
                    }
                },
            )
        ),
    ]
    secret_prompt = [{"role": "user", "content": "my private question"}]

    await api.chat(secret_prompt, temperature=0.5)
    with pytest.raises(AuthenticationError) as refused:
        await api.chat(secret_prompt)

    messages = [record.getMessage() for record in caplog.records]
    assert all(record.name == "lmstudio_provider" for record in caplog.records)
    patterns = [
        r"-> GET /api/v1/models",
        r"<- GET /api/v1/models: 200 in \d+\.\d ms",
        r"-> POST /v1/chat/completions model='qwen/qwen3-4b' "
        r"fields=\['model', 'temperature'\] messages=1",
        r"<- POST /v1/chat/completions: 200 in \d+\.\d ms",
        r"-> POST /v1/chat/completions model='qwen/qwen3-4b' fields=\['model'\] messages=1",
        r"<- POST /v1/chat/completions: 401 in \d+\.\d ms",
    ]
    assert len(messages) == len(patterns), messages
    for message, pattern in zip(messages, patterns, strict=True):
        assert re.fullmatch(pattern, message), (message, pattern)
    assert SECRET not in caplog.text
    assert "SeCrEtToKeN" not in caplog.text
    assert "my private question" not in caplog.text
    assert SECRET not in str(refused.value)
    assert route.calls[1].request.headers["authorization"] == f"Bearer {SECRET}"
