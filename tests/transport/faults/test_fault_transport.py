"""Connection and stream faults: refused, silent, cut, garbled, errored, cancelled.

Each test runs against both clients (the ``make_client`` fixture is parametrized
``sync``/``async``) with 0.5 s timeouts and no retries unless it says otherwise.
"""

from __future__ import annotations

import asyncio
import json
import socket
import time
from typing import TYPE_CHECKING, Any

import pytest

from lmstudio_provider import (
    AsyncLMStudioClient,
    ContextLengthExceededError,
    LMStudioClient,
    LMStudioError,
    LMStudioTimeoutError,
    ProtocolError,
    ServerError,
    ServerUnreachableError,
    StreamInterruptedError,
)
from lmstudio_provider.transport._results import ChatChunk

if TYPE_CHECKING:
    from fault_server import FaultServer, MakeClient, Wire

MODEL = "granite-3.1-8b-instruct"
CHAT = "/v1/chat/completions"
MESSAGES = [{"role": "user", "content": "Say hello."}]
BOUND_SECS = 5.0  # generous: the timeouts are 0.5 s


def closed_port() -> int:
    """A loopback port with nothing listening on it."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


@pytest.mark.parametrize("operation", ["chat", "stream", "list_models"])
async def test_refused_connection_is_server_unreachable(
    make_client: MakeClient, operation: str
) -> None:
    base_url = f"http://127.0.0.1:{closed_port()}"
    client = make_client(base_url=base_url)
    started = time.monotonic()
    with pytest.raises(ServerUnreachableError) as caught:
        await getattr(client, operation)()
    assert time.monotonic() - started < BOUND_SECS
    error = caught.value
    assert error.status_code == 502
    assert base_url in error.message
    assert error.hint is not None
    assert "lms server start" in error.hint
    assert "lms server start" in str(error)
    assert client.in_flight == 0


@pytest.mark.parametrize("operation", ["chat", "stream", "list_models"])
async def test_accepted_but_never_answering_is_a_read_timeout(
    make_client: MakeClient, fault_server: FaultServer, operation: str
) -> None:
    fault_server.everything = fault_server.silence()
    client = make_client()
    started = time.monotonic()
    with pytest.raises(LMStudioTimeoutError) as caught:
        await getattr(client, operation)()
    assert 0.4 < time.monotonic() - started < BOUND_SECS
    error = caught.value
    assert error.which == "read"
    assert error.status_code == 504
    assert isinstance(error, TimeoutError)
    assert error.hint is not None
    assert "LMSTUDIO_HTTP_TIMEOUT_SECS" in error.hint
    assert "0.5 s" in error.message
    assert len(fault_server.requests) == 1  # a read timeout is not retried


@pytest.mark.parametrize("sent", [[], ["Hello", " there"]], ids=["headers-only", "two-chunks"])
async def test_stream_going_silent_is_a_read_timeout_keeping_the_partial(
    make_client: MakeClient, fault_server: FaultServer, wire: type[Wire], sent: list[str]
) -> None:
    fault_server.route("POST", CHAT, fault_server.events([wire.chunk(t) for t in sent], end="hang"))
    client = make_client()
    received: list[ChatChunk] = []
    started = time.monotonic()
    with pytest.raises(LMStudioTimeoutError) as caught:
        await client.stream(received)
    assert time.monotonic() - started < BOUND_SECS
    error = caught.value
    assert error.which == "read"
    assert error.status_code == 504
    assert error.hint is not None
    assert "LMSTUDIO_HTTP_TIMEOUT_SECS" in error.hint
    assert [chunk.text for chunk in received] == sent
    assert error.partial is not None
    assert error.partial.text == "".join(sent)
    assert fault_server.wait_for_abandoned_close()  # the client hung up
    assert client.in_flight == 0


@pytest.mark.parametrize(
    "end",
    ["cut", "eof"],
    ids=["connection-closed-mid-body", "body-ended-without-done"],
)
async def test_stream_cut_midway_is_interrupted_with_exact_partial(
    make_client: MakeClient, fault_server: FaultServer, wire: type[Wire], end: Any
) -> None:
    pieces = ["As", " an", " AI", ","]
    fault_server.route("POST", CHAT, fault_server.events([wire.chunk(p) for p in pieces], end=end))
    client = make_client()
    received: list[ChatChunk] = []
    started = time.monotonic()
    with pytest.raises(StreamInterruptedError) as caught:
        await client.stream(received)
    assert time.monotonic() - started < BOUND_SECS
    error = caught.value
    assert isinstance(error, ProtocolError)
    assert error.status_code == 502
    # Every chunk that arrived before the cut reached the caller first...
    assert [chunk.text for chunk in received] == pieces
    # ...and the error keeps exactly that text.
    assert error.partial is not None
    assert error.partial.text == "As an AI,"
    assert error.partial.finish_reason is None
    assert error.partial.model == MODEL
    assert error.hint is not None
    assert "`partial`" in str(error)  # Python code is told where the answer is
    assert "partial" not in str(error.hint)  # a front end shows the hint in its own words
    assert client.in_flight == 0


async def test_malformed_data_line_is_a_protocol_error_quoting_it(
    make_client: MakeClient, fault_server: FaultServer, wire: type[Wire]
) -> None:
    events = [wire.chunk("Hello"), "{not json", wire.chunk(" never seen")]
    fault_server.route("POST", CHAT, fault_server.events(events, end="hang"))
    client = make_client()
    received: list[ChatChunk] = []
    started = time.monotonic()
    with pytest.raises(ProtocolError) as caught:
        await client.stream(received)
    assert time.monotonic() - started < BOUND_SECS
    error = caught.value
    assert type(error) is ProtocolError
    assert "{not json" in error.message
    assert error.hint is not None
    assert [chunk.text for chunk in received] == ["Hello"]
    assert error.partial is not None
    assert error.partial.text == "Hello"
    assert fault_server.wait_for_abandoned_close()  # the client dropped the garbled stream
    assert client.in_flight == 0


CRASH = "The model has crashed without additional information. (Exit code: 11)"
OVERFLOW = (
    "Trying to keep the first 14538 tokens when context the overflows. However, the model is "
    "loaded with context length of only 2048 tokens, which is not enough. Try to load the "
    "model with a larger context length, or provide a shorter input"
)


@pytest.mark.parametrize(
    ("error_body", "message", "expected", "hint_part"),
    [
        ({"error": CRASH}, CRASH, ServerError, "lms load"),
        (
            {"error": {"message": CRASH, "type": "server_error", "param": None, "code": None}},
            CRASH,
            ServerError,
            "lms load",
        ),
        ({"error": OVERFLOW}, OVERFLOW, ContextLengthExceededError, "--context-length"),
        (
            {"error": {"message": OVERFLOW, "type": "invalid_request_error", "code": None}},
            OVERFLOW,
            ContextLengthExceededError,
            "--context-length",
        ),
    ],
    ids=["crash-string", "crash-object", "overflow-string", "overflow-object"],
)
async def test_error_event_mid_stream_is_typed_and_keeps_the_partial(
    make_client: MakeClient,
    fault_server: FaultServer,
    wire: type[Wire],
    error_body: dict[str, Any],
    message: str,
    expected: type[LMStudioError],
    hint_part: str,
) -> None:
    events = [wire.chunk("Once"), wire.chunk(" upon"), json.dumps(error_body)]
    fault_server.route("POST", CHAT, fault_server.events(events, end="eof"))
    client = make_client()
    received: list[ChatChunk] = []
    started = time.monotonic()
    with pytest.raises(LMStudioError) as caught:
        await client.stream(received)
    assert time.monotonic() - started < BOUND_SECS
    error = caught.value
    assert type(error) is expected
    assert error.server_message == message
    assert error.hint is not None
    assert hint_part in error.hint
    assert [chunk.text for chunk in received] == ["Once", " upon"]
    assert error.partial is not None
    assert error.partial.text == "Once upon"
    assert client.in_flight == 0


# -- cancellation ---------------------------------------------------------------


@pytest.mark.parametrize("how", ["with-block", "bare-loop", "close"])
def test_leaving_a_sync_stream_early_closes_the_connection(
    fault_server: FaultServer, wire: type[Wire], how: str
) -> None:
    chunks = [wire.chunk("one"), wire.chunk(" two"), wire.chunk(" three")]
    fault_server.route("POST", CHAT, fault_server.events(chunks, end="hang"))
    # A long read timeout: the close must come from leaving the stream, not from a timeout.
    with LMStudioClient(base_url=fault_server.base_url, timeout=30, max_retries=0) as client:
        first: list[str] = []
        if how == "with-block":
            with client.stream_chat(MESSAGES, model=MODEL) as stream:
                for chunk in stream:
                    first.append(chunk.text)
                    break
        elif how == "bare-loop":
            for chunk in client.stream_chat(MESSAGES, model=MODEL):
                first.append(chunk.text)
                break
        else:
            stream = client.stream_chat(MESSAGES, model=MODEL)
            for chunk in stream:
                first.append(chunk.text)
                break
            stream.close()
        assert first == ["one"]
        assert fault_server.wait_for_abandoned_close(), "the server never saw the client close"
        assert client.in_flight == 0
        # The client is still usable afterwards.
        fault_server.route("POST", CHAT, fault_server.reply(200, wire.completion("fine")))
        assert client.chat(MESSAGES, model=MODEL).text == "fine"


@pytest.mark.parametrize("how", ["async-with", "aclose", "bare-loop"])
async def test_leaving_an_async_stream_early_closes_the_connection(
    fault_server: FaultServer, wire: type[Wire], how: str
) -> None:
    chunks = [wire.chunk("one"), wire.chunk(" two"), wire.chunk(" three")]
    fault_server.route("POST", CHAT, fault_server.events(chunks, end="hang"))
    async with AsyncLMStudioClient(
        base_url=fault_server.base_url, timeout=30, max_retries=0
    ) as client:
        first: list[str] = []
        if how == "async-with":
            async with client.stream_chat(MESSAGES, model=MODEL) as stream:
                async for chunk in stream:
                    first.append(chunk.text)
                    break
        elif how == "aclose":
            stream = client.stream_chat(MESSAGES, model=MODEL)
            async for chunk in stream:
                first.append(chunk.text)
                break
            await stream.aclose()
        else:
            # Unreferenced, the generator is finalised by the event loop's asyncgen hook,
            # which schedules its aclose(): give the loop a few turns to run it.
            async for chunk in client.stream_chat(MESSAGES, model=MODEL):
                first.append(chunk.text)
                break
            for _ in range(10):
                await asyncio.sleep(0)
        assert first == ["one"]
        closed = await asyncio.to_thread(fault_server.wait_for_abandoned_close)
        assert closed, "the server never saw the client close"
        assert client.in_flight == 0
        fault_server.route("POST", CHAT, fault_server.reply(200, wire.completion("fine")))
        assert (await client.chat(MESSAGES, model=MODEL)).text == "fine"
