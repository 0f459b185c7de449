"""What is retried (502/503/504 before an answer starts) and what never is.

Attempts are counted at the server. The backoff starts at 0.25 s (plus up to
0.25 s of jitter), so these tests take a second or two at most.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

import pytest

from lmstudio_provider import (
    BadRequestError,
    LMStudioError,
    ModelLoadingError,
    ServerError,
    StreamInterruptedError,
)
from lmstudio_provider.transport._results import ChatChunk

if TYPE_CHECKING:
    from fault_server import FaultServer, MakeClient, Wire

CHAT = "/v1/chat/completions"
BOUND_SECS = 5.0
BUSY = {"error": "Service Unavailable"}


@pytest.mark.parametrize("operation", ["chat", "stream"])
@pytest.mark.parametrize("status", [502, 503, 504])
async def test_5xx_then_200_is_retried_and_counted(
    make_client: MakeClient,
    fault_server: FaultServer,
    wire: type[Wire],
    operation: str,
    status: int,
) -> None:
    if operation == "chat":
        answer = fault_server.reply(200, wire.completion("Paris."))
    else:
        answer = fault_server.events([wire.chunk("Par"), wire.chunk("is.")])
    fault_server.route("POST", CHAT, fault_server.reply(status, BUSY), answer)
    client = make_client(max_retries=2)
    started = time.monotonic()
    result = await getattr(client, operation)()
    assert time.monotonic() - started < BOUND_SECS
    assert result.text == "Paris."
    assert result.finish_reason == "stop"
    assert result.model == wire.MODEL
    assert result.metrics.retries == 1
    assert fault_server.count("POST", CHAT) == 2
    assert client.in_flight == 0


@pytest.mark.parametrize("operation", ["chat", "stream"])
@pytest.mark.parametrize(
    ("status", "expected", "hint_part"),
    [(503, ModelLoadingError, "max_retries"), (502, ServerError, "server log")],
    ids=["503", "502"],
)
async def test_5xx_forever_gives_up_after_max_retries(
    make_client: MakeClient,
    fault_server: FaultServer,
    operation: str,
    status: int,
    expected: type[LMStudioError],
    hint_part: str,
) -> None:
    fault_server.route("POST", CHAT, fault_server.reply(status, BUSY))
    client = make_client(max_retries=1)
    started = time.monotonic()
    with pytest.raises(LMStudioError) as caught:
        await getattr(client, operation)()
    assert time.monotonic() - started < BOUND_SECS
    error = caught.value
    assert type(error) is expected
    assert error.server_message == "Service Unavailable"
    assert error.hint is not None
    assert hint_part in error.hint
    assert fault_server.count("POST", CHAT) == 2  # the first attempt and one retry
    assert client.in_flight == 0


@pytest.mark.parametrize("operation", ["chat", "stream"])
async def test_400_is_never_retried(
    make_client: MakeClient, fault_server: FaultServer, operation: str
) -> None:
    message = "'response_format.type' must be 'json_schema' or 'text'"
    fault_server.route("POST", CHAT, fault_server.reply(400, {"error": message}))
    client = make_client(max_retries=3)
    with pytest.raises(BadRequestError) as caught:
        await getattr(client, operation)()
    assert caught.value.server_message == message
    assert fault_server.count("POST", CHAT) == 1


@pytest.mark.parametrize("end", ["cut", "eof"])
async def test_stream_that_delivered_a_chunk_is_never_retried(
    make_client: MakeClient, fault_server: FaultServer, wire: type[Wire], end: Any
) -> None:
    # Were it retried, the second attempt would succeed: it must not be made.
    broken = fault_server.events([wire.chunk("Half an")], end=end)
    whole = fault_server.events([wire.chunk("A whole answer.")])
    fault_server.route("POST", CHAT, broken, whole)
    client = make_client(max_retries=2)
    received: list[ChatChunk] = []
    with pytest.raises(StreamInterruptedError) as caught:
        await client.stream(received)
    assert [chunk.text for chunk in received] == ["Half an"]
    assert caught.value.partial is not None
    assert caught.value.partial.text == "Half an"
    assert fault_server.count("POST", CHAT) == 1
    assert client.in_flight == 0
