"""The fault suite's own LM Studio: a loopback HTTP/1.1 server that misbehaves on purpose.

``FaultServer`` listens on 127.0.0.1 (port 0), accepts in a background thread and
serves each connection in a thread of its own. It writes every status line, header
and body byte itself (Content-Length or chunked), so a test can make it stop mid-body,
go silent, cut the connection or send what LM Studio sends when things go wrong.

A route maps ``(method, path)`` to handlers; the n-th request to a route gets the
n-th handler (the last one repeats), which is how "503, then 200" is written.
Without a route of its own a request gets what LM Studio 0.3.x answers:
``GET /api/v1/models`` and any unknown route give 200 with
``{"error": "Unexpected endpoint or method. (...)"}``, and ``GET /api/v0/models`` gives
the model list recorded in
``lmstudio-captures/j-shelfwood__prj-php-lmstudio__tests_mocks_v0_models_list.json__53b1841e.json``
(its loaded model is ``granite-3.1-8b-instruct``).

Tests are not a package, so they cannot import from here at run time: they get a
server from the ``fault_server`` fixture and clients from ``make_client``, and
import these classes under ``TYPE_CHECKING`` only, for their annotations.
"""

from __future__ import annotations

import contextlib
import json
import select
import socket
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import pytest

from lmstudio_provider import AsyncLMStudioClient, LMStudioClient
from lmstudio_provider.transport._models import ModelInfo
from lmstudio_provider.transport._results import ChatChunk, ChatResponse

CAPTURES = Path(__file__).resolve().parents[2] / "shared" / "lmstudio-captures"
V0_MODELS_CAPTURE = "j-shelfwood__prj-php-lmstudio__tests_mocks_v0_models_list.json__53b1841e.json"
MODEL = "granite-3.1-8b-instruct"  # the loaded model of the v0 capture
CHAT = "/v1/chat/completions"
MESSAGES: list[dict[str, Any]] = [{"role": "user", "content": "Say hello."}]
JSON_TYPE = "application/json; charset=utf-8"
POLL_SECS = 0.02
REASONS = {
    200: "OK",
    400: "Bad Request",
    401: "Unauthorized",
    404: "Not Found",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}

StreamEnd = Literal["done", "eof", "cut", "hang"]


def read_capture(name: str) -> str:
    """A capture's text without its ``# SOURCE`` first line."""
    first, _, rest = (CAPTURES / name).read_text(encoding="utf-8").partition("\n")
    assert first.startswith("# SOURCE"), f"{name} has no SOURCE line"
    return rest


class ClientGoneError(Exception):
    """The client closed (or reset) the connection while the server was using it."""


