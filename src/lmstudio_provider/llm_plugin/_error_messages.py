"""How a failure reaches an ``llm`` user: one ``llm.ModelError`` with its hint, in the
terminal's words, and a stream that broke mid-answer logged as far as it got.

llm logs a response only once it has finished, so an answer broken mid-way would be
lost with the error. From the CLI it is logged as llm would have (honouring ``llm logs
off``, ``--log``, ``--no-log`` and ``--database``), marked in ``response_json`` as cut
off and why. From Python the caller has the response and the error's ``partial``.
"""

from __future__ import annotations

import shlex
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

import click
import llm

from lmstudio_provider.llm_plugin._events import result_json
from lmstudio_provider.transport import ChatResponse, LMStudioError

LOGGED_HINT = "The partial answer is logged: see it with llm logs -n 1"


class LMStudioModelError(llm.ModelError, click.ClickException):
    """An ``llm.ModelError`` that is also a ``ClickException``: ``llm embed`` and
    ``embed-multi`` let other errors through as tracebacks."""

    def __init__(self, message: str) -> None:
        llm.ModelError.__init__(self, message)
        click.ClickException.__init__(self, message)

    @classmethod
    def from_error(cls, error: LMStudioError, *, more_hint: str = "") -> LMStudioModelError:
        """The message, then "Hint: ..." on its own line (the error's ``str()`` would
        add where Python code finds the partial answer)."""
        hint = " ".join(filter(None, (error.hint, more_hint)))
        return cls(f"{error.message}\nHint: {hint}" if hint else error.message)


@contextmanager
def model_errors(response: llm.Response | llm.AsyncResponse | None = None) -> Iterator[None]:
    """Re-raise transport errors as ``LMStudioModelError`` (message and hint); a stream
    of ``response`` that broke after text arrived has that text logged first."""
    try:
        yield
    except LMStudioError as error:
        partial = error.partial
        logged = None
        # A log that cannot be written is skipped: the error itself matters most.
        with suppress(sqlite3.Error, OSError):
            if response is not None and partial is not None and partial.text:
                logged = _log_partial_answer(response, partial, error.message)
        raise LMStudioModelError.from_error(error, more_hint=logged or "") from error


def _log_partial_answer(
    response: llm.Response | llm.AsyncResponse, partial: ChatResponse, error: str
) -> str | None:
    """Log the response as llm would, with what had arrived; the hint, None if not logged."""
    import sqlite_utils
    from llm.migrations import migrate

    database = _cli_log_database()
    if database is None:
        return None
    path, option = database
    # What llm sets when a response finishes: the text and events are already on it.
    response._done = True
    response._end = time.monotonic()
    if partial.model:
        response.set_resolved_model(partial.model)
    response.response_json = {**result_json(partial), "cut_off": True, "cut_off_error": error}
    db = sqlite_utils.Database(path)
    try:
        migrate(db)  # type: ignore[no-untyped-call]
        response.log_to_db(db)  # type: ignore[no-untyped-call]
    finally:
        db.close()
    return f"{LOGGED_HINT}{option}."


def _cli_log_database() -> tuple[Path, str] | None:
    """Where ``llm prompt`` (the running command) logs, and how ``llm logs`` is told so;
    None from the Python API, another command, or when not logging."""
    from llm.cli import logs_db_path, logs_on  # only once a stream broke: llm.cli is big

    context = click.get_current_context(silent=True)
    while context is not None and "no_log" not in context.params:
        context = context.parent
    if context is None:
        return None
    params = context.params
    wanted = logs_on() or params.get("log")  # type: ignore[no-untyped-call]
    if params.get("no_log") or not wanted:
        return None
    if database := params.get("database"):
        return Path(database), f" --database {shlex.quote(str(database))}"
    return logs_db_path(), ""  # type: ignore[no-untyped-call]
