"""Settings' own rules for values: the loaded-model alias, ``base_url``, ``provider`` and the
request-parameter ``defaults``.
"""

from __future__ import annotations

from typing import Any

import pytest

from lmstudio_provider.transport._config import (
    load_settings,
    settings_from_kwargs,
)
from settings_support import (
    HINT,
    WriteConfig,
    config_error,
    invalid,
)

# -- loaded-model alias ------------------------------------------------------


@pytest.mark.parametrize("name", ["local-model", " local-model ", "", "   "])
def test_local_model_means_the_loaded_model(
    write_config: WriteConfig, monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    assert load_settings(default_model=name).default_model is None
    monkeypatch.setenv("LMSTUDIO_DEFAULT_MODEL", name)
    assert load_settings().default_model is None
    monkeypatch.delenv("LMSTUDIO_DEFAULT_MODEL")
    write_config({"inference": {"default_model": name}})
    assert load_settings().default_model is None


def test_default_model_is_stripped() -> None:
    assert load_settings(default_model="  qwen3-8b ").default_model == "qwen3-8b"


# -- base_url ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("http://localhost:1234", "http://localhost:1234"),
        ("http://localhost:1234/", "http://localhost:1234"),
        ("http://localhost:1234/v1", "http://localhost:1234"),
        ("http://localhost:1234/v1/", "http://localhost:1234"),
        ("  http://127.0.0.1:1234/v1  ", "http://127.0.0.1:1234"),
        ("https://studio.example.com", "https://studio.example.com"),
        ("https://studio.example.com/lm/v1", "https://studio.example.com/lm"),
        ("http://[::1]:1234/", "http://[::1]:1234"),
    ],
)
def test_base_url_accepts_trailing_slash_and_v1(given: str, expected: str) -> None:
    assert load_settings(base_url=given).base_url == expected


@pytest.mark.parametrize(
    "given", ["ftp://localhost:1234", "ws://localhost:1234", "localhost:1234", "http://", "", "/v1"]
)
def test_base_url_must_be_http_or_https(given: str) -> None:
    error = config_error(lambda: load_settings(base_url=given))

    assert error.message == invalid(
        f"base_url={given!r} from an argument: "
        "expected an http:// or https:// URL, like http://localhost:1234"
    )


def test_bad_base_url_from_the_environment_names_the_variable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("INFERENCE_INFERENCE_BASE_URL", "ftp://files:21")

    error = config_error(load_settings)

    assert error.message == invalid(
        "base_url='ftp://files:21' from environment variable INFERENCE_INFERENCE_BASE_URL: "
        "expected an http:// or https:// URL, like http://localhost:1234"
    )


# -- provider ----------------------------------------------------------------


def test_provider_lmstudio_is_accepted(
    write_config: WriteConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("INFERENCE_INFERENCE_PROVIDER", "lmstudio")
    assert load_settings().provider == "lmstudio"
    monkeypatch.delenv("INFERENCE_INFERENCE_PROVIDER")
    write_config("inference:\n  provider: lmstudio\n")
    assert load_settings().provider == "lmstudio"


def test_other_provider_in_the_environment_is_a_clear_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("INFERENCE_INFERENCE_PROVIDER", "openai")

    error = config_error(load_settings)

    assert error.message == invalid(
        "provider='openai' from environment variable INFERENCE_INFERENCE_PROVIDER: "
        "this package only serves provider `lmstudio`"
    )
    assert error.hint == HINT


def test_other_provider_in_the_file_is_a_clear_error(write_config: WriteConfig) -> None:
    path = write_config("inference:\n  provider: ollama\n")

    error = config_error(load_settings)

    assert error.message == invalid(
        f"provider='ollama' from config file {path} (inference.provider): "
        "this package only serves provider `lmstudio`"
    )


# -- defaults (request parameters) -------------------------------------------


def test_file_defaults_are_validated_request_parameters(write_config: WriteConfig) -> None:
    write_config(
        "inference:\n  defaults:\n    max_tokens: 100\n    temperature: 0.7\n"
        "    stop: ['###']\n    logit_bias: {50256: -100}\n"
    )

    assert load_settings().defaults == {
        "max_tokens": 100,
        "temperature": 0.7,
        "stop": ["###"],
        "logit_bias": {"50256": -100.0},
    }


def test_unset_defaults_are_dropped() -> None:
    assert load_settings(defaults={"temperature": None, "top_p": 0.9}).defaults == {"top_p": 0.9}


@pytest.mark.parametrize(
    ("defaults", "expected"),
    [
        ({"temperature": 3}, "temperature=3: Input should be less than or equal to 2"),
        ({"top_p": -0.1}, "top_p=-0.1: Input should be greater than or equal to 0"),
        (
            {"max_tokens": "many"},
            "max_tokens='many': Input should be a valid integer, "
            "unable to parse string as an integer",
        ),
        ({"stop": ""}, "stop='': Value error, a stop sequence must not be empty"),
        (
            {"frobnicate": 1},
            "frobnicate: unknown parameter (known: max_tokens, temperature, top_p, "
            "frequency_penalty, presence_penalty, stop, seed, top_k, min_p, repeat_penalty, "
            "ttl, draft_model, logit_bias, mirostat_mode, mirostat_tau, mirostat_eta, "
            "cache_prompt, reasoning_effort)",
        ),
    ],
)
def test_bad_file_defaults_name_the_file(
    write_config: WriteConfig, defaults: dict[str, Any], expected: str
) -> None:
    path = write_config({"inference": {"defaults": defaults}})

    error = config_error(load_settings)

    # The value under an unknown name is never shown: it may be a mistyped secret.
    shown = {
        name: "********" if name == "frobnicate" else value for name, value in defaults.items()
    }
    assert error.message == invalid(
        f"defaults={shown!r} from config file {path} (inference.defaults): {expected}"
    )


def test_bad_argument_defaults_are_reported_as_an_argument() -> None:
    error = config_error(lambda: settings_from_kwargs(defaults={"presence_penalty": 2.5}))

    assert error.message == invalid(
        "defaults={'presence_penalty': 2.5} from an argument: "
        "presence_penalty=2.5: Input should be less than or equal to 2"
    )


def test_defaults_must_be_a_mapping(write_config: WriteConfig) -> None:
    path = write_config("inference:\n  defaults: [temperature]\n")

    error = config_error(load_settings)

    assert error.message == invalid(
        f"defaults=['temperature'] from config file {path} (inference.defaults): "
        "Input should be a valid dictionary"
    )