@dataclass(frozen=True, slots=True)
class RecordedRequest:
    """A request as the server read it; header names are lower-cased."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body) if self.body else None


class Exchange:
    """One request on one connection, and the means to answer it well or badly."""

    def __init__(self, connection: Connection, request: RecordedRequest) -> None:
        self._connection = connection
        self.request = request
        self.keep_open = True  # False once the handler cut or abandoned the connection

    def send(self, data: bytes) -> None:
        self._connection.send(data)

    def respond(
        self,
        status: int,
        body: Any,
        *,
        content_type: str = JSON_TYPE,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        """A whole response with a Content-Length body (``body``: bytes, str or JSON data)."""
        if isinstance(body, bytes):
            payload = body
        elif isinstance(body, str):
            payload = body.encode()
        else:
            payload = json.dumps(body, indent=2).encode()  # LM Studio pretty-prints
        head = [
            f"HTTP/1.1 {status} {REASONS.get(status, 'Status')}",
            "X-Powered-By: Express",
            f"Content-Type: {content_type}",
            f"Content-Length: {len(payload)}",
            "Connection: keep-alive",
            *(f"{name}: {value}" for name, value in (headers or {}).items()),
        ]
        self.send(("\r\n".join(head) + "\r\n\r\n").encode() + payload)

    def open_events(self, status: int = 200) -> None:
        """The head of an event stream: chunked, ``text/event-stream``, no body yet."""
        head = [
            f"HTTP/1.1 {status} {REASONS.get(status, 'Status')}",
            "X-Powered-By: Express",
            "Content-Type: text/event-stream",
            "Cache-Control: no-cache",
            "Connection: keep-alive",
            "Transfer-Encoding: chunked",
        ]
        self.send(("\r\n".join(head) + "\r\n\r\n").encode())

    def send_chunk(self, data: bytes) -> None:
        self.send(f"{len(data):x}\r\n".encode() + data + b"\r\n")

    def send_event(self, data: str) -> None:
        """One ``data:`` event, in a chunk of its own."""
        self.send_chunk(f"data: {data}\n\n".encode())

    def end_chunks(self) -> None:
        """The terminating chunk: the body ends cleanly, the connection stays usable."""
        self.send(b"0\r\n\r\n")

    def cut(self) -> None:
        """Close the connection now, in the middle of whatever was being sent."""
        self.keep_open = False
        self._connection.close()

    def hang(self) -> None:
        """Send nothing more; return when the client closes the connection (or at stop)."""
        self.keep_open = False
        if self._connection.wait_for_client_close():
            self._connection.server.note_abandoned_close()


Handler = Callable[[Exchange], None]


class Connection:
    """One accepted socket: reads requests, hands them to handlers, notices closes."""

    def __init__(self, server: FaultServer, sock: socket.socket) -> None:
        self.server = server
        self.sock = sock
        self._buffer = b""
        self.closed_by_client = False
        self._closed = False

    def send(self, data: bytes) -> None:
        try:
            self.sock.sendall(data)
        except OSError as error:
            self.closed_by_client = True
            raise ClientGoneError from error

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            with contextlib.suppress(OSError):  # already reset by the peer
                self.sock.shutdown(socket.SHUT_RDWR)
            self.sock.close()

    def _recv(self) -> bytes:
        """The next bytes from the client; b"" when it closed, or when the server stops."""
        while not self.server.stopping.is_set():
            readable, _, _ = select.select([self.sock], [], [], POLL_SECS)
            if not readable:
                continue
            try:
                data = self.sock.recv(65536)
            except OSError:
                data = b""
            if not data:
                self.closed_by_client = True
            return data
        return b""

    def wait_for_client_close(self) -> bool:
        """Discard anything the client sends until it closes; False if the server stops first."""
        while self._recv():
            pass
        return self.closed_by_client

    def read_request(self) -> RecordedRequest | None:
        while b"\r\n\r\n" not in self._buffer:
            data = self._recv()
            if not data:
                return None
            self._buffer += data
        head, _, rest = self._buffer.partition(b"\r\n\r\n")
        request_line, *header_lines = head.decode("latin-1").split("\r\n")
        method, target, _version = request_line.split(" ", 2)
        headers: dict[str, str] = {}
        for line in header_lines:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        length = int(headers.get("content-length", "0"))
        while len(rest) < length:
            data = self._recv()
            if not data:
                return None
            rest += data
        self._buffer = rest[length:]
        return RecordedRequest(method, target.split("?", 1)[0], headers, rest[:length])

    def serve(self) -> None:
        try:
            while not self.server.stopping.is_set():
                request = self.read_request()
                if request is None:
                    return
                exchange = Exchange(self, request)
                self.server.handle(exchange)
                if not exchange.keep_open:
                    return
        except ClientGoneError:
            return
        finally:
            self.close()


@dataclass
class _Route:
    handlers: list[Handler]
    served: int = 0


@dataclass
class FaultServer:
    """A loopback HTTP/1.1 server that answers like LM Studio, or breaks like it."""

    requests: list[RecordedRequest] = field(default_factory=list)
    stopping: threading.Event = field(default_factory=threading.Event)
    abandoned_closed: threading.Event = field(default_factory=threading.Event)
    abandoned_closes: int = 0
    connections: int = 0
    everything: Handler | None = None  # answers every request when set

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._routes: dict[tuple[str, str], _Route] = {}
        self._threads: list[threading.Thread] = []
        self._connections: list[Connection] = []
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port: int = self._listener.getsockname()[1]
        self.base_url = f"http://127.0.0.1:{self.port}"
        self._models_body = read_capture(V0_MODELS_CAPTURE).encode()
        self._accepter = threading.Thread(
            target=self._accept_loop, name=f"fault-server-{self.port}-accept", daemon=True
        )
        self._accepter.start()

    # -- configuration ------------------------------------------------------

    def route(self, method: str, path: str, *handlers: Handler) -> None:
        """Answer the n-th request to ``method path`` with ``handlers[n]`` (the last repeats)."""
        assert handlers
        with self._lock:
            self._routes[(method, path)] = _Route(list(handlers))

    def count(self, method: str, path: str) -> int:
        """How many requests the server has read for ``method path``."""
        with self._lock:
            return sum(1 for r in self.requests if r.method == method and r.path == path)

    def wait_for_abandoned_close(self, timeout: float = 2.0) -> bool:
        """Whether a client closed a connection the server had stopped answering on."""
        return self.abandoned_closed.wait(timeout)

    def open_connections(self) -> int:
        """How many accepted connections are still being served (the client has not closed)."""
        with self._lock:
            return sum(1 for thread in self._threads if thread.is_alive())

    def wait_for_no_open_connections(self, timeout: float = 2.0) -> bool:
        """Whether every accepted connection is closed within ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        while self.open_connections():
            if time.monotonic() > deadline:
                return False
            time.sleep(POLL_SECS)
        return True

    def note_abandoned_close(self) -> None:
        with self._lock:
            self.abandoned_closes += 1
        self.abandoned_closed.set()

    # -- handlers (each returns a ``Handler``) ------------------------------

    @staticmethod
    def reply(status: int, body: Any, *, content_type: str = JSON_TYPE) -> Handler:
        def handler(exchange: Exchange) -> None:
            exchange.respond(status, body, content_type=content_type)

        return handler

    @staticmethod
    def silence() -> Handler:
        """Read the request, answer nothing (until the client gives up)."""
        return Exchange.hang

    @staticmethod
    def events(data: Sequence[str], *, end: StreamEnd = "done") -> Handler:
        """An event stream of ``data:`` lines (raw text each), then ``end``.

        ``done``: a finishing chunk and ``[DONE]``; ``eof``: the body ends cleanly with
        neither; ``cut``: the connection closes mid-body; ``hang``: nothing more is sent.
        """

        def handler(exchange: Exchange) -> None:
            exchange.open_events()
            for item in data:
                exchange.send_event(item)
            if end == "done":
                exchange.send_event(finish_event())
                exchange.send_event("[DONE]")
                exchange.end_chunks()
            elif end == "eof":
                exchange.end_chunks()
            elif end == "cut":
                exchange.cut()
            else:
                exchange.hang()

        return handler

    # -- serving ------------------------------------------------------------

    def handle(self, exchange: Exchange) -> None:
        request = exchange.request
        with self._lock:
            self.requests.append(request)
            route = self._routes.get((request.method, request.path))
            if self.everything is not None:
                handler = self.everything
            elif route is not None:
                handler = route.handlers[min(route.served, len(route.handlers) - 1)]
                route.served += 1
            else:
                handler = self._lmstudio_default
        handler(exchange)

    def _lmstudio_default(self, exchange: Exchange) -> None:
        request = exchange.request
        if request.method == "GET" and request.path == "/api/v0/models":
            exchange.respond(200, self._models_body)
        else:  # LM Studio 0.3.x: an unknown route answers 200 with an error
            unknown = f"Unexpected endpoint or method. ({request.method} {request.path})"
            exchange.respond(200, {"error": unknown})

    def _accept_loop(self) -> None:
        while not self.stopping.is_set():
            readable, _, _ = select.select([self._listener], [], [], POLL_SECS)
            if not readable or self.stopping.is_set():
                continue
            try:
                sock, _ = self._listener.accept()
            except OSError:
                continue
            connection = Connection(self, sock)
            thread = threading.Thread(
                target=connection.serve,
                name=f"fault-server-{self.port}-conn-{self.connections}",
                daemon=True,
            )
            with self._lock:
                self.connections += 1
                self._connections.append(connection)
                self._threads.append(thread)
            thread.start()

    def stop(self) -> list[str]:
        """Stop serving; return the problems found (connections the client left open)."""
        problems = []
        # Give clients' closes a moment to arrive, so a connection still open is a leak.
        deadline = time.monotonic() + 2.0
        for thread in list(self._threads):
            thread.join(max(0.0, deadline - time.monotonic()))
        left_open = [t.name for t in self._threads if t.is_alive()]
        if left_open:
            problems.append(f"connections still open after the client closed: {left_open}")
        self.stopping.set()
        self._accepter.join(5)
        self._listener.close()
        for thread in self._threads:
            thread.join(5)
        for connection in self._connections:
            connection.close()
        alive = [t.name for t in (self._accepter, *self._threads) if t.is_alive()]
        if alive:
            problems.append(f"server threads still running: {alive}")
        return problems


