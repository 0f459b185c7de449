"""How a transport error reaches an ``llm`` user: one ``llm.ModelError`` with its hint."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

import click
import llm

from lmstudio_provider.transport import LMStudioError

__all__ = ["LMStudioModelError", "cli_hint", "model_errors"]


class LMStudioModelError(llm.ModelError, click.ClickException):
    """An ``llm.ModelError`` that click also shows as a plain ``Error: ...`` line.

    ``llm prompt`` and ``llm chat`` turn any error into a one-line message, but
    ``llm embed`` and ``embed-multi`` let errors through: being a ``ClickException``
    too keeps a traceback out of the user's terminal there as well.
    """

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
def model_errors() -> Iterator[None]:
    """Re-raise transport errors as ``LMStudioModelError`` (message and hint)."""
    try:
        yield
    except LMStudioError as error:
        raise LMStudioModelError.from_error(error) from error
