"""What the plugin registers: every model LM Studio lists as ``lmstudio/<id>``;
``lmstudio/default`` (alias ``lmstudio``: the configured ``default_model``, else the
loaded model); and each ``lmstudio/<name>`` the command asks for that is no listed id,
as an alias of the one model it names part of (``-m lmstudio/qwen``), else as a model
resolved when the prompt runs, so that LM Studio's answer says what is wrong. llm looks
models up by exact name: the names asked for are read from the click parameters.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any

import click
import llm

from lmstudio_provider.llm_plugin._chat import (
    PREFIX,
    AsyncLMStudioChat,
    LMStudioChat,
    LMStudioEmbedding,
)
from lmstudio_provider.llm_plugin._listing import current_listing, model_list_cache
from lmstudio_provider.transport import ConfigError, ModelInfo, find_model

DEFAULT_MODEL_ID = "lmstudio/default"
DEFAULT_ALIAS = "lmstudio"


def requested_names() -> list[str]:
    """``lmstudio/...`` names this command asks for: ``-m``, ``LLM_MODEL``, llm's defaults."""
    values: list[Any] = [
        llm.get_default_model(),  # type: ignore[no-untyped-call]
        llm.get_default_embedding_model(),  # type: ignore[no-untyped-call]
    ]
    context = click.get_current_context(silent=True)
    while context is not None:
        values.extend(value for name, value in context.params.items() if "model" in name)
        context = context.parent
    names: list[str] = []
    for value in values:
        for item in value if isinstance(value, list | tuple) else [value]:
            if isinstance(item, str) and item.startswith(PREFIX) and item not in names:
                names.append(item)
    return names


def _names_to_register(
    own: Sequence[ModelInfo], others: Sequence[ModelInfo]
) -> tuple[dict[str, list[str]], list[str]]:
    """Aliases of listed models, and names to keep as asked, for what the command asks."""
    aliases: dict[str, list[str]] = {model.id: [] for model in own}
    kept: list[str] = []
    listed = {PREFIX + model.id for model in own}
    for name in requested_names():
        part = name.removeprefix(PREFIX)
        if not part or name in listed or name == DEFAULT_MODEL_ID:
            continue
        match = find_model(part, own)
        if match is not None and match.instance_of is None:
            aliases[match.id].append(name)
        elif match is not None:
            kept.append(name)  # a loaded instance (`my-qwen`, `key:2`): prompts name it
        elif find_model(part, others) is None:
            kept.append(name)  # a model of the other kind is not this kind's business
    return aliases, kept


_ERROR_SHOWN = "lmstudio_provider.configuration_error_shown"


def _say_configuration_error(error: ConfigError | None) -> None:
    """``llm models`` with an invalid configuration: the error on stderr, once.

    Other commands say it themselves (a prompt fails with it), so only ``llm models``
    (the ``models`` group right under llm's own) prints it here."""
    chain, context = [], click.get_current_context(silent=True)
    while context is not None:
        chain.append(context)
        context = context.parent
    if error is None or len(chain) < 2 or chain[-2].info_name != "models":
        return
    if not chain[-1].meta.get(_ERROR_SHOWN):
        chain[-1].meta[_ERROR_SHOWN] = True
        click.echo(f"Error: {error}", err=True)


def register_chat_models(register: Callable[..., None]) -> None:
    listing = current_listing()
    if listing.connection.settings is None:  # the server is not known: every saved model
        _say_configuration_error(listing.connection.error)
        listing = replace(listing, models=tuple(model_list_cache().saved_models()))
    chat = [m for m in listing.permitted_models if not m.is_embedding]
    embeddings = [m for m in listing.models if m.is_embedding]
    register(
        LMStudioChat(DEFAULT_MODEL_ID, None, listing),
        AsyncLMStudioChat(DEFAULT_MODEL_ID, None, listing),
        aliases=[DEFAULT_ALIAS],
    )
    aliases, kept = _names_to_register(chat, embeddings)
    for model in chat:
        model_id = PREFIX + model.id
        register(
            LMStudioChat(model_id, model.id, listing),
            AsyncLMStudioChat(model_id, model.id, listing),
            aliases=aliases[model.id],
        )
    for name in kept:
        part = name.removeprefix(PREFIX)
        register(LMStudioChat(name, part, listing), AsyncLMStudioChat(name, part, listing))


def register_embedding_models(register: Callable[..., None]) -> None:
    listing = current_listing()
    embeddings = [m for m in listing.permitted_models if m.is_embedding]
    # Chat models whose kind LM Studio reported (an OpenAI-style list cannot tell).
    chat = [m for m in listing.models if not m.is_embedding and m.type != "unknown"]
    aliases, kept = _names_to_register(embeddings, chat)
    for model in embeddings:
        register(LMStudioEmbedding(PREFIX + model.id, model.id, listing), aliases=aliases[model.id])
    for name in kept:
        register(LMStudioEmbedding(name, name.removeprefix(PREFIX), listing))
