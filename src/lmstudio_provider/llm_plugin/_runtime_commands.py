"""``llm lmstudio load | unload | download | ps``: LM Studio's model runtime from llm.

Each command checks what it can before anything is sent (in the command line's words:
option names, not Python ones), then calls the transport. Long operations show
progress on stderr (``_progress``); Ctrl-C stops the waiting, never with a traceback.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from lmstudio_provider.transport import LMStudioClient, LoadedInstance, LoadResult

__all__ = ["add_runtime_commands"]

INTERRUPTED = 130  # the shell's status for a command stopped by Ctrl-C
PS_HINT = "`llm lmstudio ps` lists the loaded instances."
LOAD_CONFIG_SHOWN = ("flash_attention", "eval_batch_size", "num_experts", "offload_kv_cache_to_gpu")


class CommandError(click.ClickException):
    """A one-line ``Error: ...`` and a ``Hint: ...`` line; exit status 1."""

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message + (f"\nHint: {hint}" if hint else ""))


def positive_count(option: str, value: str | None) -> int | None:
    """An option's text as a positive whole number (None when not given)."""
    if value is None:
        return None
    text = value.strip()
    if not text.isdigit() or int(text) <= 0:
        raise CommandError(
            f"{option} must be a positive whole number, got {value!r}; nothing was sent.",
            f"For example {option} 8192.",
        )
    return int(text)


@contextmanager
def runtime_errors(hints: dict[type[Exception], str] | None = None) -> Iterator[None]:
    """Transport errors as ``CommandError`` (with the command line's hint where the
    transport's would name Python), Ctrl-C as a short note and status 130."""
    from lmstudio_provider.transport import LMStudioError

    try:
        yield
    except LMStudioError as error:
        hint = next(
            (text for kind, text in (hints or {}).items() if isinstance(error, kind)), error.hint
        )
        raise CommandError(error.message, hint) from None
    except KeyboardInterrupt:
        click.echo(
            "\nStopped waiting; LM Studio may still finish what it was asked "
            "(`llm lmstudio ps` shows what is loaded).",
            err=True,
        )
        raise SystemExit(INTERRUPTED) from None


def _client() -> LMStudioClient:
    from lmstudio_provider.llm_plugin._commands import _settings
    from lmstudio_provider.transport import LMStudioClient

    return LMStudioClient(_settings())


def _not_found_hints() -> dict[type[Exception], str]:
    from lmstudio_provider.transport import ModelNotFoundError

    return {
        ModelNotFoundError: "Download it with `llm lmstudio download <model>`; "
        "`llm lmstudio models` lists the downloaded ones."
    }


def _load_text(result: LoadResult) -> str:
    parts = [f"Loaded {result.model} as {result.instance_id}"]
    if result.load_time_secs is not None:
        parts.append(f" in {result.load_time_secs:.1f} s")
    if result.context_length is not None:
        asked = result.requested_context_length
        lowered = f"; {asked} asked" if asked and asked != result.context_length else ""
        parts.append(f" (context {result.context_length} tokens{lowered})")
    return "".join(parts) + "."


@click.command(name="load")
@click.argument("model")
@click.option("--context-length", metavar="N", help="Context length in tokens")
@click.option("--flash-attention/--no-flash-attention", default=None, help="Flash attention")
@click.option("--eval-batch-size", metavar="N", help="Tokens evaluated per batch")
@click.option("--num-experts", metavar="N", help="Experts used (mixture-of-experts models)")
@click.option(
    "--offload-kv-cache-to-gpu/--no-offload-kv-cache-to-gpu",
    default=None,
    help="Keep the KV cache in GPU memory",
)
@click.option(
    "--ttl",
    metavar="SECONDS",
    help="Load just in time instead, to unload after SECONDS idle "
    "(only --ttl applies then; a load without it stays until unloaded)",
)
@click.option("json_", "--json", is_flag=True, help="Output as JSON")
def load_command(
    model: str,
    context_length: str | None,
    flash_attention: bool | None,
    eval_batch_size: str | None,
    num_experts: str | None,
    offload_kv_cache_to_gpu: bool | None,
    ttl: str | None,
    json_: bool,
) -> None:
    """Load MODEL (a downloaded model's key, or a unique part of one).

    A model loaded this way stays loaded until `llm lmstudio unload` (LM Studio's
    idle TTL does not apply); with --ttl it is loaded just in time instead and
    unloads after that many idle seconds. LM Studio may lower --context-length to
    fit memory: the output says what was loaded.
    """
    from lmstudio_provider.llm_plugin._progress import loading_notice, stderr_is_terminal

    options: dict[str, Any] = {
        "context_length": positive_count("--context-length", context_length),
        "eval_batch_size": positive_count("--eval-batch-size", eval_batch_size),
        "num_experts": positive_count("--num-experts", num_experts),
        "flash_attention": flash_attention,
        "offload_kv_cache_to_gpu": offload_kv_cache_to_gpu,
    }
    seconds = positive_count("--ttl", ttl)
    if seconds is not None and any(value is not None for value in options.values()):
        raise CommandError(
            "--ttl loads just in time, which takes no load options; nothing was sent.",
            "Use --ttl alone, or the load options without --ttl.",
        )
    with runtime_errors(_not_found_hints()), _client() as client:
        if not json_ and not stderr_is_terminal():
            click.echo(f"loading {model}", err=True)
        with loading_notice(lambda: model):
            if seconds is not None:
                result = client.warm_model(model, ttl=seconds)
            else:
                result = client.load_model(model, **options)
    click.echo(json.dumps(result.as_dict(), indent=2) if json_ else _load_text(result))


