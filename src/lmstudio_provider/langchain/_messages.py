"""LangChain messages as the chat messages LM Studio accepts: an assistant's and a tool
result's content is a string (``null`` and lists are rejected), a tool-call id is never
empty, and other providers' tool-call and reasoning blocks are dropped."""

from __future__ import annotations

import json
from typing import Any

from langchain_core.messages import (
    AIMessage,
    BaseMessage,
    ChatMessage,
    FunctionMessage,
    HumanMessage,
    InvalidToolCall,
    SystemMessage,
    ToolCall,
    ToolMessage,
    convert_to_openai_data_block,
    is_data_content_block,
)

from lmstudio_provider.transport import new_tool_call_id

# Blocks that carry no input for LM Studio: tool calls travel in `tool_calls`,
# reasoning is the model's own and is not sent back.
DROPPED_BLOCKS = frozenset(
    {
        "tool_use",
        "tool_call",
        "tool_call_chunk",
        "invalid_tool_call",
        "server_tool_call",
        "server_tool_call_chunk",
        "server_tool_result",
        "function_call",
        "thinking",
        "redacted_thinking",
        "reasoning",
        "reasoning_content",
    }
)


def to_lmstudio_message(message: BaseMessage) -> dict[str, Any]:
    """A LangChain message as an LM Studio chat message.

    Raises:
        TypeError: for a message type LM Studio has no role for.
    """
    if isinstance(message, HumanMessage):
        out: dict[str, Any] = {"role": "user", "content": _content(message.content)}
        if message.name:
            out["name"] = message.name
        return out
    if isinstance(message, AIMessage):
        return _assistant(message)
    if isinstance(message, SystemMessage):
        return {"role": "system", "content": _text_only(message.content)}
    if isinstance(message, ToolMessage):
        return _tool_result(message)
    if isinstance(message, ChatMessage):
        return {"role": message.role, "content": _content(message.content)}
    if isinstance(message, FunctionMessage):
        raise TypeError(
            "FunctionMessage is OpenAI's legacy function-calling format, which LM Studio "
            "does not accept: use ToolMessage (with the tool call's id) instead."
        )
    raise TypeError(f"LM Studio has no role for a {type(message).__name__}: {message!r}")


def _assistant(message: AIMessage) -> dict[str, Any]:
    # A string, never null: LM Studio rejects `"content": null` beside tool calls.
    out: dict[str, Any] = {"role": "assistant", "content": _text_only(message.content)}
    calls = [_tool_call(call) for call in message.tool_calls]
    calls += [_tool_call(call) for call in message.invalid_tool_calls]
    if calls:
        out["tool_calls"] = calls
    if message.name:
        out["name"] = message.name
    return out


def _tool_call(call: ToolCall | InvalidToolCall) -> dict[str, Any]:
    # An invalid call's arguments (a string) go back as the model wrote them, so that the
    # model can see (and fix) its mistake.
    args = call.get("args")
    return {
        "id": call.get("id") or new_tool_call_id(),  # an empty id is rejected
        "type": "function",
        "function": {
            "name": call.get("name") or "",
            "arguments": json.dumps(args) if isinstance(args, dict) else args or "",
        },
    }


def _tool_result(message: ToolMessage) -> dict[str, Any]:
    text = _text_only(message.content)
    if message.status == "error" and not text.lower().startswith("error"):
        # LM Studio has no error flag on tool results: say it in the text.
        text = f"Error: {text}"
    return {"role": "tool", "tool_call_id": message.tool_call_id, "content": text}


def _text_only(content: str | list[str | dict[str, Any]]) -> str:
    """The text of ``content``; other blocks are dropped (the roles that need a string)."""
    if isinstance(content, str):
        return content
    parts = []
    for block in content:
        if isinstance(block, str):
            parts.append(block)
        elif block.get("type") == "text" and isinstance(block.get("text"), str):
            parts.append(block["text"])
    return "".join(parts)


def _content(content: str | list[str | dict[str, Any]]) -> str | list[dict[str, Any]]:
    """A user message's content: a string, or text and image parts."""
    if isinstance(content, str):
        return content
    parts: list[dict[str, Any]] = []
    for block in content:
        if isinstance(block, str):
            parts.append({"type": "text", "text": block})
            continue
        kind = block.get("type")
        if kind in DROPPED_BLOCKS:
            continue
        if kind == "text":
            parts.append({"type": "text", "text": block.get("text", "")})
        elif kind == "image_url":
            image = block["image_url"]
            url = {"url": image} if isinstance(image, str) else dict(image)
            parts.append({"type": "image_url", "image_url": url})
        elif kind == "image" and isinstance(block.get("source"), dict):
            parts.append(_anthropic_image(block["source"]))
        elif is_data_content_block(block):
            parts.append(convert_to_openai_data_block(block))
        else:
            parts.append(dict(block))  # anything else is LM Studio's to judge
    if all(part["type"] == "text" for part in parts):
        return "".join(part["text"] for part in parts)  # the form every server accepts
    return parts


def _anthropic_image(source: dict[str, Any]) -> dict[str, Any]:
    if source.get("type") == "base64":
        url = f"data:{source['media_type']};base64,{source['data']}"
    elif source.get("type") == "url":
        url = source["url"]
    else:
        raise ValueError(f"Unsupported image source {source.get('type')!r}: use base64 or url.")
    return {"type": "image_url", "image_url": {"url": url}}
