"""Every SSE stream recorded from LM Studio, fed to ``StreamState`` however the socket splits it.

The captures (``../shared/lmstudio-captures/j-shelfwood__*stream*``, raw curl output of
``/v1/chat/completions`` with ``"stream": true``, Feb-Mar 2025) are fed whole, byte by
byte and in seeded random pieces; the chunks and the final result must not depend on
where the reads were split, and must say what the capture says (checked against a plain
JSON reading of each ``data:`` line).
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from lmstudio_provider.transport._error_mapping import RequestContext
from lmstudio_provider.transport._parsing import StreamState
from lmstudio_provider.transport._results import ChatChunk, ChatResponse, Metrics, ToolCall

CAPTURES = Path(__file__).resolve().parents[4] / "shared" / "lmstudio-captures"
PHP = "j-shelfwood__prj-php-lmstudio__tests_mocks_"
SEEDS = [0, 1, 2, 3, 20250316]


@dataclass(frozen=True)
class Captured:
    """A stream capture and what it holds (read off the capture by hand)."""

    name: str
    model: str
    id: str
    events: int  # data events before [DONE]
    text_start: str
    text_end: str
    tool_calls: tuple[ToolCall, ...] = ()


WEATHER_START = "As an AI, I don't have real-time data capabilities."
WEATHER_END = "accurate information based on live meteorological data."
SORRY_START = "I'm sorry for any inconvenience, but as an AI,"
SORRY_END = "Please check a reliable weather website or app for the most accurate information."
STREAMS = [
    Captured(
        f"{PHP}streaming_chat-stream.txt__2f975aae.txt",
        "qwen2.5-7b-instruct",
        "chatcmpl-i9qxsazkiy8jccpd50s1j",
        651,
        "In the quaint village of Willowbrook,",
        "magic can be found when we dare to believe in it.",
    ),
    Captured(
        f"{PHP}streaming_chat-stream.txt__c4db939d.txt",
        "qwen2.5-7b-instruct",
        "chatcmpl-i8kf2h8b3zghg2u7qlx9c",
        52,
        WEATHER_START,
        WEATHER_END,
    ),
    Captured(
        f"{PHP}v0_streaming_chat-stream.txt__10c1a38b.txt",
        "granite-3.1-8b-instruct",
        "chatcmpl-i8kf2h8b3zghg2u7qlx9c",
        52,
        WEATHER_START,
        WEATHER_END,
    ),
    Captured(
        f"{PHP}v0_streaming_chat-stream.txt__49c7b134.txt",
        "qwen2.5-7b-instruct-1m",
        "chatcmpl-i8kf2h8b3zghg2u7qlx9c",
        52,
        WEATHER_START,
        WEATHER_END,
    ),
    Captured(
        f"{PHP}v1_streaming_chat-stream.txt__a68e5ac4.txt",
        "granite-3.1-8b-instruct",
        "chatcmpl-kjujk0o6emj89faucu33c7",
        45,
        SORRY_START,
        SORRY_END,
    ),
    Captured(
        f"{PHP}v1_streaming_chat-stream.txt__ce7d8d6c.txt",
        "qwen2.5-7b-instruct-1m",
        "chatcmpl-kjujk0o6emj89faucu33c7",
        45,
        SORRY_START,
        SORRY_END,
    ),
    Captured(
        f"{PHP}streaming_tool-stream.txt__527beafe.txt",
        "qwen2.5-7b-instruct",
        "chatcmpl-61pkcmbr4z601vtrtffqvqk",
        15,
        "",
        "",
        (
            ToolCall(
                id="633167655",
                name="get_current_weather",
                arguments='{"location": "London", "unit": "celsius"}',
            ),
        ),
    ),
]


def stream_bytes(capture: Captured) -> bytes:
    """The capture's stream, without its ``# SOURCE`` line, exactly as curl saved it."""
    first, _, rest = (CAPTURES / capture.name).read_bytes().partition(b"\n")
    assert first.startswith(b"# SOURCE")
    return rest


def data_events(capture: Captured) -> list[dict[str, Any]]:
    """The JSON of every ``data:`` line, read without the SSE decoder."""
    lines = stream_bytes(capture).decode("utf-8").split("\n")
    payloads = [line.removeprefix("data: ") for line in lines if line.startswith("data: ")]
    assert payloads[-1] == "[DONE]"
    return [json.loads(payload) for payload in payloads[:-1]]


