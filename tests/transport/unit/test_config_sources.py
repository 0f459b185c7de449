"""Settings from the defaults, the environment, the YAML file and arguments, and their precedence.

The autouse ``isolated_settings`` fixture (tests/conftest.py) removes every
LMSTUDIO_*/INFERENCE_INFERENCE_* variable and points XDG_CONFIG_HOME at an empty
temporary directory, so each test starts from the built-in defaults.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

from lmstudio_provider.transport._config import (
    DEFAULT_BASE_URL,
    HttpSettings,
    SettingOrigin,
    default_config_path,
    load_settings,
    setting_origins,
    settings_from_kwargs,
)
from settings_support import (
    DEFAULT_DUMP,
    FULL_FILE,
    SECRET,
    SETTING_NAMES,
    WriteConfig,
    config_error,
    nested,
    value_of,
)

# -- defaults ----------------------------------------------------------------


def test_defaults_when_nothing_is_configured() -> None:
    settings = load_settings()

    assert not default_config_path().exists()
    assert settings.model_dump(mode="json") == DEFAULT_DUMP
    assert settings.base_url == DEFAULT_BASE_URL == "http://localhost:1234"
    assert settings.api_key is None
    assert settings.default_model is None
    assert settings.allowed_models is None
    assert settings.http == HttpSettings(
        timeout_secs=60, connect_timeout_secs=10, keep_alive_secs=30, max_idle_connections=10
    )
    assert settings.max_retries == 2
    assert settings.defaults == {}
    assert settings.provider is None


def test_every_setting_reports_the_default_origin_when_nothing_is_configured() -> None:
    origins = setting_origins()

    assert list(origins) == SETTING_NAMES
    assert all(origin == SettingOrigin("default") for origin in origins.values())
    assert str(origins["base_url"]) == "default"


@pytest.mark.skipif(sys.platform != "linux", reason="XDG config directories are Linux's")
def test_default_config_path_is_in_the_user_config_directory(tmp_path: Path) -> None:
    # conftest points XDG_CONFIG_HOME at tmp_path / "xdg-config".
    assert default_config_path() == tmp_path / "xdg-config" / "lmstudio-provider" / "config.yaml"


def test_default_config_file_is_read_when_lmstudio_config_is_unset() -> None:
    path = default_config_path()
    path.parent.mkdir(parents=True)
    path.write_text("inference:\n  base_url: http://from-default-file:1234\n", encoding="utf-8")

    assert load_settings().base_url == "http://from-default-file:1234"
    assert setting_origins()["base_url"] == SettingOrigin("file", f"{path} (inference.base_url)")


def test_named_config_file_replaces_the_default_one(write_config: WriteConfig) -> None:
    default = default_config_path()
    default.parent.mkdir(parents=True)
    default.write_text("inference:\n  base_url: http://default-file:1\n  max_retries: 7\n")
    write_config("inference:\n  base_url: http://named-file:2\n")

    settings = load_settings()

    assert settings.base_url == "http://named-file:2"
    assert settings.max_retries == 2


def test_missing_named_config_file_is_an_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    missing = tmp_path / "nowhere" / "config.yaml"
    monkeypatch.setenv("LMSTUDIO_CONFIG", str(missing))

    error = config_error(load_settings)

    assert error.message == f"Config file {missing} (named by LMSTUDIO_CONFIG) does not exist."
    assert error.hint == f"Create it, or unset LMSTUDIO_CONFIG to use {default_config_path()}."


def test_config_path_expands_the_home_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "home"
    home.mkdir()
    (home / "lm.yaml").write_text("inference:\n  default_model: from-home\n", encoding="utf-8")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("LMSTUDIO_CONFIG", "~/lm.yaml")

    assert load_settings().default_model == "from-home"


def test_empty_lmstudio_config_means_the_default_file(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LMSTUDIO_CONFIG", "")

    assert load_settings().model_dump(mode="json") == DEFAULT_DUMP


# -- environment -------------------------------------------------------------

ENV_CASES = [
    ("LMSTUDIO_BASE_URL", "http://env-host:4321", "base_url", "http://env-host:4321"),
    ("INFERENCE_INFERENCE_BASE_URL", "http://inf-host:4321", "base_url", "http://inf-host:4321"),
    ("LMSTUDIO_API_KEY", SECRET, "api_key", SECRET),
    ("LM_API_TOKEN", SECRET, "api_key", SECRET),
    ("INFERENCE_INFERENCE_API_KEY", SECRET, "api_key", SECRET),
    ("LMSTUDIO_DEFAULT_MODEL", "qwen3-8b", "default_model", "qwen3-8b"),
    ("INFERENCE_INFERENCE_DEFAULT_MODEL", "gemma-3-4b", "default_model", "gemma-3-4b"),
    (
        "LMSTUDIO_ALLOWED_MODELS",
        "qwen3-8b, gemma-3-4b,,",
        "allowed_models",
        ["qwen3-8b", "gemma-3-4b"],
    ),
    ("LMSTUDIO_HTTP_TIMEOUT_SECS", "5", "http.timeout_secs", 5.0),
    ("INFERENCE_INFERENCE_HTTP_TIMEOUT_SECS", "6.5", "http.timeout_secs", 6.5),
    ("LMSTUDIO_HTTP_CONNECT_TIMEOUT_SECS", "2", "http.connect_timeout_secs", 2.0),
    ("INFERENCE_INFERENCE_HTTP_CONNECT_TIMEOUT_SECS", "3", "http.connect_timeout_secs", 3.0),
    ("LMSTUDIO_HTTP_KEEP_ALIVE_SECS", "1", "http.keep_alive_secs", 1.0),
    ("INFERENCE_INFERENCE_HTTP_KEEP_ALIVE_SECS", "0", "http.keep_alive_secs", 0.0),
    ("LMSTUDIO_HTTP_MAX_IDLE_CONNECTIONS", "3", "http.max_idle_connections", 3),
    ("INFERENCE_INFERENCE_HTTP_MAX_IDLE_CONNECTIONS", "4", "http.max_idle_connections", 4),
    ("LMSTUDIO_MAX_RETRIES", "0", "max_retries", 0),
    ("INFERENCE_INFERENCE_PROVIDER", "lmstudio", "provider", "lmstudio"),
]


@pytest.mark.parametrize(("variable", "raw", "dotted", "expected"), ENV_CASES)
def test_environment_variable_sets_its_setting(
    monkeypatch: pytest.MonkeyPatch, variable: str, raw: str, dotted: str, expected: Any
) -> None:
    monkeypatch.setenv(variable, raw)

    settings = load_settings()

    assert value_of(settings, dotted) == expected
    assert type(value_of(settings, dotted)) is type(expected)
    # Nothing else changed.
    dump = settings.model_dump(mode="json")
    top = dotted.split(".")[0]
    assert {k: v for k, v in dump.items() if k != top} == {
        k: v for k, v in DEFAULT_DUMP.items() if k != top
    }
    assert setting_origins()[dotted] == SettingOrigin("environment", variable)
    assert str(setting_origins()[dotted]) == f"environment {variable}"


def test_environment_variable_names_are_case_insensitive(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("lmstudio_base_url", "http://lower-case:1")

    assert load_settings().base_url == "http://lower-case:1"
    assert setting_origins()["base_url"] == SettingOrigin("environment", "LMSTUDIO_BASE_URL")


def test_allowed_models_of_only_commas_means_no_restriction(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("LMSTUDIO_ALLOWED_MODELS", " , ,")

    assert load_settings().allowed_models is None


@pytest.mark.parametrize(
    ("lmstudio", "inference", "dotted", "lm_value", "expected"),
    [
        (
            "LMSTUDIO_BASE_URL",
            "INFERENCE_INFERENCE_BASE_URL",
            "base_url",
            "http://lm:1",
            "http://lm:1",
        ),
        ("LMSTUDIO_API_KEY", "INFERENCE_INFERENCE_API_KEY", "api_key", SECRET, SECRET),
        (
            "LMSTUDIO_DEFAULT_MODEL",
            "INFERENCE_INFERENCE_DEFAULT_MODEL",
            "default_model",
            "lm",
            "lm",
        ),
        (
            "LMSTUDIO_HTTP_TIMEOUT_SECS",
            "INFERENCE_INFERENCE_HTTP_TIMEOUT_SECS",
            "http.timeout_secs",
            "5",
            5.0,
        ),
        (
            "LMSTUDIO_HTTP_CONNECT_TIMEOUT_SECS",
            "INFERENCE_INFERENCE_HTTP_CONNECT_TIMEOUT_SECS",
            "http.connect_timeout_secs",
            "2",
            2.0,
        ),
        (
            "LMSTUDIO_HTTP_KEEP_ALIVE_SECS",
            "INFERENCE_INFERENCE_HTTP_KEEP_ALIVE_SECS",
            "http.keep_alive_secs",
            "1",
            1.0,
        ),
        (
            "LMSTUDIO_HTTP_MAX_IDLE_CONNECTIONS",
            "INFERENCE_INFERENCE_HTTP_MAX_IDLE_CONNECTIONS",
            "http.max_idle_connections",
            "3",
            3,
        ),
    ],
)
def test_lmstudio_prefix_wins_over_inference_prefix(
    monkeypatch: pytest.MonkeyPatch,
    lmstudio: str,
    inference: str,
    dotted: str,
    lm_value: str,
    expected: Any,
) -> None:
    monkeypatch.setenv(inference, "http://inference:9" if dotted == "base_url" else "7")
    monkeypatch.setenv(lmstudio, lm_value)

    assert value_of(load_settings(), dotted) == expected
    assert setting_origins()[dotted] == SettingOrigin("environment", lmstudio)


def test_lmstudio_api_key_wins_over_lm_api_token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LM_API_TOKEN", "token-from-lm-api-token")
    monkeypatch.setenv("LMSTUDIO_API_KEY", SECRET)

    assert value_of(load_settings(), "api_key") == SECRET
    assert setting_origins()["api_key"] == SettingOrigin("environment", "LMSTUDIO_API_KEY")


def test_a_generic_api_key_variable_is_not_the_lmstudio_token(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Another service's key must never be sent to LM Studio.
    monkeypatch.setenv("API_KEY", "someone-elses-key")

    assert load_settings().api_key is None
    assert setting_origins()["api_key"] == SettingOrigin("default")


def test_http_settings_from_both_prefixes_merge(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LMSTUDIO_HTTP_TIMEOUT_SECS", "5")
    monkeypatch.setenv("INFERENCE_INFERENCE_HTTP_TIMEOUT_SECS", "9")
    monkeypatch.setenv("INFERENCE_INFERENCE_HTTP_CONNECT_TIMEOUT_SECS", "2")

    assert load_settings().http == HttpSettings(
        timeout_secs=5, connect_timeout_secs=2, keep_alive_secs=30, max_idle_connections=10
    )
    origins = setting_origins()
    assert origins["http.timeout_secs"] == SettingOrigin(
        "environment", "LMSTUDIO_HTTP_TIMEOUT_SECS"
    )
    assert origins["http.connect_timeout_secs"] == SettingOrigin(
        "environment", "INFERENCE_INFERENCE_HTTP_CONNECT_TIMEOUT_SECS"
    )
    assert origins["http.keep_alive_secs"] == SettingOrigin("default")


def test_unrelated_lmstudio_variables_are_not_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LMSTUDIO_LOG", "debug")

    assert load_settings().model_dump(mode="json") == DEFAULT_DUMP


# -- YAML file ---------------------------------------------------------------


def test_yaml_file_sets_every_setting(write_config: WriteConfig) -> None:
    path = write_config(FULL_FILE)

    settings = load_settings()

    assert settings.provider == "lmstudio"
    assert settings.base_url == "http://file-host:5678"
    assert value_of(settings, "api_key") == SECRET
    assert settings.default_model == "qwen3-8b"
    assert settings.allowed_models == ["qwen3-8b", "gemma-3-4b"]
    assert settings.http == HttpSettings(
        timeout_secs=5,
        connect_timeout_secs=2,
        quick_timeout_secs=0.5,
        keep_alive_secs=1.5,
        max_idle_connections=3,
        load_timeout_secs=900,
        max_connections=6,
        max_event_bytes=65536,
    )
    assert settings.max_retries == 4
    assert settings.defaults == {"max_tokens": 100, "temperature": 0.7}
    origins = setting_origins()
    assert origins == {
        name: SettingOrigin("file", f"{path} (inference.{name})") for name in SETTING_NAMES
    }
    assert str(origins["http.timeout_secs"]) == f"file {path} (inference.http.timeout_secs)"


def test_yaml_file_without_an_inference_block_is_read_whole(write_config: WriteConfig) -> None:
    write_config("base_url: http://top-level:1\nmax_retries: 5\n")

    settings = load_settings()

    assert settings.base_url == "http://top-level:1"
    assert settings.max_retries == 5


def test_yaml_allowed_models_may_be_a_comma_list(write_config: WriteConfig) -> None:
    write_config("inference:\n  allowed_models: 'a-model, b-model'\n")

    assert load_settings().allowed_models == ["a-model", "b-model"]


@pytest.mark.parametrize(
    "content", ["", "# nothing yet\n", "inference:\n", "inference:\n  # later\n"]
)
def test_empty_yaml_file_or_block_means_defaults(write_config: WriteConfig, content: str) -> None:
    write_config(content)

    assert load_settings().model_dump(mode="json") == DEFAULT_DUMP


def test_yaml_file_with_other_sections_uses_only_inference(write_config: WriteConfig) -> None:
    write_config("other_tool:\n  base_url: ftp://ignored\ninference:\n  max_retries: 1\n")

    settings = load_settings()

    assert settings.max_retries == 1
    assert settings.base_url == DEFAULT_BASE_URL


# -- precedence --------------------------------------------------------------

# setting, YAML value, environment variable and value, keyword and value, expected values.
PRECEDENCE_CASES = [
    (
        "base_url",
        "http://file:1",
        ("LMSTUDIO_BASE_URL", "http://env:2"),
        ("base_url", "http://arg:3"),
        ("http://file:1", "http://env:2", "http://arg:3"),
    ),
    (
        "api_key",
        "key-from-file",
        ("LMSTUDIO_API_KEY", "key-from-env"),
        ("api_key", "key-from-arg"),
        ("key-from-file", "key-from-env", "key-from-arg"),
    ),
    (
        "default_model",
        "file-model",
        ("INFERENCE_INFERENCE_DEFAULT_MODEL", "env-model"),
        ("default_model", "arg-model"),
        ("file-model", "env-model", "arg-model"),
    ),
    (
        "allowed_models",
        ["file-a", "file-b"],
        ("LMSTUDIO_ALLOWED_MODELS", "env-a,env-b"),
        ("allowed_models", ["arg-a"]),
        (["file-a", "file-b"], ["env-a", "env-b"], ["arg-a"]),
    ),
    (
        "http.timeout_secs",
        11,
        ("LMSTUDIO_HTTP_TIMEOUT_SECS", "22"),
        ("timeout", 33),
        (11.0, 22.0, 33.0),
    ),
    (
        "http.connect_timeout_secs",
        11,
        ("INFERENCE_INFERENCE_HTTP_CONNECT_TIMEOUT_SECS", "22"),
        ("connect_timeout", 33),
        (11.0, 22.0, 33.0),
    ),
    (
        "http.keep_alive_secs",
        11,
        ("LMSTUDIO_HTTP_KEEP_ALIVE_SECS", "22"),
        ("keep_alive", 0),
        (11.0, 22.0, 0.0),
    ),
    (
        "http.max_idle_connections",
        11,
        ("LMSTUDIO_HTTP_MAX_IDLE_CONNECTIONS", "22"),
        ("max_idle_connections", 0),
        (11, 22, 0),
    ),
    (
        "max_retries",
        5,
        ("LMSTUDIO_MAX_RETRIES", "7"),
        ("max_retries", 0),
        (5, 7, 0),
    ),
]


@pytest.mark.parametrize(("dotted", "file_value", "env", "keyword", "expected"), PRECEDENCE_CASES)
def test_arguments_beat_environment_beats_file_beats_default(
    write_config: WriteConfig,
    monkeypatch: pytest.MonkeyPatch,
    dotted: str,
    file_value: Any,
    env: tuple[str, str],
    keyword: tuple[str, Any],
    expected: tuple[Any, Any, Any],
) -> None:
    from_file, from_env, from_arg = expected
    path = write_config({"inference": nested(dotted, file_value)})
    assert value_of(load_settings(), dotted) == from_file
    assert setting_origins()[dotted] == SettingOrigin("file", f"{path} (inference.{dotted})")

    monkeypatch.setenv(*env)
    assert value_of(load_settings(), dotted) == from_env
    assert setting_origins()[dotted] == SettingOrigin("environment", env[0])

    name, value = keyword
    settings = settings_from_kwargs(**{name: value})
    assert value_of(settings, dotted) == from_arg
    assert setting_origins(nested(dotted, value_of(settings, dotted)))[dotted] == SettingOrigin(
        "argument"
    )


def test_sources_merge_setting_by_setting(
    write_config: WriteConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write_config(
        {
            "inference": {
                "base_url": "http://file:1",
                "default_model": "file-model",
                "http": {"timeout_secs": 5, "connect_timeout_secs": 2, "keep_alive_secs": 1},
                "max_retries": 4,
                "defaults": {"max_tokens": 100},
            }
        }
    )
    monkeypatch.setenv("LMSTUDIO_HTTP_CONNECT_TIMEOUT_SECS", "3")
    monkeypatch.setenv("LMSTUDIO_DEFAULT_MODEL", "env-model")

    settings = settings_from_kwargs(timeout=9, max_retries=0)

    assert settings.base_url == "http://file:1"
    assert settings.default_model == "env-model"
    assert settings.http == HttpSettings(
        timeout_secs=9, connect_timeout_secs=3, keep_alive_secs=1, max_idle_connections=10
    )
    assert settings.max_retries == 0
    assert settings.defaults == {"max_tokens": 100}
    origins = setting_origins({"http": {"timeout_secs": 9}, "max_retries": 0})
    assert origins == {
        "provider": SettingOrigin("default"),
        "base_url": SettingOrigin("file", f"{path} (inference.base_url)"),
        "api_key": SettingOrigin("default"),
        "default_model": SettingOrigin("environment", "LMSTUDIO_DEFAULT_MODEL"),
        "allowed_models": SettingOrigin("default"),
        "http.timeout_secs": SettingOrigin("argument"),
        "http.connect_timeout_secs": SettingOrigin(
            "environment", "LMSTUDIO_HTTP_CONNECT_TIMEOUT_SECS"
        ),
        "http.keep_alive_secs": SettingOrigin("file", f"{path} (inference.http.keep_alive_secs)"),
        "http.quick_timeout_secs": SettingOrigin("default"),
        "http.max_idle_connections": SettingOrigin("default"),
        "http.load_timeout_secs": SettingOrigin("default"),
        "http.max_connections": SettingOrigin("default"),
        "http.max_event_bytes": SettingOrigin("default"),
        "max_retries": SettingOrigin("argument"),
        "defaults": SettingOrigin("file", f"{path} (inference.defaults)"),
    }
    assert str(origins["max_retries"]) == "argument"


def test_defaults_merge_parameter_by_parameter_across_sources(
    write_config: WriteConfig,
) -> None:
    write_config({"inference": {"defaults": {"max_tokens": 100, "temperature": 0.7}}})

    assert load_settings().defaults == {"max_tokens": 100, "temperature": 0.7}
    assert load_settings(defaults={"temperature": 0.2, "top_p": 0.5}).defaults == {
        "max_tokens": 100,
        "temperature": 0.2,
        "top_p": 0.5,
    }


def test_none_arguments_fall_back_to_lower_sources(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LMSTUDIO_BASE_URL", "http://env:2")
    monkeypatch.setenv("LMSTUDIO_HTTP_TIMEOUT_SECS", "7")

    settings = settings_from_kwargs(base_url=None, timeout=None, api_key=None)

    assert settings.base_url == "http://env:2"
    assert settings.http.timeout_secs == 7
    assert load_settings(base_url=None).base_url == "http://env:2"
