"""The model list behind ``register_models``: one quick request, the last good list on disk.

llm runs ``register_models`` on every command that resolves a model, other providers'
models included, so listing LM Studio's models must be cheap and must never hang:

* one small request (the endpoint that answered last time comes first), with a short
  connect timeout, a short read timeout and one deadline for the whole listing (a
  server that trickles its answer a byte at a time is given up on too), no retries;
* made with the standard library's ``http.client``, which llm has already imported
  (httpx2's connection machinery would add tens of milliseconds to ``llm models``);
* reused in the process for a few seconds (llm asks several times per command);
* the last good list saved under ``llm.user_dir()`` and used whenever LM Studio is
  down, hung or answers something that is not a model list.

Only a server that refused the connection moments ago fails a prompt at once. One that
was slow to list (busy with another request) or answered garbage gets the prompt all the
same: the transport lists again with the user's own timeouts and retries, and either
answers or says what went wrong.
"""

from __future__ import annotations

import http.client
import io
import json
import os
import time
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import urlsplit

import httpx2
import llm

from lmstudio_provider import __version__
from lmstudio_provider.llm_plugin._settings import Connection, api_key, load_connection
from lmstudio_provider.transport._error_mapping import (
    RequestContext,
    error_from_reply,
    error_from_transport,
)
from lmstudio_provider.transport._errors import (
    START_SERVER_HINT,
    LMStudioError,
    LMStudioTimeoutError,
    ProtocolError,
    ServerUnreachableError,
)
from lmstudio_provider.transport._models import ModelInfo, parse_models

if TYPE_CHECKING:
    import socket

    from _typeshed import WriteableBuffer

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
MAX_BODY_BYTES = 4 * 1024 * 1024  # a model list is a few kB; more is not one
REUSE_SECS = 5.0  # llm resolves models several times per command: list once

Dialect = Literal["v1", "v0", "openai"]
ENDPOINTS: dict[Dialect, str] = {
    "v1": "/api/v1/models",
    "v0": "/api/v0/models",
    "openai": "/v1/models",
}
SLOW_HINT = (
    "The plugin's own model listing waits at most {secs:g} s; a prompt waits as long as "
    "http.timeout_secs allows. `llm lmstudio health` checks the server with those timeouts."
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
        """Whether nothing answers at LM Studio's address: refused, or no TCP handshake.

        Only then would a prompt now fail the same way. A busy LM Studio still accepts
        connections at once (the kernel does that), so a connect timeout means a dead
        or black-holed address; a *read* timeout says less: the listing's timeouts are
        far shorter than the user's, and a server busy with another request lists
        slowly. Nor does garbage, or a failure, say what the transport (which lists
        again, and retries) would meet.
        """
        error = self.error
        return isinstance(error, ServerUnreachableError) or (
            isinstance(error, LMStudioTimeoutError) and error.which == "connect"
        )

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
            raise _deadline_error(base_url)
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


def _deadline_error(base_url: str) -> LMStudioTimeoutError:
    return LMStudioTimeoutError(
        f"LM Studio did not list its models within {DEADLINE_SECS:g} s ({base_url}).",
        which="read",
        hint=SLOW_HINT.format(secs=DEADLINE_SECS),
    )


class _DeadlinePassedError(TimeoutError):
    """The listing's deadline passed while the answer was still arriving."""


class _DeadlineReader(io.RawIOBase):
    """A socket's bytes, each read waiting no longer than the read timeout or the deadline.

    The socket's own timeout bounds one read only: a server sending a byte every few
    tenths of a second would keep ``http.client`` reading (the status line, the headers
    or the body) for as long as it likes. Here the whole answer shares one deadline.
    """

    def __init__(self, sock: socket.socket, deadline: float) -> None:
        super().__init__()
        self._sock = sock
        self._deadline = deadline

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: WriteableBuffer, /) -> int:
        remaining = self._deadline - time.monotonic()
        if remaining <= 0:
            raise _DeadlinePassedError
        self._sock.settimeout(min(READ_TIMEOUT_SECS, remaining))
        return self._sock.recv_into(buffer)


