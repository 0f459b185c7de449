"""``ChatLMStudio``'s streams against a respx LM Studio: chunks, usage and the lean streaming
path's callbacks.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from typing import Any
from uuid import UUID

import pytest
import respx
from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, LLMResult

from langchain_fakes import (
    CAPTURED_MODEL,
    CHAT_URL,
    TEXT_STREAM,
    TOOL_STREAM,
    capture_text,
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
    collect,
    invoke,
    merged,
)
from lmstudio_provider import (
    StreamInterruptedError,
)
from lmstudio_provider.langchain import ChatLMStudio
from lmstudio_provider.langchain._streaming import LEAN_STREAMING

# -- Streams --------------------------------------------------------------------


async def test_recorded_tool_call_stream(kind: str, respx_mock: respx.MockRouter) -> None:
    serve_models(respx_mock)
    respx_mock.post(CHAT_URL).respond(**stream_reply(capture_text(TOOL_STREAM)))
    chunks = await collect(ChatLMStudio(model=CAPTURED_MODEL), "Weather?", kind)
    fragments = [chunk for chunk in chunks if chunk.tool_call_chunks]
    assert len(fragments) == 14  # one per recorded fragment, as they arrive
    assert fragments[0].tool_call_chunks[0]["id"] == "633167655"
    assert fragments[0].tool_call_chunks[0]["name"] == "get_current_weather"
    full = merged(chunks)
    assert full.tool_calls == [
        {
            "name": "get_current_weather",
            "args": {"location": "London", "unit": "celsius"},
            "id": "633167655",
            "type": "tool_call",
        }
    ]
    assert full.response_metadata["finish_reason"] == "tool_calls"
    assert full.response_metadata["model_name"] == CAPTURED_MODEL
    assert full.response_metadata["system_fingerprint"] == CAPTURED_MODEL
    assert chunks[-1].chunk_position == "last"
    assert len({chunk.id for chunk in chunks}) == 1  # one message: the run's id


async def test_streamed_tool_calls_without_ids_get_one(
    kind: str, respx_mock: respx.MockRouter
) -> None:
    serve_models(respx_mock)
    first = {"index": 0, "function": {"name": "lookup", "arguments": '{"q": '}}
    rest = {"index": 0, "function": {"name": "", "arguments": '"x"}'}}
    respx_mock.post(CHAT_URL).respond(
        **stream_reply(
            sse(
                delta_event({"tool_calls": [first]}),
                delta_event({"tool_calls": [rest]}),
                delta_event({}, "tool_calls"),
            )
        )
    )
    full = merged(await collect(ChatLMStudio(), "Hi", kind))
    [call] = full.tool_calls
    assert call["args"] == {"q": "x"}
    assert str(call["id"]).startswith("call_")


async def test_usage_arrives_exactly_once_on_the_last_chunk(
    kind: str, respx_mock: respx.MockRouter
) -> None:
    serve_models(respx_mock)
    events = [delta_event({"content": word}) for word in ("One", " two")]
    # Usage on the finishing chunk and again on a usage-only chunk: both forms are seen.
    events.append(delta_event({}, "stop", usage={"prompt_tokens": 3, "completion_tokens": 2}))
    events.append(
        {**delta_event({}), "choices": [], "usage": {"prompt_tokens": 3, "completion_tokens": 2}}
    )
    respx_mock.post(CHAT_URL).respond(**stream_reply(sse(*events)))
    chunks = await collect(ChatLMStudio(), "Hi", kind)
    with_usage = [chunk for chunk in chunks if chunk.usage_metadata]
    assert with_usage == [chunks[-1]]
    assert merged(chunks).usage_metadata == {
        "input_tokens": 3,
        "output_tokens": 2,
        "total_tokens": 5,
    }
    respx_mock.post(CHAT_URL).respond(**stream_reply(sse(*events)))
    quiet = await collect(ChatLMStudio(stream_usage=False), "Hi", kind)
    assert not any(chunk.usage_metadata for chunk in quiet)


async def test_every_chunk_reaches_the_callbacks(kind: str, respx_mock: respx.MockRouter) -> None:
    serve_models(respx_mock)
    respx_mock.post(CHAT_URL).respond(**stream_reply(capture_text(TEXT_STREAM)))
    recorder = Recorder()
    chunks = await collect(
        ChatLMStudio(model=CAPTURED_MODEL), "Weather?", kind, config={"callbacks": [recorder]}
    )
    assert recorder.tokens == [chunk.text for chunk in chunks]
    assert all(isinstance(chunk, ChatGenerationChunk) for chunk in recorder.chunks)
    [end] = recorder.ended
    assert end.generations[0][0].text == merged(chunks).text
    assert merged(chunks).text.startswith("As an AI, I don't have real-time data")


async def test_invoke_with_streaming_sends_tokens_to_callbacks(
    kind: str, respx_mock: respx.MockRouter
) -> None:
    serve_models(respx_mock)
    route = respx_mock.post(CHAT_URL).respond(**stream_reply(capture_text(TEXT_STREAM)))
    recorder = Recorder()
    model = ChatLMStudio(model=CAPTURED_MODEL, streaming=True)
    message = await invoke(model, "Weather?", kind, config={"callbacks": [recorder]})
    assert sent_body(route)["stream"] is True
    assert len(recorder.tokens) >= 52
    assert "".join(recorder.tokens) == message.text


@pytest.mark.skipif(not LEAN_STREAMING, reason="core's private stream helpers are not there")
def test_lean_stream_fires_the_callbacks_core_fires(respx_mock: respx.MockRouter) -> None:
    """``ChatLMStudio.stream`` against ``BaseChatModel.stream`` on the same model and answer."""
    serve_models(respx_mock)
    runs = {}
    for name, stream in (("lean", ChatLMStudio.stream), ("core", BaseChatModel.stream)):
        respx_mock.post(CHAT_URL).respond(**stream_reply(capture_text(TEXT_STREAM)))
        recorder = Recorder()
        model = ChatLMStudio(model=CAPTURED_MODEL, temperature=0.5)
        chunks = list(stream(model, "Hi", {"callbacks": [recorder]}, stop=["x"], top_k=3))
        runs[name] = (recorder, chunks)
    (lean, lean_chunks), (core, core_chunks) = runs["lean"], runs["core"]
    assert lean.options == core.options
    assert lean.params == core.params
    assert lean.tokens == core.tokens
    assert [c.text for c in lean_chunks] == [c.text for c in core_chunks]
    assert lean_chunks[-1].chunk_position == core_chunks[-1].chunk_position == "last"
    lean_end, core_end = lean.ended[0].generations[0][0], core.ended[0].generations[0][0]
    assert lean_end.text == core_end.text
    assert isinstance(lean_end, ChatGeneration)
    assert isinstance(core_end, ChatGeneration)
    assert isinstance(lean_end.message, AIMessage)
    assert isinstance(core_end.message, AIMessage)
    assert lean_end.message.response_metadata["model_name"] == CAPTURED_MODEL
    assert core_end.message.response_metadata["model_name"] == CAPTURED_MODEL


def message_view(message: BaseMessage, run_id: str, *, chunk: bool = True) -> dict[str, Any]:
    """A message's key fields; the run's id is written ``<run>``, timings are dropped.

    ``chunk=False``: an ``AIMessage``'s fields only (core ends a stream with the merged
    ``AIMessageChunk``, the lean run with the transport's whole ``AIMessage``).
    """
    view: dict[str, Any] = {
        "content": message.content,
        "id": (message.id or "").replace(run_id, "<run>"),
        "additional_kwargs": message.additional_kwargs,
        "response_metadata": {
            key: value for key, value in message.response_metadata.items() if key != "metrics"
        },
    }
    if isinstance(message, AIMessage):
        view["tool_calls"] = message.tool_calls
        view["invalid_tool_calls"] = message.invalid_tool_calls
        view["usage_metadata"] = message.usage_metadata
    if chunk and isinstance(message, AIMessageChunk):
        view["tool_call_chunks"] = message.tool_call_chunks
        view["chunk_position"] = message.chunk_position
    return view


class EventLog(BaseCallbackHandler):
    """Every callback event of the runs, in order, with its key arguments."""

    run_inline = True  # called in order on the event loop by the async managers too

    def __init__(self) -> None:
        self.events: list[tuple[Any, ...]] = []
        self.run_ids: list[UUID] = []

    def _run(self, run_id: UUID) -> int:
        if run_id not in self.run_ids:
            self.run_ids.append(run_id)
        return self.run_ids.index(run_id)

    def on_chat_model_start(
        self,
        serialized: dict[str, Any],
        messages: list[list[BaseMessage]],
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        tags: list[str] | None = None,
        metadata: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        keys = ("invocation_params", "options", "name", "batch_size")
        self.events.append(
            (
                "on_chat_model_start",
                self._run(run_id),
                parent_run_id,
                serialized,
                messages,
                tags,
                metadata,
                {key: kwargs.get(key) for key in keys},
            )
        )

    def on_llm_new_token(
        self, token: Any, *, chunk: Any = None, run_id: UUID, **kwargs: Any
    ) -> None:
        assert isinstance(chunk, ChatGenerationChunk)
        view = message_view(chunk.message, str(run_id))
        self.events.append(("on_llm_new_token", self._run(run_id), token, view))

    def on_llm_end(self, response: LLMResult, *, run_id: UUID, **kwargs: Any) -> None:
        [[generation]] = response.generations
        assert isinstance(generation, ChatGeneration)
        view = message_view(generation.message, str(run_id), chunk=False)
        self.events.append(("on_llm_end", self._run(run_id), generation.text, view))

    def on_llm_error(
        self, error: BaseException, *, run_id: UUID, response: Any = None, **kwargs: Any
    ) -> None:
        generations = [[(g.text, g.generation_info) for g in gens] for gens in response.generations]
        self.events.append(
            ("on_llm_error", self._run(run_id), type(error), str(error), generations)
        )


USAGE_STREAM = sse(
    delta_event({"reasoning_content": "Hm."}),
    *(delta_event({"content": word}) for word in ("One", " two")),
    delta_event({}, "stop"),
    {**delta_event({}), "choices": [], "usage": USAGE_WITH_REASONING},
)
STREAMED_ANSWERS: dict[str, tuple[str | bytes, dict[str, Any]]] = {
    "text": (capture_text(TEXT_STREAM), {}),
    "tool calls": (capture_text(TOOL_STREAM), {}),
    "reasoning and usage": (USAGE_STREAM, {}),
    "usage not streamed": (USAGE_STREAM, {"stream_usage": False}),
    "cut midway": (f"data: {json.dumps(delta_event({'content': 'Partial'}))}\n\n", {}),
}


@pytest.mark.skipif(not LEAN_STREAMING, reason="core's private stream helpers are not there")
@pytest.mark.parametrize("answer", STREAMED_ANSWERS)
async def test_lean_stream_fires_core_s_callback_sequence(
    kind: str, answer: str, respx_mock: respx.MockRouter
) -> None:
    """Each event of ``ChatLMStudio.(a)stream``, in order, as ``BaseChatModel``'s run fires it."""
    serve_models(respx_mock)
    streams: dict[str, Any] = {
        "lean": ChatLMStudio.stream if kind == "sync" else ChatLMStudio.astream,
        "core": BaseChatModel.stream if kind == "sync" else BaseChatModel.astream,
    }
    logs: dict[str, EventLog] = {}
    for name, stream in streams.items():
        body, fields = STREAMED_ANSWERS[answer]
        respx_mock.post(CHAT_URL).respond(**stream_reply(body))
        log = EventLog()
        model = ChatLMStudio(model=CAPTURED_MODEL, temperature=0.5, tags=["model-tag"], **fields)
        config: Any = {
            "callbacks": [log],
            "tags": ["call-tag"],
            "metadata": {"user": "u1"},
            "run_name": "lmstudio-run",
        }
        chunks = stream(model, "Hi", config, stop=["x"], top_k=3)
        with contextlib.suppress(StreamInterruptedError):
            if kind == "sync":
                list(chunks)
            else:
                [chunk async for chunk in chunks]
        logs[name] = log
    lean, core = logs["lean"].events, logs["core"].events
    assert [event[0] for event in lean] == [event[0] for event in core]
    for lean_event, core_event in zip(lean, core, strict=True):
        assert lean_event == core_event
    assert lean[0][0] == "on_chat_model_start"
    assert lean[-1][0] == ("on_llm_error" if answer == "cut midway" else "on_llm_end")
    assert len(logs["lean"].run_ids) == 1


def test_async_client_follows_the_event_loop(respx_mock: respx.MockRouter) -> None:
    serve_models(respx_mock)
    respx_mock.post(CHAT_URL).respond(200, json=completion({"content": "hi"}))
    model = ChatLMStudio()
    # Two event loops in turn, as notebooks and asyncio.run do.
    assert asyncio.run(model.ainvoke("Hi")).text == "hi"
    assert asyncio.run(model.ainvoke("Hi")).text == "hi"
