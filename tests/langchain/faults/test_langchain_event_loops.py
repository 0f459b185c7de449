"""``ChatLMStudio`` across event loops: each loop's connections are closed with the loop.

An async client's sockets belong to the event loop that opened them; once that loop
is closed they cannot be closed cleanly. Each ``asyncio.run`` must therefore leave
no connection open and no ``ResourceWarning`` behind, while the model lives on; and a
model dropped leaves none either.
"""

from __future__ import annotations

import asyncio
import gc
import warnings
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

from lmstudio_provider.langchain import ChatLMStudio

if TYPE_CHECKING:
    from fault_server import FaultServer, Wire

CHAT = "/v1/chat/completions"
RUNS = 3


@pytest.fixture
def resource_warnings() -> Iterator[list[warnings.WarningMessage]]:
    """Every ``ResourceWarning`` raised meanwhile (unclosed sockets and transports)."""
    gc.collect()  # earlier tests' garbage warns now, not in this test
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ResourceWarning)
        yield caught


def unclosed(caught: list[warnings.WarningMessage]) -> list[str]:
    gc.collect()  # an unclosed socket warns when it is collected
    return [str(w.message) for w in caught if issubclass(w.category, ResourceWarning)]


def make_model(server: FaultServer, wire: type[Wire]) -> ChatLMStudio:
    return ChatLMStudio(base_url=server.base_url, model=wire.MODEL, timeout=5, max_retries=0)


def test_each_asyncio_run_closes_its_connections(
    fault_server: FaultServer,
    wire: type[Wire],
    resource_warnings: list[warnings.WarningMessage],
) -> None:
    fault_server.route("POST", CHAT, fault_server.reply(200, wire.completion("hi")))
    model = make_model(fault_server, wire)
    for _ in range(RUNS):
        assert asyncio.run(model.ainvoke("Hi")).text == "hi"
        # Closed by the time asyncio.run returns, the model still alive and referenced.
        assert fault_server.wait_for_no_open_connections(), "a connection was left open"
    assert fault_server.connections == RUNS  # one pool per loop, one connection each
    assert unclosed(resource_warnings) == []


def test_each_asyncio_run_closes_its_streaming_connections(
    fault_server: FaultServer,
    wire: type[Wire],
    resource_warnings: list[warnings.WarningMessage],
) -> None:
    fault_server.route("POST", CHAT, fault_server.events([wire.chunk("h"), wire.chunk("i")]))
    model = make_model(fault_server, wire)

    async def read() -> str:
        return "".join([chunk.text async for chunk in model.astream("Hi")])

    for _ in range(RUNS):
        assert asyncio.run(read()) == "hi"
        assert fault_server.wait_for_no_open_connections(), "a connection was left open"
    assert unclosed(resource_warnings) == []


def test_aclose_closes_the_running_loops_client_and_a_new_one_follows(
    fault_server: FaultServer,
    wire: type[Wire],
    resource_warnings: list[warnings.WarningMessage],
) -> None:
    fault_server.route("POST", CHAT, fault_server.reply(200, wire.completion("hi")))
    model = make_model(fault_server, wire)

    async def use() -> None:
        assert (await model.ainvoke("Hi")).text == "hi"
        await model.aclose()
        assert await asyncio.to_thread(fault_server.wait_for_no_open_connections)
        assert (await model.ainvoke("Hi")).text == "hi"  # a fresh client on the same loop

    asyncio.run(use())
    assert fault_server.wait_for_no_open_connections()
    assert unclosed(resource_warnings) == []


def test_a_model_collected_while_its_loop_runs_closes_its_client(
    fault_server: FaultServer,
    wire: type[Wire],
    resource_warnings: list[warnings.WarningMessage],
) -> None:
    fault_server.route("POST", CHAT, fault_server.reply(200, wire.completion("hi")))

    async def use_and_drop() -> None:
        model = make_model(fault_server, wire)
        assert (await model.ainvoke("Hi")).text == "hi"
        del model
        gc.collect()
        # The loop finalises the dropped client's closer on its next turns.
        assert await asyncio.to_thread(fault_server.wait_for_no_open_connections)

    asyncio.run(use_and_drop())
    assert unclosed(resource_warnings) == []


def test_a_dropped_model_closes_its_sync_connections(
    fault_server: FaultServer,
    wire: type[Wire],
    resource_warnings: list[warnings.WarningMessage],
) -> None:
    fault_server.route("POST", CHAT, fault_server.reply(200, wire.completion("hi")))
    model = make_model(fault_server, wire)
    assert model.invoke("Hi").text == "hi"
    del model
    assert fault_server.wait_for_no_open_connections(), "a connection was left open"
    assert unclosed(resource_warnings) == []
