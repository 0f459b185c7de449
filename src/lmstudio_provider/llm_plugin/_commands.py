"""``llm lmstudio models | health | config`` (and the model runtime's, ``_runtime_commands``).

Defining the commands costs next to nothing (llm registers them on every start);
each one imports the transport only when it runs.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import click

from lmstudio_provider.llm_plugin._runtime_commands import add_runtime_commands

if TYPE_CHECKING:
    from lmstudio_provider.transport import HealthReport, ModelInfo, Settings

__all__ = ["lmstudio"]


def _table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    widths = [max(len(str(cell)) for cell in column) for column in zip(headers, *rows, strict=True)]
    lines = [headers, *rows]
    return "\n".join(
        "  ".join(str(cell).ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip()
        for line in lines
    )


def _settings() -> Settings:
    """The effective settings, with the API key llm knows of (`llm keys set lmstudio`)."""
    from lmstudio_provider.llm_plugin._error_messages import model_errors
    from lmstudio_provider.llm_plugin._settings import llm_key, load_connection

    connection = load_connection()
    with model_errors():
        return connection.settings_with_key(llm_key())


@click.group(name="lmstudio")
def lmstudio() -> None:
    """LM Studio: its models, its server's health, the plugin's settings."""


add_runtime_commands(lmstudio)  # load, unload, download, ps


def _context(model: ModelInfo) -> str:
    if model.loaded_context_length and model.max_context_length:
        return f"{model.loaded_context_length}/{model.max_context_length}"
    return str(model.loaded_context_length or model.max_context_length or "-")


@lmstudio.command(name="models")
@click.option("json_", "--json", is_flag=True, help="Output as JSON")
def models_command(json_: bool) -> None:
    """List the models LM Studio offers, with their state and capabilities.

    Context is loaded/maximum when a model is loaded. The llm model id is
    lmstudio/<id>; `lmstudio` alone is the loaded model. Instances are the loaded
    copies' ids (prompt one with lmstudio/<instance>).
    """
    from lmstudio_provider.llm_plugin._error_messages import model_errors
    from lmstudio_provider.transport import LMStudioClient

    with model_errors(), LMStudioClient(_settings()) as client:
        models = client.model_list().served_models  # states as `health` reports them
    if json_:
        click.echo(
            json.dumps(
                [{"llm_model_id": f"lmstudio/{m.id}", **m.as_dict()} for m in models], indent=2
            )
        )
        return
    rows = [
        [
            model.id,
            model.type,
            model.state,
            model.quantization or "-",
            _context(model),
            ", ".join(sorted(model.capabilities)) or "-",
            ", ".join(model.instance_ids) or "-",
        ]
        for model in models
    ]
    headers = ["ID", "TYPE", "STATE", "QUANTIZATION", "CONTEXT", "CAPABILITIES", "INSTANCES"]
    click.echo(_table(headers, rows) if rows else "LM Studio lists no models.")


def _health_text(report: HealthReport) -> str:
    http = report.http
    loaded = ", ".join(report.loaded_models) or "none"
    lines = [
        f"Status:   {report.status}",
        f"Server:   {report.base_url} ({report.server_kind})",
        f"Latency:  {report.latency_ms:g} ms" if report.latency_ms is not None else "Latency:  -",
        f"Models:   {report.model_count} listed; loaded: {loaded}",
        f"HTTP:     timeout {http.get('timeout_secs')} s, "
        f"connect timeout {http.get('connect_timeout_secs')} s, "
        f"keep-alive {http.get('keep_alive_secs')} s, "
        f"max idle connections {http.get('max_idle_connections')}",
    ]
    if report.error:
        lines.append(f"Error:    {report.error}")
    if report.hint:
        lines.append(f"Hint:     {report.hint}")
    return "\n".join(lines)


@lmstudio.command(name="health")
@click.option("json_", "--json", is_flag=True, help="Output as JSON")
def health_command(json_: bool) -> None:
    """Check LM Studio's server: status, kind, loaded models, latency, HTTP settings.

    Exits with 0 only when the server is healthy.
    """
    from lmstudio_provider.transport import LMStudioClient

    with LMStudioClient(_settings()) as client:
        report = client.health()
    click.echo(json.dumps(report.as_dict(), indent=2) if json_ else _health_text(report))
    if not report.ok:
        raise SystemExit(1)


def _key_origin(default: str) -> str:
    """Where the API key comes from: llm's keys and LMSTUDIO_API_KEY come first."""
    import os

    import llm

    if llm.get_key(key_alias="lmstudio"):
        return "llm keys (lmstudio)"
    if os.environ.get("LMSTUDIO_API_KEY"):
        return "environment LMSTUDIO_API_KEY"
    return default


@lmstudio.command(name="config")
@click.option("json_", "--json", is_flag=True, help="Output as JSON")
def config_command(json_: bool) -> None:
    """Show the effective settings and where each comes from (secrets masked).

    With an invalid configuration, shows each setting as its source gives it, then
    what is wrong, and exits with 1.
    """
    from lmstudio_provider.llm_plugin._error_messages import LMStudioModelError
    from lmstudio_provider.llm_plugin._listing import cache_path
    from lmstudio_provider.llm_plugin._settings import llm_key, load_connection
    from lmstudio_provider.transport import (
        config_path_from_env,
        given_setting_values,
        setting_origins,
    )

    given = setting_origins()
    origins = {name: str(origin) for name, origin in given.items()}
    connection = load_connection()
    problem = connection.error
    if connection.settings is None:
        values = given_setting_values(given)  # they could not be validated: shown as given
        has_key = values["api_key"] is not None or llm_key() is not None
    else:
        values = connection.settings.masked_by_name()
        has_key = connection.settings.api_key is not None or llm_key() is not None
    if has_key:
        values["api_key"] = "********"
        origins["api_key"] = _key_origin(origins.get("api_key", "default"))
    config_file, named = config_path_from_env()
    files = {
        "config_file": f"{config_file}" + ("" if config_file.exists() else " (not found)"),
        "models_cache": str(cache_path()),
    }
    if json_:
        settings_json = {
            name: {"value": values[name], "source": origins.get(name, "default")} for name in values
        }
        report: dict[str, Any] = {"settings": settings_json, **files}
        if problem is not None:
            report["error"] = {"message": problem.message, "hint": problem.hint}
        click.echo(json.dumps(report, indent=2))
    else:
        rows = [[name, _shown(values[name]), origins.get(name, "default")] for name in values]
        click.echo(_table(["SETTING", "VALUE", "SOURCE"], rows))
        click.echo(
            f"\nConfig file:   {files['config_file']}" + (" (LMSTUDIO_CONFIG)" if named else "")
        )
        click.echo(f"Models cache:  {files['models_cache']}")
    if problem is not None:
        # On stderr, after the table: "Error: ..." and "Hint: ...", exit status 1.
        raise LMStudioModelError.from_error(problem)


def _shown(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, dict | list):
        return json.dumps(value) if value else "-"
    return str(value)
