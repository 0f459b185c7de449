"""A respx stand-in for LM Studio, for the LangChain unit tests.

Answers are built from the recordings in ``../shared/lmstudio-captures/`` (named
where used) or written in the shapes ``../shared/LMSTUDIO-API.md`` describes.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import respx

BASE = "http://localhost:1234"
CHAT_URL = f"{BASE}/v1/chat/completions"
EMBEDDINGS_URL = f"{BASE}/v1/embeddings"
CAPTURES = Path(__file__).resolve().parents[2] / "shared" / "lmstudio-captures"
PHP = "j-shelfwood__prj-php-lmstudio__tests_mocks_"
V0_CHAT = f"{PHP}v0_chat_standard-response.json__6c951044.json"  # /api/v0 body with stats
V0_TOOL_CHAT = f"{PHP}v0_chat_tool-response.json__00534978.json"  # one tool call, with stats
TOOL_STREAM = f"{PHP}streaming_tool-stream.txt__527beafe.txt"  # tool call in 14 fragments
TEXT_STREAM = f"{PHP}streaming_chat-stream.txt__c4db939d.txt"  # 52 text deltas
CAPTURED_MODEL = "qwen2.5-7b-instruct"  # the model of the streams
CAPTURED_V0_MODEL = "qwen2.5-7b-instruct-1m"  # the model of the /api/v0 bodies
EMBEDDING_MODEL = "text-embedding-nomic-embed-text-v1.5"


def capture_text(name: str) -> str:
    """A capture without its ``# SOURCE`` line."""
    source, _, body = (CAPTURES / name).read_text(encoding="utf-8").partition("\n")
    assert source.startswith("# SOURCE"), name
    return body


def capture_json(name: str) -> Any:
    return json.loads(capture_text(name))


def model_entry(key: str, kind: str = "llm") -> dict[str, Any]:
    """A loaded model in LM Studio 0.4's ``/api/v1/models`` shape."""
    return {
        "type": kind,
        "key": key,
        "display_name": key,
        "loaded_instances": [{"id": key, "config": {"context_length": 4096}}],
        "max_context_length": 32768,
        "capabilities": {"vision": False, "trained_for_tool_use": kind == "llm"},
    }


def serve_models(router: respx.MockRouter, *models: tuple[str, str]) -> respx.Route:
    """``/api/v1/models`` listing ``(id, type)`` pairs (default: the captured chat model)."""
    listed = models or ((CAPTURED_MODEL, "llm"), (CAPTURED_V0_MODEL, "llm"))
    body = {"models": [model_entry(key, kind) for key, kind in listed]}
    return router.get(f"{BASE}/api/v1/models").respond(200, json=body)


def sse(*events: dict[str, Any]) -> bytes:
    """An SSE body of ``events`` then ``[DONE]``."""
    lines = [f"data: {json.dumps(event)}\n\n" for event in events]
    return ("".join(lines) + "data: [DONE]\n\n").encode()


def stream_reply(body: bytes | str) -> dict[str, Any]:
    """Keywords of ``Route.respond`` for a streamed answer."""
    content = body.encode() if isinstance(body, str) else body
    return {
        "status_code": 200,
        "headers": {"content-type": "text/event-stream"},
        "content": content,
    }


def delta_event(delta: dict[str, Any], finish: str | None = None, **extra: Any) -> dict[str, Any]:
    """One streamed chunk of the captured model's shape."""
    return {
        "id": "chatcmpl-test",
        "object": "chat.completion.chunk",
        "model": CAPTURED_MODEL,
        "system_fingerprint": CAPTURED_MODEL,
        "choices": [{"index": 0, "delta": {"role": "assistant", **delta}, "finish_reason": finish}],
        **extra,
    }


def completion(message: dict[str, Any], **extra: Any) -> dict[str, Any]:
    """A non-streamed answer of the captured model."""
    return {
        "id": "chatcmpl-test",
        "object": "chat.completion",
        "model": CAPTURED_MODEL,
        "system_fingerprint": CAPTURED_MODEL,
        "choices": [
            {"index": 0, "message": {"role": "assistant", **message}, "finish_reason": "stop"}
        ],
        "usage": {"prompt_tokens": 5, "completion_tokens": 7, "total_tokens": 12},
        **extra,
    }


def sent_body(route: respx.Route, call: int = -1) -> dict[str, Any]:
    body: dict[str, Any] = json.loads(route.calls[call].request.content)
    return body
