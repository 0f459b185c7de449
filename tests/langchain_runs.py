"""Running a LangChain chat model sync or async alike, and recording its callbacks."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.messages import AIMessageChunk, BaseMessage
from langchain_core.outputs import ChatGenerationChunk, LLMResult

USAGE_WITH_REASONING = {
    "prompt_tokens": 9,
    "completion_tokens": 20,
    "total_tokens": 29,
    "completion_tokens_details": {"reasoning_tokens": 12},
}


class Recorder(BaseCallbackHandler):
    """Records the callbacks a run fires."""

    def __init__(self) -> None:
        self.tokens: list[str] = []
        self.chunks: list[ChatGenerationChunk] = []
        self.options: list[dict[str, Any] | None] = []
        self.params: list[dict[str, Any]] = []
        self.ended: list[LLMResult] = []
        self.errors: list[BaseException] = []

    def on_chat_model_start(
        self, serialized: Any, messages: Any, *, options: Any = None, **kwargs: Any
    ) -> None:
        self.options.append(options)
        self.params.append(kwargs.get("invocation_params") or {})

    def on_llm_new_token(self, token: Any, *, chunk: Any = None, **kwargs: Any) -> None:
        self.tokens.append(token)
        self.chunks.append(chunk)

    def on_llm_end(self, response: LLMResult, *, run_id: UUID, **kwargs: Any) -> None:
        self.ended.append(response)

    def on_llm_error(self, error: BaseException, **kwargs: Any) -> None:
        self.errors.append(error)


def merged(chunks: list[AIMessageChunk]) -> AIMessageChunk:
    total = chunks[0]
    for chunk in chunks[1:]:
        total = total + chunk
    return total


async def collect(chat: Any, prompt: Any, kind: str, **kwargs: Any) -> list[AIMessageChunk]:
    if kind == "sync":
        return list(chat.stream(prompt, **kwargs))
    return [chunk async for chunk in chat.astream(prompt, **kwargs)]


async def invoke(chat: Any, prompt: Any, kind: str, **kwargs: Any) -> BaseMessage:
    if kind == "sync":
        result: BaseMessage = chat.invoke(prompt, **kwargs)
        return result
    return await chat.ainvoke(prompt, **kwargs)  # type: ignore[no-any-return]
