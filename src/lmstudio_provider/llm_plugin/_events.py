"""The transport's chunks and results as llm ``StreamEvent``s (reasoning, tool calls
keyed by id, text), and what llm records of an answer."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import click
import llm
from llm.parts import StreamEvent

from lmstudio_provider.transport import ChatChunk, ChatResponse, ToolCall, ToolCallDelta

TRUNCATED_SCHEMA_WARNING = (
    "Warning: the answer was cut off by max_tokens (finish reason 'length'), so its JSON is "
    "incomplete; raise -o max_tokens or ask for less."
)


class ToolCallIds:
    """Streamed tool-call fragments name their call by index; llm groups them by id.

    The transport gives each call an id on its first fragment (made up if the server
    sent none) and its name once; later fragments may carry neither.
    """

    __slots__ = ("_ids",)

    def __init__(self) -> None:
        self._ids: dict[int, str | None] = {}

    def chunk_events(self, chunk: ChatChunk) -> Iterator[StreamEvent]:
        """Every event in a chunk, in the order a reader expects: thinking, calls, text."""
        if chunk.reasoning:
            yield StreamEvent("reasoning", chunk.reasoning)
        for delta in chunk.tool_calls or ():
            call_id = self._ids.setdefault(delta.index, delta.id)
            if delta.name:
                yield StreamEvent("tool_call_name", delta.name, tool_call_id=call_id)
            if delta.arguments:
                yield StreamEvent("tool_call_args", delta.arguments, tool_call_id=call_id)
        if chunk.text:
            yield StreamEvent("text", chunk.text)


def result_events(result: ChatResponse) -> Iterator[StreamEvent]:
    """The events of a whole (not streamed) answer: those of one chunk holding it all."""
    calls = [ToolCallDelta(i, c.id, c.name, c.arguments) for i, c in enumerate(result.tool_calls)]
    return ToolCallIds().chunk_events(ChatChunk(result.text, result.reasoning, calls))


def _arguments(call: ToolCall) -> dict[str, Any]:
    try:
        return call.parsed_arguments()
    except ValueError:
        return {"_raw": call.arguments}  # as llm itself keeps arguments that are not JSON


def result_json(result: ChatResponse) -> dict[str, Any]:
    """What ``llm logs`` keeps besides what llm logs itself (text, reasoning, tool calls):
    ids, finish reason, usage, LM Studio's stats and the transport's metrics."""
    data = result.as_dict()
    for key in ("text", "reasoning", "tool_calls"):
        data.pop(key)
    return data


def record_result(response: llm.Response | llm.AsyncResponse, result: ChatResponse) -> None:
    """Tool calls, usage, the model that answered and LM Studio's stats, on the response."""
    for call in result.tool_calls:
        response.add_tool_call(llm.ToolCall(call.name, _arguments(call), tool_call_id=call.id))
    if (usage := result.usage) is not None:
        details = {"reasoning_tokens": usage.reasoning_tokens, "cached_tokens": usage.cached_tokens}
        response.set_usage(
            input=usage.prompt_tokens,
            output=usage.completion_tokens,
            details={name: value for name, value in details.items() if value} or None,
        )
    if result.model:
        response.set_resolved_model(result.model)
    response.response_json = result_json(result)
    if result.finish_reason == "length" and response.prompt.schema is not None:
        click.echo(TRUNCATED_SCHEMA_WARNING, err=True)  # one line, after the answer
