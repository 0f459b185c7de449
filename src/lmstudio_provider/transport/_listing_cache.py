"""A model list for callers that ask often and must never hang (llm's ``register_models``).

One quick call (``http.quick_timeout_secs`` in all, no retries, 4 MiB at most), the
endpoint that answered last time first; reused in the process for a few seconds; the
last good list of each server saved in one JSON file, used whenever the server is
down, hung or answers something that is not a model list.
"""

from __future__ import annotations

import json
import os
import time
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from lmstudio_provider.transport._connection import Connection
from lmstudio_provider.transport._errors import LMStudioError
from lmstudio_provider.transport._models import ModelInfo, ModelList, is_allowed

CACHE_VERSION = 1
REUSE_SECS = 5.0  # llm resolves models several times per command: list once
_DIALECTS = ("v1", "v0", "openai")


@dataclass(frozen=True)
class QuickListing:
    """What the server offers, as far as a quick listing can tell right now.

    Only a server that was down moments ago (``server_down``: refused, or no TCP
    handshake) should fail a request at once. One that was slow to list (busy with
    another request) or answered garbage gets the request all the same: the client
    lists again with the configured timeouts and retries, and answers or says why not.

    Attributes:
        connection: The settings and clients the listing was made with.
        models: The server's list, else the saved one, else none.
        reports_types: The models' types (and so vision) are known.
        reports_tools: The models' tool use is known.
        from_server: The server answered; ``False``: the saved list, or nothing.
        error: Why the server's list could not be used.
        listed_at: When it was made (``time.monotonic()``); ``recent`` for 5 s after.
    """

    connection: Connection
    models: tuple[ModelInfo, ...] = ()
    reports_types: bool = False
    reports_tools: bool = False
    from_server: bool = False
    error: LMStudioError | None = None
    listed_at: float = field(default_factory=time.monotonic)

    @property
    def server_down(self) -> bool:
        """Whether nothing answered at the server's address (``LMStudioError.server_down``)."""
        return self.error is not None and self.error.server_down

    @property
    def recent(self) -> bool:
        """Listed moments ago: what it says still holds (a request runs right after)."""
        return time.monotonic() - self.listed_at < REUSE_SECS

    @property
    def permitted_models(self) -> list[ModelInfo]:
        """The models the settings' ``allowed_models`` permits (all, when it is unset)."""
        settings = self.connection.settings
        allowed = settings.allowed_models if settings else None
        return [model for model in self.models if not allowed or is_allowed(model.id, allowed)]

    @property
    def fresh_models(self) -> list[ModelInfo] | None:
        """The server's list if it is recent: a client may take it instead of listing again.

        A model kept long after (in a chat session) lets its client list for itself, so
        that what the user loads meanwhile is seen.
        """
        return list(self.models) if self.from_server and self.recent else None

    def raise_if_down(self) -> None:
        """Raise why the server could not be reached moments ago.

        A request now would wait out its retries to fail the same way; a listing that is
        no longer recent says nothing, and is ignored, as is any other failure.
        """
        if self.error is not None and self.server_down and self.recent:
            raise self.error


class ModelListCache:
    """The last good model list of each server, saved in one JSON file at ``path``.

    The file holds ``{"version": 1, "servers": {base_url: {"dialect", "reports_types",
    "reports_tools", "models"}}}``; it is replaced atomically, and only when a list
    changed. A missing, damaged or foreign file counts as empty.

    Example:
        .. code-block:: python

            from pathlib import Path

            from lmstudio_provider.transport import Connection, ModelListCache

            cache = ModelListCache(Path("models.json"))
            listing = cache.quick_listing(Connection.load())
            print([model.id for model in listing.models], listing.error)
    """

    _recent: ClassVar[tuple[tuple[str, str, str], QuickListing] | None] = None

    def __init__(self, path: Path) -> None:
        self.path = path

    def quick_listing(self, connection: Connection, api_key: str | None = None) -> QuickListing:
        """The server's models: listed now, reused from moments ago, or the saved list.

        An invalid configuration gives a listing with no models and its ``ConfigError``.
        """
        settings = connection.settings
        if settings is None:
            return QuickListing(connection, error=connection.error)
        memo_key = (settings.base_url, api_key or "", str(self.path))
        recent = ModelListCache._recent
        if recent is not None and recent[0] == memo_key and recent[1].recent:
            return recent[1]
        saved = self._entry(settings.base_url)
        first = saved.get("dialect")
        try:
            listed = connection.client(api_key).model_list(
                quick=True, first=first if first in _DIALECTS else None
            )
        except LMStudioError as error:
            listing = QuickListing(
                connection,
                models=tuple(_models(saved)),
                reports_types=bool(saved.get("reports_types")),
                reports_tools=bool(saved.get("reports_tools")),
                error=error,
            )
        else:
            listing = QuickListing(
                connection,
                models=tuple(listed.models),
                reports_types=listed.reports_types,
                reports_tools=listed.reports_tools,
                from_server=True,
            )
            self.save(settings.base_url, listed)
        ModelListCache._recent = (memo_key, listing)
        return listing

    @classmethod
    def forget_recent(cls) -> None:
        """Drop the listing kept for reuse and close its clients (saved lists stay)."""
        if cls._recent is not None:
            cls._recent[1].connection.close()
        cls._recent = None

    def saved_models(self, base_url: str | None = None) -> list[ModelInfo]:
        """The saved models of the server at ``base_url``; None: of every server, by id."""
        if base_url is not None:
            return _models(self._entry(base_url))
        models: dict[str, ModelInfo] = {}
        for entry in self._servers().values():
            if isinstance(entry, dict):
                for model in _models(entry):
                    models.setdefault(model.id, model)
        return list(models.values())

    def save(self, base_url: str, listed: ModelList) -> None:
        """Save the list of the server at ``base_url``; a write that fails is skipped."""
        entry = {
            "dialect": listed.dialect,
            "reports_types": listed.reports_types,
            "reports_tools": listed.reports_tools,
            "models": [model.as_dict() for model in listed.models],
        }
        servers = self._servers()
        if servers.get(base_url) == entry:
            return  # unchanged: no write on every command
        data = {"version": CACHE_VERSION, "servers": {**servers, base_url: entry}}
        temporary = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        try:
            temporary.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
            os.replace(temporary, self.path)
        except OSError:
            with suppress(OSError):
                temporary.unlink()

    def _servers(self) -> dict[str, Any]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        if not isinstance(data, dict) or data.get("version") != CACHE_VERSION:
            return {}
        servers = data.get("servers")
        return servers if isinstance(servers, dict) else {}

    def _entry(self, base_url: str) -> dict[str, Any]:
        entry = self._servers().get(base_url)
        return entry if isinstance(entry, dict) else {}


def _models(entry: dict[str, Any]) -> list[ModelInfo]:
    models = []
    for item in entry.get("models") or []:
        with suppress(TypeError, ValueError, KeyError, AttributeError):
            models.append(ModelInfo.from_dict(item))
    return models