# -- wire data ----------------------------------------------------------------


def chunk_event(
    content: str | None = None, *, model: str = MODEL, finish_reason: str | None = None
) -> str:
    """One ``chat.completion.chunk`` as LM Studio streams it (compact JSON)."""
    delta: dict[str, Any] = {"role": "assistant"}
    if content is not None:
        delta["content"] = content
    if finish_reason is not None:
        delta = {}
    return json.dumps(
        {
            "id": "chatcmpl-i8kf2h8b3zghg2u7qlx9c",
            "object": "chat.completion.chunk",
            "created": 1740598357,
            "model": model,
            "system_fingerprint": model,
            "choices": [
                {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}
            ],
        },
        separators=(",", ":"),
    )


def finish_event(model: str = MODEL) -> str:
    return chunk_event(model=model, finish_reason="stop")


def completion_body(text: str, *, model: str = MODEL) -> dict[str, Any]:
    """A non-streamed chat completion as LM Studio's ``/v1`` sends it."""
    return {
        "id": "chatcmpl-xrxph8k44efncp7wekaa0h",
        "object": "chat.completion",
        "created": 1742151665,
        "model": model,
        "choices": [
            {
                "index": 0,
                "logprobs": None,
                "finish_reason": "stop",
                "message": {"role": "assistant", "content": text},
            }
        ],
        "usage": {"prompt_tokens": 36, "completion_tokens": 7, "total_tokens": 43},
        "stats": {},
        "system_fingerprint": model,
    }


