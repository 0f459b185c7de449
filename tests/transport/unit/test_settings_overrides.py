"""``Settings.with_overrides`` and ``resolve_settings``: the one merge rule of the front ends."""

from __future__ import annotations

import pytest

from lmstudio_provider.transport import (
    ConfigError,
    LMStudioClient,
    Settings,
    resolve_settings,
    settings_from_kwargs,
)


def test_with_overrides_replaces_only_the_given_values() -> None:
    base = settings_from_kwargs(base_url="http://h:1", timeout=3, max_retries=4)
    merged = base.with_overrides(api_key="k2", keep_alive=4, max_retries=None)
    assert merged.base_url == "http://h:1"
    assert merged.api_key is not None
    assert merged.api_key.get_secret_value() == "k2"
    assert merged.http.timeout_secs == 3
    assert merged.http.keep_alive_secs == 4
    assert merged.max_retries == 4


def test_with_overrides_without_values_is_the_same_settings() -> None:
    base = settings_from_kwargs(base_url="http://h:1")
    assert base.with_overrides() is base
    assert base.with_overrides(api_key=None, timeout=None) is base


def test_with_overrides_keeps_unset_settings_unset(monkeypatch: pytest.MonkeyPatch) -> None:
    base = settings_from_kwargs(base_url="http://h:1")
    monkeypatch.setenv("LMSTUDIO_DEFAULT_MODEL", "from-env")
    monkeypatch.setenv("LMSTUDIO_API_KEY", "from-env")
    merged = base.with_overrides(timeout=5)
    assert merged.default_model is None
    assert merged.api_key is None


def test_with_overrides_rejects_a_bad_value_naming_it() -> None:
    base = settings_from_kwargs(base_url="http://h:1")
    with pytest.raises(ConfigError) as caught:
        base.with_overrides(timeout=-1)
    assert "http.timeout_secs=-1 from an argument" in caught.value.message


def test_with_overrides_rejects_an_unknown_keyword_without_echoing_a_secret() -> None:
    base = settings_from_kwargs(base_url="http://h:1")
    with pytest.raises(ConfigError) as caught:
        base.with_overrides(api_token="sk-secret")
    assert "api_token" in str(caught.value)
    assert "sk-secret" not in str(caught.value)


def test_resolve_settings_reads_the_environment_only_without_base(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("LMSTUDIO_DEFAULT_MODEL", "from-env")
    assert resolve_settings(timeout=2).default_model == "from-env"
    base = Settings(default_model="given")
    assert resolve_settings(base, timeout=2).default_model == "given"


def test_client_applies_keywords_over_given_settings() -> None:
    base = settings_from_kwargs(base_url="http://h:1", timeout=3)
    client = LMStudioClient(base, timeout=7, api_key="k")
    try:
        assert client.settings.http.timeout_secs == 7
        assert client.settings.base_url == "http://h:1"
        assert client.settings.api_key is not None
    finally:
        client.close()
