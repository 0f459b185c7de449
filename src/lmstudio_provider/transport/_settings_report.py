"""The effective settings with each one's source, secrets masked: ``settings_report()``."""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from lmstudio_provider.transport._config import (
    Settings,
    config_path_from_env,
    given_setting_values,
    load_settings,
    setting_origins,
)
from lmstudio_provider.transport._errors import ConfigError

__all__ = ["SettingsReport", "settings_report"]


@dataclass(frozen=True, slots=True)
class SettingsReport:
    """Each setting (by dotted name, such as ``http.timeout_secs``) with its value and
    source, secrets masked. Built by ``settings_report()``.

    When the configuration is invalid, ``settings`` is None, ``error`` says what is
    wrong and ``values`` holds each setting as its source gives it, unvalidated.
    """

    values: dict[str, Any]
    sources: dict[str, str]
    config_file: Path
    config_file_named: bool  # by LMSTUDIO_CONFIG
    settings: Settings | None = None
    error: ConfigError | None = None

    def with_api_key_from(self, source: str) -> SettingsReport:
        """The report with an API key (masked) from ``source``, a key the caller holds
        itself (such as one stored by ``llm keys set lmstudio``)."""
        values = {**self.values, "api_key": "********"}
        return replace(self, values=values, sources={**self.sources, "api_key": source})

    def config_file_text(self) -> str:
        """The YAML file's path, marked ``(not found)`` when it does not exist."""
        return f"{self.config_file}" + ("" if self.config_file.exists() else " (not found)")

    def rows(self) -> list[tuple[str, str, str]]:
        """``(setting, value, source)`` as text: ``-`` when unset, lists and maps as JSON."""
        return [(name, _text(value), self.source(name)) for name, value in self.values.items()]

    def source(self, name: str) -> str:
        return self.sources.get(name, "default")

    def as_dict(self, **files: str) -> dict[str, Any]:
        """``settings`` (value and source by name), ``config_file``, then ``files`` (a
        caller's own paths) and, when the configuration is invalid, ``error``."""
        settings = {
            name: {"value": v, "source": self.source(name)} for name, v in self.values.items()
        }
        report: dict[str, Any] = {
            "settings": settings,
            "config_file": self.config_file_text(),
            **files,
        }
        if self.error is not None:
            report["error"] = {"message": self.error.message, "hint": self.error.hint}
        return report


def _text(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, dict | list):
        return json.dumps(value) if value else "-"
    return str(value)


def settings_report() -> SettingsReport:
    """The settings from the environment, the YAML file and the defaults, and where each
    comes from; never raises for an invalid configuration (it is in ``error``)."""
    origins = setting_origins()
    sources = {name: str(origin) for name, origin in origins.items()}
    path, named = config_path_from_env()
    try:
        settings = load_settings()
    except ConfigError as error:
        return SettingsReport(given_setting_values(origins), sources, path, named, error=error)
    return SettingsReport(settings.masked_by_name(), sources, path, named, settings)
