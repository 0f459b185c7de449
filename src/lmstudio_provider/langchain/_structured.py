"""Tool binding and structured output: what ``bind_tools`` and ``with_structured_output``
bind, how the answer is parsed, and an answer cut off by ``max_tokens`` reported as cut
off (as ``ChatOpenAI``'s ``LengthFinishReasonError``) rather than as bad JSON.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Callable, Iterator
from operator import itemgetter
from typing import Any, Literal

from langchain_core.messages import AIMessage, AIMessageChunk
from langchain_core.output_parsers import JsonOutputParser, PydanticOutputParser
from langchain_core.output_parsers.base import OutputParserLike
from langchain_core.output_parsers.openai_tools import (
    JsonOutputKeyToolsParser,
    PydanticToolsParser,
)
from langchain_core.runnables import (
    Runnable,
    RunnableGenerator,
    RunnableMap,
    RunnablePassthrough,
)
from langchain_core.tools import BaseTool
from langchain_core.utils.function_calling import convert_to_json_schema, convert_to_openai_tool
from langchain_core.utils.pydantic import is_basemodel_subclass

from lmstudio_provider.transport import StructuredOutputTruncatedError

StructuredOutputMethod = Literal["json_schema", "function_calling", "json_mode"]
ToolChoice = str | bool | dict[str, Any] | None
ToolLike = dict[str, Any] | type | Callable[..., Any] | BaseTool
_SCHEMA_NAME = re.compile(r"[^a-zA-Z0-9_-]")


def normalise_tool_choice(tool_choice: ToolChoice, tools: list[dict[str, Any]]) -> Any:
    """``True`` forces a tool, ``False`` means no preference; anything else passes on.

    ``"any"``, a tool name and the object form are translated by the transport.

    Raises:
        ValueError: for a type LangChain does not define.
    """
    if tool_choice is None or tool_choice is False:
        return None
    if tool_choice is True:
        return tools[0]["function"]["name"] if len(tools) == 1 else "required"
    if isinstance(tool_choice, str | dict):
        return tool_choice
    raise ValueError(
        f"Unrecognized tool_choice {tool_choice!r}: expected a tool name, "
        '"auto", "none", "any", "required", a bool or {"type": "function", ...}.'
    )


def _response_format(schema: Any, strict: bool | None) -> dict[str, Any]:
    json_schema = convert_to_json_schema(schema)
    name = _SCHEMA_NAME.sub("_", str(json_schema.get("title") or "response"))[:64]
    spec: dict[str, Any] = {"name": name, "schema": json_schema}
    if strict is not None:
        spec["strict"] = strict
    return {"type": "json_schema", "json_schema": spec}


def structured_output_plan(
    schema: Any, method: StructuredOutputMethod, strict: bool | None
) -> tuple[dict[str, Any], OutputParserLike[Any]]:
    """What to bind to the model for ``method``, and the parser of its answer.

    Raises:
        ValueError: for an unknown method, or ``strict`` with ``json_mode``.
    """
    pydantic_schema = isinstance(schema, type) and is_basemodel_subclass(schema)
    if method == "function_calling":
        tool = convert_to_openai_tool(schema, strict=strict)
        name = tool["function"]["name"]
        parser: OutputParserLike[Any] = (
            PydanticToolsParser(tools=[schema], first_tool_only=True)
            if pydantic_schema
            else JsonOutputKeyToolsParser(key_name=name, first_tool_only=True)
        )
        return {"tools": [tool], "tool_choice": name}, parser
    if method == "json_schema":
        bound = {"response_format": _response_format(schema, strict)}
    elif method == "json_mode":
        if strict is not None:
            raise ValueError("strict applies to json_schema and function_calling, not json_mode.")
        bound = {"response_format": {"type": "json_object"}}
    else:
        raise ValueError(
            f"Unrecognized method {method!r}: use 'json_schema' (LM Studio's constrained "
            "output), 'function_calling' or 'json_mode'."
        )
    parser = PydanticOutputParser(pydantic_object=schema) if pydantic_schema else JsonOutputParser()
    return bound, parser


def with_raw(
    llm: Runnable[Any, AIMessage], parser: OutputParserLike[Any]
) -> Runnable[Any, dict[str, Any]]:
    """``{"raw", "parsed", "parsing_error"}``: a parsing failure is returned, not raised."""
    parser_assign = RunnablePassthrough.assign(
        parsed=itemgetter("raw") | parser, parsing_error=lambda _: None
    )
    parser_none = RunnablePassthrough.assign(parsed=lambda _: None)
    parser_with_fallback = parser_assign.with_fallbacks(
        [parser_none], exception_key="parsing_error"
    )
    return RunnableMap(raw=llm) | parser_with_fallback


def _join(whole: AIMessage | None, message: AIMessage) -> AIMessage:
    if isinstance(whole, AIMessageChunk) and isinstance(message, AIMessageChunk):
        return whole + message
    return message


def _refuse_if_truncated(whole: AIMessage | None) -> None:
    if whole is not None and whole.response_metadata.get("finish_reason") == "length":
        usage = whole.usage_metadata
        raise StructuredOutputTruncatedError(
            whole,
            output_tokens=usage["output_tokens"] if usage else None,
            hint="Raise max_tokens (ChatLMStudio(max_tokens=...) or "
            ".with_structured_output(...) on llm.bind(max_tokens=...)), or ask for less.",
        )


def _pass_unless_truncated(messages: Iterator[AIMessage]) -> Iterator[AIMessage]:
    whole: AIMessage | None = None
    for message in messages:
        whole = _join(whole, message)
        yield message  # streamed on, so partial structured output still streams
    _refuse_if_truncated(whole)


async def _apass_unless_truncated(messages: AsyncIterator[AIMessage]) -> AsyncIterator[AIMessage]:
    whole: AIMessage | None = None
    async for message in messages:
        whole = _join(whole, message)
        yield message
    _refuse_if_truncated(whole)


refuse_truncated: RunnableGenerator[AIMessage, AIMessage] = RunnableGenerator(
    _pass_unless_truncated, _apass_unless_truncated, name="refuse_truncated"
)
"""Passes the model's answer on; raises ``StructuredOutputTruncatedError`` at its end if
``max_tokens`` cut it off."""
