"""Bad settings: one ``ConfigError`` naming each value, its source and what is expected;
the API key is never shown.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from lmstudio_provider.transport._config import (
    load_settings,
    setting_origins,
    settings_from_kwargs,
)
from lmstudio_provider.transport._errors import LMStudioError
from settings_support import (
    DEFAULT_DUMP,
    FULL_FILE,
    HINT,
    KNOWN_SETTINGS,
    SECRET,
    WriteConfig,
    assert_no_secret,
    config_error,
    invalid,
    value_of,
)

# -- bad input: one ConfigError naming source, value and expectation ---------


def test_invalid_yaml_names_the_file(write_config: WriteConfig) -> None:
    path = write_config("inference:\n  base_url: [unclosed\n")

    error = config_error(load_settings)

    assert error.message.startswith(f"Config file {path} is not valid YAML: ")
    assert "line 3" in error.message
    assert error.hint == "Fix the YAML syntax; settings go under an `inference:` block."
    assert str(error) == f"{error.message}\nHint: {error.hint}"


def test_non_utf8_file_cannot_be_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "latin1.yaml"
    path.write_bytes(b"inference:\n  default_model: caf\xe9\n")
    monkeypatch.setenv("LMSTUDIO_CONFIG", str(path))

    error = config_error(load_settings)

    assert error.message.startswith(f"Config file {path} could not be read: ")
    assert "utf-8" in error.message
    assert error.hint == "Check the file's permissions and that it is UTF-8 text."


def test_directory_as_config_file_cannot_be_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LMSTUDIO_CONFIG", str(tmp_path))

    error = config_error(load_settings)

    assert error.message.startswith(f"Config file {tmp_path} could not be read: ")


@pytest.mark.parametrize(
    ("content", "described"),
    [
        ("inference: 5\n", "int 5"),
        ("inference: [base_url]\n", "list ['base_url']"),
        ("- a\n- b\n", "list ['a', 'b']"),
        ("just a string\n", "str 'just a string'"),
    ],
)
def test_inference_block_must_be_a_mapping(
    write_config: WriteConfig, content: str, described: str
) -> None:
    path = write_config(content)

    error = config_error(load_settings)

    assert error.message == (
        f"Config file {path}: `inference` must be a mapping of settings, got {described}."
    )


def test_unknown_key_in_the_file_lists_the_known_settings(write_config: WriteConfig) -> None:
    path = write_config("inference:\n  base_ulr: http://typo:1\n")

    error = config_error(load_settings)

    assert error.message == invalid(
        f"base_ulr in config file {path} (inference.base_ulr): "
        f"unknown setting; did you mean base_url? (its value is not shown; known: {KNOWN_SETTINGS})"
    )
    assert error.hint == HINT


def test_unknown_nested_key_in_the_file_names_its_path(write_config: WriteConfig) -> None:
    path = write_config("inference:\n  http:\n    timeout: 5\n")

    error = config_error(load_settings)

    assert error.message == invalid(
        f"http.timeout in config file {path} (inference.http.timeout): unknown setting; "
        f"did you mean http.timeout_secs? (its value is not shown; known: {KNOWN_SETTINGS})"
    )


def test_unknown_nested_environment_variable_names_the_variable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("LMSTUDIO_HTTP_TIMEOUT", "5")

    error = config_error(load_settings)

    assert error.message == invalid(
        "http.timeout from environment variable LMSTUDIO_HTTP_TIMEOUT: unknown setting; "
        "did you mean http.timeout_secs (LMSTUDIO_HTTP_TIMEOUT_SECS)? "
        f"(its value is not shown; known: {KNOWN_SETTINGS})"
    )


def test_wrong_type_in_the_file(write_config: WriteConfig) -> None:
    path = write_config("inference:\n  max_retries: lots\n")

    error = config_error(load_settings)

    assert error.message == invalid(
        f"max_retries='lots' from config file {path} (inference.max_retries): "
        "Input should be a valid integer, unable to parse string as an integer"
    )


def test_http_block_must_be_a_mapping(write_config: WriteConfig) -> None:
    path = write_config("inference:\n  http: 30\n")

    error = config_error(load_settings)

    assert error.message == invalid(
        f"http=30 in config file {path} (inference.http): "
        "Input should be a valid dictionary or instance of HttpSettings"
    )


def test_negative_timeout_in_the_file(write_config: WriteConfig) -> None:
    path = write_config("inference:\n  http:\n    timeout_secs: -5\n")

    error = config_error(load_settings)

    assert error.message == invalid(
        f"http.timeout_secs=-5 from config file {path} (inference.http.timeout_secs): "
        "Input should be greater than 0"
    )


@pytest.mark.parametrize(
    ("variable", "dotted", "raw", "expected"),
    [
        ("LMSTUDIO_HTTP_TIMEOUT_SECS", "http.timeout_secs", "-1", "Input should be greater than 0"),
        (
            "INFERENCE_INFERENCE_HTTP_TIMEOUT_SECS",
            "http.timeout_secs",
            "0",
            "Input should be greater than 0",
        ),
        (
            "LMSTUDIO_HTTP_CONNECT_TIMEOUT_SECS",
            "http.connect_timeout_secs",
            "-2",
            "Input should be greater than 0",
        ),
        (
            "INFERENCE_INFERENCE_HTTP_KEEP_ALIVE_SECS",
            "http.keep_alive_secs",
            "-1",
            "Input should be greater than or equal to 0",
        ),
        (
            "LMSTUDIO_HTTP_MAX_IDLE_CONNECTIONS",
            "http.max_idle_connections",
            "many",
            "Input should be a valid integer, unable to parse string as an integer",
        ),
        (
            "LMSTUDIO_MAX_RETRIES",
            "max_retries",
            "-1",
            "Input should be greater than or equal to 0",
        ),
        ("LMSTUDIO_MAX_RETRIES", "max_retries", "21", "Input should be less than or equal to 20"),
        (
            "LMSTUDIO_HTTP_TIMEOUT_SECS",
            "http.timeout_secs",
            "soon",
            "Input should be a valid number, unable to parse string as a number",
        ),
    ],
)
def test_bad_environment_value_names_the_variable(
    monkeypatch: pytest.MonkeyPatch, variable: str, dotted: str, raw: str, expected: str
) -> None:
    monkeypatch.setenv(variable, raw)

    error = config_error(load_settings)

    assert error.message == invalid(
        f"{dotted}={raw!r} from environment variable {variable}: {expected}"
    )


@pytest.mark.parametrize(
    ("keyword", "value", "dotted", "expected"),
    [
        ("timeout", -1, "http.timeout_secs", "Input should be greater than 0"),
        ("timeout", 0, "http.timeout_secs", "Input should be greater than 0"),
        ("connect_timeout", 0, "http.connect_timeout_secs", "Input should be greater than 0"),
        ("keep_alive", -0.5, "http.keep_alive_secs", "Input should be greater than or equal to 0"),
        (
            "max_idle_connections",
            -1,
            "http.max_idle_connections",
            "Input should be greater than or equal to 0",
        ),
        ("max_retries", -1, "max_retries", "Input should be greater than or equal to 0"),
        ("max_retries", 21, "max_retries", "Input should be less than or equal to 20"),
        ("allowed_models", 5, "allowed_models", "Input should be a valid list"),
    ],
)
def test_bad_argument_is_reported_as_an_argument(
    keyword: str, value: Any, dotted: str, expected: str
) -> None:
    error = config_error(lambda: settings_from_kwargs(**{keyword: value}))

    assert error.message == invalid(f"{dotted}={value!r} from an argument: {expected}")


def test_bad_argument_is_blamed_on_the_argument_even_when_the_environment_sets_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("LMSTUDIO_MAX_RETRIES", "3")

    error = config_error(lambda: load_settings(max_retries=-4))

    assert error.message == invalid(
        "max_retries=-4 from an argument: Input should be greater than or equal to 0"
    )


def test_every_problem_goes_into_one_error(
    write_config: WriteConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write_config("inference:\n  max_retries: -1\n  colour: blue\n")
    monkeypatch.setenv("LMSTUDIO_HTTP_TIMEOUT_SECS", "-3")

    error = config_error(load_settings)

    assert error.message == invalid(
        "http.timeout_secs='-3' from environment variable LMSTUDIO_HTTP_TIMEOUT_SECS: "
        "Input should be greater than 0",
        f"max_retries=-1 from config file {path} (inference.max_retries): "
        "Input should be greater than or equal to 0",
        f"colour in config file {path} (inference.colour): "
        f"unknown setting (its value is not shown; known: {KNOWN_SETTINGS})",
    )


def test_config_error_is_a_value_error_with_status_400() -> None:
    error = config_error(lambda: load_settings(base_url="nope"))

    assert isinstance(error, ValueError)
    assert isinstance(error, LMStudioError)
    assert error.status_code == 400
    assert error.__cause__ is None
    assert error.__suppress_context__


# -- the API key stays secret ------------------------------------------------


@pytest.mark.parametrize("variable", ["LMSTUDIO_API_KEY", "LM_API_TOKEN"])
def test_api_key_is_hidden_in_repr_str_and_masked(
    monkeypatch: pytest.MonkeyPatch, variable: str
) -> None:
    monkeypatch.setenv(variable, SECRET)
    settings = load_settings()

    assert value_of(settings, "api_key") == SECRET
    masked = settings.masked()
    assert masked["api_key"] == "********"
    assert {k: v for k, v in masked.items() if k != "api_key"} == {
        k: v for k, v in DEFAULT_DUMP.items() if k != "api_key"
    }
    assert_no_secret(
        repr(settings),
        str(settings),
        repr(masked),
        settings.model_dump_json(),
        repr(settings.api_key),
        str(settings.api_key),
        repr(setting_origins()),
    )
    assert "**********" in repr(settings)


def test_masked_without_an_api_key_says_none() -> None:
    assert load_settings().masked()["api_key"] is None


def test_api_key_is_hidden_in_errors_about_other_settings(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("LMSTUDIO_API_KEY", SECRET)

    error = config_error(lambda: settings_from_kwargs(base_url="nope", timeout=-1))

    assert "base_url='nope'" in error.message
    assert "http.timeout_secs=-1" in error.message
    assert_no_secret(str(error), repr(error), error.message, str(error.hint))


def test_api_key_of_the_wrong_type_in_the_file_is_masked(write_config: WriteConfig) -> None:
    path = write_config({"inference": {"api_key": [SECRET]}})

    error = config_error(load_settings)

    assert error.message == invalid(
        f"api_key='********' from config file {path} (inference.api_key): "
        "Input should be a valid string"
    )
    assert_no_secret(str(error), repr(error))


def test_api_key_of_the_wrong_type_as_an_argument_is_masked() -> None:
    error = config_error(lambda: load_settings(api_key=12345678))

    assert error.message == invalid(
        "api_key='********' from an argument: Input should be a valid string"
    )
    assert "12345678" not in str(error)


def test_api_key_from_the_file_is_hidden(write_config: WriteConfig) -> None:
    write_config(FULL_FILE)
    settings = load_settings()

    assert value_of(settings, "api_key") == SECRET
    assert settings.masked()["api_key"] == "********"
    assert_no_secret(repr(settings), str(settings), repr(settings.masked()))
