"""How a transport error reaches an ``llm`` user: one ``llm.ModelError`` with its hint."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

import click
import llm

from lmstudio_provider.transport import LMStudioError


class LMStudioModelError(llm.ModelError, click.ClickException):
    """An ``llm.ModelError`` that is also a ``ClickException``: ``llm embed`` and
    ``embed-multi`` let other errors through as tracebacks."""

    def __init__(self, message: str) -> None:
        llm.ModelError.__init__(self, message)
        click.ClickException.__init__(self, message)

    @classmethod
    def from_error(cls, error: LMStudioError, *, more_hint: str = "") -> LMStudioModelError:
        """The message, then "Hint: ..." on its own line, in the terminal's words."""
        hint = " ".join(filter(None, (cli_hint(error.hint) if error.hint else "", more_hint)))
        return cls(f"{error.message}\nHint: {hint}" if hint else error.message)


# A sentence (or clause) of a transport hint that speaks of the Python error's `partial`.
PYTHON_ATTRIBUTE_CLAUSE = re.compile(r"[^.;]*`partial`[^.;]*[.;]\s*")


def cli_hint(hint: str) -> str:
    """A transport hint without what only makes sense in Python (the error's ``partial``)."""
    cleaned = PYTHON_ATTRIBUTE_CLAUSE.sub("", hint).strip().rstrip(";").strip()
    if cleaned and not cleaned.endswith("."):
        cleaned += "."
    return cleaned


@contextmanager
def model_errors(response: llm.Response | llm.AsyncResponse | None = None) -> Iterator[None]:
    """Re-raise transport errors as ``LMStudioModelError`` (message and hint); a stream
    of ``response`` that broke after text arrived has that text logged first."""
    try:
        yield
    except LMStudioError as error:
        from lmstudio_provider.llm_plugin._partial_log import log_partial_answer

        logged = log_partial_answer(response, error) if response is not None else ""
        raise LMStudioModelError.from_error(error, more_hint=logged) from error