class _DeadlineSocket:
    """What ``http.client.HTTPResponse`` asks of a socket: a file to read, within the deadline."""

    def __init__(self, sock: socket.socket, deadline: float) -> None:
        self._sock = sock
        self._deadline = deadline

    def makefile(self, mode: str) -> io.BufferedReader:
        assert mode == "rb"
        return io.BufferedReader(_DeadlineReader(self._sock, self._deadline))


def get(
    base_url: str, path: str, headers: dict[str, str], budget: float, context: RequestContext
) -> tuple[int, bytes]:
    """``GET base_url + path`` within the listing's timeouts; returns (status, body).

    Connecting waits at most the connect timeout, each read at most the read timeout,
    and the whole exchange (status line, headers, body) at most ``budget`` seconds. A
    body larger than ``MAX_BODY_BYTES`` is no model list.

    A failed connection and a read timeout are raised as the transport's typed errors,
    by way of the httpx2 exceptions that mean the same, so messages and hints match the
    rest of the package (only a refused connection, ``ServerUnreachableError``, means
    that nothing listens); an answer that breaks off or is no HTTP is a ``ProtocolError``.
    """
    deadline = time.monotonic() + budget
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
            raise _listing_error(failure, context) from error
        except OSError as error:
            failure = httpx2.ConnectError(str(error))
            raise _listing_error(failure, context) from error
        sock = connection.sock
        assert sock is not None
        sock.settimeout(max(0.001, min(READ_TIMEOUT_SECS, deadline - time.monotonic())))
        try:
            connection.request("GET", url.path + path, headers=headers)
            # The response reads through the deadline, not through the socket's own file.
            response = http.client.HTTPResponse(
                _DeadlineSocket(sock, deadline),  # type: ignore[arg-type]
                method="GET",
            )
            try:
                response.begin()
                body = response.read(MAX_BODY_BYTES + 1)
                if len(body) <= MAX_BODY_BYTES and response.length:
                    # The connection closed before Content-Length bytes had come.
                    raise http.client.IncompleteRead(body, response.length)
            finally:
                response.close()
        except _DeadlinePassedError as error:
            raise _deadline_error(base_url) from error
        except TimeoutError as error:
            failure = httpx2.ReadTimeout(str(error) or "timed out")
            raise _listing_error(failure, context) from error
        except (OSError, http.client.HTTPException) as error:
            # The server is there (it took the connection) but its answer broke off or is
            # no HTTP: the listing failed, the server is not known to be down.
            raise ProtocolError(
                f"LM Studio at {base_url} sent a broken answer to {context.target}: "
                f"{str(error) or type(error).__name__}",
                hint="Is it LM Studio? Its server log may say what went wrong.",
            ) from error
        if len(body) > MAX_BODY_BYTES:
            raise ProtocolError(
                f"LM Studio at {base_url} sent more than {MAX_BODY_BYTES // 1024 // 1024} MiB "
                f"for {context.target}, which is no model list.",
                hint="Is it LM Studio? Set LMSTUDIO_BASE_URL to the server's root, "
                "e.g. http://localhost:1234.",
            )
        return response.status, body
    finally:
        connection.close()


def _listing_error(failure: httpx2.HTTPError, context: RequestContext) -> LMStudioError:
    error = error_from_transport(failure, context)
    if isinstance(error, LMStudioTimeoutError) and error.which == "connect":
        error.hint = (
            f"Nothing at that address completes a connection: {START_SERVER_HINT}; "
            "if it listens elsewhere, set LMSTUDIO_BASE_URL."
        )
    elif isinstance(error, LMStudioTimeoutError):
        error.hint = SLOW_HINT.format(secs=DEADLINE_SECS)
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
    values.pop("instances", None)  # load configs are not kept: a live list has them
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
