"""A secret set under a mistyped or unknown name is never printed: the name is said,
with the closest known one, and the value never (errors, hints, reprs, DEBUG logs)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

import pytest

from lmstudio_provider import ConfigError, LMStudioClient
from lmstudio_provider.transport._config import (
    load_settings,
    looks_like_token,
    looks_secret,
    settings_from_kwargs,
)

SECRET = "sk-PLANTED-7f3a9c"
NOT_PREFIXED = "PLANTEDnoprefix"


def failure(make: Callable[[], object], caplog: pytest.LogCaptureFixture) -> ConfigError:
    """The ConfigError ``make`` raises, after checking no output path shows the secret."""
    caplog.set_level(logging.DEBUG, logger="lmstudio_provider")
    with pytest.raises(ConfigError) as caught:
        make()
    error = caught.value
    for text in (str(error), repr(error), error.message, str(error.hint), caplog.text):
        assert SECRET not in text
        assert NOT_PREFIXED not in text
    return error


@pytest.mark.parametrize("value", [SECRET, NOT_PREFIXED])
def test_mistyped_keyword(caplog: pytest.LogCaptureFixture, value: str) -> None:
    error = failure(lambda: LMStudioClient(api_kye=value), caplog)
    assert (
        error.message == "Unknown setting api_kye (did you mean api_key?); its value is not shown."
    )


@pytest.mark.parametrize("value", [SECRET, NOT_PREFIXED])
def test_mistyped_variable(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, value: str
) -> None:
    monkeypatch.setenv("LMSTUDIO_HTTP_API_KYE", value)
    error = failure(load_settings, caplog)
    assert "http.api_kye from environment variable LMSTUDIO_HTTP_API_KYE" in error.message
    assert "unknown setting; did you mean api_key (LMSTUDIO_API_KEY)?" in error.message


@pytest.mark.parametrize(
    "content",
    [
        f"inference:\n  api_kye: {SECRET}\n",
        f"inference:\n  colour: {NOT_PREFIXED}\n",
        f"inference:\n  http:\n    bearer: {SECRET}\n",
        f"inference:\n  defaults:\n    api_kye: {SECRET}\n",
        f"inference:\n  base_url: {SECRET}\n",
    ],
    ids=["mistyped", "unknown", "nested", "in-defaults", "in-a-known-setting"],
)
def test_yaml_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, content: str
) -> None:
    path = tmp_path / "config.yaml"
    path.write_text(content, encoding="utf-8")
    monkeypatch.setenv("LMSTUDIO_CONFIG", str(path))
    error = failure(load_settings, caplog)
    assert str(path) in error.message


def test_closest_name_for_a_mistyped_file_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "config.yaml"
    path.write_text(f"inference:\n  api_kye: {SECRET}\n", encoding="utf-8")
    monkeypatch.setenv("LMSTUDIO_CONFIG", str(path))
    error = failure(load_settings, caplog)
    assert f"api_kye in config file {path} (inference.api_kye): unknown setting; " in error.message
    assert "did you mean api_key?" in error.message


@pytest.mark.parametrize(
    ("name", "secret"),
    [
        ("api_key", True),
        ("apikey", True),
        ("api_kye", True),
        ("apiKey", True),
        ("hf_token", True),
        ("client_secret", True),
        ("password", True),
        ("authorization", True),
        ("credentials", True),
        ("temperature", False),
        ("base_url", False),
        ("max_tokens", False),
        ("top_n_sigma", False),
    ],
)
def test_names_that_look_secret(name: str, secret: bool) -> None:
    assert looks_secret(name) is secret


@pytest.mark.parametrize(
    ("value", "token"),
    [
        ("sk-abc", True),
        ("sk_live_abc", True),
        ("Bearer abc", True),
        ("hf_abcdef", True),
        ("eyJhbGciOiJIUzI1NiJ9.e30.x", True),
        ("a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6", True),
        ("text-embedding-nomic-embed-text-v1.5", False),
        ("qwen2.5-7b-instruct", False),
        ("hello world", False),
        (42, False),
    ],
)
def test_values_that_look_like_tokens(value: object, token: bool) -> None:
    assert looks_like_token(value) is token


@pytest.mark.parametrize("url", ["http://127.0.0.1:99999", "http://localhost:0", "http://h:x"])
def test_an_invalid_port_is_a_configuration_error(url: str) -> None:
    with pytest.raises(ConfigError, match="the port must be a number from 1 to 65535"):
        settings_from_kwargs(base_url=url)
