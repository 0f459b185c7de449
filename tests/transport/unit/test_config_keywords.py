"""Flat keywords (``settings_from_kwargs``), ``setting_origins``, and the clients' use of the
settings.
"""

from __future__ import annotations

from pathlib import Path

import httpx2
import pytest
import respx

from lmstudio_provider.transport._async_client import AsyncLMStudioClient
from lmstudio_provider.transport._config import (
    HttpSettings,
    SettingOrigin,
    load_settings,
    setting_origins,
    settings_from_kwargs,
)
from lmstudio_provider.transport._sync_client import LMStudioClient
from settings_support import (
    KNOWN_SETTINGS,
    SECRET,
    WriteConfig,
    assert_no_secret,
    config_error,
    invalid,
    value_of,
)

# -- settings_from_kwargs ----------------------------------------------------


def test_flat_keywords_map_to_settings() -> None:
    settings = settings_from_kwargs(
        base_url="http://kw:1/v1",
        api_key=SECRET,
        default_model="qwen3-8b",
        timeout=5,
        connect_timeout=2,
        keep_alive=1,
        max_idle_connections=3,
        max_retries=0,
        allowed_models=["qwen3-8b", "gemma-3-4b"],
        defaults={"temperature": 0.2},
    )

    assert settings.masked() == {
        "provider": None,
        "base_url": "http://kw:1",
        "api_key": "********",
        "default_model": "qwen3-8b",
        "allowed_models": ["qwen3-8b", "gemma-3-4b"],
        "http": {
            "timeout_secs": 5.0,
            "connect_timeout_secs": 2.0,
            "quick_timeout_secs": 0.6,
            "keep_alive_secs": 1.0,
            "max_idle_connections": 3,
            "load_timeout_secs": 600.0,
            "max_connections": 8,
            "max_event_bytes": 4194304,
        },
        "max_retries": 0,
        "defaults": {"temperature": 0.2},
    }
    assert value_of(settings, "api_key") == SECRET


def test_flat_keywords_combine_with_an_http_mapping() -> None:
    settings = settings_from_kwargs(http={"timeout_secs": 4, "keep_alive_secs": 8}, timeout=6)

    assert settings.http == HttpSettings(
        timeout_secs=6, connect_timeout_secs=10, keep_alive_secs=8, max_idle_connections=10
    )


def test_allowed_models_keyword_accepts_a_comma_string() -> None:
    assert settings_from_kwargs(allowed_models="a, b").allowed_models == ["a", "b"]


@pytest.mark.parametrize(
    ("keyword", "suggestion"),
    [
        ("temperature", ""),
        ("timeout_secs", " (did you mean timeout?)"),
        ("apikey", " (did you mean api_key?)"),
        ("model", ""),
    ],
)
def test_unknown_keyword_lists_the_known_ones(keyword: str, suggestion: str) -> None:
    error = config_error(lambda: settings_from_kwargs(**{keyword: 1}))

    assert error.message == f"Unknown setting {keyword}{suggestion}; its value is not shown."
    assert error.hint == (
        "Known settings: provider, base_url, api_key, default_model, allowed_models, http, "
        "max_retries, defaults, timeout, connect_timeout, quick_timeout, keep_alive, "
        "max_idle_connections, load_timeout, max_connections, max_event_bytes."
    )


def test_unknown_keyword_to_load_settings_lists_the_known_settings() -> None:
    error = config_error(lambda: load_settings(timeout=5))

    assert error.message == invalid(
        "timeout from an argument: unknown setting; did you mean http.timeout_secs? "
        f"(its value is not shown; known: {KNOWN_SETTINGS})"
    )


def test_settings_are_frozen() -> None:
    settings = load_settings()

    with pytest.raises(ValueError, match="frozen"):
        settings.max_retries = 5  # type: ignore[misc]
    with pytest.raises(ValueError, match="frozen"):
        settings.http.timeout_secs = 1  # type: ignore[misc]


# -- setting_origins ---------------------------------------------------------


def test_origin_strings() -> None:
    assert str(SettingOrigin("argument")) == "argument"
    assert str(SettingOrigin("default")) == "default"
    assert str(SettingOrigin("environment", "LM_API_TOKEN")) == "environment LM_API_TOKEN"
    assert str(SettingOrigin("file", "/etc/x.yaml (inference.base_url)")) == (
        "file /etc/x.yaml (inference.base_url)"
    )


@pytest.mark.parametrize(
    ("variable", "dotted"),
    [
        ("LMSTUDIO_API_KEY", "api_key"),
        ("LM_API_TOKEN", "api_key"),
        ("LMSTUDIO_ALLOWED_MODELS", "allowed_models"),
        ("LMSTUDIO_MAX_RETRIES", "max_retries"),
        ("INFERENCE_INFERENCE_PROVIDER", "provider"),
        ("INFERENCE_INFERENCE_HTTP_MAX_IDLE_CONNECTIONS", "http.max_idle_connections"),
    ],
)
def test_origin_of_an_environment_setting_names_the_variable(
    monkeypatch: pytest.MonkeyPatch, variable: str, dotted: str
) -> None:
    monkeypatch.setenv(variable, "lmstudio" if dotted == "provider" else "1")

    origins = setting_origins()

    assert origins[dotted] == SettingOrigin("environment", variable)
    assert all(origin.source == "default" for key, origin in origins.items() if key != dotted)


