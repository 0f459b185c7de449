"""Streamed chat, replayed from raw SSE streams recorded from LM Studio with curl.

Cassettes (``cassettes/test_streaming/``, built by ``build_cassettes.py``), each a model
list and then ``POST /v1/chat/completions`` answered with a captured stream, byte for byte:

* ``stream_story``: ``j-shelfwood__prj-php-lmstudio__tests_mocks_models_list.json__710ca4ad``
  and ``..._streaming_chat-stream.txt__2f975aae.txt`` (650 content chunks);
* ``stream_weather``: ``..._models_list.json__ebd9e1f6`` and
  ``..._streaming_chat-stream.txt__c4db939d.txt``;
* ``stream_instance``: ``..._v1_models_list.json__8cbd37b9`` and
  ``..._v1_streaming_chat-stream.txt__ce7d8d6c.txt`` (asked of the ``:2`` instance);
* ``stream_tool_call``: ``..._models_list.json__710ca4ad`` and
  ``..._streaming_tool-stream.txt__527beafe.txt``.

The streams predate ``stream_options.include_usage`` (LM Studio 0.3.18), so they carry no
usage: ``result.usage`` is ``None`` although the transport asks for it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import vcr

from lmstudio_provider import (
    AsyncLMStudioClient,
    ChatChunk,
    LMStudioClient,
    ToolCall,
    ToolCallDelta,
)

BASE_URL = "http://localhost:1234"
ROOT = Path(__file__).resolve().parents[3]
CAPTURES = ROOT.parent / "shared" / "lmstudio-captures"
replay = vcr.VCR(
    cassette_library_dir=str(ROOT / "cassettes" / "test_streaming"),
    record_mode="none",
    match_on=["method", "uri", "body"],
    filter_headers=["authorization"],
)

PHP = "j-shelfwood__prj-php-lmstudio__tests_mocks_"
STORY = [{"role": "user", "content": "Tell me a story about magic."}]
WEATHER = [{"role": "user", "content": "What is the weather in London?"}]
WEATHER_TOOL: dict[str, Any] = {
    "type": "function",
    "function": {
        "name": "get_current_weather",
        "description": "Get the current weather in a given location",
        "parameters": {
            "type": "object",
            "properties": {
                "location": {"type": "string", "description": "The city, e.g. London"},
                "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
            },
            "required": ["location"],
        },
    },
}
WEATHER_ANSWER = (
    "As an AI, I don't have real-time data capabilities. Please check a reliable weather "
    "forecasting website or app for the current weather conditions in London. They provide "
    "up-to-date and accurate information based on live meteorological data."
)
INSTANCE_ANSWER = (
    "I'm sorry for any inconvenience, but as an AI, I don't have real-time capabilities to "
    "provide current weather updates or forecasts. Please check a reliable weather website "
    "or app for the most accurate information."
)


def captured_deltas(name: str) -> list[str]:
    """The ``delta.content`` of every event of a captured stream, read without the transport."""
    first, _, text = (CAPTURES / name).read_text(encoding="utf-8").partition("\n")
    assert first.startswith("# SOURCE")
    contents = []
    for block in text.split("\n\n"):
        if block.startswith("data: {"):
            delta = json.loads(block.removeprefix("data: "))["choices"][0]["delta"]
            if delta.get("content"):
                contents.append(delta["content"])
    return contents


def client() -> LMStudioClient:
    return LMStudioClient(base_url=BASE_URL, max_retries=0)


def test_stream_story_chunk_by_chunk() -> None:
    """Captures 710ca4ad + 2f975aae: 650 text chunks, then finish_reason stop."""
    expected = captured_deltas(f"{PHP}streaming_chat-stream.txt__2f975aae.txt")
    assert len(expected) == 650
    with replay.use_cassette("stream_story.yaml", record_mode="none") as cassette:
        with client() as lm:
            stream = lm.stream_chat(STORY)  # no model: the loaded qwen2.5-7b-instruct
            with pytest.raises(RuntimeError, match="not been read"):
                _ = stream.result
            chunks = list(stream)
        assert cassette.all_played
    assert [c.text for c in chunks[:-1]] == expected
    assert chunks[-1] == ChatChunk(finish_reason="stop", model="qwen2.5-7b-instruct")
    text = "".join(c.text for c in chunks)
    assert text.startswith("In the quaint village of Willowbrook, nestled between rolling hills")
    assert text.endswith("and that magic can be found when we dare to believe in it.")
    assert len(text) == 3185
    result = stream.result
    assert result.text == text
    assert result.finish_reason == "stop"
    assert result.usage is None
    assert result.id == "chatcmpl-i9qxsazkiy8jccpd50s1j"
    assert result.model == "qwen2.5-7b-instruct"
    assert result.system_fingerprint == "qwen2.5-7b-instruct"
    assert result.tool_calls == []
    assert result.metrics.time_to_first_token_secs is not None


@pytest.mark.parametrize("use_async", [False, True])
async def test_stream_weather(use_async: bool) -> None:
    """Captures ebd9e1f6 + c4db939d: the model list repeats the streamed model's id."""
    chunks: list[ChatChunk] = []
    with replay.use_cassette("stream_weather.yaml", record_mode="none") as cassette:
        if use_async:
            async with AsyncLMStudioClient(base_url=BASE_URL, max_retries=0) as alm:
                astream = alm.stream_chat(WEATHER, model="qwen2.5-7b-instruct", temperature=0.7)
                async with astream:
                    chunks = [chunk async for chunk in astream]
                result = astream.result
        else:
            with client() as lm:
                stream = lm.stream_chat(WEATHER, model="qwen2.5-7b-instruct", temperature=0.7)
                with stream:
                    chunks = list(stream)
                result = stream.result
        assert cassette.all_played
    assert "".join(c.text for c in chunks) == WEATHER_ANSWER
    assert [c.text for c in chunks if c.text] == captured_deltas(
        f"{PHP}streaming_chat-stream.txt__c4db939d.txt"
    )
    assert len(chunks) == 52  # 51 text chunks and the finishing one
    assert result.text == WEATHER_ANSWER
    assert result.finish_reason == "stop"
    assert result.usage is None
    assert result.id == "chatcmpl-i8kf2h8b3zghg2u7qlx9c"


