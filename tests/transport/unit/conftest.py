"""Fixtures of the unit tier: both clients behind one interface (see tests/client_api.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from client_api import Api


@pytest.fixture(params=["sync", "async"])
async def make_api(request: pytest.FixtureRequest) -> AsyncIterator[Callable[..., Api]]:
    """Make clients of the parametrized kind; all are closed after the test."""
    made: list[Api] = []

    def make(**settings: Any) -> Api:
        api = Api(request.param, **settings)
        made.append(api)
        return api

    yield make
    for api in made:
        await api.close()


@pytest.fixture
def api(make_api: Callable[..., Api]) -> Api:
    return make_api()
