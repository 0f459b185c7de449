"""A server streaming one endless event: refused at the cap, what came before it kept."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from lmstudio_provider import ProtocolError
from lmstudio_provider.transport._results import ChatChunk

if TYPE_CHECKING:
    from fault_server import Exchange, FaultServer, MakeClient, Wire

CAP = 64 * 1024


async def test_event_longer_than_the_cap_is_a_protocol_error(
    make_client: MakeClient, fault_server: FaultServer, wire: type[Wire]
) -> None:
    sent: list[int] = []

    def endless_event(exchange: Exchange) -> None:
        exchange.open_events()
        exchange.send_event(wire.chunk("Hello"))
        exchange.send_chunk(b'data: {"choices": "' + b"A" * 1000)
        for _ in range(2000):  # 32 MiB if nobody stopped reading
            exchange.send_chunk(b"A" * 16384)
            sent.append(16384)

    fault_server.route("POST", wire.CHAT, endless_event)
    client = make_client(max_event_bytes=CAP)
    received: list[ChatChunk] = []
    with pytest.raises(ProtocolError) as caught:
        await client.stream(received)
    error = caught.value
    assert f"more than {CAP} bytes" in error.message
    assert 'data: {"choices": "AAAA' in error.message  # the event's start, quoted
    assert "LMSTUDIO_HTTP_MAX_EVENT_BYTES" in str(error.hint)
    assert error.partial is not None
    assert error.partial.text == "Hello"
    assert [chunk.text for chunk in received] == ["Hello"]
    # The client stopped reading near the cap, not at the end of the stream.
    assert sum(sent) < 16 * 1024 * 1024
