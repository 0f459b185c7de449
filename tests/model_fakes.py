"""LM Studio's model lists for respx (``/api/v1``, ``/api/v0``, ``/v1``) and matching answers.

Model lists use the shapes of ``../shared/LMSTUDIO-API.md``.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx2
import pytest
import respx

import lmstudio_provider.transport._core
from lmstudio_provider.transport._models import ModelInfo

BASE = "http://localhost:1234"
V1_MODELS_URL = f"{BASE}/api/v1/models"
V0_MODELS_URL = f"{BASE}/api/v0/models"
OPENAI_MODELS_URL = f"{BASE}/v1/models"
GREETING_URL = f"{BASE}/lmstudio-greeting"
CHAT_URL = f"{BASE}/v1/chat/completions"
EMBEDDINGS_URL = f"{BASE}/v1/embeddings"
CAPTURES = Path(__file__).resolve().parents[2] / "shared" / "lmstudio-captures"
V0_CAPTURE = "j-shelfwood__prj-php-lmstudio__tests_mocks_v0_models_list.json__53b1841e.json"
V0_DUPLICATES_CAPTURE = (
    "j-shelfwood__prj-php-lmstudio__tests_mocks_v0_models_list.json__af1d513f.json"
)
OPENAI_CAPTURE = "j-shelfwood__prj-php-lmstudio__tests_mocks_v1_models_list.json__8cbd37b9.json"
UNEXPECTED_ENDPOINT = {"error": "Unexpected endpoint or method. (GET /api/v1/models)"}

EMBEDDER = "text-embedding-nomic-embed-text-v1.5"
LOADED = "qwen/qwen3-4b"
GEMMA = "google/gemma-3-4b"
CODER = "qwen/qwen3-coder-30b"
SECRET = "sk-lm-AbCdEfGh:SeCrEtToKeN1234567890"


def read_capture(name: str) -> Any:
    """A JSON capture without its ``# SOURCE`` first line."""
    first, _, rest = (CAPTURES / name).read_text(encoding="utf-8").partition("\n")
    assert first.startswith("# SOURCE")
    return json.loads(rest)


def wire(response: httpx2.Response) -> Any:
    """A response for respx: its annotations name ``httpx``, aliased to ``httpx2`` at run time."""
    return response


# -- /api/v1/models (LM Studio 0.4) ------------------------------------------------------


def llm_entry(
    key: str,
    *,
    loaded: bool,
    vision: bool = False,
    tools: bool = True,
    **extra: Any,
) -> dict[str, Any]:
    publisher = key.split("/")[0]
    return {
        "type": "llm",
        "publisher": publisher,
        "key": key,
        "display_name": key.split("/")[-1].title(),
        "architecture": "gemma3" if publisher == "google" else "qwen3",
        "quantization": {"name": "Q4_K_M", "bits_per_weight": 4},
        "size_bytes": 2497280256,
        "params_string": "4B",
        "loaded_instances": (
            [
                {
                    "id": key,
                    "config": {
                        "context_length": 4096,
                        "eval_batch_size": 512,
                        "flash_attention": True,
                        "offload_kv_cache_to_gpu": True,
                    },
                }
            ]
            if loaded
            else []
        ),
        "max_context_length": 131072,
        "format": "gguf",
        "capabilities": {"vision": vision, "trained_for_tool_use": tools},
        **extra,
    }


EMBEDDER_ENTRY: dict[str, Any] = {
    "type": "embedding",
    "publisher": "nomic-ai",
    "key": EMBEDDER,
    "display_name": "Nomic Embed Text v1.5",
    "architecture": "nomic-bert",
    "quantization": {"name": "Q4_K_M", "bits_per_weight": 4},
    "size_bytes": 84106624,
    "params_string": None,
    "loaded_instances": [{"id": EMBEDDER, "config": {"context_length": 2048}}],
    "max_context_length": 2048,
    "format": "gguf",
}
# The loaded embedding model comes first: "the loaded model" must still mean the LLM.
V1_BODY: dict[str, Any] = {
    "models": [
        EMBEDDER_ENTRY,
        llm_entry(
            GEMMA,
            loaded=False,
            vision=True,
            tools=False,
            format="mlx",
            variants=["google/gemma-3-4b@4bit"],
            selected_variant="google/gemma-3-4b@4bit",
        ),
        llm_entry(
            LOADED,
            loaded=True,
            capabilities={"vision": False, "trained_for_tool_use": True, "reasoning": True},
        ),
        llm_entry(CODER, loaded=False),
    ]
}
V1_PARSED = [
    ModelInfo(
        id=EMBEDDER,
        type="embeddings",
        state="loaded",
        architecture="nomic-bert",
        quantization="Q4_K_M",
        max_context_length=2048,
        loaded_context_length=2048,
        capabilities=frozenset(),
        publisher="nomic-ai",
        format="gguf",
        display_name="Nomic Embed Text v1.5",
        size_bytes=84106624,
        instance_ids=(EMBEDDER,),
    ),
    ModelInfo(
        id=GEMMA,
        type="vlm",
        state="not-loaded",
        architecture="gemma3",
        quantization="Q4_K_M",
        max_context_length=131072,
        loaded_context_length=None,
        capabilities=frozenset({"vision"}),
        publisher="google",
        format="mlx",
        display_name="Gemma-3-4B",
        size_bytes=2497280256,
        instance_ids=(),
    ),
    ModelInfo(
        id=LOADED,
        type="llm",
        state="loaded",
        architecture="qwen3",
        quantization="Q4_K_M",
        max_context_length=131072,
        loaded_context_length=4096,
        capabilities=frozenset({"tool_use", "reasoning"}),
        publisher="qwen",
        format="gguf",
        display_name="Qwen3-4B",
        size_bytes=2497280256,
        instance_ids=(LOADED,),
    ),
    ModelInfo(
        id=CODER,
        type="llm",
        state="not-loaded",
        architecture="qwen3",
        quantization="Q4_K_M",
        max_context_length=131072,
        loaded_context_length=None,
        capabilities=frozenset({"tool_use"}),
        publisher="qwen",
        format="gguf",
        display_name="Qwen3-Coder-30B",
        size_bytes=2497280256,
        instance_ids=(),
    ),
]
ALL_IDS = [EMBEDDER, GEMMA, LOADED, CODER]


def serve_models(respx_mock: respx.MockRouter, body: Mapping[str, Any] = V1_BODY) -> respx.Route:
    return respx_mock.get(V1_MODELS_URL).respond(200, json=dict(body))


def completion(model: str, content: str = "Hello") -> dict[str, Any]:
    return {
        "id": "chatcmpl-abc123",
        "object": "chat.completion",
        "created": 1740598352,
        "model": model,
        "choices": [
            {
                "index": 0,
                "logprobs": None,
                "finish_reason": "stop",
                "message": {"role": "assistant", "content": content},
            }
        ],
        "usage": {"prompt_tokens": 5, "completion_tokens": 1, "total_tokens": 6},
        "system_fingerprint": model,
    }


def sent_body(route: respx.Route, index: int = -1) -> Any:
    return json.loads(route.calls[index].request.content)


def echo_model(request: httpx2.Request) -> Any:
    """A chat answer from the model the request named."""
    return wire(httpx2.Response(200, json=completion(json.loads(request.content)["model"])))


class Clock:
    """``time.monotonic`` for the model cache, moved by hand."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.now = 1000.0
        fake_time = SimpleNamespace(monotonic=lambda: self.now, perf_counter=time.perf_counter)
        monkeypatch.setattr(lmstudio_provider.transport._core, "time", fake_time)
