"""Settings: defaults, environment, YAML file, arguments, precedence, origins and errors.

The autouse ``isolated_settings`` fixture (tests/conftest.py) removes every
LMSTUDIO_*/INFERENCE_INFERENCE_* variable and points XDG_CONFIG_HOME at an empty
temporary directory, so each test starts from the built-in defaults.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx2
import pytest
import respx
import yaml
from pydantic import SecretStr

from lmstudio_provider.transport._async_client import AsyncLMStudioClient
from lmstudio_provider.transport._config import (
    CONFIG_ENV_VAR,
    DEFAULT_BASE_URL,
    HttpSettings,
    SettingOrigin,
    Settings,
    default_config_path,
    load_settings,
    setting_origins,
    settings_from_kwargs,
)
from lmstudio_provider.transport._errors import ConfigError, LMStudioError
from lmstudio_provider.transport._sync_client import LMStudioClient

SECRET = "sk-lm-very-secret-token-0123"
HINT = (
    "Fix the value where it is named above (argument, environment variable or config file); "
    "`llm lmstudio config` lists every setting with its source."
)
KNOWN_SETTINGS = (
    "provider, base_url, api_key, default_model, allowed_models, http.timeout_secs, "
    "http.connect_timeout_secs, http.keep_alive_secs, http.max_idle_connections, "
    "max_retries, defaults"
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
        "keep_alive_secs": 30.0,
        "max_idle_connections": 10,
    },
    "max_retries": 2,
    "defaults": {},
}

WriteConfig = Callable[..., Path]


@pytest.fixture
def write_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> WriteConfig:
    """Write a YAML config file and name it in LMSTUDIO_CONFIG."""

    def write(content: str | dict[str, Any], name: str = "lmstudio.yaml") -> Path:
        path = tmp_path / name
        text = content if isinstance(content, str) else yaml.safe_dump(content)
        path.write_text(text, encoding="utf-8")
        monkeypatch.setenv(CONFIG_ENV_VAR, str(path))
        return path

    return write


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
    keep_alive_secs: 1.5
    max_idle_connections: 3
  max_retries: 4
  defaults:
    max_tokens: 100
    temperature: 0.7
"""


def test_yaml_file_sets_every_setting(write_config: WriteConfig) -> None:
    path = write_config(FULL_FILE)

    settings = load_settings()

    assert settings.provider == "lmstudio"
    assert settings.base_url == "http://file-host:5678"
    assert value_of(settings, "api_key") == SECRET
    assert settings.default_model == "qwen3-8b"
    assert settings.allowed_models == ["qwen3-8b", "gemma-3-4b"]
    assert settings.http == HttpSettings(
        timeout_secs=5, connect_timeout_secs=2, keep_alive_secs=1.5, max_idle_connections=3
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
        "http.max_idle_connections": SettingOrigin("default"),
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
        f"base_ulr='http://typo:1' in config file {path} (inference.base_ulr): "
        f"unknown setting (known: {KNOWN_SETTINGS})"
    )
    assert error.hint == HINT


def test_unknown_nested_key_in_the_file_names_its_path(write_config: WriteConfig) -> None:
    path = write_config("inference:\n  http:\n    timeout: 5\n")

    error = config_error(load_settings)

    assert error.message == invalid(
        f"http.timeout=5 in config file {path} (inference.http.timeout): "
        f"unknown setting (known: {KNOWN_SETTINGS})"
    )


def test_unknown_nested_environment_variable_names_the_variable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("LMSTUDIO_HTTP_TIMEOUT", "5")

    error = config_error(load_settings)

    assert error.message == invalid(
        "http.timeout='5' from environment variable LMSTUDIO_HTTP_TIMEOUT: "
        f"unknown setting (known: {KNOWN_SETTINGS})"
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
        f"colour='blue' in config file {path} (inference.colour): "
        f"unknown setting (known: {KNOWN_SETTINGS})",
    )


