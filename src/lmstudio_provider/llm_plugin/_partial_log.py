"""A stream cut off in ``llm prompt``: the text that had arrived goes to ``llm logs``.

llm logs a response only once it has finished, so an answer broken mid-way would be
lost with the error. From the CLI it is logged as llm would have (honouring ``llm logs
off``, ``--log`` and ``--no-log``), marked in ``response_json`` as cut off and why.
From Python the caller has the response and the error's ``partial``: nothing happens.
"""

from __future__ import annotations

import shlex
import sqlite3
import time
from pathlib import Path

import click
import llm

from lmstudio_provider.llm_plugin._events import result_json
from lmstudio_provider.transport import ChatResponse, LMStudioError

LOGGED_HINT = "The partial answer is logged: see it with llm logs -n 1"


def _cli_log_database() -> tuple[Path, str] | None:
    """Where ``llm prompt`` (the running command) logs, and how ``llm logs`` is told so.

    None: not ``llm prompt`` (the Python API, another command) or not logging.
    """
    from llm.cli import logs_db_path, logs_on  # only once a stream broke: llm.cli is big

    context = click.get_current_context(silent=True)
    while context is not None and "no_log" not in context.params:
        context = context.parent
    if context is None:  # not llm prompt: the Python API, or a command that does not log
        return None
    params = context.params
    wanted = logs_on() or params.get("log")  # type: ignore[no-untyped-call]
    if params.get("no_log") or not wanted:
        return None
    database = params.get("database")
    if database:
        return Path(database), f" --database {shlex.quote(str(database))}"
    return logs_db_path(), ""  # type: ignore[no-untyped-call]


def _log(
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


def log_partial_answer(response: llm.Response | llm.AsyncResponse, error: LMStudioError) -> str:
    """Log the text a broken stream had delivered; the hint saying where, "" if not logged."""
    partial = error.partial
    try:
        logged = _log(response, partial, error.message) if partial and partial.text else None
    except (sqlite3.Error, OSError):
        logged = None  # the log could not be written: the error itself still matters most
    return logged or ""
