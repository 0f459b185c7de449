"""LangChain contenders of the streaming benchmark: ``ChatLMStudio`` and ``ChatOpenAI``.

``bench_streaming.py`` imports this module once, which registers the contenders.
Each streams the benchmark's answer through LangChain's public ``stream``/``astream``
and counts the chunks that carried text, as a LangChain user would read them.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import contenders as bench


@bench.contender("ChatLMStudio sync stream")
def chat_lmstudio_sync(base_url: str) -> Iterator[bench.Run]:
    """``ChatLMStudio.stream``."""
    from lmstudio_provider.langchain import ChatLMStudio

    model = ChatLMStudio(
        model=bench.MODEL, base_url=base_url, timeout=bench.TIMEOUT_SECS, max_retries=0
    )

    def run() -> bench.Received:
        parts = [chunk.text for chunk in model.stream(bench.MESSAGES) if chunk.text]
        return bench.Received(len(parts), "".join(parts))

    yield run


@bench.contender("ChatLMStudio async astream", baseline=bench.NAIVE_ASYNC)
def chat_lmstudio_async(base_url: str) -> Iterator[bench.Run]:
    """``ChatLMStudio.astream``."""
    from lmstudio_provider.langchain import ChatLMStudio

    async def stream_once(model: Any) -> bench.Received:
        parts = [chunk.text async for chunk in model.astream(bench.MESSAGES) if chunk.text]
        return bench.Received(len(parts), "".join(parts))

    yield from bench.run_async(
        lambda: ChatLMStudio(
            model=bench.MODEL, base_url=base_url, timeout=bench.TIMEOUT_SECS, max_retries=0
        ),
        stream_once,
    )


@bench.contender("ChatOpenAI(base_url=...)")
def chat_openai(base_url: str) -> Iterator[bench.Run]:
    """``langchain_openai.ChatOpenAI`` pointed at the server's ``/v1``, as users do today."""
    from langchain_openai import ChatOpenAI
    from pydantic import SecretStr

    model = ChatOpenAI(
        model=bench.MODEL,
        base_url=f"{base_url}/v1",
        api_key=SecretStr("lm-studio"),
        timeout=bench.TIMEOUT_SECS,
        max_retries=0,
    )

    def run() -> bench.Received:
        parts = [chunk.text for chunk in model.stream(bench.MESSAGES) if chunk.text]
        return bench.Received(len(parts), "".join(parts))

    yield run
