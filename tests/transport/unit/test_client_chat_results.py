"""What ``LMStudioClient`` and ``AsyncLMStudioClient`` make of a chat answer, streamed or not.

Every test runs against both clients (the ``api`` fixture is parametrized) with
respx standing in for LM Studio: no socket is opened. Shapes follow
``../shared/LMSTUDIO-API.md``; tests that replay a recorded body name the capture.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import httpx2
import pytest
import respx

from chat_fakes import (
    CAPTURED_1M_MODEL,
    CAPTURED_MODEL,
    CHAT_URL,
    GENERATED_ID,
    MODEL,
    TOOL_A,
    TOOL_B,
    USAGE,
    USAGE_WIRE,
    PiecedStream,
    chunk,
    completion,
    read_capture,
    serve_models,
    sse_response,
    wire,
    without_metrics,
)
from client_api import MESSAGES, Api
from lmstudio_provider.transport._async_client import AsyncChatStream
from lmstudio_provider.transport._results import (
    ChatChunk,
    ToolCall,
    ToolCallDelta,
    Usage,
)
from lmstudio_provider.transport._sync_client import ChatStream

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
