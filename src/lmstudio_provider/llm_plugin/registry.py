"""The model list behind ``register_models``: one quick request, the last good list on disk.

llm runs ``register_models`` on every command that resolves a model, other providers'
models included, so listing LM Studio's models must be cheap and must never hang:

* one small request (the endpoint that answered last time comes first), with a short
  connect timeout and a short read timeout, and no retries;
* made with the standard library's ``http.client``, which llm has already imported
  (httpx2's connection machinery would add tens of milliseconds to ``llm models``);
* reused in the process for a few seconds (llm asks several times per command);
* the last good list saved under ``llm.user_dir()`` and used whenever LM Studio is
  down, hung or answers something that is not a model list.
"""

from __future__ import annotations

import http.client
import json
import os
import time
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

import httpx2
import llm

from lmstudio_provider import __version__
from lmstudio_provider.error_mapping import RequestContext, error_from_reply, error_from_transport
from lmstudio_provider.errors import (
    START_SERVER_HINT,
    LMStudioError,
    LMStudioTimeoutError,
    ProtocolError,
    ServerError,
    ServerUnreachableError,
)
from lmstudio_provider.llm_plugin.connection import Connection, api_key, load_connection
from lmstudio_provider.models import ModelInfo, parse_models

__all__ = [
    "CACHE_FILE_NAME",
    "CONNECT_TIMEOUT_SECS",
    "READ_TIMEOUT_SECS",
    "Listing",
    "cache_path",
    "current_listing",
    "forget",
]

CACHE_FILE_NAME = "lmstudio-models.json"
CACHE_VERSION = 1
CONNECT_TIMEOUT_SECS = 0.3
READ_TIMEOUT_SECS = 0.6
DEADLINE_SECS = 0.9  # the whole listing, endpoint fallbacks included
REUSE_SECS = 5.0  # llm resolves models several times per command: list once

