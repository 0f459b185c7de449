"""The model list behind ``register_models``: one quick call, the last good list on disk.

llm runs ``register_models`` on every command that resolves a model, other providers'
models included, so listing LM Studio's models must be cheap and must never hang:

* one quick call of the transport (``http.quick_timeout_secs`` in all, connecting and
  endpoint fallbacks included, however the server trickles; no retries; 4 MiB at most),
  the endpoint that answered last time first;
* reused in the process for a few seconds (llm asks several times per command);
* the last good list saved under ``llm.user_dir()`` and used whenever LM Studio is
  down, hung or answers something that is not a model list.

Only a server that is down (``LMStudioError.server_down``: refused, or no TCP handshake)
moments ago fails a prompt at once. One that was slow to list (busy with another
request) or answered garbage gets the prompt all the same: the transport lists again
with the user's own timeouts and retries, and either answers or says what went wrong.
"""

from __future__ import annotations

import json
import os
import time
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import llm

from lmstudio_provider.llm_plugin._settings import Connection, llm_key, load_connection
from lmstudio_provider.transport import LMStudioError, ModelInfo, ModelList

__all__ = ["CACHE_FILE_NAME", "Listing", "cache_path", "current_listing", "forget"]

CACHE_FILE_NAME = "lmstudio-models.json"
CACHE_VERSION = 1
REUSE_SECS = 5.0  # llm resolves models several times per command: list once
DIALECTS = ("v1", "v0", "openai")


@dataclass(frozen=True)
class Listing:
    """What LM Studio offers, as far as ``register_models`` can tell right now."""

    connection: Connection
    models: tuple[ModelInfo, ...] = ()
    reports_types: bool = False  # vision is known (LM Studio's own model lists)
    reports_tools: bool = False  # tool use is known
    from_server: bool = False  # False: the saved list, or nothing
    error: LMStudioError | None = None  # why the server's list could not be used
    listed_at: float = field(default_factory=time.monotonic)

    @property
    def server_down(self) -> bool:
        """Whether nothing answered at LM Studio's address (see ``LMStudioError.server_down``)."""
        return self.error is not None and self.error.server_down

    def raise_if_down(self) -> None:
        """Raise why LM Studio could not be reached moments ago.

        A request now would wait out its retries to fail the same way; a listing older
        than a few seconds no longer says anything, and is ignored. Any other failure of
        the listing lets the request go ahead: it gets the answer, or the transport's
        own error.
        """
        if self.error is not None and self.server_down and self.recent:
            raise self.error

    @property
    def recent(self) -> bool:
        """Listed moments ago: what it says still holds (a prompt runs right after)."""
        return time.monotonic() - self.listed_at < REUSE_SECS

    @property
    def fresh_models(self) -> list[ModelInfo] | None:
        """The server's list if it is recent: a client may take it instead of listing again.

        A model kept long after (in ``llm chat``, or by a program) lets its client list
        for itself, so that what the user loads meanwhile is seen.
        """
        return list(self.models) if self.from_server and self.recent else None


_memo: tuple[tuple[str, ...], Listing] | None = None


def forget() -> None:
    """Drop the in-process listing and close its connections (the saved list stays)."""
    global _memo
    if _memo is not None:
        _memo[1].connection.close()
    _memo = None


def user_dir() -> Path:
    """llm's own folder (``LLM_USER_PATH``, else its app directory)."""
    path: Path = llm.user_dir()  # type: ignore[no-untyped-call]
    return path


def cache_path() -> Path:
    return user_dir() / CACHE_FILE_NAME


def current_listing() -> Listing:
    """LM Studio's models: listed now, reused from moments ago, or the saved list."""
    global _memo
    connection = load_connection()
    settings = connection.settings
    if settings is None:
        assert connection.error is not None
        return Listing(connection, error=connection.error)
    key = llm_key()
    memo_key = (settings.base_url, key or "", str(user_dir()))
    if (
        _memo is not None
        and _memo[0] == memo_key
        and time.monotonic() - _memo[1].listed_at < REUSE_SECS
    ):
        return _memo[1]
    saved = read_saved(settings.base_url)
    first = saved.get("dialect")
    try:
        listed: ModelList = connection.client(key).model_list(
            quick=True, first=first if first in DIALECTS else None
        )
    except LMStudioError as error:
        listing = Listing(
            connection,
            models=tuple(saved_models(saved)),
            reports_types=bool(saved.get("reports_types")),
            reports_tools=bool(saved.get("reports_tools")),
            error=error,
        )
    else:
        listing = Listing(
            connection,
            models=tuple(listed.models),
            reports_types=listed.reports_types,
            reports_tools=listed.reports_tools,
            from_server=True,
        )
        save(settings.base_url, listed.dialect, listing)
    _memo = (memo_key, listing)
    return listing


# -- The saved list ----------------------------------------------------------------------


def read_saved(base_url: str) -> dict[str, Any]:
    """The saved listing of this server (empty when there is none or it is unreadable)."""
    try:
        data = json.loads(cache_path().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict) or data.get("version") != CACHE_VERSION:
        return {}
    servers = data.get("servers")
    entry = servers.get(base_url) if isinstance(servers, dict) else None
    return entry if isinstance(entry, dict) else {}


def saved_models(entry: dict[str, Any]) -> list[ModelInfo]:
    models = []
    for item in entry.get("models") or []:
        with suppress(TypeError, ValueError, KeyError, AttributeError):
            models.append(ModelInfo.from_dict(item))
    return models


def save(base_url: str, dialect: str, listing: Listing) -> None:
    """Save the listing for when LM Studio cannot answer; a write that fails is skipped."""
    path = cache_path()
    entry = {
        "dialect": dialect,
        "reports_types": listing.reports_types,
        "reports_tools": listing.reports_tools,
        "models": [model.as_dict() for model in listing.models],
    }
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        data = {}
    if not isinstance(data, dict) or data.get("version") != CACHE_VERSION:
        data = {"version": CACHE_VERSION}
    servers = data.get("servers")
    if not isinstance(servers, dict):
        servers = {}
    if servers.get(base_url) == entry:
        return  # unchanged: no write on every command
    data["servers"] = {**servers, base_url: entry}
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        temporary.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
        os.replace(temporary, path)
    except OSError:
        with suppress(OSError):
            temporary.unlink()