class Wire:
    """The wire-data builders above, for tests (which cannot import this module)."""

    MODEL = MODEL
    CHAT = CHAT
    chunk = staticmethod(chunk_event)
    finish = staticmethod(finish_event)
    completion = staticmethod(completion_body)


# -- clients ------------------------------------------------------------------


class FaultClient:
    """``LMStudioClient`` or ``AsyncLMStudioClient`` behind one awaitable face.

    Every fault test runs once per client kind; the sync client is simply called
    from the (otherwise idle) event loop, the server being in threads of its own.
    """

    def __init__(self, kind: Literal["sync", "async"], **settings: Any) -> None:
        self.kind = kind
        self.sync: LMStudioClient | None = None
        self.async_: AsyncLMStudioClient | None = None
        if kind == "sync":
            self.sync = LMStudioClient(**settings)
        else:
            self.async_ = AsyncLMStudioClient(**settings)

    @property
    def client(self) -> LMStudioClient | AsyncLMStudioClient:
        client = self.sync or self.async_
        assert client is not None
        return client

    @property
    def in_flight(self) -> int:
        return self.client.in_flight

    async def chat(self, model: str | None = MODEL, **params: Any) -> ChatResponse:
        if self.sync is not None:
            return self.sync.chat(MESSAGES, model=model, **params)
        assert self.async_ is not None
        return await self.async_.chat(MESSAGES, model=model, **params)

    async def stream(
        self, received: list[ChatChunk] | None = None, model: str | None = MODEL, **params: Any
    ) -> ChatResponse:
        """Read a whole stream, appending each chunk to ``received`` as it arrives."""
        received = [] if received is None else received
        if self.sync is not None:
            with self.sync.stream_chat(MESSAGES, model=model, **params) as stream:
                for chunk in stream:
                    received.append(chunk)
                return stream.result
        assert self.async_ is not None
        async with self.async_.stream_chat(MESSAGES, model=model, **params) as astream:
            async for chunk in astream:
                received.append(chunk)
            return astream.result

    async def list_models(self) -> list[ModelInfo]:
        if self.sync is not None:
            return self.sync.list_models()
        assert self.async_ is not None
        return await self.async_.list_models()

    async def aclose(self) -> None:
        if self.sync is not None:
            self.sync.close()
        if self.async_ is not None:
            await self.async_.aclose()


MakeClient = Callable[..., FaultClient]
QUICK = {"timeout": 0.5, "connect_timeout": 0.5, "max_retries": 0}


def _thread_names() -> set[str]:
    return {t.name for t in threading.enumerate() if t.name.startswith("fault-server-")}


@pytest.fixture
def fault_server() -> Iterator[FaultServer]:
    """A fresh fault server; stopped afterwards, leaving no thread or socket behind."""
    before = _thread_names()
    server = FaultServer()
    try:
        yield server
    finally:
        problems = server.stop()
        assert _thread_names() <= before, "fault server threads left behind"
        assert not problems, problems


@pytest.fixture
def wire() -> type[Wire]:
    return Wire


@pytest.fixture(params=["sync", "async"])
async def make_client(
    request: pytest.FixtureRequest, fault_server: FaultServer
) -> AsyncIterator[MakeClient]:
    """Build a client of this run's kind on the fault server, with quick timeouts.

    Every client made is closed afterwards, and must by then have nothing in flight.
    """
    made: list[FaultClient] = []

    def make(**settings: Any) -> FaultClient:
        client = FaultClient(
            request.param, **{"base_url": fault_server.base_url, **QUICK, **settings}
        )
        made.append(client)
        return client

    yield make
    in_flight = [client.in_flight for client in made]
    for client in made:
        await client.aclose()
    assert in_flight == [0] * len(made), f"requests still counted in flight: {in_flight}"
