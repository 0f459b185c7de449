"""How a transport error reaches an ``llm`` user: one ``llm.ModelError`` with its hint."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import click
import llm

from lmstudio_provider.transport import LMStudioError

__all__ = ["LMStudioModelError", "model_errors"]


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
    def from_error(cls, error: LMStudioError) -> LMStudioModelError:
        return cls(str(error))  # the message, then "Hint: ..." on its own line


@contextmanager
def model_errors() -> Iterator[None]:
    """Re-raise transport errors as ``LMStudioModelError`` (message and hint)."""
    try:
        yield
    except LMStudioError as error:
        raise LMStudioModelError.from_error(error) from error
