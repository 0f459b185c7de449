"""Build request bodies for LM Studio (pure).

Also translates what LM Studio rejects into what it accepts: a ``tool_choice``
naming one function becomes ``"required"`` with only that tool sent, and
``response_format`` ``json_object`` becomes ``json_schema`` with an object schema.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from lmstudio_provider.transport._errors import InvalidParameterError
from lmstudio_provider.transport._messages import validate_messages
from lmstudio_provider.transport._params import ChatParams, validate_params

__all__ = ["build_chat_body", "build_embeddings_body", "translate_response_format"]

RESERVED_BODY_KEYS = frozenset({"model", "messages", "stream"})
TOOL_CHOICE_KEYWORDS = {"auto": "auto", "none": "none", "required": "required", "any": "required"}


def _tool_name(tool: Mapping[str, Any]) -> str | None:
    function = tool.get("function")
    if isinstance(function, Mapping):
        name = function.get("name")
        return name if isinstance(name, str) else None
    name = tool.get("name")
    return name if isinstance(name, str) else None


def translate_tool_choice(
    tool_choice: str | Mapping[str, Any] | None, tools: Sequence[Mapping[str, Any]] | None
) -> tuple[str | None, list[dict[str, Any]] | None]:
    """Map ``tool_choice`` to LM Studio's ``auto | none | required`` (and the tools to send)."""
    sent_tools = [dict(tool) for tool in tools] if tools else None
    if tool_choice is None:
        return None, sent_tools
    if isinstance(tool_choice, str) and tool_choice in TOOL_CHOICE_KEYWORDS:
        return TOOL_CHOICE_KEYWORDS[tool_choice], sent_tools
    # The object form names its function; a bare string is a tool name.
    name = _tool_name(tool_choice) if isinstance(tool_choice, Mapping) else tool_choice
    if not name:
        raise InvalidParameterError(
            f"tool_choice={tool_choice!r} is not understood.",
            hint='Use "auto", "none", "required", or a tool name.',
        )
    chosen = [tool for tool in sent_tools or [] if _tool_name(tool) == name]
    if not chosen:
        names = [_tool_name(tool) for tool in sent_tools or []]
        raise InvalidParameterError(
            f"tool_choice names {name!r}, which is not among the tools sent "
            f"({', '.join(str(n) for n in names) or 'none'}).",
            hint="Pass that tool in `tools`, or name one of the tools above.",
        )
    # LM Studio rejects the object form; "required" with only that tool means the same.
    return "required", chosen


def translate_response_format(response_format: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """Map ``json_object`` (which LM Studio rejects) to an equivalent ``json_schema``."""
    if response_format is None:
        return None
    kind = response_format.get("type")
    if kind == "json_object":
        return {
            "type": "json_schema",
            "json_schema": {"name": "json_object", "schema": {"type": "object"}},
        }
    if kind in ("json_schema", "text"):
        return dict(response_format)
    raise InvalidParameterError(
        f"response_format type {kind!r} is not supported (given: {dict(response_format)!r}).",
        hint='Use {"type": "json_schema", "json_schema": {"name": ..., "schema": {...}}}, '
        '{"type": "json_object"} or {"type": "text"}.',
    )


def build_chat_body(
    model: str,
    messages: Sequence[Mapping[str, Any]],
    params: ChatParams | Mapping[str, Any],
    *,
    defaults: Mapping[str, Any] | None = None,
    tools: Sequence[Mapping[str, Any]] | None = None,
    tool_choice: str | Mapping[str, Any] | None = None,
    response_format: Mapping[str, Any] | None = None,
    extra_body: Mapping[str, Any] | None = None,
    stream: bool = False,
) -> dict[str, Any]:
    """The JSON body of a chat completion request; unset values are left out."""
    validate_messages(messages)
    if not messages:
        raise InvalidParameterError(
            "messages is empty: a chat needs at least one message.",
            hint='Pass e.g. [{"role": "user", "content": "Hello"}].',
        )
    if not isinstance(params, ChatParams):
        params = validate_params(dict(params))
    body: dict[str, Any] = {"model": model, "messages": list(messages)}
    if defaults:
        body.update(defaults)
    body.update(params.to_body())
    choice, sent_tools = translate_tool_choice(tool_choice, tools)
    if sent_tools:
        body["tools"] = sent_tools
    if choice is not None:
        body["tool_choice"] = choice
    translated_format = translate_response_format(response_format)
    if translated_format is not None:
        body["response_format"] = translated_format
    if extra_body:
        reserved = RESERVED_BODY_KEYS.intersection(extra_body)
        if reserved:
            raise InvalidParameterError(
                f"extra_body may not set {', '.join(sorted(reserved))}: the transport sets "
                "them (the resolved model, the messages, and whether it streams).",
                hint="Pass model=... and messages as arguments, and call stream_chat() "
                "to stream; nothing was sent.",
            )
        body.update(extra_body)
    if stream:
        body["stream"] = True
        options = dict(body.get("stream_options") or {})
        options["include_usage"] = True  # usage is always asked for, so metrics can use it
        body["stream_options"] = options
    return body


def build_embeddings_body(model: str, texts: Sequence[str]) -> dict[str, Any]:
    return {"model": model, "input": list(texts)}
