"""Hostile servers and heavy load: nothing resent, sockets bounded, one model listing,
redirects, compressed streams and broken UTF-8 named for what they are.

Each test runs with the sync and the async client (the ``make_client`` fixture);
concurrency comes from threads for the sync client and tasks for the async one.
"""

from __future__ import annotations

import asyncio
import gzip
import json
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

import pytest

from lmstudio_provider import LMStudioError, ProtocolError, ServerError
from lmstudio_provider.transport._results import ChatResponse

if TYPE_CHECKING:
    from fault_server import Exchange, FaultClient, FaultServer, MakeClient, Wire

EMBED_MODEL = "text-embedding-nomic-embed-text-v1.5"
CONCURRENT = 200
RELAXED = {"timeout": 30, "connect_timeout": 30}


async def embed(client: FaultClient) -> Any:
    if client.sync is not None:
        return client.sync.embed(["a", "b"], model=EMBED_MODEL)
    assert client.async_ is not None
    return await client.async_.embed(["a", "b"], model=EMBED_MODEL)


async def concurrently(client: FaultClient, operation: str) -> list[ChatResponse]:
    """``operation`` (chat or stream) ``CONCURRENT`` times at once: threads or tasks."""
    if client.sync is not None:

        def run_one(_: int) -> ChatResponse:
            result: ChatResponse = asyncio.run(getattr(client, operation)())
            return result

        with ThreadPoolExecutor(CONCURRENT) as pool:
            return list(pool.map(run_one, range(CONCURRENT)))
    return list(await asyncio.gather(*(getattr(client, operation)() for _ in range(CONCURRENT))))


# -- a request the server may be working on is never resent -----------------------


@pytest.mark.parametrize("operation", ["chat", "stream", "embed"])
async def test_disconnect_after_the_request_is_not_resent(
    make_client: MakeClient, fault_server: FaultServer, wire: type[Wire], operation: str
) -> None:
    path = "/v1/embeddings" if operation == "embed" else wire.CHAT
    fault_server.route("POST", path, lambda exchange: exchange.cut())
    client = make_client(max_retries=3)
    with pytest.raises(ServerError) as caught:
        await (embed(client) if operation == "embed" else getattr(client, operation)())
    error = caught.value
    assert fault_server.count("POST", path) == 1  # exactly one request arrived
    assert "closed the connection after receiving the request" in error.message
    assert "not resent" in error.message
    assert "lms server start" not in str(error)
    assert not error.retryable


async def test_an_explicit_503_is_still_retried(
    make_client: MakeClient, fault_server: FaultServer, wire: type[Wire]
) -> None:
    fault_server.route(
        "POST",
        wire.CHAT,
        fault_server.reply(503, {"error": "busy"}),
        fault_server.reply(200, wire.completion("Paris.")),
    )
    client = make_client(max_retries=2)
    result = await client.chat()
    assert result.text == "Paris."
    assert fault_server.count("POST", wire.CHAT) == 2


# -- connections ----------------------------------------------------------------


async def test_many_concurrent_streams_share_a_bounded_pool(
    make_client: MakeClient, fault_server: FaultServer, wire: type[Wire]
) -> None:
    fault_server.route("POST", wire.CHAT, fault_server.events([wire.chunk("Hi"), wire.chunk("!")]))
    client = make_client(max_connections=4, **RELAXED)
    results = await concurrently(client, "stream")
    assert [result.text for result in results] == ["Hi!"] * CONCURRENT
    assert fault_server.count("POST", wire.CHAT) == CONCURRENT
    assert 1 <= fault_server.connections <= 4


EMFILE_CHILD = """
import asyncio, os, resource, sys
from lmstudio_provider import AsyncLMStudioClient, LMStudioClient, TooManyOpenFilesError

base_url, kind = sys.argv[1], sys.argv[2]
settings = dict(base_url=base_url, max_retries=2, timeout=5, connect_timeout=5)
messages = [{"role": "user", "content": "Hi"}]
model = "granite-3.1-8b-instruct"


def use_up_descriptors():
    resource.setrlimit(resource.RLIMIT_NOFILE, (64, 64))
    try:
        while True:
            os.open(os.devnull, os.O_RDONLY)
    except OSError:
        pass


async def chat_async():
    async with AsyncLMStudioClient(**settings) as warm_up:  # imports what a request needs
        await warm_up.list_models()
    client = AsyncLMStudioClient(**settings)
    use_up_descriptors()  # the event loop has its descriptors already
    await client.chat(messages, model=model)


try:
    if kind == "sync":
        with LMStudioClient(**settings) as warm_up:
            warm_up.list_models()
        client = LMStudioClient(**settings)
        use_up_descriptors()
        client.chat(messages, model=model)
    else:
        asyncio.run(chat_async())
except TooManyOpenFilesError as error:
    print("CAUGHT", type(error).__name__, error.retryable)
    print(str(error))
"""


