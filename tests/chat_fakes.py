"""LM Studio's chat answers for respx: completions, SSE chunks and streams pieced at will.

Shapes follow ``../shared/LMSTUDIO-API.md``.
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import httpx2
import respx

from client_api import MESSAGES
from lmstudio_provider.transport._results import (
    ChatResponse,
    Usage,
)

BASE = "http://localhost:1234"
CHAT_URL = f"{BASE}/v1/chat/completions"
MODELS_URL = f"{BASE}/api/v1/models"
MODEL = "qwen/qwen3-4b"
CAPTURED_MODEL = "qwen2.5-7b-instruct"  # the model of the j-shelfwood captures
CAPTURED_1M_MODEL = "qwen2.5-7b-instruct-1m"  # the model of the v0 standard-response capture
BASE_BODY: dict[str, Any] = {"model": MODEL, "messages": MESSAGES}
STREAM_FIELDS: dict[str, Any] = {"stream": True, "stream_options": {"include_usage": True}}
USAGE_WIRE: dict[str, Any] = {"prompt_tokens": 12, "completion_tokens": 3, "total_tokens": 15}
USAGE = Usage(prompt_tokens=12, completion_tokens=3, total_tokens=15)
CAPTURES = Path(__file__).resolve().parents[2] / "shared" / "lmstudio-captures"
GENERATED_ID = re.compile(r"call_[0-9a-f]{24}")


def read_capture(name: str) -> str:
    """A capture's text without its ``# SOURCE`` first line."""
    first, _, rest = (CAPTURES / name).read_text(encoding="utf-8").partition("\n")
    assert first.startswith("# SOURCE")
    return rest


# -- Fakes ----------------------------------------------------------------------


def v1_entry(key: str, *, loaded: bool = True) -> dict[str, Any]:
    """An ``/api/v1/models`` entry (LM Studio 0.4 shape)."""
    return {
        "type": "llm",
        "publisher": key.split("/")[0],
        "key": key,
        "display_name": key,
        "architecture": "qwen3",
        "quantization": {"name": "Q4_K_M", "bits_per_weight": 4},
        "size_bytes": 2497280256,
        "params_string": "4B",
        "loaded_instances": [{"id": key, "config": {"context_length": 4096}}] if loaded else [],
        "max_context_length": 262144,
        "format": "gguf",
        "capabilities": {"vision": False, "trained_for_tool_use": True},
    }


def serve_models(respx_mock: respx.MockRouter) -> respx.Route:
    """LM Studio 0.4 with MODEL and the captures' models loaded."""
    models = [v1_entry(MODEL), v1_entry(CAPTURED_MODEL), v1_entry(CAPTURED_1M_MODEL)]
    return respx_mock.get(MODELS_URL).respond(200, json={"models": models})


def completion(
    message: Mapping[str, Any],
    *,
    finish: str | None = "stop",
    model: str = MODEL,
    usage: Mapping[str, Any] | None = USAGE_WIRE,
    **extra: Any,
) -> dict[str, Any]:
    """A non-streamed ``/v1/chat/completions`` body."""
    body: dict[str, Any] = {
        "id": "chatcmpl-abc123",
        "object": "chat.completion",
        "created": 1740598352,
        "model": model,
        "choices": [
            {
                "index": 0,
                "logprobs": None,
                "finish_reason": finish,
                "message": {"role": "assistant", **message},
            }
        ],
        "system_fingerprint": model,
        **extra,
    }
    if usage is not None:
        body["usage"] = dict(usage)
    return body


def chunk(
    delta: Mapping[str, Any], finish: str | None = None, *, model: str = MODEL, **extra: Any
) -> dict[str, Any]:
    """One streamed ``chat.completion.chunk``."""
    return {
        "id": "chatcmpl-abc123",
        "object": "chat.completion.chunk",
        "created": 1740598352,
        "model": model,
        "system_fingerprint": model,
        "choices": [{"index": 0, "delta": dict(delta), "logprobs": None, "finish_reason": finish}],
        **extra,
    }


def sse_event(event: Mapping[str, Any] | str) -> bytes:
    data = event if isinstance(event, str) else json.dumps(event)
    return f"data: {data}\n\n".encode()


class PiecedStream(httpx2.SyncByteStream, httpx2.AsyncByteStream):
    """A response body delivered in the given reads, to the sync or the async client."""

    def __init__(self, pieces: Sequence[bytes]) -> None:
        self.pieces = list(pieces)

    def __iter__(self) -> Iterator[bytes]:
        yield from self.pieces

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for piece in self.pieces:
            yield piece


def sse_response(
    events: Sequence[Mapping[str, Any] | str], *, piece_size: int | None = None
) -> Any:
    """An event stream: one read per event, or reads of ``piece_size`` bytes."""
    encoded = [sse_event(event) for event in events]
    if piece_size is not None:
        raw = b"".join(encoded)
        encoded = [raw[i : i + piece_size] for i in range(0, len(raw), piece_size)]
    return wire(
        httpx2.Response(
            200, headers={"content-type": "text/event-stream"}, stream=PiecedStream(encoded)
        )
    )


def wire(response: httpx2.Response) -> Any:
    """A response for respx: its annotations name ``httpx``, aliased to ``httpx2`` at run time."""
    return response


def sent_body(route: respx.Route, index: int = -1) -> Any:
    return json.loads(route.calls[index].request.content)


def without_metrics(result: ChatResponse) -> dict[str, Any]:
    data = result.as_dict()
    del data["metrics"]
    return data


TOOL_A: dict[str, Any] = {
    "type": "function",
    "function": {
        "name": "a",
        "description": "Tool a",
        "parameters": {"type": "object", "properties": {}},
    },
}
TOOL_B: dict[str, Any] = {
    "type": "function",
    "function": {
        "name": "b",
        "description": "Tool b",
        "parameters": {"type": "object", "properties": {"x": {"type": "integer"}}},
    },
}
