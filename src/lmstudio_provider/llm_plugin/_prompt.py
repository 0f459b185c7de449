"""An llm ``Prompt`` as the transport's chat request: messages and keyword options.

llm hands a plugin the whole conversation, this turn included, as ``Message`` objects
made of parts (text, attachments, reasoning, tool calls, tool results). LM Studio
takes OpenAI-shaped messages; images go inline as ``data:`` URIs (it fetches no URLs).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

import llm
from llm.parts import AttachmentPart, Message, TextPart, ToolCallPart, ToolResultPart

from lmstudio_provider.llm_plugin._options import request_options
from lmstudio_provider.transport import InvalidParameterError

# What LM Studio's vision models read (its documentation names JPEG, PNG and WebP).
IMAGE_TYPES = frozenset({"image/jpeg", "image/png", "image/webp"})
SCHEMA_NAME = "llm_schema"


def chat_request(prompt: llm.Prompt) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """The messages, and the options, tools and ``--schema`` as ``chat()`` keywords."""
    options = request_options(prompt.options)
    tools = [tool_spec(tool) for tool in prompt.tools if isinstance(tool, llm.Tool)]
    if tools:
        options["tools"] = tools
    if prompt.schema:
        if not isinstance(prompt.schema, dict):  # llm turns pydantic classes into dicts
            raise InvalidParameterError(
                f"Unsupported schema {prompt.schema!r}; nothing was sent.",
                hint="Give the schema as a JSON schema (a dict) or a pydantic model class.",
            )
        options["response_format"] = {
            "type": "json_schema",
            "json_schema": {"name": SCHEMA_NAME, "strict": True, "schema": prompt.schema},
        }
    return chat_messages(prompt.messages), options


def tool_spec(tool: llm.Tool) -> dict[str, Any]:
    function: dict[str, Any] = {
        "name": tool.name,
        "parameters": tool.input_schema or {"type": "object", "properties": {}},
    }
    if tool.description:
        function["description"] = tool.description
    return {"type": "function", "function": function}


def chat_messages(messages: Iterable[Message]) -> list[dict[str, Any]]:
    """The conversation as LM Studio's chat messages (reasoning is not sent back)."""
    wire: list[dict[str, Any]] = []
    system: str | None = None
    for message in messages:
        if message.role == "tool":
            wire.extend(_tool_messages(message))
            continue
        text = "".join(part.text for part in message.parts if isinstance(part, TextPart))
        if message.role == "system":
            # llm repeats the system prompt on every turn of a conversation: send it once.
            if text and text != system:
                wire.append({"role": "system", "content": text})
                system = text
            continue
        images = [
            image_part(part.attachment)
            for part in message.parts
            if isinstance(part, AttachmentPart) and part.attachment is not None
        ]
        entry: dict[str, Any] = {"role": message.role}
        if images:
            entry["content"] = [{"type": "text", "text": text}, *images] if text else images
        else:
            entry["content"] = text  # "" (not null) for a turn that only called tools
        calls = [_tool_call(part) for part in message.parts if isinstance(part, ToolCallPart)]
        if calls:
            entry["tool_calls"] = calls
        if entry["content"] == "" and message.role == "user":
            continue  # nothing to say
        wire.append(entry)
    return wire


def image_part(attachment: llm.Attachment) -> dict[str, Any]:
    """An image attachment as an ``image_url`` content part holding a ``data:`` URI.

    Raises:
        InvalidParameterError: for anything that is not an image LM Studio reads.
    """
    mime = attachment.resolve_type()  # type: ignore[no-untyped-call]
    if mime not in IMAGE_TYPES:
        where = attachment.path or attachment.url or "the attachment"
        raise InvalidParameterError(
            f"LM Studio takes image attachments only ({', '.join(sorted(IMAGE_TYPES))}); "
            f"{where} is {mime}. Nothing was sent.",
            hint="Attach a JPEG, PNG or WebP image, or pass the file's text as a fragment (-f).",
        )
    content = attachment.base64_content()  # type: ignore[no-untyped-call]
    return {"type": "image_url", "image_url": {"url": f"data:{mime};base64,{content}"}}


def _tool_call(part: ToolCallPart) -> dict[str, Any]:
    arguments = json.dumps(part.arguments)
    return {
        "id": part.tool_call_id,
        "type": "function",
        "function": {"name": part.name, "arguments": arguments},
    }


def _tool_messages(message: Message) -> list[dict[str, Any]]:
    """One ``tool`` message per result; images a tool returned follow as a user message."""
    wire: list[dict[str, Any]] = []
    images: list[dict[str, Any]] = []
    for part in message.parts:
        if isinstance(part, ToolResultPart):
            wire.append({"role": "tool", "tool_call_id": part.tool_call_id, "content": part.output})
            images.extend(image_part(attachment) for attachment in part.attachments)
    if images:
        wire.append({"role": "user", "content": images})
    return wire
