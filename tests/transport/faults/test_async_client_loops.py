"""``AsyncLMStudioClient`` across event loops: a pool per loop, each closed with its loop.

An async client's sockets belong to the event loop that opened them; once that loop
is closed they cannot be closed cleanly. A client used in ``asyncio.run`` after
``asyncio.run`` must leave no connection open and no ``ResourceWarning`` behind.
"""

from __future__ import annotations

import asyncio
import gc
import warnings
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

from lmstudio_provider.transport import AsyncLMStudioClient

if TYPE_CHECKING:
    from fault_server import FaultServer, Wire

CHAT = "/v1/chat/completions"
RUNS = 3


@pytest.fixture
def resource_warnings() -> Iterator[list[warnings.WarningMessage]]:
    """Every ``ResourceWarning`` raised meanwhile (unclosed sockets and transports)."""
    gc.collect()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ResourceWarning)
        yield caught


def unclosed(caught: list[warnings.WarningMessage]) -> list[str]:
    gc.collect()
    return [str(w.message) for w in caught if issubclass(w.category, ResourceWarning)]


def test_one_client_serves_one_asyncio_run_after_another(
    fault_server: FaultServer,
    wire: type[Wire],
    resource_warnings: list[warnings.WarningMessage],
) -> None:
    fault_server.route("POST", CHAT, fault_server.reply(200, wire.completion("hi")))
    client = AsyncLMStudioClient(base_url=fault_server.base_url, timeout=5, max_retries=0)

    async def ask() -> str:
        return (await client.chat([{"role": "user", "content": "Hi"}], model=wire.MODEL)).text

    for _ in range(RUNS):
        assert asyncio.run(ask()) == "hi"
        assert fault_server.wait_for_no_open_connections(), "a connection was left open"
    assert fault_server.connections == RUNS  # one pool per loop, one connection each
    assert unclosed(resource_warnings) == []


def test_aclose_closes_the_running_loops_pool_and_a_new_one_follows(
    fault_server: FaultServer,
    wire: type[Wire],
    resource_warnings: list[warnings.WarningMessage],
) -> None:
    fault_server.route("POST", CHAT, fault_server.events([wire.chunk("h"), wire.chunk("i")]))
    client = AsyncLMStudioClient(base_url=fault_server.base_url, timeout=5, max_retries=0)

    async def use() -> None:
        for _ in range(2):
            stream = client.stream_chat([{"role": "user", "content": "Hi"}], model=wire.MODEL)
            async with stream:
                assert "".join([chunk.text async for chunk in stream]) == "hi"
            await client.aclose()
            assert await asyncio.to_thread(fault_server.wait_for_no_open_connections)

    asyncio.run(use())
    assert fault_server.connections == 2
    assert unclosed(resource_warnings) == []