@click.command(name="unload")
@click.argument("instances", nargs=-1, metavar="[INSTANCE]...")
@click.option("all_", "--all", is_flag=True, help="Unload every loaded instance")
def unload_command(instances: Sequence[str], all_: bool) -> None:
    """Unload loaded model instances (their ids as `llm lmstudio ps` shows them)."""
    if bool(instances) == all_:
        raise CommandError(
            "Name the instances to unload, or pass --all (not both); nothing was sent.",
            PS_HINT,
        )
    from lmstudio_provider.transport import ModelNotFoundError

    with runtime_errors({ModelNotFoundError: PS_HINT}), _client() as client:
        if all_:
            unloaded = client.unload_all()
        else:
            loaded = [instance.id for instance in client.loaded_models()]
            known = {instance_id.lower() for instance_id in loaded}
            missing = [name for name in instances if name.lower() not in known]
            if missing:  # every name is checked before the first unload
                raise ModelNotFoundError(
                    f"No loaded instance {', '.join(map(repr, missing))} (loaded: "
                    f"{', '.join(loaded) or 'none'}); nothing was sent."
                )
            unloaded = [client.unload_model(name) for name in instances]
    click.echo("\n".join(f"Unloaded {name}." for name in unloaded) or "Nothing was loaded.")


@click.command(name="download")
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
    if quantization is not None and not model.lower().startswith(("https://", "http://")):
        raise CommandError(
            f"--quantization only applies to a Hugging Face URL, and {model!r} is a catalog "
            "key; nothing was sent.",
            "Name the model by its URL (https://huggingface.co/<user>/<repo>) to pick a "
            "quantization, or leave --quantization out.",
        )
    from lmstudio_provider.llm_plugin._progress import DownloadDisplay

    with runtime_errors(), _client() as client:
        last = None
        try:
            with DownloadDisplay(model) as display:
                for progress in client.download_model(model, quantization):
                    display.show(progress)
                    last = progress
        except KeyboardInterrupt:
            click.echo(
                "\nStopped watching; LM Studio keeps downloading (see its Downloads panel).",
                err=True,
            )
            raise SystemExit(INTERRUPTED) from None
    already = last is not None and last.status == "already_downloaded"
    click.echo(f"{model} is already downloaded." if already else f"Downloaded {model}.")


def _ps_rows(instances: Sequence[LoadedInstance]) -> list[list[str]]:
    rows = []
    for instance in instances:
        shown = {k: instance.config[k] for k in LOAD_CONFIG_SHOWN if k in instance.config}
        others = ", ".join(f"{k}={v}" for k, v in shown.items())
        context = instance.context_length
        rows.append([instance.id, instance.model, str(context or "-"), others or "-"])
    return rows


@click.command(name="ps")
@click.option("json_", "--json", is_flag=True, help="Output as JSON")
def ps_command(json_: bool) -> None:
    """List the loaded model instances: id, model, context length, load config.

    Prompts reach an instance by its id: llm -m lmstudio/<id>.
    """
    from lmstudio_provider.llm_plugin._commands import _table

    with runtime_errors(), _client() as client:
        instances = client.loaded_models()
    if json_:
        click.echo(json.dumps([instance.as_dict() for instance in instances], indent=2))
    elif instances:
        headers = ["INSTANCE", "MODEL", "CONTEXT", "CONFIG"]
        click.echo(_table(headers, _ps_rows(instances)))
    else:
        click.echo("No model is loaded.")


def add_runtime_commands(group: click.Group) -> None:
    """Add ``load``, ``unload``, ``download`` and ``ps`` to the ``lmstudio`` group."""
    for command in (load_command, unload_command, download_command, ps_command):
        group.add_command(command)
