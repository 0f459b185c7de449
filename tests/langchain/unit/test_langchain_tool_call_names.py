"""A server that repeats the function's name on every streamed fragment (llama.cpp):
LangChain joins the string fields of chunks it merges, so the name must come once."""

from __future__ import annotations

import respx

from langchain_fakes import CAPTURED_MODEL, CHAT_URL, delta_event, serve_models, sse, stream_reply
from langchain_runs import collect, merged
from lmstudio_provider.langchain import ChatLMStudio


def fragment(arguments: str, **call: str) -> dict[str, object]:
    function = {"name": "add", "arguments": arguments}
    return delta_event({"tool_calls": [{"index": 0, **call, "function": function}]})


async def test_a_repeated_tool_name_is_merged_as_one_name(
    kind: str, respx_mock: respx.MockRouter
) -> None:
    serve_models(respx_mock)
    events = [fragment('{"a": 2, ', id="call_1"), fragment('"b": 3}'), fragment("")]
    stream = sse(*events, delta_event({}, finish="tool_calls"))
    respx_mock.post(CHAT_URL).respond(**stream_reply(stream))

    chunks = await collect(ChatLMStudio(model=CAPTURED_MODEL), "2 + 3?", kind)

    assert merged(chunks).tool_calls == [
        {"name": "add", "args": {"a": 2, "b": 3}, "id": "call_1", "type": "tool_call"}
    ]
