"""LM Studio's models as llm models: chat (sync and async) and embeddings.

A model knows the id and capabilities LM Studio listed; ``lmstudio/default`` and names
LM Studio did not list are resolved when a prompt runs, so LM Studio's answer (not
"Unknown model") says what is wrong.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Iterable, Iterator
from typing import Any

import llm
from llm.models import EmbeddingModel
from llm.parts import StreamEvent

from lmstudio_provider.llm_plugin._error_messages import model_errors
from lmstudio_provider.llm_plugin._events import ToolCallIds, record_result, result_events
from lmstudio_provider.llm_plugin._listing import KEY_ALIAS, KEY_ENV_VAR, llm_key
from lmstudio_provider.llm_plugin._options import LMStudioOptions
from lmstudio_provider.llm_plugin._progress import loading_notice
from lmstudio_provider.llm_plugin._prompt import IMAGE_TYPES, chat_request
from lmstudio_provider.transport import QuickListing

PREFIX = "lmstudio/"


class _OptionalKey:
    """An API key is used when there is one; LM Studio needs none unless told to."""

    needs_key: str | None = KEY_ALIAS
    key_env_var: str | None = KEY_ENV_VAR
    listing: QuickListing

    def get_key(self, explicit_key: str | None = None) -> str | None:
        return llm_key(explicit_key)  # None: the settings' own key, if any


class _LMStudioChat(_OptionalKey):
    """What the sync and async chat models share: identity, capabilities, requests."""

    model_id: str
    can_stream = True
    supports_schema = True
    attachment_types: set[str] | frozenset[str] = frozenset()
    Options = LMStudioOptions

    def __init__(self, model_id: str, lmstudio_id: str | None, listing: QuickListing) -> None:
        """``lmstudio_id``: an id LM Studio listed, a name to resolve, or None (the default)."""
        self.model_id = model_id
        self.lmstudio_id = lmstudio_id
        self.listing = listing
        info = next((m for m in listing.models if m.id == lmstudio_id), None)
        # What LM Studio's list says; None: it does not say, so the request is sent as
        # asked and the server decides (llm refuses what a model says it cannot take).
        # Schemas: LM Studio enforces `json_schema` structured output for every LLM.
        self.vision = info.supports_vision if info and listing.reports_types else None
        self.tools = info.supports_tools if info and listing.reports_tools else None
        self.supports_tools = self.tools is not False
        self.attachment_types = set() if self.vision is False else set(IMAGE_TYPES)

    def __str__(self) -> str:
        kind = " (async)" if isinstance(self, llm.AsyncModel | llm.AsyncKeyModel) else ""
        unknown = None  # what `llm models` must not read as "yes"
        if self.lmstudio_id is not None and self.vision is None:
            unknown = "capabilities unknown: images, tools and schemas are"
        elif self.lmstudio_id is not None and self.tools is None:
            unknown = "tool use unknown: tools are"
        note = f" ({unknown} sent as asked; the server decides)" if unknown else ""
        return f"LM Studio{kind}: {self.model_id}{note}"

    def _prepare(self, prompt: llm.Prompt) -> tuple[list[dict[str, Any]], dict[str, Any]]:
        self.listing.raise_if_down()
        return chat_request(prompt)


class LMStudioChat(_LMStudioChat, llm.KeyModel):
    """A chat model served by LM Studio."""

    def execute(
        self,
        prompt: llm.Prompt,
        stream: bool,
        response: llm.Response,
        conversation: llm.Conversation | None,
        key: str | None,
    ) -> Iterator[StreamEvent]:
        with model_errors(response):
            messages, options = self._prepare(prompt)
            client = self.listing.connection.client(key, self.listing.fresh_models)
            # Resolved once, here, so that the notice knows whether the model loads.
            info = client.resolve_model(self.lmstudio_id)
            if not stream:
                with loading_notice(lambda: info.id if info.state == "not-loaded" else None):
                    result = client.chat(messages, model=info, **options)
                yield from result_events(result)
            else:
                ids = ToolCallIds()
                with (
                    client.stream_chat(messages, model=info, **options) as chunks,
                    loading_notice(lambda: chunks.loading_model) as notice,
                ):
                    for chunk in chunks:
                        if notice is not None:  # the first token: the model is loaded
                            notice.stop()
                            notice = None
                        # The common chunk, one piece of text, skips the general path.
                        if chunk.tool_calls is None and not chunk.reasoning:
                            if chunk.text:
                                yield StreamEvent("text", chunk.text)
                        else:
                            yield from ids.chunk_events(chunk)
                result = chunks.result
            record_result(response, result)


class AsyncLMStudioChat(_LMStudioChat, llm.AsyncKeyModel):
    """The async twin of ``LMStudioChat``."""

    async def execute(
        self,
        prompt: llm.Prompt,
        stream: bool,
        response: llm.AsyncResponse,
        conversation: llm.AsyncConversation | None,
        key: str | None,
    ) -> AsyncGenerator[StreamEvent, None]:
        with model_errors(response):
            messages, options = self._prepare(prompt)
            client = self.listing.connection.async_client(key, self.listing.fresh_models)
            info = await client.resolve_model(self.lmstudio_id)
            if not stream:
                with loading_notice(lambda: info.id if info.state == "not-loaded" else None):
                    result = await client.chat(messages, model=info, **options)
                for event in result_events(result):
                    yield event
            else:
                ids = ToolCallIds()
                async with client.stream_chat(messages, model=info, **options) as chunks:
                    with loading_notice(lambda: chunks.loading_model) as notice:
                        async for chunk in chunks:
                            if notice is not None:
                                notice.stop()
                                notice = None
                            if chunk.tool_calls is None and not chunk.reasoning:
                                if chunk.text:
                                    yield StreamEvent("text", chunk.text)
                            else:
                                for event in ids.chunk_events(chunk):
                                    yield event
                result = chunks.result
            record_result(response, result)


class LMStudioEmbedding(_OptionalKey, EmbeddingModel):
    """An embedding model served by LM Studio; ``embed-multi`` sends batches."""

    batch_size = 64

    def __init__(self, model_id: str, lmstudio_id: str, listing: QuickListing) -> None:
        self.model_id = model_id
        self.lmstudio_id = lmstudio_id
        self.listing = listing

    def __str__(self) -> str:
        return f"LM Studio: {self.model_id}"

    def embed_batch(
        self, items: Iterable[str | bytes], *, key: str | None = None
    ) -> Iterator[list[float]]:
        texts = [item if isinstance(item, str) else item.decode("utf-8") for item in items]
        with model_errors():
            self.listing.raise_if_down()
            client = self.listing.connection.client(key, self.listing.fresh_models)
            result = client.embed(texts, model=self.lmstudio_id, batch_size=self.batch_size)
        return iter(result.vectors)
