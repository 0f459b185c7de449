"""``settings_report()``: the effective settings, each with its source, secrets masked.

The autouse ``isolated_settings`` fixture (tests/conftest.py) starts each test from the
built-in defaults, with no config file.
"""

from __future__ import annotations

import json

import pytest

from lmstudio_provider.transport import ConfigError, SettingsReport, settings_report
from settings_support import SECRET, SETTING_NAMES, WriteConfig


def test_defaults_with_their_source_and_a_missing_config_file() -> None:
    report = settings_report()

    rows = {name: (value, source) for name, value, source in report.rows()}
    assert list(rows) == SETTING_NAMES
    assert rows["base_url"] == ("http://localhost:1234", "default")
    assert rows["api_key"] == ("-", "default")
    assert rows["http.timeout_secs"] == ("60.0", "default")
    assert rows["defaults"] == ("-", "default")
    assert report.error is None
    assert report.settings is not None
    assert not report.config_file_named
    assert report.config_file_text() == f"{report.config_file} (not found)"


def test_environment_and_file_values_are_named_with_their_source_and_secrets_masked(
    monkeypatch: pytest.MonkeyPatch, write_config: WriteConfig
) -> None:
    path = write_config({"inference": {"http": {"timeout_secs": 5}, "allowed_models": ["a"]}})
    monkeypatch.setenv("LMSTUDIO_API_KEY", SECRET)

    report = settings_report()

    rows = {name: (value, source) for name, value, source in report.rows()}
    assert rows["api_key"] == ("********", "environment LMSTUDIO_API_KEY")
    assert rows["http.timeout_secs"] == ("5.0", f"file {path} (inference.http.timeout_secs)")
    assert rows["allowed_models"] == ('["a"]', f"file {path} (inference.allowed_models)")
    assert report.config_file_named
    assert report.config_file_text() == str(path)
    assert SECRET not in json.dumps(report.as_dict()) + repr(report.rows())


def test_an_invalid_configuration_is_reported_with_the_values_as_given(
    monkeypatch: pytest.MonkeyPatch, write_config: WriteConfig
) -> None:
    write_config({"inference": {"base_url": "localhost:1234", "api_key": SECRET}})
    monkeypatch.setenv("LMSTUDIO_MAX_RETRIES", "many")

    report = settings_report()

    assert report.settings is None
    assert isinstance(report.error, ConfigError)
    rows = {name: (value, source) for name, value, source in report.rows()}
    assert rows["max_retries"] == ("many", "environment LMSTUDIO_MAX_RETRIES")
    assert rows["base_url"][0] == "localhost:1234"
    assert rows["api_key"][0] == "********"
    data = report.as_dict(cache="c.json")
    assert list(data) == ["settings", "config_file", "cache", "error"]
    assert data["settings"]["max_retries"] == {
        "value": "many",
        "source": "environment LMSTUDIO_MAX_RETRIES",
    }
    assert data["error"]["message"].startswith("Invalid configuration: ")
    assert data["error"]["hint"]
    assert SECRET not in json.dumps(data)


def test_an_invalid_configuration_shows_no_token_put_where_it_does_not_belong(
    monkeypatch: pytest.MonkeyPatch, write_config: WriteConfig
) -> None:
    """A key in the wrong variable, or under an unknown request default, is masked in the
    table as in the error beside it."""
    write_config({"inference": {"defaults": {"temperature": 0.5, "token": SECRET}}})
    monkeypatch.setenv("LMSTUDIO_BASE_URL", SECRET)

    report = settings_report()

    assert report.error is not None
    rows = {name: (value, source) for name, value, source in report.rows()}
    assert rows["base_url"] == ("********", "environment LMSTUDIO_BASE_URL")
    assert json.loads(rows["defaults"][0]) == {"temperature": 0.5, "token": "********"}
    assert SECRET not in json.dumps(report.as_dict()) + repr(report.rows()) + str(report.error)


def test_a_key_the_caller_holds_is_shown_masked_with_its_source() -> None:
    report = settings_report().with_api_key_from("llm keys (lmstudio)")

    assert isinstance(report, SettingsReport)
    assert report.as_dict()["settings"]["api_key"] == {
        "value": "********",
        "source": "llm keys (lmstudio)",
    }
    assert "error" not in report.as_dict()
    assert list(report.as_dict(cache="c.json")) == ["settings", "config_file", "cache"]