def test_argument_origin_wins_over_environment_and_file(
    write_config: WriteConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_config("inference:\n  base_url: http://file:1\n")
    monkeypatch.setenv("LMSTUDIO_BASE_URL", "http://env:2")

    assert setting_origins({"base_url": "http://arg:3"})["base_url"] == SettingOrigin("argument")
    assert setting_origins()["base_url"] == SettingOrigin("environment", "LMSTUDIO_BASE_URL")


# -- the clients pick the settings up ----------------------------------------


def test_client_construction_uses_keyword_settings(respx_mock: respx.MockRouter) -> None:
    with LMStudioClient(
        base_url="http://studio:4321/v1/", timeout=5, max_retries=0, allowed_models=["qwen3-8b"]
    ) as client:
        assert client.settings.base_url == "http://studio:4321"
        assert client.settings.http == HttpSettings(
            timeout_secs=5, connect_timeout_secs=10, keep_alive_secs=30, max_idle_connections=10
        )
        assert client.settings.max_retries == 0
        assert client.settings.allowed_models == ["qwen3-8b"]
        assert client._http.timeout == httpx2.Timeout(5.0, connect=10.0, pool=5.0)
        assert client._http.base_url == httpx2.URL("http://studio:4321")
        assert "authorization" not in client._http.headers
        assert repr(client) == "LMStudioClient(base_url='http://studio:4321')"
    assert respx_mock.calls.call_count == 0


def test_client_http_pool_gets_timeouts_and_limits() -> None:
    with LMStudioClient(timeout=5, connect_timeout=2, keep_alive=1, max_idle_connections=3) as c:
        timeout = c._http.timeout
        assert (timeout.connect, timeout.read, timeout.write, timeout.pool) == (2.0, 5.0, 5.0, 5.0)
        transport = c._http._transport
        assert isinstance(transport, httpx2.HTTPTransport)
        pool = transport._pool
        assert pool._max_keepalive_connections == 3
        assert pool._keepalive_expiry == 1.0


def test_client_sends_the_api_key_as_a_bearer_token() -> None:
    with LMStudioClient(api_key=SECRET) as client:
        assert client._http.headers["Authorization"] == f"Bearer {SECRET}"
        assert SECRET not in repr(client)
        assert value_of(client.settings, "api_key") == SECRET


def test_client_reads_environment_and_file(
    write_config: WriteConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_config("inference:\n  http:\n    connect_timeout_secs: 4\n  max_retries: 6\n")
    monkeypatch.setenv("LM_API_TOKEN", SECRET)
    monkeypatch.setenv("INFERENCE_INFERENCE_HTTP_TIMEOUT_SECS", "12")

    with LMStudioClient(max_retries=1) as client:
        assert client.settings.max_retries == 1
        assert client._http.timeout == httpx2.Timeout(12.0, connect=4.0, pool=12.0)
        assert client._http.headers["Authorization"] == f"Bearer {SECRET}"


def test_client_accepts_a_settings_object() -> None:
    settings = load_settings(base_url="http://given:1", http={"timeout_secs": 3})

    with LMStudioClient(settings) as client:
        assert client.settings is settings
        assert client._http.timeout.read == 3.0


def test_client_rejects_an_unknown_keyword() -> None:
    error = config_error(lambda: LMStudioClient(temprature=0.5))

    assert error.message == "Unknown setting temprature; its value is not shown."


def test_client_rejects_invalid_settings() -> None:
    error = config_error(lambda: LMStudioClient(timeout=-1, api_key=SECRET))

    assert error.message == invalid(
        "http.timeout_secs=-1 from an argument: Input should be greater than 0"
    )
    assert_no_secret(str(error))


async def test_async_client_construction_uses_the_same_settings() -> None:
    client = AsyncLMStudioClient(
        base_url="http://studio:4321", timeout=5, connect_timeout=2, api_key=SECRET
    )
    try:
        assert client.settings.http.timeout_secs == 5
        http = await client._http()  # the running event loop's pool
        assert http.timeout == httpx2.Timeout(5.0, connect=2.0, pool=5.0)
        assert http.headers["Authorization"] == f"Bearer {SECRET}"
    finally:
        await client.aclose()


def test_a_misspelt_secret_keyword_is_masked() -> None:
    error = config_error(lambda: settings_from_kwargs(api_token="sk-lm-abc:def"))

    assert "sk-lm-abc" not in str(error)
    assert (
        error.message
        == "Unknown setting api_token (did you mean api_key?); its value is not shown."
    )


def test_a_misspelt_secret_in_the_file_is_masked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("inference:\n  apikey: sk-lm-abc:def\n", encoding="utf-8")
    monkeypatch.setenv("LMSTUDIO_CONFIG", str(path))
    error = config_error(load_settings)

    assert "sk-lm-abc" not in str(error)
    assert "apikey in config file" in error.message
    assert "did you mean api_key?" in error.message


def test_allowed_models_variable_accepts_a_json_list(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LMSTUDIO_ALLOWED_MODELS", '["a", "b/c"]')

    assert load_settings().allowed_models == ["a", "b/c"]
