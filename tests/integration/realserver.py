"""What the integration tier knows about the server it runs against."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from lmstudio_provider import LMStudioClient


@dataclass(frozen=True)
class ServerUnderTest:
    """The model server the integration tier runs against."""

    base_url: str
    kind: str  # "lmstudio", or "llama.cpp stand-in", or "openai-compatible"
    chat_model: str
    embedding_model: str | None

    @property
    def is_lmstudio(self) -> bool:
        return self.kind == "lmstudio"


def describe(base_url: str, kind_if_not_lmstudio: str) -> ServerUnderTest:
    with LMStudioClient(base_url=base_url, max_retries=0) as client:
        health = client.health()
        if not health.ok:
            pytest.fail(
                f"The integration server at {base_url} is not healthy: {health.error}\n"
                f"Hint: {health.hint}",
                pytrace=False,
            )
        chat = client.resolve_model(None)
        embedding_ids = [m.id for m in client.list_models() if m.is_embedding]
    kind = "lmstudio" if health.server_kind == "lmstudio" else kind_if_not_lmstudio
    return ServerUnderTest(base_url, kind, chat.id, embedding_ids[0] if embedding_ids else None)
