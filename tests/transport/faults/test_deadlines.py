"""Deadlines: every call is bounded by the configured timeouts however the server trickles.

A server that sends a byte every 0.2 s never trips a per-read timeout; the read timeout
bounds the whole of a non-streamed answer (status line, headers and body) and each
complete event of a stream, and the quick timeout bounds quick calls (a quick model
listing, health). Sync and async alike, on the fault server's real sockets.

Each failing call is asserted to end within its timeout plus a generous 2 s, never
tighter: the bound proves the deadline exists, not how fast it fires.
"""

from __future__ import annotations

import inspect
import json
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import httpx2
import pytest

from lmstudio_provider import AsyncLMStudioClient, LMStudioClient
from lmstudio_provider.transport import (
    EmbeddingResult,
    HealthReport,
    LMStudioTimeoutError,
    ModelInfo,
    ProtocolError,
)

if TYPE_CHECKING:
    from fault_server import Exchange, FaultServer, Handler, MakeClient, Wire

BYTE_EVERY = 0.2
SLACK = 2.0  # generous: the bound shows that a deadline ends the call, not how precisely
TIMEOUT = 1.0
QUICK = 0.6


def trickling(data: bytes) -> Handler:
    """Send ``data`` (a whole HTTP answer) a byte every 0.2 s, until the client goes away."""

    def handler(exchange: Exchange) -> None:
        for byte in data:
            time.sleep(BYTE_EVERY)
            exchange.send(bytes([byte]))  # raises once the client has closed: the end
        exchange.hang()

    return handler


def answer(body: Any, *, status: int = 200) -> bytes:
    payload = json.dumps(body).encode()
    head = f"HTTP/1.1 {status} OK\r\nContent-Type: application/json\r\n"
    return (head + f"Content-Length: {len(payload)}\r\n\r\n").encode() + payload


def body_trickling(body: Any) -> Handler:
    """The head at once, then the body a byte every 0.2 s."""
    whole = answer(body)
    head, _, payload = whole.partition(b"\r\n\r\n")

    def handler(exchange: Exchange) -> None:
        exchange.send(head + b"\r\n\r\n")
        trickling(payload)(exchange)

    return handler


async def timed(call: Callable[[], Any]) -> tuple[Any, float]:
    """Run a sync or async call; return its outcome (value or exception) and its duration."""
    started = time.monotonic()
    try:
        outcome = call()
        if inspect.isawaitable(outcome):
            outcome = await outcome
    except Exception as error:
        outcome = error
    return outcome, time.monotonic() - started


LIST = {"data": [{"id": "granite-3.1-8b-instruct", "type": "llm", "state": "loaded"}]}


def whole_trickling(body: Any) -> Handler:
    """Status line, headers and body, all a byte every 0.2 s."""
    return trickling(answer(body))


@pytest.mark.parametrize("handler_for", [whole_trickling, body_trickling], ids=["whole", "body"])
async def test_a_trickled_chat_answer_ends_at_the_read_timeout(
    fault_server: FaultServer,
    make_client: MakeClient,
    wire: type[Wire],
    handler_for: Callable[[Any], Handler],
) -> None:
    long_answer = wire.completion("word " * 200)
    fault_server.route("POST", wire.CHAT, handler_for(long_answer))
    client = make_client(timeout=TIMEOUT)
    error, elapsed = await timed(client.chat)
    assert isinstance(error, LMStudioTimeoutError), error
    assert error.which == "read"
    assert f"did not finish answering POST {fault_server.base_url}/v1/chat/completions" in (
        error.message
    )
    assert "within 1 s" in error.message
    assert error.hint is not None
    assert "http.timeout_secs (LMSTUDIO_HTTP_TIMEOUT_SECS)" in error.hint
    assert elapsed < TIMEOUT + SLACK
    assert fault_server.count("POST", wire.CHAT) == 1  # a request being worked on: not resent