async def test_descriptor_exhaustion_is_its_own_error(
    make_client: MakeClient, fault_server: FaultServer
) -> None:
    kind = make_client().kind
    child = subprocess.run(  # noqa: S603 (our own interpreter and script)
        [sys.executable, "-c", EMFILE_CHILD, fault_server.base_url, kind],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert child.returncode == 0, child.stderr
    assert child.stdout.startswith("CAUGHT TooManyOpenFilesError False"), child.stdout
    assert "too many open files" in child.stdout
    assert "ulimit -n" in child.stdout
    assert "lms server start" not in child.stdout
    assert fault_server.count("POST", "/v1/chat/completions") == 0  # nothing got out


# -- one model listing for concurrent cold requests ---------------------------------


async def test_concurrent_cold_requests_list_the_models_once(
    make_client: MakeClient, fault_server: FaultServer, wire: type[Wire]
) -> None:
    fault_server.route("POST", wire.CHAT, fault_server.reply(200, wire.completion("Yes.")))
    client = make_client(**RELAXED)
    results = await concurrently(client, "chat")
    assert {result.text for result in results} == {"Yes."}
    # The fault server answers /api/v1/models "Unexpected endpoint", then v0 lists them.
    assert fault_server.count("GET", "/api/v1/models") == 1
    assert fault_server.count("GET", "/api/v0/models") == 1


async def test_a_failed_shared_listing_fails_every_waiter_and_is_not_cached(
    make_client: MakeClient, fault_server: FaultServer, wire: type[Wire]
) -> None:
    fault_server.route("GET", "/api/v1/models", fault_server.reply(401, {"error": "token?"}))
    client = make_client()
    with pytest.raises(LMStudioError, match="token"):
        await client.chat()
    fault_server.route("GET", "/api/v1/models", fault_server.reply(200, {"error": "x"}))
    fault_server.route("POST", wire.CHAT, fault_server.reply(200, wire.completion("Ok.")))
    assert (await client.chat()).text == "Ok."


# -- misleading answers, named for what they are ---------------------------------


@pytest.mark.parametrize("operation", ["chat", "stream", "list_models"])
async def test_redirect_names_its_target_and_the_base_url(
    make_client: MakeClient, fault_server: FaultServer, wire: type[Wire], operation: str
) -> None:
    def moved(exchange: Exchange) -> None:
        exchange.respond(301, b"", headers={"Location": "https://example.test/v1/"})

    fault_server.everything = moved
    client = make_client(max_retries=2)
    with pytest.raises(ProtocolError) as caught:
        await getattr(client, operation)()
    error = caught.value
    assert "HTTP 301" in error.message
    assert "https://example.test/v1/" in error.message
    assert "base URL" in str(error.hint)
    assert len(fault_server.requests) == 1  # not retried


async def test_gzip_encoded_stream_is_decompressed(
    make_client: MakeClient, fault_server: FaultServer, wire: type[Wire]
) -> None:
    events = "".join(
        f"data: {item}\n\n" for item in [wire.chunk("Com"), wire.chunk("pressed."), wire.finish()]
    )
    payload = gzip.compress((events + "data: [DONE]\n\n").encode())

    def gzipped(exchange: Exchange) -> None:
        exchange.respond(
            200, payload, content_type="text/event-stream", headers={"Content-Encoding": "gzip"}
        )

    fault_server.route("POST", wire.CHAT, gzipped)
    client = make_client()
    result = await client.stream()
    assert result.text == "Compressed."
    assert result.finish_reason == "stop"
    assert fault_server.requests[-1].headers["accept-encoding"] == "identity"


async def test_invalid_utf8_in_an_answer_is_said_and_the_valid_part_kept(
    make_client: MakeClient, fault_server: FaultServer, wire: type[Wire]
) -> None:
    body = json.dumps(wire.completion("Caf\u00e9 OK BROKEN")).encode()
    body = body.replace(b"BROKEN", b"\xff\xfe")
    fault_server.route("POST", wire.CHAT, fault_server.reply(200, body))
    client = make_client()
    with pytest.raises(ProtocolError) as caught:
        await client.chat()
    error = caught.value
    assert "not valid UTF-8" in error.message
    assert "0xff" in error.message
    assert error.partial is not None
    assert error.partial.text.startswith("Caf\u00e9 OK ")


async def test_invalid_utf8_in_a_stream_is_said_and_the_valid_part_kept(
    make_client: MakeClient, fault_server: FaultServer, wire: type[Wire]
) -> None:
    def broken(exchange: Exchange) -> None:
        exchange.open_events()
        exchange.send_event(wire.chunk("Good "))
        exchange.send_chunk(f"data: {wire.chunk('bad')}\n\n".encode().replace(b"bad", b"b\xffd"))
        exchange.send_event(wire.finish())
        exchange.end_chunks()

    fault_server.route("POST", wire.CHAT, broken)
    client = make_client()
    with pytest.raises(ProtocolError) as caught:
        await client.stream()
    error = caught.value
    assert "not valid UTF-8" in error.message
    assert error.partial is not None
    assert error.partial.text == "Good b\ufffdd"
