"""Drive ``LMStudioClient`` or ``AsyncLMStudioClient`` through one awaitable interface.

Unit tests take the ``api`` or ``make_api`` fixture (tests/transport/unit/conftest.py), which is
parametrized ``sync``/``async``, so every test runs against both clients.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from lmstudio_provider.transport._async_client import AsyncChatStream, AsyncLMStudioClient
from lmstudio_provider.transport._core import HealthReport
from lmstudio_provider.transport._models import ModelInfo
from lmstudio_provider.transport._results import ChatChunk, ChatResponse, EmbeddingResult
from lmstudio_provider.transport._sync_client import ChatStream, LMStudioClient

MESSAGES: list[dict[str, Any]] = [{"role": "user", "content": "Hi"}]


class Api:
    """One of the two clients behind one awaitable interface."""

    def __init__(self, kind: str, **settings: Any) -> None:
        self.kind = kind
        self.sync: LMStudioClient | None = None
        self.aio: AsyncLMStudioClient | None = None
        if kind == "sync":
            self.sync = LMStudioClient(**settings)
        else:
            self.aio = AsyncLMStudioClient(**settings)

    @property
    def in_flight(self) -> int:
        client = self.sync or self.aio
        assert client is not None
        return client.in_flight

    async def list_models(self, *, refresh: bool = False) -> list[ModelInfo]:
        if self.sync is not None:
            return self.sync.list_models(refresh=refresh)
        assert self.aio is not None
        return await self.aio.list_models(refresh=refresh)

    async def resolve_model(self, name: str | None = None, **kwargs: Any) -> ModelInfo:
        if self.sync is not None:
            return self.sync.resolve_model(name, **kwargs)
        assert self.aio is not None
        return await self.aio.resolve_model(name, **kwargs)

    async def chat(
        self, messages: Sequence[Mapping[str, Any]] = MESSAGES, **kwargs: Any
    ) -> ChatResponse:
        if self.sync is not None:
            return self.sync.chat(messages, **kwargs)
        assert self.aio is not None
        return await self.aio.chat(messages, **kwargs)

    def start_stream(
        self, messages: Sequence[Mapping[str, Any]] = MESSAGES, **kwargs: Any
    ) -> ChatStream | AsyncChatStream:
        """Only call ``stream_chat`` (which checks parameters); read nothing."""
        if self.sync is not None:
            return self.sync.stream_chat(messages, **kwargs)
        assert self.aio is not None
        return self.aio.stream_chat(messages, **kwargs)

    async def stream(
        self, messages: Sequence[Mapping[str, Any]] = MESSAGES, **kwargs: Any
    ) -> tuple[list[ChatChunk], ChatResponse]:
        """Read a whole stream: its chunks and its result."""
        if self.sync is not None:
            with self.sync.stream_chat(messages, **kwargs) as stream:
                chunks = list(stream)
            return chunks, stream.result
        assert self.aio is not None
        async with self.aio.stream_chat(messages, **kwargs) as astream:
            chunks = [item async for item in astream]
        return chunks, astream.result

    async def embed(self, texts: Any, **kwargs: Any) -> EmbeddingResult:
        if self.sync is not None:
            return self.sync.embed(texts, **kwargs)
        assert self.aio is not None
        return await self.aio.embed(texts, **kwargs)

    async def health(self) -> HealthReport:
        if self.sync is not None:
            return self.sync.health()
        assert self.aio is not None
        return await self.aio.health()

    async def close(self) -> None:
        if self.sync is not None:
            self.sync.close()
        if self.aio is not None:
            await self.aio.aclose()
