"""Errors that carry more than a message (``_errors``)."""

from __future__ import annotations

import pytest

from lmstudio_provider.transport import StructuredOutputTruncatedError


@pytest.mark.parametrize(("tokens", "said"), [(12, "cut off after 12 tokens:"), (None, "cut off:")])
def test_a_truncated_structured_answer_says_so(tokens: int | None, said: str) -> None:
    raw = object()
    error = StructuredOutputTruncatedError(raw, output_tokens=tokens, hint="Raise max_tokens.")
    assert said in error.message
    assert "reached max_tokens (finish_reason 'length')" in error.message
    assert error.raw is raw
    assert error.hint == "Raise max_tokens."
    assert error.status_code == 400
