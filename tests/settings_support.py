"""Helpers of the settings tests (tests/transport/unit/test_config_*.py)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from lmstudio_provider.transport._config import (
    Settings,
)
from lmstudio_provider.transport._errors import ConfigError

SECRET = "sk-lm-very-secret-token-0123"
HINT = (
    "Fix the value where it is named above (argument, environment variable or config file); "
    "`llm lmstudio config` lists every setting with its source."
)
KNOWN_SETTINGS = (
    "provider, base_url, api_key, default_model, allowed_models, http.timeout_secs, "
    "http.connect_timeout_secs, http.quick_timeout_secs, http.keep_alive_secs, "
    "http.max_idle_connections, http.load_timeout_secs, http.max_connections, "
    "http.max_event_bytes, max_retries, defaults"
)
SETTING_NAMES = [name.strip() for name in KNOWN_SETTINGS.split(",")]
DEFAULT_DUMP: dict[str, Any] = {
    "provider": None,
    "base_url": "http://localhost:1234",
    "api_key": None,
    "default_model": None,
    "allowed_models": None,
    "http": {
        "timeout_secs": 60.0,
        "connect_timeout_secs": 10.0,
        "quick_timeout_secs": 0.6,
        "keep_alive_secs": 30.0,
        "max_idle_connections": 10,
        "load_timeout_secs": 600.0,
        "max_connections": 8,
        "max_event_bytes": 4194304,
    },
    "max_retries": 2,
    "defaults": {},
}

WriteConfig = Callable[..., Path]


def value_of(settings: Settings, dotted: str) -> Any:
    """The effective value of a dotted setting; secrets are unwrapped."""
    value: Any = settings
    for part in dotted.split("."):
        value = getattr(value, part)
    if isinstance(value, SecretStr):
        return value.get_secret_value()
    return value


def nested(dotted: str, value: Any) -> dict[str, Any]:
    """``{"a": {"b": value}}`` for ``"a.b"``."""
    result: Any = value
    for part in reversed(dotted.split(".")):
        result = {part: result}
    assert isinstance(result, dict)
    return result


def config_error(check: Callable[[], object]) -> ConfigError:
    with pytest.raises(ConfigError) as info:
        check()
    return info.value


def invalid(*problems: str) -> str:
    return "Invalid configuration: " + "; ".join(problems)


FULL_FILE = f"""\
inference:
  provider: lmstudio
  base_url: http://file-host:5678/v1/
  api_key: {SECRET}
  default_model: qwen3-8b
  allowed_models: [qwen3-8b, gemma-3-4b]
  http:
    timeout_secs: 5
    connect_timeout_secs: 2
    quick_timeout_secs: 0.5
    keep_alive_secs: 1.5
    max_idle_connections: 3
    load_timeout_secs: 900
    max_connections: 6
    max_event_bytes: 65536
  max_retries: 4
  defaults:
    max_tokens: 100
    temperature: 0.7
"""


def assert_no_secret(*texts: str) -> None:
    for text in texts:
        assert SECRET not in text