def test_config_error_is_a_value_error_with_status_400() -> None:
    error = config_error(lambda: load_settings(base_url="nope"))

    assert isinstance(error, ValueError)
    assert isinstance(error, LMStudioError)
    assert error.status_code == 400
    assert error.__cause__ is None
    assert error.__suppress_context__


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
            "frobnicate=1: unknown parameter (known: max_tokens, temperature, top_p, "
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

    assert error.message == invalid(
        f"defaults={defaults!r} from config file {path} (inference.defaults): {expected}"
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


# -- the API key stays secret ------------------------------------------------


def assert_no_secret(*texts: str) -> None:
    for text in texts:
        assert SECRET not in text


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
            "keep_alive_secs": 1.0,
            "max_idle_connections": 3,
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
    ("keyword", "shown"),
    [("temperature", "1"), ("timeout_secs", "1"), ("apikey", "********"), ("model", "1")],
)
def test_unknown_keyword_lists_the_known_ones(keyword: str, shown: str) -> None:
    error = config_error(lambda: settings_from_kwargs(**{keyword: 1}))

    assert error.message == f"Unknown setting {keyword}={shown}."
    assert error.hint == (
        "Known settings: provider, base_url, api_key, default_model, allowed_models, http, "
        "max_retries, defaults, timeout, connect_timeout, keep_alive, max_idle_connections."
    )


def test_unknown_keyword_to_load_settings_lists_the_known_settings() -> None:
    error = config_error(lambda: load_settings(timeout=5))

    assert error.message == invalid(
        f"timeout=5 from an argument: unknown setting (known: {KNOWN_SETTINGS})"
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
        assert client._http.timeout == httpx2.Timeout(5.0, connect=10.0, pool=10.0)
        assert client._http.base_url == httpx2.URL("http://studio:4321")
        assert "authorization" not in client._http.headers
        assert repr(client) == "LMStudioClient(base_url='http://studio:4321')"
    assert respx_mock.calls.call_count == 0


def test_client_http_pool_gets_timeouts_and_limits() -> None:
    with LMStudioClient(timeout=5, connect_timeout=2, keep_alive=1, max_idle_connections=3) as c:
        timeout = c._http.timeout
        assert (timeout.connect, timeout.read, timeout.write, timeout.pool) == (2.0, 5.0, 5.0, 2.0)
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
        assert client._http.timeout == httpx2.Timeout(12.0, connect=4.0, pool=4.0)
        assert client._http.headers["Authorization"] == f"Bearer {SECRET}"


def test_client_accepts_a_settings_object() -> None:
    settings = load_settings(base_url="http://given:1", http={"timeout_secs": 3})

    with LMStudioClient(settings) as client:
        assert client.settings is settings
        assert client._http.timeout.read == 3.0


def test_client_rejects_an_unknown_keyword() -> None:
    error = config_error(lambda: LMStudioClient(temprature=0.5))

    assert error.message == "Unknown setting temprature=0.5."


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
        assert client._http.timeout == httpx2.Timeout(5.0, connect=2.0, pool=2.0)
        assert client._http.headers["Authorization"] == f"Bearer {SECRET}"
    finally:
        await client.aclose()


def test_a_misspelt_secret_keyword_is_masked() -> None:
    error = config_error(lambda: settings_from_kwargs(api_token="sk-lm-abc:def"))

    assert "sk-lm-abc" not in str(error)
    assert error.message == "Unknown setting api_token=********."


def test_a_misspelt_secret_in_the_file_is_masked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("inference:\n  apikey: sk-lm-abc:def\n", encoding="utf-8")
    monkeypatch.setenv("LMSTUDIO_CONFIG", str(path))
    error = config_error(load_settings)

    assert "sk-lm-abc" not in str(error)
    assert "apikey='********'" in error.message


def test_allowed_models_variable_accepts_a_json_list(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LMSTUDIO_ALLOWED_MODELS", '["a", "b/c"]')

    assert load_settings().allowed_models == ["a", "b/c"]
