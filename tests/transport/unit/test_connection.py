"""``Connection``: the settings (or why there are none) and one pair of clients per key."""

from __future__ import annotations

import pytest
import respx

from lmstudio_provider.transport import ConfigError, Connection, ModelInfo

BASE = "http://localhost:1234"


def test_one_client_per_key_with_that_key() -> None:
    connection = Connection.load()
    try:
        plain = connection.client()
        assert connection.client(None) is plain
        keyed = connection.client("sk-lm-given")
        assert keyed is not plain
        assert connection.client("sk-lm-given") is keyed
        assert plain.settings.api_key is None
        assert keyed.settings.api_key is not None
        assert keyed.settings.api_key.get_secret_value() == "sk-lm-given"
        assert connection.async_client("sk-lm-given") is connection.async_client("sk-lm-given")
        assert connection.async_client() is not connection.async_client("sk-lm-given")
    finally:
        connection.close()


def test_a_key_given_wins_over_the_settings_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LMSTUDIO_API_KEY", "sk-lm-settings")
    connection = Connection.load()
    settings = connection.settings_with_key(None)
    assert settings.api_key is not None
    assert settings.api_key.get_secret_value() == "sk-lm-settings"
    given = connection.settings_with_key("sk-lm-given").api_key
    assert given is not None
    assert given.get_secret_value() == "sk-lm-given"


async def test_a_list_given_to_a_client_spares_it_a_request(
    respx_mock: respx.MockRouter,
) -> None:
    models = [ModelInfo("qwen/qwen3-4b", type="llm", state="loaded")]
    connection = Connection.load()
    try:
        # No route is mocked: a request would fail the test.
        assert connection.client(None, models).resolve_model("qwen").id == "qwen/qwen3-4b"
        resolved = await connection.async_client(None, models).resolve_model("qwen")
        assert resolved.id == "qwen/qwen3-4b"
    finally:
        connection.close()
    assert not respx_mock.calls


def test_close_closes_the_clients_and_the_next_call_makes_new_ones() -> None:
    connection = Connection.load()
    first = connection.client()
    connection.close()
    assert first._http.is_closed  # its pool is closed
    assert connection.client() is not first
    connection.close()


def test_an_invalid_configuration_is_kept_and_raised_when_used(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("LMSTUDIO_BASE_URL", "localhost:1234")
    connection = Connection.load()
    assert connection.settings is None
    assert isinstance(connection.error, ConfigError)
    assert "base_url='localhost:1234'" in connection.error.message
    with pytest.raises(ConfigError) as raised:
        connection.client()
    assert raised.value is connection.error
    with pytest.raises(ConfigError):
        connection.async_client("sk-lm-given")
