"""Fixtures of the unit tier: both clients behind one interface (see tests/client_api.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from client_api import Api
from lmstudio_provider.transport._config import CONFIG_ENV_VAR
from settings_support import WriteConfig


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


@pytest.fixture
def write_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> WriteConfig:
    """Write a YAML config file and name it in LMSTUDIO_CONFIG."""

    def write(content: str | dict[str, Any], name: str = "lmstudio.yaml") -> Path:
        path = tmp_path / name
        text = content if isinstance(content, str) else yaml.safe_dump(content)
        path.write_text(text, encoding="utf-8")
        monkeypatch.setenv(CONFIG_ENV_VAR, str(path))
        return path

    return write