Dialect = Literal["v1", "v0", "openai"]
ENDPOINTS: dict[Dialect, str] = {
    "v1": "/api/v1/models",
    "v0": "/api/v0/models",
    "openai": "/v1/models",
}
# A failed listing this recent means a prompt would fail the same way: it fails at once.
SERVER_DOWN_ERRORS = (ServerUnreachableError, LMStudioTimeoutError, ProtocolError, ServerError)
HUNG_HINT = (
    "LM Studio at {url} took longer than {secs:g} s to list its models, which it does at "
    "once when healthy: it may be frozen, or another program holds the port. Restart the "
    "server (`lms server stop`, then `lms server start`); `llm lmstudio health` checks it "
    "with the configured timeouts."
)


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
        """Whether LM Studio failed to answer (a prompt now would fail the same way)."""
        return isinstance(self.error, SERVER_DOWN_ERRORS)

    def raise_if_down(self) -> None:
        """Raise why LM Studio could not list its models moments ago.

        A request now would wait out its (longer) timeouts to fail the same way; a
        listing older than a few seconds no longer says anything, and is ignored.
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
    key = api_key(settings)
    memo_key = (settings.base_url, key or "", str(user_dir()))
    if (
        _memo is not None
        and _memo[0] == memo_key
        and time.monotonic() - _memo[1].listed_at < REUSE_SECS
    ):
        return _memo[1]
    saved = read_saved(settings.base_url)
    try:
        dialect, models, reports_tools = fetch(settings.base_url, key, saved.get("dialect"))
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
            models=tuple(models),
            reports_types=dialect != "openai",
            reports_tools=reports_tools,
            from_server=True,
        )
        save(settings.base_url, dialect, listing)
    _memo = (memo_key, listing)
    return listing


# -- One quick request ----------------------------------------------------------------


def fetch(
    base_url: str, key: str | None, first: str | None
) -> tuple[Dialect, list[ModelInfo], bool]:
    """The model list, its dialect and whether it reports tool use.

    Tries the endpoint that answered last time first; falls back to the next one only
    when an endpoint is unknown to the server (404, or LM Studio's 200 "Unexpected
    endpoint"). A server that does not answer in time, fails or sends nonsense ends it.

    Raises:
        LMStudioError: what went wrong, with a hint.
    """
    order: list[Dialect] = list(ENDPOINTS)
    if first in ENDPOINTS:
        order.sort(key=lambda dialect: dialect != first)
    headers = {"User-Agent": f"lmstudio-provider/{__version__}", "Accept": "application/json"}
    if key:
        headers["Authorization"] = f"Bearer {key}"
    deadline = time.monotonic() + DEADLINE_SECS
    unknown: list[LMStudioError] = []
    for dialect in order:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise LMStudioTimeoutError(
                f"LM Studio did not list its models within {DEADLINE_SECS:g} s ({base_url}).",
                which="read",
                hint=HUNG_HINT.format(url=base_url, secs=DEADLINE_SECS),
            )
        path = ENDPOINTS[dialect]
        context = RequestContext(
            base_url, "GET", path, timeouts=(READ_TIMEOUT_SECS, CONNECT_TIMEOUT_SECS)
        )
        status, body = get(base_url, path, headers, remaining, context)
        decoded = _json_or_none(body)
        if status == 200 and isinstance(decoded, dict) and "error" not in decoded:
            models = parse_models(dialect, decoded)
            return dialect, models, dialect == "v1" or _lists_capabilities(decoded)
        error = error_from_reply(status, body, context)
        if not (status == 404 or (status == 200 and isinstance(decoded, dict))):
            raise error  # auth, a server failure, or a body that is not JSON
        unknown.append(error)
    raise ProtocolError(
        f"The server at {base_url} lists no models at {', '.join(ENDPOINTS.values())}: "
        f"{unknown[-1].message}",
        hint="Is it LM Studio? Set LMSTUDIO_BASE_URL to the server's root, "
        "e.g. http://localhost:1234.",
    )


def get(
    base_url: str, path: str, headers: dict[str, str], budget: float, context: RequestContext
) -> tuple[int, bytes]:
    """``GET base_url + path`` within the listing's timeouts; returns (status, body).

    Socket failures are raised as the transport's typed errors, by way of the httpx2
    exceptions that mean the same, so messages and hints match the rest of the package.
    """
    url = urlsplit(base_url)
    connection_class = (
        http.client.HTTPSConnection if url.scheme == "https" else http.client.HTTPConnection
    )
    connection = connection_class(
        url.hostname or "localhost", url.port, timeout=min(CONNECT_TIMEOUT_SECS, budget)
    )
    failure: httpx2.HTTPError
    try:
        try:
            connection.connect()
        except TimeoutError as error:
            failure = httpx2.ConnectTimeout(str(error) or "timed out")
            raise _listing_error(failure, context, CONNECT_TIMEOUT_SECS) from error
        except OSError as error:
            failure = httpx2.ConnectError(str(error))
            raise _listing_error(failure, context, CONNECT_TIMEOUT_SECS) from error
        if connection.sock is not None:
            connection.sock.settimeout(min(READ_TIMEOUT_SECS, budget))
        try:
            connection.request("GET", url.path + path, headers=headers)
            response = connection.getresponse()
            return response.status, response.read()
        except TimeoutError as error:
            failure = httpx2.ReadTimeout(str(error) or "timed out")
            raise _listing_error(failure, context, READ_TIMEOUT_SECS) from error
        except (OSError, http.client.HTTPException) as error:
            failure = httpx2.RemoteProtocolError(str(error) or type(error).__name__)
            raise _listing_error(failure, context, READ_TIMEOUT_SECS) from error
    finally:
        connection.close()


def _listing_error(
    failure: httpx2.HTTPError, context: RequestContext, secs: float
) -> LMStudioError:
    error = error_from_transport(failure, context)
    if isinstance(error, LMStudioTimeoutError):
        error.hint = HUNG_HINT.format(url=context.base_url, secs=secs)
    elif isinstance(error, ServerUnreachableError):
        error.hint = f"{START_SERVER_HINT}; if it listens elsewhere, set LMSTUDIO_BASE_URL."
    return error


def _json_or_none(body: bytes) -> Any:
    try:
        return json.loads(body)
    except ValueError:
        return None


def _lists_capabilities(body: dict[str, Any]) -> bool:
    """Whether an ``/api/v0/models`` list says which models use tools (0.3.16 and later)."""
    entries = body.get("data")
    return isinstance(entries, list) and any(
        isinstance(entry, dict) and "capabilities" in entry for entry in entries
    )


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
            models.append(model_from_dict(item))
    return models


def model_from_dict(data: dict[str, Any]) -> ModelInfo:
    """The inverse of ``ModelInfo.as_dict()``."""
    values = {name: data[name] for name in ModelInfo.__dataclass_fields__ if name in data}
    if not isinstance(values.get("id"), str):
        raise ValueError("a saved model has no id")
    values["capabilities"] = frozenset(values.get("capabilities") or ())
    values["instance_ids"] = tuple(values.get("instance_ids") or ())
    return ModelInfo(**values)


def save(base_url: str, dialect: Dialect, listing: Listing) -> None:
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
