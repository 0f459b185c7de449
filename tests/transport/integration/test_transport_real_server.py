"""The transport against a real model server (LM Studio, or the llama.cpp stand-in)."""

from __future__ import annotations

import asyncio
import json
import math
import time
from typing import Any

import pytest

from lmstudio_provider import (
    AsyncLMStudioClient,
    LMStudioClient,
    ModelMismatchError,
    ModelNotFoundError,
)
from lmstudio_provider.transport._results import ChatChunk
from realserver import ServerUnderTest

PROMPT = [{"role": "user", "content": "Write a short poem about the sea."}]
WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Current weather in a city.",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string"}},
            "required": ["city"],
        },
    },
}


def test_lists_and_resolves_models(server: ServerUnderTest, client: LMStudioClient) -> None:
    ids = [model.id for model in client.list_models(refresh=True)]
    assert server.chat_model in ids
    assert client.resolve_model(None).id == server.chat_model
    assert client.resolve_model("local-model").id == server.chat_model
    assert client.resolve_model(server.chat_model.upper()).id == server.chat_model
    part = server.chat_model[1:-1]
    matches = [i for i in ids if part.lower() in i.lower()]
    if len(matches) == 1:
        assert client.resolve_model(part).id == server.chat_model
    with pytest.raises(ModelNotFoundError) as caught:
        client.resolve_model("no-such-model-anywhere-xyz")
    assert server.chat_model in caught.value.available


def test_rich_model_info(lmstudio_only: None, client: LMStudioClient) -> None:
    models = client.list_models(refresh=True)
    assert {model.type for model in models} <= {"llm", "vlm", "embeddings"}
    loaded = [model for model in models if model.is_loaded]
    assert loaded
    assert all(model.max_context_length for model in loaded)


def test_chat(server: ServerUnderTest, client: LMStudioClient) -> None:
    result = client.chat(PROMPT, max_tokens=24, temperature=0)
    assert result.text.strip()
    assert result.finish_reason in ("stop", "length")
    assert result.usage is not None
    assert result.usage.completion_tokens > 0
    assert result.usage.prompt_tokens > 0
    assert result.model.lower() == server.chat_model.lower()
    assert result.metrics.wall_duration_secs > 0
    assert result.metrics.tokens_per_second is not None


def test_stream_arrives_incrementally(client: LMStudioClient) -> None:
    arrivals: list[tuple[float, ChatChunk]] = []
    stream = client.stream_chat(PROMPT, max_tokens=48, temperature=0)
    with stream:
        for chunk in stream:
            arrivals.append((time.perf_counter(), chunk))
    text_arrivals = [at for at, chunk in arrivals if chunk.text]
    assert len(text_arrivals) >= 5
    # The first text came well before the last: tokens were not buffered to the end.
    assert text_arrivals[-1] - text_arrivals[0] > 0.01
    result = stream.result
    assert result.text == "".join(chunk.text for _, chunk in arrivals)
    assert result.finish_reason in ("stop", "length")
    ttft = result.metrics.time_to_first_token_secs
    assert ttft is not None
    assert 0 < ttft < result.metrics.wall_duration_secs
    assert result.metrics.tokens_per_second is not None


def test_streamed_usage(lmstudio_only: None, client: LMStudioClient) -> None:
    stream = client.stream_chat(PROMPT, max_tokens=16)
    chunks = list(stream)
    usages = [chunk.usage for chunk in chunks if chunk.usage is not None]
    assert len(usages) == 1
    assert stream.result.usage == usages[0]
    assert usages[0].completion_tokens > 0


