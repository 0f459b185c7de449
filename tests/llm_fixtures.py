"""Fixtures and wire builders for the ``llm`` plugin's tests, as a pytest plugin.

Every llm test runs with its own ``LLM_USER_PATH`` (logs, keys, the saved model
list) and a fresh in-process model listing. The plugin lists models with a quick call
of the transport, so respx and vcrpy, which patch httpx2, answer it in the tiers that
open no socket; its server states are tested against real loopback servers in
``tests/llm_plugin/faults``. Test modules import the wire builders from here
(``from llm_fixtures import completion, sse``).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import httpx2
import pytest
import respx
from click.testing import CliRunner, Result

from lmstudio_provider.transport import ModelListCache

Invoke = Callable[..., Result]


@pytest.fixture
def llm_user_dir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Path]:
    """An empty llm user directory of this test's own; no listing carried over."""
    path = tmp_path / "llm-user"
    path.mkdir()
    monkeypatch.setenv("LLM_USER_PATH", str(path))
    monkeypatch.delenv("LLM_MODEL", raising=False)
    ModelListCache.forget_recent()
    yield path
    ModelListCache.forget_recent()


@pytest.fixture
def llm_cli(llm_user_dir: Path) -> Iterator[Invoke]:
    """Run ``llm ARGS...`` in-process; returns click's ``Result`` (never raises).

    Each command starts afresh, as a new process would; its connections are closed
    when the next one starts, and at the end of the test (ask for a server fixture
    before this one, so that they are closed before the server checks for leaks).
    """
    from llm.cli import cli

    def invoke(*args: str, input: str | None = None) -> Result:
        ModelListCache.forget_recent()
        return CliRunner().invoke(cli, list(args), input=input, catch_exceptions=True)

    yield invoke
    ModelListCache.forget_recent()


# -- Wire data, shaped like LM Studio's --------------------------------------------------


def v1_model(
    key: str,
    *,
    kind: str = "llm",
    loaded: bool = False,
    vision: bool = False,
    tools: bool = False,
    context: int = 32768,
) -> dict[str, Any]:
    """An ``/api/v1/models`` entry (LM Studio 0.4)."""
    instances = [{"id": key, "config": {"context_length": 4096}}] if loaded else []
    return {
        "type": kind,
        "publisher": key.split("/")[0],
        "key": key,
        "display_name": key,
        "architecture": "qwen3",
        "quantization": {"name": "Q4_K_M", "bits_per_weight": 4},
        "size_bytes": 2_500_000_000,
        "params_string": "4B",
        "loaded_instances": instances,
        "max_context_length": context,
        "format": "gguf",
        "capabilities": {"vision": vision, "trained_for_tool_use": tools},
    }


def v1_models(*entries: dict[str, Any]) -> dict[str, Any]:
    return {"models": list(entries)}


def completion(
    text: str,
    *,
    model: str,
    tool_calls: Sequence[dict[str, Any]] = (),
    reasoning: str = "",
    usage: tuple[int, int] = (12, 5),
    stats: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A non-streamed chat completion."""
    message: dict[str, Any] = {"role": "assistant", "content": text}
    if reasoning:
        message["reasoning_content"] = reasoning
    if tool_calls:
        message["tool_calls"] = list(tool_calls)
    return {
        "id": "chatcmpl-test",
        "object": "chat.completion",
        "created": 1740598357,
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": message,
                "finish_reason": "tool_calls" if tool_calls else "stop",
            }
        ],
        "usage": {
            "prompt_tokens": usage[0],
            "completion_tokens": usage[1],
            "total_tokens": sum(usage),
        },
        "stats": stats or {},
        "system_fingerprint": model,
    }


def sse(events: Sequence[dict[str, Any]]) -> bytes:
    """An event stream: each event on its own ``data:`` line, then ``[DONE]``."""
    lines = [f"data: {json.dumps(event)}\n\n" for event in events]
    return ("".join(lines) + "data: [DONE]\n\n").encode()


def stream_events(
    pieces: Sequence[str],
    *,
    model: str,
    reasoning: Sequence[str] = (),
    tool_calls: Sequence[dict[str, Any]] = (),
    usage: tuple[int, int] | None = (12, 5),
) -> list[dict[str, Any]]:
    """LM Studio's chunks: reasoning deltas, text deltas, tool-call deltas, finish, usage."""

    def chunk(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
        return {
            "id": "chatcmpl-stream",
            "object": "chat.completion.chunk",
            "created": 1740598357,
            "model": model,
            "system_fingerprint": model,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
        }

    events = [chunk({"role": "assistant", "reasoning_content": piece}) for piece in reasoning]
    events += [chunk({"role": "assistant", "content": piece}) for piece in pieces]
    events += [chunk({"role": "assistant", "tool_calls": [call]}) for call in tool_calls]
    events.append(chunk({}, "tool_calls" if tool_calls else "stop"))
    if usage is not None:
        events.append(
            {
                "id": "chatcmpl-stream",
                "object": "chat.completion.chunk",
                "created": 1740598357,
                "model": model,
                "choices": [],
                "usage": {
                    "prompt_tokens": usage[0],
                    "completion_tokens": usage[1],
                    "total_tokens": sum(usage),
                },
            }
        )
    return events


def logged() -> list[dict[str, Any]]:
    """Every response llm logged, oldest first, as ``llm logs --json`` shows them."""
    from llm.cli import cli

    result = CliRunner().invoke(cli, ["logs", "--json", "-n", "0"], catch_exceptions=False)
    rows: list[dict[str, Any]] = json.loads(result.output)
    return rows


QWEN = "qwen/qwen3-4b"  # loaded, trained for tool use
GEMMA = "google/gemma-3-4b"  # vision, not loaded
NOMIC = "text-embedding-nomic-embed-text-v1.5"
BASE_URL = "http://localhost:1234"


@pytest.fixture
def lmstudio() -> Iterator[respx.MockRouter]:
    """A mocked LM Studio 0.4 at the default address listing QWEN, GEMMA and NOMIC.

    Tests add their own routes (``lmstudio.post("/v1/chat/completions")``); a request
    to a route that is not mocked fails the test.
    """
    with respx.mock(base_url=BASE_URL, assert_all_called=False) as router:
        router.get("/api/v1/models", name="models").respond(
            json=v1_models(
                v1_model(QWEN, loaded=True, tools=True),
                v1_model(GEMMA, kind="vlm", vision=True),
                v1_model(NOMIC, kind="embedding", context=2048),
            )
        )
        yield router


# -- Answers of the mocked LM Studio (the ``lmstudio`` fixture) --------------------------

PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)


def streamed(*pieces: str, model: str = QWEN, **options: Any) -> httpx2.Response:
    body = sse(stream_events(pieces, model=model, **options))
    return httpx2.Response(200, content=body, headers={"Content-Type": "text/event-stream"})


def answered(text: str, model: str = QWEN, **options: Any) -> httpx2.Response:
    return httpx2.Response(200, json=completion(text, model=model, **options))


def chat(lmstudio: respx.MockRouter, *replies: Any) -> respx.Route:
    route = lmstudio.post("/v1/chat/completions", name="chat")
    route.side_effect = list(replies)
    return route


def sent(route: respx.Route, call: int = -1) -> dict[str, Any]:
    body: dict[str, Any] = json.loads(route.calls[call].request.content)
    return body


def refuse_connections(lmstudio: respx.MockRouter) -> None:
    lmstudio.routes["models"].side_effect = httpx2.ConnectError("[Errno 111] Connection refused")