async def test_a_stream_event_that_never_completes_ends_at_the_read_timeout(
    fault_server: FaultServer, make_client: MakeClient, wire: type[Wire]
) -> None:
    first = f"data: {wire.chunk('Hel')}\n\n".encode()

    def handler(exchange: Exchange) -> None:
        exchange.open_events()
        exchange.send_chunk(first)
        for byte in f"data: {wire.chunk('lo')}".encode():  # never ends its event
            time.sleep(BYTE_EVERY)
            exchange.send_chunk(bytes([byte]))
        exchange.hang()

    fault_server.route("POST", wire.CHAT, handler)
    client = make_client(timeout=TIMEOUT)
    received: list[Any] = []
    error, elapsed = await timed(lambda: client.stream(received))
    assert isinstance(error, LMStudioTimeoutError), error
    assert "sent no complete event for 1 s" in error.message
    assert error.partial is not None
    assert error.partial.text == "Hel"  # what came before is kept
    assert [chunk.text for chunk in received] == ["Hel"]
    assert elapsed < TIMEOUT + SLACK


async def test_a_stream_whose_events_keep_coming_outlasts_the_read_timeout(
    fault_server: FaultServer, make_client: MakeClient, wire: type[Wire]
) -> None:
    """Each event completes within the timeout: the stream goes on, however long in all."""
    words = [f"w{n} " for n in range(8)]

    def handler(exchange: Exchange) -> None:
        exchange.open_events()
        for word in words:
            for byte in f"data: {wire.chunk(word)}\n\n".encode():
                exchange.send_chunk(bytes([byte]))
            time.sleep(0.3)  # 8 events x 0.3 s: longer in all than the 1 s timeout
        exchange.send_event(wire.finish())
        exchange.send_event("[DONE]")
        exchange.end_chunks()

    fault_server.route("POST", wire.CHAT, handler)
    client = make_client(timeout=TIMEOUT)
    result = await client.stream()
    assert result.text == "".join(words)


async def test_a_trickled_model_list_ends_at_the_read_timeout(
    fault_server: FaultServer, make_client: MakeClient
) -> None:
    fault_server.everything = trickling(answer(LIST))
    client = make_client(timeout=TIMEOUT)
    error, elapsed = await timed(client.list_models)
    assert isinstance(error, LMStudioTimeoutError), error
    assert "within 1 s" in error.message
    assert elapsed < TIMEOUT + SLACK
    assert len(fault_server.requests) == 1  # no other endpoint was tried


async def test_a_quick_listing_ends_at_the_quick_timeout(
    fault_server: FaultServer, make_client: MakeClient
) -> None:
    fault_server.everything = trickling(answer(LIST))
    client = make_client(timeout=30, quick_timeout=QUICK)
    error, elapsed = await timed(lambda: method(client, "list_models")(quick=True))
    assert isinstance(error, LMStudioTimeoutError), error
    assert "within 0.6 s" in error.message
    assert error.hint is not None
    assert "http.quick_timeout_secs (LMSTUDIO_HTTP_QUICK_TIMEOUT_SECS)" in error.hint
    assert not error.server_down  # it answered, slowly: it is there
    assert elapsed < QUICK + SLACK


async def test_the_quick_deadline_covers_every_endpoint_tried(
    fault_server: FaultServer, make_client: MakeClient
) -> None:
    """Each endpoint answers "unknown" slowly: the fallbacks share one quick deadline."""
    unknown = answer({"error": "Unexpected endpoint or method."})
    fault_server.everything = body_trickling_bytes(unknown, every=0.05)
    client = make_client(timeout=30, quick_timeout=QUICK)
    error, elapsed = await timed(lambda: method(client, "list_models")(quick=True))
    assert isinstance(error, LMStudioTimeoutError), error
    assert elapsed < QUICK + SLACK


def body_trickling_bytes(whole: bytes, *, every: float) -> Handler:
    head, _, payload = whole.partition(b"\r\n\r\n")

    def handler(exchange: Exchange) -> None:
        exchange.send(head + b"\r\n\r\n")
        for byte in payload:
            time.sleep(every)
            exchange.send(bytes([byte]))

    return handler


async def test_health_ends_at_the_quick_timeout(
    fault_server: FaultServer, make_client: MakeClient
) -> None:
    fault_server.everything = trickling(answer({"lmstudio": True}))
    client = make_client(timeout=30, quick_timeout=QUICK)
    report, elapsed = await timed(method(client, "health"))
    assert isinstance(report, HealthReport)
    assert report.status == "error"  # it is there, and answers too slowly
    assert report.error is not None
    assert "within 0.6 s" in report.error
    assert elapsed < QUICK + SLACK


