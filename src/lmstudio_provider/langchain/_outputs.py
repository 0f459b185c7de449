"""The transport's answers as LangChain messages: reasoning (already split out of the
text) in ``additional_kwargs["reasoning_content"]``; usage and metadata once, on the
message or on a stream's last chunk."""

from __future__ import annotations

from typing import Any

from langchain_core.exceptions import OutputParserException
from langchain_core.messages import AIMessage, AIMessageChunk, InvalidToolCall, ToolCall
from langchain_core.messages.ai import InputTokenDetails, OutputTokenDetails, UsageMetadata
from langchain_core.messages.tool import invalid_tool_call, tool_call, tool_call_chunk
from langchain_core.output_parsers.openai_tools import parse_tool_call
from langchain_core.outputs import ChatGenerationChunk

from lmstudio_provider.transport import ChatChunk, ChatResponse, Usage

PROVIDER = "lmstudio"


def usage_metadata(usage: Usage) -> UsageMetadata:
    """LangChain's token counts, with reasoning and cached tokens when reported."""
    metadata = UsageMetadata(
        input_tokens=usage.prompt_tokens,
        output_tokens=usage.completion_tokens,
        total_tokens=usage.total_tokens,
    )
    if usage.reasoning_tokens is not None:
        metadata["output_token_details"] = OutputTokenDetails(reasoning=usage.reasoning_tokens)
    if usage.cached_tokens is not None:
        metadata["input_token_details"] = InputTokenDetails(cache_read=usage.cached_tokens)
    return metadata


def response_metadata(result: ChatResponse) -> dict[str, Any]:
    """What LM Studio said about the answer, and what the transport measured."""
    metadata: dict[str, Any] = {
        "model_name": result.model,  # the model that really answered
        "model_provider": PROVIDER,
        "finish_reason": result.finish_reason,
        "system_fingerprint": result.system_fingerprint,
        "id": result.id,
        "metrics": result.metrics.as_dict(),
    }
    if result.stats:
        metadata["stats"] = result.stats  # /api/v0: tokens/s, time to first token, ...
    return metadata


def _reasoning_kwargs(reasoning: str) -> dict[str, Any]:
    return {"reasoning_content": reasoning} if reasoning else {}


def ai_message(result: ChatResponse) -> AIMessage:
    """A whole answer as an ``AIMessage``."""
    calls: list[ToolCall] = []
    invalid: list[InvalidToolCall] = []
    for call in result.tool_calls:
        raw = {"id": call.id, "function": {"name": call.name, "arguments": call.arguments}}
        try:
            parsed = parse_tool_call(raw, return_id=True)
        except OutputParserException as error:
            invalid.append(
                invalid_tool_call(name=call.name, args=call.arguments, id=call.id, error=str(error))
            )
            continue
        if parsed is not None:
            calls.append(tool_call(name=parsed["name"], args=parsed["args"], id=call.id))
    return AIMessage(
        content=result.text,
        additional_kwargs=_reasoning_kwargs(result.reasoning),
        tool_calls=calls,
        invalid_tool_calls=invalid,
        usage_metadata=usage_metadata(result.usage) if result.usage else None,
        response_metadata=response_metadata(result),
        id=result.id,
    )


def chunk_message(chunk: ChatChunk, message_id: str | None) -> ChatGenerationChunk | None:
    """A streamed piece of text, reasoning or tool call; ``None`` for anything else."""
    if chunk.tool_calls is None and not chunk.reasoning:
        if not chunk.text:
            return None  # usage, stats and finish reason come with the last chunk
        return ChatGenerationChunk(message=AIMessageChunk(content=chunk.text, id=message_id))
    return ChatGenerationChunk(
        message=AIMessageChunk(
            content=chunk.text,
            additional_kwargs=_reasoning_kwargs(chunk.reasoning),
            tool_call_chunks=[
                tool_call_chunk(
                    name=delta.name, args=delta.arguments, id=delta.id, index=delta.index
                )
                for delta in chunk.tool_calls or ()
            ],
            id=message_id,
        )
    )


def last_chunk(
    result: ChatResponse, message_id: str | None, *, stream_usage: bool
) -> ChatGenerationChunk:
    """The chunk that closes a stream: usage (once), finish reason and metadata."""
    usage = usage_metadata(result.usage) if stream_usage and result.usage else None
    return ChatGenerationChunk(
        message=AIMessageChunk(
            content="",
            usage_metadata=usage,
            response_metadata=response_metadata(result),
            chunk_position="last",
            id=message_id,
        ),
        generation_info={"finish_reason": result.finish_reason},
    )
