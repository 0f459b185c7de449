"""``ModelListCache.quick_listing`` on real loopback sockets: saved, then down or hung.

The quick deadline bounds the whole answer however the server trickles (a bound, not a
timing); the saved list stands in, and only a refused connection (or no handshake)
counts as the server being down. The llm plugin in every state:
``tests/llm_plugin/faults/test_llm_server_states.py``.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from lmstudio_provider.transport import (
    Connection,
    LMStudioTimeoutError,
    ModelListCache,
    QuickListing,
    ServerUnreachableError,
    load_settings,
)
from server_states import closed_port

if TYPE_CHECKING:
    from fault_server import Exchange, FaultServer

BUDGET_SECS = 15.0  # far above the quick deadline (0.6 s); a trickle never ends by itself
LOADED = "granite-3.1-8b-instruct"  # the loaded model of the fault server's model list


@pytest.fixture
def listing_at(tmp_path: Path) -> Iterator[Callable[[str], QuickListing]]:
    """List the server at a URL as a new process would (no listing reused)."""
    cache = ModelListCache(tmp_path / "lmstudio-models.json")

    def listing(base_url: str) -> QuickListing:
        ModelListCache.forget_recent()  # closes the last listing's client
        return cache.quick_listing(Connection(load_settings(base_url=base_url)))

    yield listing
    ModelListCache.forget_recent()


def trickle(exchange: Exchange) -> None:
    """A model list a byte every 0.3 s: each read is quick, the answer never ends."""
    body = json.dumps({"data": [{"id": "trickled", "type": "llm"}]}).encode()
    for byte in f"HTTP/1.1 200 OK\r\nContent-Length: {len(body)}\r\n\r\n".encode() + body:
        time.sleep(0.3)
        exchange.send(bytes([byte]))  # raises once the client has closed: the end


def test_a_trickling_server_gets_the_saved_list_within_the_quick_deadline(
    fault_server: FaultServer, listing_at: Callable[[str], QuickListing]
) -> None:
    listed = listing_at(fault_server.base_url)
    assert listed.from_server
    assert LOADED in [model.id for model in listed.models]
    fault_server.everything = trickle
    started = time.perf_counter()
    saved = listing_at(fault_server.base_url)
    assert time.perf_counter() - started < BUDGET_SECS
    assert isinstance(saved.error, LMStudioTimeoutError)
    assert not saved.from_server
    assert saved.models == listed.models
    assert (saved.reports_types, saved.reports_tools) == (True, listed.reports_tools)
    assert not saved.server_down
    saved.raise_if_down()  # a hung server may still answer a request: it is not refused


def test_a_refused_connection_is_a_server_that_is_down(
    listing_at: Callable[[str], QuickListing],
) -> None:
    listing = listing_at(closed_port())
    assert listing.models == ()
    assert listing.server_down
    with pytest.raises(ServerUnreachableError, match="Connection refused"):
        listing.raise_if_down()
