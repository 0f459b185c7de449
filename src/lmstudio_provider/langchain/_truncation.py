"""Structured output cut off by ``max_tokens`` is reported as cut off, not as bad JSON.

An answer that ends with ``finish_reason == "length"`` stopped mid-JSON: parsing it
fails with a confusing error, or (for lenient parsers) returns ``{}``. Like
``ChatOpenAI``'s ``LengthFinishReasonError``, ``with_structured_output`` raises
``StructuredOutputTruncatedError`` instead, also with ``include_raw=True``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

from langchain_core.messages import AIMessage, AIMessageChunk
from langchain_core.runnables import RunnableGenerator

from lmstudio_provider.transport import LMStudioError

__all__ = ["StructuredOutputTruncatedError", "refuse_truncated"]


class StructuredOutputTruncatedError(LMStudioError):
    """The structured answer was cut off by ``max_tokens`` (finish reason ``length``).

    ``raw`` is the message as it arrived (incomplete JSON).
    """

    status_code = 400

    def __init__(self, raw: AIMessage) -> None:
        usage = getattr(raw, "usage_metadata", None) or {}
        tokens = usage.get("output_tokens")
        after = f" after {tokens} tokens" if tokens else ""
        super().__init__(
            f"The structured answer was cut off{after}: the model reached max_tokens "
            "(finish_reason 'length') before closing its JSON, so there is nothing to parse.",
            hint="Raise max_tokens (ChatLMStudio(max_tokens=...) or "
            ".with_structured_output(...) on llm.bind(max_tokens=...)), or ask for less.",
        )
        self.raw = raw


def _truncated(message: AIMessage | None) -> bool:
    return message is not None and message.response_metadata.get("finish_reason") == "length"


def _pass_unless_truncated(messages: Iterator[AIMessage]) -> Iterator[AIMessage]:
    whole: AIMessage | None = None
    for message in messages:
        whole = _join(whole, message)
        yield message  # streamed on, so partial structured output still streams
    if whole is not None and _truncated(whole):
        raise StructuredOutputTruncatedError(whole)


async def _apass_unless_truncated(
    messages: AsyncIterator[AIMessage],
) -> AsyncIterator[AIMessage]:
    whole: AIMessage | None = None
    async for message in messages:
        whole = _join(whole, message)
        yield message
    if whole is not None and _truncated(whole):
        raise StructuredOutputTruncatedError(whole)


def _join(whole: AIMessage | None, message: AIMessage) -> AIMessage:
    if whole is None:
        return message
    if isinstance(whole, AIMessageChunk) and isinstance(message, AIMessageChunk):
        return whole + message
    return message


refuse_truncated: RunnableGenerator[AIMessage, AIMessage] = RunnableGenerator(
    _pass_unless_truncated, _apass_unless_truncated, name="refuse_truncated"
)
