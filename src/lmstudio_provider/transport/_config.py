"""Configuration shared by the transport, the LangChain chat model and the ``llm`` plugin.

Precedence: explicit arguments > environment > YAML file > defaults, all read by
pydantic-settings. The YAML file is ``$LMSTUDIO_CONFIG`` or, when that is unset,
``config.yaml`` in the user's config directory (``~/.config/lmstudio-provider/`` on
Linux); its settings live under an ``inference:`` block.
"""

from __future__ import annotations

import difflib
import json
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

import platformdirs
import yaml
from pydantic import (
    AliasChoices,
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
)
from pydantic_settings import (
    BaseSettings,
    EnvSettingsSource,
    InitSettingsSource,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

from lmstudio_provider.transport._errors import ConfigError
from lmstudio_provider.transport._models import is_loaded_model_alias
from lmstudio_provider.transport._params import ChatParams, describe_validation_error
from lmstudio_provider.transport._sse import DEFAULT_MAX_EVENT_BYTES

__all__ = [
    "CONFIG_ENV_VAR",
    "DEFAULT_BASE_URL",
    "HttpSettings",
    "SettingOrigin",
    "Settings",
    "default_config_path",
    "given_setting_values",
    "load_settings",
    "resolve_settings",
    "setting_origins",
    "settings_from_kwargs",
]

DEFAULT_BASE_URL = "http://localhost:1234"
CONFIG_ENV_VAR = "LMSTUDIO_CONFIG"
ENV_PREFIXES = ("LMSTUDIO_", "INFERENCE_INFERENCE_")
YAML_SECTION = "inference"
API_KEY_ALIASES = ("LMSTUDIO_API_KEY", "LM_API_TOKEN")
# Longer waits are typos (inf, 1e300) and overflow the clock in the I/O layer.
MAX_TIMEOUT_SECS = 86_400.0
DEFAULT_MAX_CONNECTIONS = 8


def default_config_path() -> Path:
    """The YAML file read when ``LMSTUDIO_CONFIG`` is unset (a missing one is fine)."""
    return platformdirs.user_config_path("lmstudio-provider") / "config.yaml"


class HttpSettings(BaseModel):
    """Timeouts and connection pooling of the HTTP client."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    timeout_secs: float = Field(
        60,
        gt=0,
        le=MAX_TIMEOUT_SECS,
        allow_inf_nan=False,
        description="Longest wait for a whole answer, or for each event of a streamed one.",
    )
    connect_timeout_secs: float = Field(
        10, gt=0, le=MAX_TIMEOUT_SECS, allow_inf_nan=False, description="Longest wait to connect."
    )
    quick_timeout_secs: float = Field(
        0.6,
        gt=0,
        le=MAX_TIMEOUT_SECS,
        allow_inf_nan=False,
        description="Longest wait for a quick call (a quick model listing, health), "
        "connecting included.",
    )
    keep_alive_secs: float = Field(
        30,
        ge=0,
        le=MAX_TIMEOUT_SECS,
        allow_inf_nan=False,
        description="How long idle connections are kept.",
    )
    max_idle_connections: int = Field(10, ge=0, description="Idle connections kept in the pool.")
    load_timeout_secs: float = Field(
        600.0,
        gt=0,
        le=MAX_TIMEOUT_SECS,
        allow_inf_nan=False,
        description="Longest wait for a model to load (load_model, or a request that "
        "loads its model just in time) before the first byte.",
    )
    # LM Studio generates for a handful of requests at once (its parallel slots, 4 by
    # default) and queues the rest itself; twice that lets model listings, health checks
    # and embeddings through while they run, without one socket per waiting request.
    # Requests beyond it wait for a free connection (the pool timeout).
    max_connections: int = Field(
        DEFAULT_MAX_CONNECTIONS,
        ge=1,
        le=10_000,
        description="Most connections open at once; more requests wait for a free one.",
    )
    max_event_bytes: int = Field(
        DEFAULT_MAX_EVENT_BYTES,
        ge=1024,
        le=1024**3,
        description="Longest single event of a streamed answer, in bytes.",
    )


class Settings(BaseSettings):
    """Effective configuration of lmstudio-provider.

    Construct it with keyword arguments for explicit values; everything else
    comes from the environment, then the YAML file, then the defaults. Prefer
    ``load_settings``, which turns invalid input into one ``ConfigError`` naming
    where each bad value came from.
    """

    model_config = SettingsConfigDict(
        env_prefix="LMSTUDIO_",
        env_nested_delimiter="_",
        env_nested_max_split=1,
        extra="forbid",
        frozen=True,
        populate_by_name=True,
        validate_default=True,
    )

    provider: Literal["lmstudio"] | None = Field(
        None, description="Must be `lmstudio` when set (shared inference configs)."
    )
    base_url: str = Field(DEFAULT_BASE_URL, description="Where LM Studio's server listens.")
    api_key: SecretStr | None = Field(
        None,
        # Not a bare "api_key" alias: the environment would then read any API_KEY variable.
        validation_alias=AliasChoices(*API_KEY_ALIASES),
        description="API token, when the server requires authentication.",
    )
    default_model: str | None = Field(
        None, description="Model used when none is named (unset: the loaded model)."
    )
    allowed_models: Annotated[list[str] | None, NoDecode] = Field(
        None, description="Only these models may be used (unset: all)."
    )
    http: HttpSettings = Field(default_factory=HttpSettings)
    max_retries: int = Field(2, ge=0, le=20, description="Retries of failed connections/5xx.")
    defaults: dict[str, Any] = Field(
        default_factory=dict, description="Request parameters applied unless overridden."
    )

    @field_validator("base_url")
    @classmethod
    def _normalise_base_url(cls, value: str) -> str:
        url = value.strip().rstrip("/")
        if url.endswith("/v1"):
            url = url[: -len("/v1")].rstrip("/")
        scheme, sep, rest = url.partition("://")
        if not sep or scheme.lower() not in ("http", "https") or not rest:
            raise ValueError("expected an http:// or https:// URL, like http://localhost:1234")
        try:
            port = urlsplit(url).port
        except ValueError:
            port = 0
        if port == 0:
            raise ValueError(
                "the port must be a number from 1 to 65535, like http://localhost:1234"
            )
        return url

    @field_validator("default_model")
    @classmethod
    def _loaded_model_alias(cls, value: str | None) -> str | None:
        if value is None or is_loaded_model_alias(value):
            return None
        return value.strip()

    @field_validator("allowed_models", mode="before")
    @classmethod
    def _comma_list(cls, value: Any) -> Any:
        if isinstance(value, str):
            if value.strip().startswith("["):
                try:
                    return json.loads(value)  # a JSON list is fine too
                except ValueError:
                    pass
            return [item.strip() for item in value.split(",") if item.strip()] or None
        return value

    @field_validator("defaults")
    @classmethod
    def _known_parameters(cls, value: dict[str, Any]) -> dict[str, Any]:
        try:
            return ChatParams.model_validate(value).to_body()
        except ValidationError as error:
            raise ValueError(describe_validation_error(error)) from None

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # The shared "inference" config names the same settings INFERENCE_INFERENCE_*;
        # LMSTUDIO_* wins where both are set.
        inference_env = EnvSettingsSource(
            settings_cls,
            env_prefix="INFERENCE_INFERENCE_",
            env_nested_delimiter="_",
            env_nested_max_split=1,
        )
        return (init_settings, env_settings, inference_env, YamlSectionSource(settings_cls))

    def with_overrides(self, **overrides: Any) -> Settings:
        """These settings with the flat keyword ``overrides`` that are not ``None``.

        The one merge rule of every front end: an explicit value (an argument, a field,
        a key given on the command line) wins over the settings; ``None`` keeps the
        setting. Keywords are those of ``settings_from_kwargs`` (``timeout=5`` sets
        ``http.timeout_secs``). Unset settings stay unset: the environment is not
        read again.

        Raises:
            ConfigError: for an unknown keyword or an invalid value, naming it.
        """
        given = nested_overrides(overrides)
        if not given:
            return self
        merged = self.model_dump()
        merged["http"] = {**merged["http"], **given.pop("http", {})}
        return validated_settings({**merged, **given})

    def masked_by_name(self) -> dict[str, Any]:
        """``masked()`` by dotted setting name (``http.timeout_secs``), for tables."""
        flat: dict[str, Any] = {}
        for name, value in self.masked().items():
            if name == "http" and isinstance(value, dict):
                flat.update({f"http.{key}": item for key, item in value.items()})
            else:
                flat[name] = value
        return flat

    def masked(self) -> dict[str, Any]:
        """The settings as plain data with the API key masked, for display and logs."""
        data = self.model_dump(mode="json")
        data["api_key"] = "********" if self.api_key else None
        return data


def config_path_from_env() -> tuple[Path, bool]:
    """The YAML file to read and whether the user named it explicitly."""
    named = os.environ.get(CONFIG_ENV_VAR)
    if named:
        return Path(named).expanduser(), True
    return default_config_path(), False


def read_yaml_section(path: Path, *, required: bool) -> dict[str, Any]:
    """The ``inference:`` block of a YAML file (or the whole file when it has none)."""
    if not path.exists():
        if required:
            raise ConfigError(
                f"Config file {path} (named by {CONFIG_ENV_VAR}) does not exist.",
                hint=f"Create it, or unset {CONFIG_ENV_VAR} to use {default_config_path()}.",
            )
        return {}
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError(
            f"Config file {path} could not be read: {error}",
            hint="Check the file's permissions and that it is UTF-8 text.",
        ) from None
    except yaml.YAMLError as error:
        raise ConfigError(
            f"Config file {path} is not valid YAML: {error}",
            hint="Fix the YAML syntax; settings go under an `inference:` block.",
        ) from None
    if data is None:
        return {}
    section = data.get(YAML_SECTION, data) if isinstance(data, dict) else data
    if section is None:
        return {}
    if not isinstance(section, dict):
        raise ConfigError(
            f"Config file {path}: `{YAML_SECTION}` must be a mapping of settings, "
            f"got {type(section).__name__} {section!r}.",
            hint="Write settings as `inference:` followed by indented `key: value` lines.",
        )
    return section


class YamlSectionSource(InitSettingsSource):
    """Settings from the YAML file's ``inference:`` block."""

    def __init__(self, settings_cls: type[BaseSettings]) -> None:
        path, required = config_path_from_env()
        self.path = path
        super().__init__(settings_cls, read_yaml_section(path, required=required))


@dataclass(frozen=True)
class SettingOrigin:
    """Where an effective setting's value came from."""

    source: Literal["argument", "environment", "file", "default"]
    detail: str = ""

    def __str__(self) -> str:
        return f"{self.source} {self.detail}".strip()


def env_names(path: tuple[str, ...]) -> list[str]:
    """The environment variables that can set the setting at ``path``."""
    if path == ("api_key",):
        return ["LMSTUDIO_API_KEY", "LM_API_TOKEN", "INFERENCE_INFERENCE_API_KEY"]
    suffix = "_".join(path).upper()
    return [prefix + suffix for prefix in ENV_PREFIXES]


def leaf_paths(model: type[BaseModel], prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    paths = []
    for name, field in model.model_fields.items():
        annotation = field.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            paths.extend(leaf_paths(annotation, (*prefix, name)))
        else:
            paths.append((*prefix, name))
    return paths


def setting_origins(overrides: dict[str, Any] | None = None) -> dict[str, SettingOrigin]:
    """For each setting (dotted name), the source its effective value comes from."""
    overrides = overrides or {}
    environ = {key.upper() for key in os.environ}
    path, required = config_path_from_env()
    try:
        yaml_values = read_yaml_section(path, required=required)
    except ConfigError:
        yaml_values = {}
    origins: dict[str, SettingOrigin] = {}
    for leaf in leaf_paths(Settings):
        dotted = ".".join(leaf)
        env_hit = next((name for name in env_names(leaf) if name in environ), None)
        if nested_get(overrides, leaf) is not _MISSING:
            origins[dotted] = SettingOrigin("argument")
        elif env_hit:
            origins[dotted] = SettingOrigin("environment", env_hit)
        elif nested_get(yaml_values, leaf) is not _MISSING:
            origins[dotted] = SettingOrigin("file", f"{path} ({YAML_SECTION}.{dotted})")
        else:
            origins[dotted] = SettingOrigin("default")
    return origins


_MISSING = object()


def nested_get(data: dict[str, Any], path: tuple[str, ...]) -> Any:
    current: Any = data
    for part in path:
        if not isinstance(current, dict) or part not in current:
            return _MISSING
        current = current[part]
    return current


def describe_origin(loc: tuple[str | int, ...], overrides: dict[str, Any]) -> str:
    """Say where the value at ``loc`` came from, for an error message."""
    path = tuple(str(part) for part in loc)
    origins = setting_origins(overrides)
    # An error inside a mapping setting (defaults.temperature) belongs to the setting.
    origin = next(
        (origins[key] for n in range(len(path), 0, -1) if (key := ".".join(path[:n])) in origins),
        None,
    )
    if origin is None:
        # A key that is no setting at all: it came from a call, a variable or the file.
        if nested_get(overrides, path) is not _MISSING:
            return "from an argument"
        environ = {key.upper() for key in os.environ}
        env_hit = next((name for name in env_names(path) if name in environ), None)
        if env_hit:
            return f"from environment variable {env_hit}"
        config_path, _ = config_path_from_env()
        return f"in config file {config_path} ({YAML_SECTION}.{'.'.join(path)})"
    if origin.source == "argument":
        return "from an argument"
    if origin.source == "environment":
        return f"from environment variable {origin.detail}"
    if origin.source == "file":
        return f"from config file {origin.detail}"
    return "from the defaults"


# "token" but not "tokens" (max_tokens is a count, not a credential).
_SECRET_WORDS = re.compile(r"key|token(?!s)|secret|passw|auth|credential|bearer")
# Prefixes of API tokens in the wild: OpenAI-style, Slack, GitHub, Hugging Face, JWTs.
TOKEN_PREFIXES = ("sk-", "sk_", "pk-", "rk-", "xoxb-", "xoxp-", "ghp_", "gho_", "hf_", "eyj")
_OPAQUE_TOKEN = re.compile(r"[A-Za-z0-9+/=_]{32,}")


def looks_secret(name: str) -> bool:
    """Whether a (possibly misspelt) name suggests a secret value: it contains key, token
    (not tokens), secret, passw, auth, credential or bearer, or is close to ``api_key``."""
    lowered = name.lower()
    if _SECRET_WORDS.search(lowered):
        return True
    squashed = re.sub(r"[^a-z]", "", lowered)
    return difflib.SequenceMatcher(None, squashed, "apikey").ratio() >= 0.75


def looks_like_token(value: Any) -> bool:
    """Whether a value looks like a credential: a known token prefix (``sk-``, ``hf_``,
    ``Bearer ``...) or 32 or more letters and digits without a separator."""
    if not isinstance(value, str):
        return False
    text = value.strip()
    lowered = text.lower()
    if lowered.startswith(TOKEN_PREFIXES) or lowered.startswith("bearer "):
        return True
    return (
        _OPAQUE_TOKEN.fullmatch(text) is not None
        and any(c.isdigit() for c in text)
        and any(c.isalpha() for c in text)
    )


def closest_name(name: str, known: Sequence[str]) -> str | None:
    """The known name ``name`` is most likely a typo of, if any (difflib)."""
    lowered = {candidate.lower(): candidate for candidate in known}
    match = difflib.get_close_matches(name.lower(), list(lowered), n=1, cutoff=0.6)
    if not match:  # http.api_kye, or timeout for http.timeout_secs: compare last parts
        leaves = {candidate.rsplit(".", 1)[-1].lower(): candidate for candidate in known}
        leaf = difflib.get_close_matches(name.rsplit(".", 1)[-1].lower(), list(leaves), n=1)
        return leaves[leaf[0]] if leaf else None
    return lowered[match[0]] if match else None


def unknown_name_problem(name: str, known: Sequence[str], *, variable: bool = False) -> str:
    """ "unknown setting, did you mean ...?": the value is never shown (it may be a secret).

    ``variable``: the name came from an environment variable, so the suggestion names the
    variable to set too."""
    close = closest_name(name, known)
    if close and variable:
        close = f"{close} ({env_names(tuple(close.split('.')))[0]})"
    suggestion = f"; did you mean {close}?" if close else ""
    return f"unknown setting{suggestion} (its value is not shown; known: {', '.join(known)})"


def load_settings(**overrides: Any) -> Settings:
    """Build the effective settings; explicit keyword arguments win.

    Raises:
        ConfigError: one message naming each bad value, where it came from and
            what is expected.
    """
    return validated_settings({key: value for key, value in overrides.items() if value is not None})


def validated_settings(explicit: dict[str, Any]) -> Settings:
    """``Settings(**explicit)``, a ``ValidationError`` turned into one ``ConfigError``."""
    try:
        return Settings(**explicit)
    except ValidationError as error:
        problems = []
        for item in error.errors():
            loc = tuple(item["loc"])
            if loc and loc[0] in API_KEY_ALIASES:  # sources pass the key under an alias
                loc = ("api_key", *loc[1:])
            dotted = ".".join(str(part) for part in loc)
            expected = item["msg"].removeprefix("Value error, ")
            if item["type"] == "extra_forbidden":
                known = [".".join(p) for p in leaf_paths(Settings)]
                where = describe_origin(loc, explicit)
                from_variable = where.startswith("from environment variable")
                problem = unknown_name_problem(dotted, known, variable=from_variable)
                problems.append(f"{dotted} {where}: {problem}")
                continue
            if item["type"] == "literal_error" and loc == ("provider",):
                expected = "this package only serves provider `lmstudio`"
            given = item.get("input")
            if loc[:1] == ("api_key",) or looks_secret(dotted) or looks_like_token(given):
                given = "********"
            elif loc == ("defaults",) and isinstance(given, dict):
                given = _masked_parameters(given)
            where = describe_origin(loc, explicit)
            problems.append(f"{dotted}={given!r} {where}: {expected}")
        raise ConfigError(
            "Invalid configuration: " + "; ".join(problems),
            hint="Fix the value where it is named above (argument, environment variable or "
            "config file); `llm lmstudio config` lists every setting with its source.",
        ) from None


def _masked_parameters(values: dict[Any, Any]) -> dict[Any, Any]:
    """Request defaults as given, but no value under an unknown or secret-looking name."""
    return {
        name: "********"
        if name not in ChatParams.model_fields or looks_secret(str(name)) or looks_like_token(value)
        else value
        for name, value in values.items()
    }


# Flat keyword names accepted by the clients and front ends, and the setting each sets.
HTTP_KEYWORDS = {
    "timeout": "timeout_secs",
    "connect_timeout": "connect_timeout_secs",
    "quick_timeout": "quick_timeout_secs",
    "keep_alive": "keep_alive_secs",
    "max_idle_connections": "max_idle_connections",
    "load_timeout": "load_timeout_secs",
    "max_connections": "max_connections",
    "max_event_bytes": "max_event_bytes",
}


def settings_from_kwargs(**kwargs: Any) -> Settings:
    """``load_settings`` from flat keywords: ``timeout=5`` sets ``http.timeout_secs``.

    Raises:
        ConfigError: for an unknown keyword or an invalid value.
    """
    return load_settings(**nested_overrides(kwargs))


def nested_overrides(kwargs: dict[str, Any]) -> dict[str, Any]:
    """Flat keywords (``None`` meaning unset) as settings: ``timeout`` goes under ``http``.

    Raises:
        ConfigError: for an unknown keyword.
    """
    overrides: dict[str, Any] = {}
    http: dict[str, Any] = dict(kwargs.get("http") or {})
    for key, value in kwargs.items():
        if value is None or key == "http":
            continue
        if key in HTTP_KEYWORDS:
            http[HTTP_KEYWORDS[key]] = value
        elif key in Settings.model_fields:
            overrides[key] = value
        else:
            known = [*Settings.model_fields, *HTTP_KEYWORDS]
            close = closest_name(key, known)
            suggestion = f" (did you mean {close}?)" if close else ""
            raise ConfigError(
                f"Unknown setting {key}{suggestion}; its value is not shown.",
                hint=f"Known settings: {', '.join(known)}.",
            )
    if http:
        overrides["http"] = http
    return overrides


def resolve_settings(settings: Settings | None = None, **overrides: Any) -> Settings:
    """``settings`` (default: arguments > environment > YAML file > defaults) with ``overrides``.

    ``overrides`` are flat keywords (``base_url``, ``api_key``, ``timeout``,
    ``connect_timeout``, ``keep_alive``, ``max_idle_connections``, ``max_retries``,
    ...); ``None`` means unset.

    Raises:
        ConfigError: naming each bad value and where it came from.
    """
    if settings is None:
        return settings_from_kwargs(**overrides)
    return settings.with_overrides(**overrides)


def given_setting_values(origins: dict[str, SettingOrigin] | None = None) -> dict[str, Any]:
    """Each setting's value (by dotted name) as its source gives it, before validation;
    secrets masked.

    What the environment and the config file hold may be invalid, which is why they are
    shown as given (an environment variable as its text), e.g. by ``llm lmstudio config``
    beside what is wrong with them.
    """
    origins = setting_origins() if origins is None else origins
    environ = {name.upper(): value for name, value in os.environ.items()}
    file_values: dict[str, Any] = {}
    if any(origin.source == "file" for origin in origins.values()):
        path, required = config_path_from_env()
        try:
            file_values = read_yaml_section(path, required=required)
        except ConfigError:
            file_values = {}
    values: dict[str, Any] = {}
    for name, origin in origins.items():
        path_parts = name.split(".")
        value: Any
        if origin.source == "environment":
            value = environ.get(origin.detail)
        elif origin.source == "file":
            value = file_values
            for part in path_parts:
                value = value.get(part) if isinstance(value, dict) else None
        else:
            model: Any = HttpSettings if path_parts[0] == "http" else Settings
            field = model.model_fields.get(path_parts[-1])
            value = None if field is None else field.get_default(call_default_factory=True)
        # Masked as the ConfigError beside it masks them (a key put in the wrong variable).
        if value is not None and (
            name == "api_key" or looks_secret(name) or looks_like_token(value)
        ):
            value = "********"
        elif name == "defaults" and isinstance(value, dict):
            value = _masked_parameters(value)
        values[name] = value
    return values
