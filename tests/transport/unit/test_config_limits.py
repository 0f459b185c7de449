"""Settings that bound the client: finite timeouts, connection and event caps."""

from __future__ import annotations

import httpx2
import pytest

from lmstudio_provider import ConfigError, LMStudioClient
from lmstudio_provider.transport._config import load_settings, settings_from_kwargs


@pytest.mark.parametrize("raw", ["inf", "-inf", "nan", "1e300", "-1", "0", "86401"])
@pytest.mark.parametrize(
    ("variable", "dotted"),
    [
        ("LMSTUDIO_HTTP_TIMEOUT_SECS", "http.timeout_secs"),
        ("LMSTUDIO_HTTP_CONNECT_TIMEOUT_SECS", "http.connect_timeout_secs"),
    ],
)
def test_absurd_timeouts_are_configuration_errors(
    monkeypatch: pytest.MonkeyPatch, variable: str, dotted: str, raw: str
) -> None:
    monkeypatch.setenv(variable, raw)
    with pytest.raises(ConfigError) as caught:
        load_settings()
    assert f"{dotted}=" in caught.value.message
    assert variable in caught.value.message


@pytest.mark.parametrize("value", [float("inf"), float("nan"), 1e300, -5.0])
def test_absurd_timeout_keywords_are_configuration_errors(value: float) -> None:
    with pytest.raises(ConfigError, match=r"http\.timeout_secs"):
        LMStudioClient(timeout=value)


def test_a_day_is_the_longest_timeout() -> None:
    assert settings_from_kwargs(timeout=86400).http.timeout_secs == 86400


def test_connection_and_event_caps_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LMSTUDIO_HTTP_MAX_CONNECTIONS", "3")
    monkeypatch.setenv("LMSTUDIO_HTTP_MAX_EVENT_BYTES", "65536")
    settings = load_settings()
    assert settings.http.max_connections == 3
    assert settings.http.max_event_bytes == 65536


@pytest.mark.parametrize(
    ("keyword", "value"),
    [("max_connections", 0), ("max_event_bytes", 100), ("max_event_bytes", 2 * 1024**3)],
)
def test_caps_out_of_range_are_configuration_errors(keyword: str, value: int) -> None:
    with pytest.raises(ConfigError, match=f"http.{keyword}"):
        settings_from_kwargs(**{keyword: value})


def test_the_pool_holds_at_most_max_connections() -> None:
    with LMStudioClient(max_connections=3, max_idle_connections=10) as client:
        pool = client._http._transport._pool  # type: ignore[attr-defined]
        assert pool._max_connections == 3
        assert pool._max_keepalive_connections == 3
        assert isinstance(client._http, httpx2.Client)