async def test_a_trickled_embedding_answer_ends_at_the_read_timeout(
    fault_server: FaultServer, make_client: MakeClient
) -> None:
    model = {"id": "text-embedding-nomic", "type": "embeddings", "state": "loaded"}
    fault_server.route("GET", "/api/v0/models", fault_server.reply(200, {"data": [model]}))
    vectors = {"data": [{"index": 0, "embedding": [0.1] * 64}], "model": "text-embedding-nomic"}
    fault_server.route("POST", "/v1/embeddings", body_trickling(vectors))
    client = make_client(timeout=TIMEOUT)
    error, elapsed = await timed(lambda: method(client, "embed")(["hello"]))
    assert isinstance(error, LMStudioTimeoutError), error
    assert not isinstance(error, EmbeddingResult)
    assert elapsed < TIMEOUT + SLACK


async def test_a_silent_server_is_a_plain_read_timeout(
    fault_server: FaultServer, make_client: MakeClient
) -> None:
    """Nothing at all came: "sent nothing", not "did not finish"."""
    fault_server.everything = fault_server.silence()
    client = make_client(timeout=0.5)
    error, elapsed = await timed(client.list_models)
    assert isinstance(error, LMStudioTimeoutError), error
    assert "LM Studio sent nothing for 0.5 s (read timeout)" in error.message
    assert elapsed < 0.5 + SLACK


async def test_a_quick_answer_larger_than_a_model_list_is_refused(
    fault_server: FaultServer, make_client: MakeClient
) -> None:
    huge = b'{"data": [' + b" " * (4 * 1024 * 1024) + b"]}"
    fault_server.everything = fault_server.reply(200, huge)
    client = make_client(quick_timeout=5)
    error, _ = await timed(lambda: method(client, "list_models")(quick=True))
    assert isinstance(error, ProtocolError), error
    assert "sent more than 4 MiB" in error.message


async def test_a_quick_listing_returns_what_the_endpoint_tells(
    fault_server: FaultServer, make_client: MakeClient
) -> None:
    client = make_client()
    listing, _ = await timed(lambda: method(client, "model_list")(quick=True, first="v0"))
    assert [model.id for model in listing.models][:1] == ["granite-3.1-8b-instruct"]
    assert all(isinstance(model, ModelInfo) for model in listing.models)
    assert (listing.dialect, listing.reports_types) == ("v0", True)
    assert [request.path for request in fault_server.requests] == ["/api/v0/models"]


def method(client: Any, name: str) -> Callable[..., Any]:
    return getattr(client.client, name)  # type: ignore[no-any-return]


def test_an_injected_client_is_bounded_between_reads(
    fault_server: FaultServer, wire: type[Wire]
) -> None:
    """A caller's own httpx2 client reads without the deadline backend: the driver checks
    the deadline between reads, so a trickled stream still ends."""

    def handler(exchange: Exchange) -> None:
        exchange.open_events()
        for byte in f"data: {wire.chunk('x')}".encode():
            time.sleep(BYTE_EVERY)
            exchange.send_chunk(bytes([byte]))
        exchange.hang()

    fault_server.route("POST", wire.CHAT, handler)
    own = httpx2.Client(base_url=fault_server.base_url, timeout=TIMEOUT)
    with LMStudioClient(base_url=fault_server.base_url, timeout=TIMEOUT, http_client=own) as c:
        started = time.monotonic()
        with (
            pytest.raises(LMStudioTimeoutError),
            c.stream_chat([{"role": "user", "content": "hi"}], model=wire.MODEL) as stream,
        ):
            for _ in stream:
                pass
        assert time.monotonic() - started < TIMEOUT + SLACK
    own.close()


async def test_an_injected_async_client_is_bounded_between_reads(
    fault_server: FaultServer, wire: type[Wire]
) -> None:
    fault_server.route("POST", wire.CHAT, body_trickling(wire.completion("hi " * 100)))
    own = httpx2.AsyncClient(base_url=fault_server.base_url, timeout=TIMEOUT)
    async with AsyncLMStudioClient(
        base_url=fault_server.base_url, timeout=TIMEOUT, http_client=own
    ) as client:
        error, elapsed = await timed(
            lambda: client.chat([{"role": "user", "content": "hi"}], model=wire.MODEL)
        )
    await own.aclose()
    assert isinstance(error, LMStudioTimeoutError), error
    assert elapsed < TIMEOUT + SLACK