def test_stream_from_an_instance_id() -> None:
    """Captures 8cbd37b9 + ce7d8d6c: ':2' is sent; the chunks name the base model."""
    with replay.use_cassette("stream_instance.yaml", record_mode="none") as cassette:
        with client() as lm:
            stream = lm.stream_chat(WEATHER, model="qwen2.5-7b-instruct-1m:2")
            chunks = list(stream)
        assert cassette.all_played
    result = stream.result
    assert result.text == INSTANCE_ANSWER
    assert "".join(c.text for c in chunks) == INSTANCE_ANSWER
    assert result.model == "qwen2.5-7b-instruct-1m"
    assert result.system_fingerprint == "qwen2.5-7b-instruct-1m"
    assert result.id == "chatcmpl-kjujk0o6emj89faucu33c7"
    assert result.finish_reason == "stop"


TOOL_ARGUMENT_FRAGMENTS = [
    '{"',
    "location",
    '":',
    ' "',
    "London",
    '",',
    ' "',
    "unit",
    '":',
    ' "',
    "c",
    "elsius",
    '"}',
]


def check_tool_stream(chunks: list[ChatChunk]) -> None:
    deltas = [d for c in chunks for d in c.tool_calls or []]
    # The first fragment names the call; later ones repeat "name": "" and carry no id.
    assert deltas[0] == ToolCallDelta(0, "633167655", "get_current_weather", "")
    assert deltas[1:] == [ToolCallDelta(0, None, None, a) for a in TOOL_ARGUMENT_FRAGMENTS]
    assert all(c.text == "" for c in chunks)
    # LM Studio before 0.3.15 finished a tool call with "stop": the chunk says "tool_calls".
    assert chunks[-1].finish_reason == "tool_calls"
    assert [c.finish_reason for c in chunks[:-1]] == [None] * 14


@pytest.mark.parametrize("use_async", [False, True])
async def test_stream_tool_call(use_async: bool) -> None:
    """Captures 710ca4ad + 527beafe: one call accumulated by index from 14 fragments."""
    with replay.use_cassette("stream_tool_call.yaml", record_mode="none") as cassette:
        if use_async:
            async with AsyncLMStudioClient(base_url=BASE_URL, max_retries=0) as alm:
                astream = alm.stream_chat(
                    WEATHER, model="Qwen2.5-7B-Instruct", tools=[WEATHER_TOOL]
                )
                chunks = [chunk async for chunk in astream]
                result = astream.result
        else:
            with client() as lm:
                stream = lm.stream_chat(WEATHER, model="qwen2.5-7b-instruct", tools=[WEATHER_TOOL])
                chunks = list(stream)
                result = stream.result
        assert cassette.all_played
    check_tool_stream(chunks)
    assert result.tool_calls == [
        ToolCall(
            id="633167655",
            name="get_current_weather",
            arguments='{"location": "London", "unit": "celsius"}',
        )
    ]
    assert result.tool_calls[0].parsed_arguments() == {"location": "London", "unit": "celsius"}
    assert result.finish_reason == "tool_calls"  # normalised from the captured "stop"
    assert result.text == ""
    assert result.usage is None
    assert result.id == "chatcmpl-61pkcmbr4z601vtrtffqvqk"
