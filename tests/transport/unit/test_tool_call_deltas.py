"""Streamed tool-call fragments as the transport hands them on: the call's id on its
first fragment, its name once, whatever the server repeats (llama.cpp sends the
function's name on every fragment; LangChain would join repeated names into one)."""

from __future__ import annotations

import json
from typing import Any

from lmstudio_provider.transport._error_mapping import RequestContext
from lmstudio_provider.transport._parsing import StreamState
from lmstudio_provider.transport._results import Metrics, ToolCallDelta


def event(call: dict[str, Any]) -> bytes:
    delta = {"tool_calls": [{"index": 0, **call}]}
    return f"data: {json.dumps({'choices': [{'index': 0, 'delta': delta}]})}\n\n".encode()


def deltas(*calls: dict[str, Any]) -> list[ToolCallDelta]:
    context = RequestContext("http://localhost:1234", "POST", "/v1/chat/completions", "m")
    state = StreamState("m", context, Metrics())
    chunks = [chunk for call in calls for chunk in state.feed(event(call))]
    return [delta for chunk in chunks for delta in chunk.tool_calls or ()]


def test_a_name_repeated_on_every_fragment_is_given_once() -> None:
    fragments: list[dict[str, Any]] = [
        {"id": "call_1", "function": {"name": "add", "arguments": '{"a": '}},
        {"function": {"name": "add", "arguments": "2}"}},
        {"id": "call_1", "function": {"name": "add", "arguments": ""}},
    ]
    assert deltas(*fragments) == [
        ToolCallDelta(0, "call_1", "add", '{"a": '),
        ToolCallDelta(0, None, None, "2}"),
        ToolCallDelta(0, "call_1", None, ""),
    ]


def test_a_name_that_comes_after_the_first_fragment_is_passed_on() -> None:
    fragments: list[dict[str, Any]] = [
        {"id": "call_1", "function": {"arguments": ""}},
        {"function": {"name": "add", "arguments": "{}"}},
    ]
    assert [delta.name for delta in deltas(*fragments)] == [None, "add"]
