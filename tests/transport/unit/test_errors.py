"""Errors that carry more than a message (``_errors``)."""

from __future__ import annotations

import pytest

from lmstudio_provider.transport import (
    ChatResponse,
    StreamInterruptedError,
    StructuredOutputTruncatedError,
)


@pytest.mark.parametrize(("tokens", "said"), [(12, "cut off after 12 tokens:"), (None, "cut off:")])
def test_a_truncated_structured_answer_says_so(tokens: int | None, said: str) -> None:
    raw = object()
    error = StructuredOutputTruncatedError(raw, output_tokens=tokens, hint="Raise max_tokens.")
    assert said in error.message
    assert "reached max_tokens (finish_reason 'length')" in error.message
    assert error.raw is raw
    assert error.hint == "Raise max_tokens."
    assert error.status_code == 400


NOTE = "What arrived before the error is kept in the error's `partial`."


@pytest.mark.parametrize(
    ("hint", "partial", "shown"),
    [
        ("Check the log.", ChatResponse(text="Once upon"), f"Hint: Check the log. {NOTE}"),
        (None, ChatResponse(reasoning="Let me think"), f"Hint: {NOTE}"),
        ("Check the log.", ChatResponse(), "Hint: Check the log."),  # nothing had arrived
        (None, None, None),
    ],
)
def test_str_says_where_python_code_finds_what_arrived(
    hint: str | None, partial: ChatResponse | None, shown: str | None
) -> None:
    error = StreamInterruptedError("The stream broke off.", hint=hint, partial=partial)

    assert str(error) == "\n".join(filter(None, ("The stream broke off.", shown)))
    assert error.hint == hint  # the hint itself, as a front end shows it, names no attribute
