"""Valid JSON of the wrong shape is a ProtocolError quoting it, never a raw exception."""

from __future__ import annotations

import json
import time
from typing import Any

import httpx2
import pytest
import respx

from client_api import Api
from lmstudio_provider.transport._error_mapping import RequestContext
from lmstudio_provider.transport._errors import ProtocolError
from lmstudio_provider.transport._parsing import StreamState, parse_chat_response
from lmstudio_provider.transport._results import Metrics

CONTEXT = RequestContext("http://localhost:1234", "POST", "/v1/chat/completions", "m")
BASE = "http://localhost:1234"


def feed(line: dict[str, Any] | list[Any]) -> None:
    state = StreamState("m", CONTEXT, Metrics())
    state.feed(b'data: {"model": "m", "choices": [{"delta": {"content": "ok"}}]}\n\n')
    state.feed(b"data: " + json.dumps(line).encode() + b"\n\n")


@pytest.mark.parametrize(
    "line",
    [
        {"choices": [1]},
        {"choices": [{"delta": "str"}]},
        {"choices": [{"delta": {"tool_calls": [5]}}]},
        {"stats": [1, 2]},
        {"usage": "x", "choices": []},
        {"choices": "nope"},
    ],
    ids=str,
)
def test_stream_line_of_the_wrong_shape(line: dict[str, Any]) -> None:
    with pytest.raises(ProtocolError) as caught:
        feed(line)
    assert json.dumps(line)[:20] in caught.value.message
    assert caught.value.partial is not None
    assert caught.value.partial.text == "ok"


@pytest.mark.parametrize(
    "body",
    [
        {"model": "m", "choices": [{"message": "oops"}]},
        {"model": "m", "choices": [{"message": {"content": 5}}]},
        {"model": "m", "choices": [{"message": {"tool_calls": [{"function": "x"}]}}]},
    ],
    ids=str,
)
def test_completion_of_the_wrong_shape(body: dict[str, Any]) -> None:
    with pytest.raises(ProtocolError) as caught:
        parse_chat_response(body, "m", CONTEXT, Metrics())
    assert "is not a chat completion" in caught.value.message


async def test_embedding_items_of_the_wrong_shape(api: Api, respx_mock: respx.MockRouter) -> None:
    respx_mock.get(f"{BASE}/api/v1/models").respond(
        200, json={"models": [{"type": "embedding", "key": "text-embedding-x"}]}
    )
    respx_mock.post(f"{BASE}/v1/embeddings").respond(
        200, json={"model": "text-embedding-x", "data": [{"index": 0, "vector": [1.0]}]}
    )
    with pytest.raises(ProtocolError) as caught:
        await api.embed(["hello"])
    assert "not lists of numbers" in caught.value.message


async def test_health_of_a_server_answering_garbage_is_an_error_not_unreachable(
    api: Api, respx_mock: respx.MockRouter
) -> None:
    respx_mock.get(f"{BASE}/lmstudio-greeting").respond(200, json={"lmstudio": True})
    for path in ("/api/v1/models", "/api/v0/models", "/v1/models"):
        respx_mock.get(f"{BASE}{path}").respond(200, content=b"<html>not json</html>")
    report = await api.health()
    assert report.status == "error"
    assert report.server_kind == "lmstudio"


async def test_health_of_a_refused_server_is_unreachable(
    api: Api, respx_mock: respx.MockRouter
) -> None:
    respx_mock.get(f"{BASE}/lmstudio-greeting").mock(side_effect=httpx2.ConnectError("refused"))
    report = await api.health()
    assert report.status == "unreachable"


def test_stream_timing_starts_when_the_request_started() -> None:
    started = time.perf_counter() - 1.0  # the request began a second ago (slow headers)
    state = StreamState("m", CONTEXT, Metrics(), started)
    state.feed(b'data: {"model": "m", "choices": [{"delta": {"content": "hi"}}]}\n\n')
    state.feed(b'data: {"choices": [{"delta": {}, "finish_reason": "stop"}]}\n\n')
    state.close()
    metrics = state.result().metrics
    assert metrics.time_to_first_token_secs is not None
    assert metrics.time_to_first_token_secs >= 1.0
    assert metrics.wall_duration_secs >= 1.0
