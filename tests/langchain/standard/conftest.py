"""The langchain-tests standard suites: unit files run with sockets disabled.

The integration files (``*_integration.py``) get the ``integration`` marker from the
``realserver`` plugin and talk to the server under test.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import pytest_socket


@pytest.fixture(autouse=True)
def no_network_in_unit_suites(request: pytest.FixtureRequest) -> Iterator[None]:
    """``*_unit.py`` suites must not reach any server (Unix sockets stay, for asyncio)."""
    if Path(str(request.node.fspath)).stem.endswith("_unit"):
        pytest_socket.disable_socket(allow_unix_socket=True)
        try:
            yield
        finally:
            pytest_socket.enable_socket()
    else:
        yield