def feed(capture: Captured, pieces: Iterator[bytes]) -> tuple[list[ChatChunk], ChatResponse]:
    context = RequestContext("http://localhost:1234", "POST", "/v1/chat/completions", capture.model)
    state = StreamState(capture.model, context, Metrics())
    chunks = [chunk for piece in pieces for chunk in state.feed(piece)]
    chunks += state.close()
    return chunks, state.result()


def whole(data: bytes) -> Iterator[bytes]:
    yield data


def byte_by_byte(data: bytes) -> Iterator[bytes]:
    for i in range(len(data)):
        yield data[i : i + 1]


def random_pieces(data: bytes, seed: int) -> Iterator[bytes]:
    rng = random.Random(seed)
    position = 0
    while position < len(data):
        size = rng.choice([1, 2, 3, rng.randint(1, 64), rng.randint(64, 700)])
        yield data[position : position + size]
        position += size


def comparable(result: ChatResponse) -> dict[str, Any]:
    """The result without its timings."""
    data = result.as_dict()
    del data["metrics"]
    return data


def ids(capture: Captured) -> str:
    return capture.name.removeprefix(PHP)


@pytest.mark.parametrize("capture", STREAMS, ids=ids)
def test_whole_stream_says_what_the_capture_says(capture: Captured) -> None:
    events = data_events(capture)
    assert len(events) == capture.events
    chunks, result = feed(capture, whole(stream_bytes(capture)))
    expected_text = "".join(e["choices"][0]["delta"].get("content") or "" for e in events)
    assert result.text == expected_text
    assert "".join(chunk.text for chunk in chunks) == expected_text
    assert result.text.startswith(capture.text_start)
    assert result.text.endswith(capture.text_end)
    assert result.model == capture.model
    assert result.system_fingerprint == capture.model
    assert result.id == capture.id
    assert result.usage is None  # recorded before stream_options.include_usage existed
    assert result.stats == {}
    assert result.reasoning == ""
    assert result.tool_calls == list(capture.tool_calls)
    # Each data event carries text, a tool-call fragment or the finish: one chunk each.
    assert len(chunks) == capture.events
    finish = "tool_calls" if capture.tool_calls else "stop"  # old builds sent "stop" for tools
    assert chunks[-1].finish_reason == finish
    assert [c.finish_reason for c in chunks[:-1]] == [None] * (capture.events - 1)
    assert result.finish_reason == finish


@pytest.mark.parametrize("capture", STREAMS, ids=ids)
def test_byte_by_byte_equals_whole(capture: Captured) -> None:
    data = stream_bytes(capture)
    whole_chunks, whole_result = feed(capture, whole(data))
    chunks, result = feed(capture, byte_by_byte(data))
    assert chunks == whole_chunks
    assert comparable(result) == comparable(whole_result)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("capture", STREAMS, ids=ids)
def test_random_splits_equal_whole(capture: Captured, seed: int) -> None:
    data = stream_bytes(capture)
    pieces = list(random_pieces(data, seed))
    assert b"".join(pieces) == data
    assert len(pieces) > 1
    whole_chunks, whole_result = feed(capture, whole(data))
    chunks, result = feed(capture, iter(pieces))
    assert chunks == whole_chunks
    assert comparable(result) == comparable(whole_result)


def test_tool_stream_fragments_accumulate_by_index() -> None:
    """527beafe: the id and name come once; 13 fragments repeat "name": "" and no id."""
    capture = STREAMS[-1]
    chunks, result = feed(capture, byte_by_byte(stream_bytes(capture)))
    deltas = [delta for chunk in chunks for delta in chunk.tool_calls or []]
    assert len(deltas) == 14
    assert (deltas[0].index, deltas[0].id, deltas[0].name, deltas[0].arguments) == (
        0,
        "633167655",
        "get_current_weather",
        "",
    )
    assert {(d.index, d.id, d.name) for d in deltas[1:]} == {(0, None, None)}
    assert "".join(d.arguments for d in deltas) == '{"location": "London", "unit": "celsius"}'
    assert result.tool_calls[0].parsed_arguments() == {"location": "London", "unit": "celsius"}
