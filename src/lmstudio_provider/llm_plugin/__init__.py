"""The ``llm`` plugin's hooks. llm imports this module on every start (``llm --help``
too), so everything else is imported when a hook first needs it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click
import llm

from lmstudio_provider.transport import logger


@llm.hookimpl
def register_models(register: Callable[..., None]) -> None:
    from lmstudio_provider.llm_plugin._register import register_chat_models

    _guarded(register_chat_models, register)


@llm.hookimpl
def register_embedding_models(register: Callable[..., None]) -> None:
    from lmstudio_provider.llm_plugin._register import register_embedding_models

    _guarded(register_embedding_models, register)


@llm.hookimpl
def register_commands(cli: click.Group) -> None:
    from lmstudio_provider.llm_plugin._commands import lmstudio

    cli.add_command(lmstudio)


def _guarded(registration: Callable[[Callable[..., None]], None], register: Any) -> None:
    """A bug here must not break llm for every other provider: report it, register less."""
    try:
        registration(register)
    except Exception as error:
        logger.warning("lmstudio-provider could not register LM Studio's models: %r", error)