def test_stop_sequence(client: LMStudioClient) -> None:
    reference = client.chat(PROMPT, max_tokens=32, temperature=0, seed=7).text
    words = [word for word in reference.split() if len(word) > 3 and reference.count(word) == 1]
    assert words, f"no usable stop word in {reference!r}"
    stop_word = words[len(words) // 2]
    stopped = client.chat(PROMPT, max_tokens=32, temperature=0, seed=7, stop=[stop_word])
    assert stop_word not in stopped.text
    assert reference.startswith(stopped.text.rstrip())
    assert stopped.finish_reason == "stop"


def test_seed_makes_sampling_reproducible(client: LMStudioClient) -> None:
    texts = {client.chat(PROMPT, max_tokens=24, temperature=0.9, seed=1234).text for _ in range(2)}
    assert len(texts) == 1
    greedy = {client.chat(PROMPT, max_tokens=24, temperature=0, seed=5).text for _ in range(2)}
    assert len(greedy) == 1


def test_max_tokens_is_honoured(client: LMStudioClient) -> None:
    result = client.chat(PROMPT, max_tokens=5, temperature=0)
    assert result.usage is not None
    assert result.usage.completion_tokens <= 5
    assert result.finish_reason == "length"


@pytest.mark.parametrize(
    "extension",
    [
        {"top_k": 20},
        {"min_p": 0.05},
        {"repeat_penalty": 1.1},
        {"mirostat_mode": 2, "mirostat_tau": 5.0, "mirostat_eta": 0.1},
        {"cache_prompt": True},
        {"logit_bias": {"1": -100}},
    ],
    ids=lambda extension: ",".join(extension),
)
def test_extension_parameters_are_accepted(
    client: LMStudioClient, extension: dict[str, Any]
) -> None:
    result = client.chat(PROMPT, max_tokens=8, temperature=0.5, seed=3, **extension)
    assert result.text
    assert result.finish_reason in ("stop", "length")


def test_forced_tool_call(server: ServerUnderTest, client: LMStudioClient) -> None:
    messages = [{"role": "user", "content": "What is the weather in Paris?"}]
    # LM Studio takes the named tool_choice as "required" with only that tool; llama.cpp's
    # server forces a tool only with the object form, which extra_body sends verbatim.
    extra = (
        None
        if server.is_lmstudio
        else {"tool_choice": {"type": "function", "function": {"name": "get_weather"}}}
    )
    result = client.chat(
        messages,
        max_tokens=64,
        temperature=0,
        tools=[WEATHER_TOOL],
        tool_choice="get_weather",
        extra_body=extra,
    )
    assert len(result.tool_calls) == 1
    call = result.tool_calls[0]
    assert call.name == "get_weather"
    assert call.id
    assert isinstance(call.parsed_arguments().get("city"), str)
    assert result.finish_reason == "tool_calls"


def test_json_schema_structured_output(lmstudio_only: None, client: LMStudioClient) -> None:
    schema = {
        "type": "object",
        "properties": {"name": {"type": "string"}, "age": {"type": "integer"}},
        "required": ["name", "age"],
    }
    result = client.chat(
        [{"role": "user", "content": "Invent a person. Answer in JSON."}],
        max_tokens=64,
        response_format={
            "type": "json_schema",
            "json_schema": {"name": "person", "strict": True, "schema": schema},
        },
    )
    value = json.loads(result.text)
    assert isinstance(value["name"], str)
    assert isinstance(value["age"], int)


def test_unknown_model_is_refused(client: LMStudioClient) -> None:
    with pytest.raises((ModelNotFoundError, ModelMismatchError)) as caught:
        client.chat(PROMPT, model="no-such-model-anywhere-xyz", max_tokens=4)
    assert "no-such-model-anywhere-xyz" in str(caught.value)


def test_health(server: ServerUnderTest, client: LMStudioClient) -> None:
    report = client.health()
    assert report.ok
    assert report.server_kind == ("lmstudio" if server.is_lmstudio else "openai-compatible")
    assert report.latency_ms is not None
    assert server.chat_model in report.loaded_models


def test_embeddings(client: LMStudioClient, embedding_model: str) -> None:
    texts = ["The cat sat on the mat.", "Quarterly revenue grew by 4%.", "A kitten on a rug."]
    result = client.embed(texts, model=embedding_model, batch_size=2)
    assert len(result.vectors) == 3
    assert len({len(vector) for vector in result.vectors}) == 1
    assert len(result.vectors[0]) > 8
    # Order is kept: each text's vector is closest to the same text's vector in a run
    # with the texts reversed (batches differ, so the numbers may differ slightly).
    again = list(reversed(client.embed(list(reversed(texts)), model=embedding_model).vectors))
    for index, vector in enumerate(result.vectors):
        similarities = [cosine(vector, other) for other in again]
        assert max(range(3), key=similarities.__getitem__) == index
        assert similarities[index] > 0.98


def cosine(a: list[float], b: list[float]) -> float:
    dot = sum(x * y for x, y in zip(a, b, strict=True))
    return dot / (math.sqrt(sum(x * x for x in a)) * math.sqrt(sum(y * y for y in b)))


def test_breaking_out_of_a_stream_closes_its_connection(client: LMStudioClient) -> None:
    for _ in range(3):
        for chunk in client.stream_chat(PROMPT, max_tokens=64, temperature=0):
            if chunk.text:
                break
        assert client.in_flight == 0
    pool = client._http._transport._pool  # type: ignore[attr-defined]
    assert not [c for c in pool.connections if not (c.is_idle() or c.is_closed())]
    assert client.chat(PROMPT, max_tokens=4).text


async def test_async_chat_stream_and_cancellation(server: ServerUnderTest) -> None:
    async with AsyncLMStudioClient(base_url=server.base_url, timeout=120) as client:
        result = await client.chat(PROMPT, max_tokens=12, temperature=0)
        assert result.text
        stream = client.stream_chat(PROMPT, max_tokens=12, temperature=0)
        async with stream:
            texts = [chunk.text async for chunk in stream]
        assert "".join(texts) == stream.result.text
        stream = client.stream_chat(PROMPT, max_tokens=64, temperature=0)
        async with stream:
            async for chunk in stream:
                if chunk.text:
                    break
        assert client.in_flight == 0


async def test_twenty_concurrent_streams(server: ServerUnderTest) -> None:
    async with AsyncLMStudioClient(base_url=server.base_url, timeout=300) as client:

        async def one(index: int) -> tuple[int, str, str | None, int]:
            stream = client.stream_chat(
                [{"role": "user", "content": f"Say the number {index} in words."}],
                max_tokens=12,
                temperature=0,
            )
            async with stream:
                text = "".join([chunk.text async for chunk in stream])
            return index, text, stream.result.finish_reason, stream.result.metrics.retries

        results = await asyncio.gather(*(one(index) for index in range(20)))
        assert client.in_flight == 0
    assert [index for index, *_ in results] == list(range(20))
    for _, text, finish, retries in results:
        assert text
        assert finish in ("stop", "length")
        assert retries == 0
