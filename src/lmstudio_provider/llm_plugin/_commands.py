"""``llm lmstudio models | health | config | load | unload | download | ps``: the transport
checks, works and writes the text; these add option names, progress and Ctrl-C's 130."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, NoReturn

import click

if TYPE_CHECKING:
    from lmstudio_provider.transport import LMStudioClient

PS_HINT = "`llm lmstudio ps` lists the loaded instances."
DOWNLOAD_HINT = (
    "Download it with `llm lmstudio download <model>`; "
    "`llm lmstudio models` lists the downloaded ones."
)


def table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    widths = [max(len(cell) for cell in column) for column in zip(headers, *rows, strict=True)]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip()
        for line in [headers, *rows]
    )


@contextmanager
def command_errors(
    not_found_hint: str | None = None,
    stopped: str = "Stopped waiting; LM Studio may still finish what it was asked "
    "(`llm lmstudio ps` shows what is loaded).",
) -> Iterator[None]:
    """A transport error as ``Error: ...`` and ``Hint: ...`` (``not_found_hint``: the
    command line's way to a missing model), Ctrl-C as ``stopped`` and exit status 130."""
    from lmstudio_provider.llm_plugin._error_messages import LMStudioModelError
    from lmstudio_provider.transport import LMStudioError, ModelNotFoundError

    try:
        yield
    except LMStudioError as error:
        if not_found_hint and isinstance(error, ModelNotFoundError):
            error.hint = not_found_hint
        raise LMStudioModelError.from_error(error) from None
    except KeyboardInterrupt:
        click.echo(f"\n{stopped}", err=True)
        raise SystemExit(130) from None  # the shell's status for a command stopped by Ctrl-C


def client() -> LMStudioClient:
    """A client with the effective settings and the API key llm knows of."""
    from lmstudio_provider.llm_plugin._listing import llm_key
    from lmstudio_provider.transport import Connection, LMStudioClient

    return LMStudioClient(Connection.load().settings_with_key(llm_key()))


@click.group(name="lmstudio")
def lmstudio() -> None:
    """LM Studio: its models, its server's health, the plugin's settings."""


json_option = click.option("json_", "--json", is_flag=True, help="Output as JSON")


@lmstudio.command(name="models")
@json_option
def models_command(json_: bool) -> None:
    """List the models LM Studio offers, with their state and capabilities.

    Context is loaded/maximum when a model is loaded. The llm model id is
    lmstudio/<id>; `lmstudio` alone is the loaded model. Instances are the loaded
    copies' ids (prompt one with lmstudio/<instance>).
    """
    with command_errors(), client() as server:
        models = server.model_list().served_models  # states as `health` reports them
    if json_:
        listed = [{"llm_model_id": f"lmstudio/{m.id}", **m.as_dict()} for m in models]
        click.echo(json.dumps(listed, indent=2))
        return
    rows = [
        [
            model.id,
            model.type,
            model.state,
            model.quantization or "-",
            model.context_summary() or "-",
            ", ".join(sorted(model.capabilities)) or "-",
            ", ".join(model.instance_ids) or "-",
        ]
        for model in models
    ]
    headers = ["ID", "TYPE", "STATE", "QUANTIZATION", "CONTEXT", "CAPABILITIES", "INSTANCES"]
    click.echo(table(headers, rows) if rows else "LM Studio lists no models.")


@lmstudio.command(name="health")
@json_option
def health_command(json_: bool) -> None:
    """Check LM Studio's server: status, kind, loaded models, latency, HTTP settings.

    Exits with 0 only when the server is healthy.
    """
    with command_errors(), client() as server:
        report = server.health()
    click.echo(json.dumps(report.as_dict(), indent=2) if json_ else report.summary())
    if not report.ok:
        raise SystemExit(1)


@lmstudio.command(name="config")
@json_option
def config_command(json_: bool) -> None:
    """Show the effective settings and where each comes from (secrets masked).

    With an invalid configuration, shows each setting as its source gives it, then
    what is wrong, and exits with 1.
    """
    import llm

    from lmstudio_provider.llm_plugin._error_messages import LMStudioModelError
    from lmstudio_provider.llm_plugin._listing import KEY_ALIAS, cache_path
    from lmstudio_provider.transport import settings_report

    report = settings_report()
    if llm.get_key(key_alias=KEY_ALIAS):  # `llm keys set lmstudio` comes first
        report = report.with_api_key_from(f"llm keys ({KEY_ALIAS})")
    if json_:
        click.echo(json.dumps(report.as_dict(models_cache=str(cache_path())), indent=2))
    else:
        click.echo(table(["SETTING", "VALUE", "SOURCE"], report.rows()))
        named = " (LMSTUDIO_CONFIG)" if report.config_file_named else ""
        click.echo(f"\nConfig file:   {report.config_file_text()}{named}")
        click.echo(f"Models cache:  {cache_path()}")
    if report.error is not None:  # on stderr, after the table; exit status 1
        raise LMStudioModelError.from_error(report.error)


class PositiveCount(click.IntRange):
    """A whole number above 0, refused in click's words, adding that nothing was sent."""

    name = "integer"  # for "not a valid integer"

    def fail(self, message: str, param: Any = None, ctx: Any = None) -> NoReturn:
        super().fail(f"{message.rstrip('.')}; nothing was sent.", param, ctx)


COUNT = PositiveCount(min=1)


@lmstudio.command(name="load")
@click.argument("model")
@click.option("--context-length", type=COUNT, help="Context length in tokens")
@click.option("--flash-attention/--no-flash-attention", default=None, help="Flash attention")
@click.option("--eval-batch-size", type=COUNT, help="Tokens evaluated per batch")
@click.option("--num-experts", type=COUNT, help="Experts used (mixture-of-experts models)")
@click.option(
    "--offload-kv-cache-to-gpu/--no-offload-kv-cache-to-gpu",
    default=None,
    help="Keep the KV cache in GPU memory",
)
@click.option(
    "--ttl",
    type=COUNT,
    metavar="SECONDS",
    help="Load just in time instead, to unload after SECONDS idle "
    "(only --ttl applies then; a load without it stays until unloaded)",
)
@json_option
def load_command(model: str, ttl: int | None, json_: bool, **options: Any) -> None:
    """Load MODEL (a downloaded model's key, or a unique part of one).

    A model loaded this way stays loaded until `llm lmstudio unload` (LM Studio's
    idle TTL does not apply); with --ttl it is loaded just in time instead and
    unloads after that many idle seconds. LM Studio may lower --context-length to
    fit memory: the output says what was loaded.
    """
    from lmstudio_provider.llm_plugin._progress import loading_notice

    if ttl is not None and any(value is not None for value in options.values()):
        raise click.ClickException(
            "--ttl loads just in time, which takes no load options; nothing was sent.\n"
            "Hint: Use --ttl alone, or the load options without --ttl."
        )
    with command_errors(DOWNLOAD_HINT), client() as server:
        if not json_ and not sys.stderr.isatty():
            click.echo(f"loading {model}", err=True)
        with loading_notice(lambda: model):
            if ttl is not None:
                result = server.warm_model(model, ttl=ttl)
            else:
                result = server.load_model(model, **options)
    click.echo(json.dumps(result.as_dict(), indent=2) if json_ else result.summary())


@lmstudio.command(name="unload")
@click.argument("instances", nargs=-1, metavar="[INSTANCE]...")
@click.option("all_", "--all", is_flag=True, help="Unload every loaded instance")
def unload_command(instances: Sequence[str], all_: bool) -> None:
    """Unload loaded model instances (their ids as `llm lmstudio ps` shows them)."""
    if bool(instances) == all_:
        raise click.ClickException(
            "Name the instances to unload, or pass --all (not both); nothing was sent.\n"
            f"Hint: {PS_HINT}"
        )
    with command_errors(PS_HINT), client() as server:
        unloaded = server.unload_all() if all_ else server.unload_models(instances)
    click.echo("\n".join(f"Unloaded {name}." for name in unloaded) or "Nothing was loaded.")


@lmstudio.command(name="download")
@click.argument("model")
@click.option(
    "--quantization",
    metavar="Q",
    help="Quantization to download, e.g. Q4_K_M (only with a Hugging Face URL)",
)
def download_command(model: str, quantization: str | None) -> None:
    """Download MODEL: a catalog key (qwen/qwen3-4b-2507) or a Hugging Face URL.

    Shows progress until the download completes. Ctrl-C stops watching; LM Studio
    keeps downloading (see its Downloads panel).
    """
    from lmstudio_provider.llm_plugin._progress import show_download

    stopped = "Stopped watching; LM Studio keeps downloading (see its Downloads panel)."
    with command_errors(stopped=stopped), client() as server:
        last = show_download(model, server.download_model(model, quantization))
    already = last is not None and last.status == "already_downloaded"
    click.echo(f"{model} is already downloaded." if already else f"Downloaded {model}.")


@lmstudio.command(name="ps")
@json_option
def ps_command(json_: bool) -> None:
    """List the loaded model instances: id, model, context length, load config.

    Prompts reach an instance by its id: llm -m lmstudio/<id>.
    """
    with command_errors(), client() as server:
        instances = server.loaded_models()
    if json_:
        click.echo(json.dumps([instance.as_dict() for instance in instances], indent=2))
        return
    rows = [
        [i.id, i.model, str(i.context_length or "-"), i.config_summary() or "-"] for i in instances
    ]
    headers = ["INSTANCE", "MODEL", "CONTEXT", "CONFIG"]
    click.echo(table(headers, rows) if rows else "No model is loaded.")
