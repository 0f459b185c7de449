"""A stand-in for LM Studio 0.4's model runtime on the fault server (``/api/v1/models...``).

``RuntimeState`` holds what is downloaded and loaded and answers ``GET /api/v1/models``,
``POST /api/v1/models/load``, ``/unload``, ``/download`` and the download status
exactly as ``../shared/LMSTUDIO-API.md`` ("Model identity", "Model management")
describes them: unknown keys are rejected with 400, a load may lower the context
length asked for, instances of one key get ``:2``, ``:3`` ids, a download goes
downloading -> completed (or failed). ``/v1/chat/completions`` loads its model just
in time, as LM Studio does. Tests use it through the ``lmstudio_v1`` fixture.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from fault_server import Exchange, FaultServer

QWEN = "qwen/qwen3-4b-2507"
GEMMA = "google/gemma-3-1b"
EMBEDDER = "text-embedding-nomic-embed-text-v1.5"
LOAD_FIELDS = {
    "model",
    "context_length",
    "eval_batch_size",
    "flash_attention",
    "num_experts",
    "offload_kv_cache_to_gpu",
    "echo_load_config",
}
MAX_FIT_CONTEXT = 16384  # what "auto-fit" lowers a larger context length to
JOB_ID = "job-1"
DOWNLOAD_SIZE = 1_200_000


def model_entry(key: str, kind: str = "llm", max_context: int = 32768) -> dict[str, Any]:
    """An ``/api/v1/models`` entry with no instance loaded."""
    return {
        "type": kind,
        "publisher": key.split("/")[0] if "/" in key else "lmstudio-community",
        "key": key,
        "display_name": key.rsplit("/", 1)[-1],
        "architecture": "qwen3" if "qwen" in key else "gemma3",
        "quantization": {"name": "Q4_K_M", "bits_per_weight": 4},
        "size_bytes": 2_497_280_000,
        "params_string": "4B",
        "loaded_instances": [],
        "max_context_length": max_context,
        "format": "gguf",
        "capabilities": {"vision": False, "trained_for_tool_use": True},
    }


@dataclass
class RuntimeState:
    """What LM Studio 0.4 has downloaded and loaded; answers the runtime routes."""

    entries: list[dict[str, Any]] = field(
        default_factory=lambda: [
            model_entry(QWEN),
            model_entry(GEMMA),
            model_entry(EMBEDDER, "embedding", 2048),
        ]
    )
    load_key: str = "instance_id"  # some docs say model_instance_id
    lock: threading.Lock = field(default_factory=threading.Lock)
    # A new download reports these downloaded byte counts (of DOWNLOAD_SIZE), then completes.
    download_steps: list[int] = field(default_factory=lambda: [0, 400_000, 800_000])
    download_fails: bool = False
    polls: int = 0
    downloading: str = ""
    ttls: dict[str, Any] = field(default_factory=dict)  # the ttl of each JIT load

    def entry(self, key: str) -> dict[str, Any] | None:
        return next((e for e in self.entries if e["key"] == key), None)

    def add_instance(self, key: str, instance_id: str | None = None, context: int = 4096) -> str:
        entry = self.entry(key)
        assert entry is not None
        instances = entry["loaded_instances"]
        if instance_id is None:
            instance_id = key if not instances else f"{key}:{len(instances) + 1}"
        config = {"context_length": context, "eval_batch_size": 512, "flash_attention": False}
        instances.append({"id": instance_id, "config": config})
        return instance_id

    def instance_ids(self) -> list[str]:
        return [i["id"] for e in self.entries for i in e["loaded_instances"]]

    # -- handlers --------------------------------------------------------------

    def list_models(self, exchange: Exchange) -> None:
        with self.lock:
            body = {"models": json.loads(json.dumps(self.entries))}
        exchange.respond(200, body)

    def load(self, exchange: Exchange) -> None:
        body = exchange.request.json()
        unknown = sorted(set(body) - LOAD_FIELDS)
        if unknown:
            names = ", ".join(f"'{name}'" for name in unknown)
            exchange.respond(400, {"error": f"Unrecognized key(s) in object: {names}"})
            return
        with self.lock:
            if self.entry(body["model"]) is None:
                message = f'Invalid model identifier "{body["model"]}".'
                error = {"message": message, "type": "invalid_request_error"}
                exchange.respond(400, {"error": {**error, "code": "model_not_found"}})
                return
            context = min(body.get("context_length", 4096), MAX_FIT_CONTEXT)
            instance_id = self.add_instance(body["model"], context=context)
        answer = {"type": "llm", self.load_key: instance_id, "load_time_seconds": 2.5}
        exchange.respond(200, {**answer, "status": "loaded"})

    def unload(self, exchange: Exchange) -> None:
        instance_id = exchange.request.json().get("instance_id")
        with self.lock:
            for entry in self.entries:
                kept = [i for i in entry["loaded_instances"] if i["id"] != instance_id]
                if len(kept) != len(entry["loaded_instances"]):
                    entry["loaded_instances"] = kept
                    exchange.respond(200, {"instance_id": instance_id})
                    return
        exchange.respond(404, {"error": f"No model instance {instance_id!r} is loaded."})

    def download(self, exchange: Exchange) -> None:
        model = exchange.request.json()["model"]
        with self.lock:
            if self.entry(model) is not None:
                exchange.respond(200, {"status": "already_downloaded"})
                return
            self.downloading = model
            self.polls = 0
        exchange.respond(200, self._job("downloading", 0))

    def _job(self, status: str, done: int) -> dict[str, Any]:
        return {
            "job_id": JOB_ID,
            "status": status,
            "downloaded_bytes": done,
            "total_size_bytes": DOWNLOAD_SIZE,
            "bytes_per_second": 400_000.0,
            "started_at": "2026-01-05T10:00:00.000Z",
        }

    def download_status(self, exchange: Exchange) -> None:
        with self.lock:
            self.polls += 1
            if self.polls < len(self.download_steps):
                body = self._job("downloading", self.download_steps[self.polls])
            elif self.download_fails:
                body = self._job("failed", self.download_steps[-1])
            else:
                body = self._job("completed", DOWNLOAD_SIZE)
                self.entries.append(model_entry(self.downloading))
        exchange.respond(200, body)

    def chat(self, exchange: Exchange) -> None:
        """A /v1 chat: loads its model just in time (with the request's ttl), answers "Hi"."""
        body = exchange.request.json()
        with self.lock:
            wanted = body["model"]
            owner = next(
                (e for e in self.entries for i in e["loaded_instances"] if i["id"] == wanted),
                None,
            )
            entry = owner or self.entry(wanted)
            if entry is None:
                exchange.respond(400, {"error": f'Invalid model identifier "{wanted}".'})
                return
            if not entry["loaded_instances"]:
                self.add_instance(entry["key"])
                self.ttls[entry["key"]] = body.get("ttl")
        answer = owner["loaded_instances"][0]["id"] if owner else entry["key"]
        if body.get("stream"):
            exchange.open_events()
            for piece in ("Hi", " there"):
                exchange.send_event(chunk(piece, answer))
            exchange.send_event(chunk(None, answer, finish="stop"))
            exchange.send_event("[DONE]")
            exchange.end_chunks()
        else:
            exchange.respond(200, completion("Hi there", answer))

    def serve(self, server: FaultServer) -> None:
        server.route("GET", "/api/v1/models", self.list_models)
        server.route("POST", "/api/v1/models/load", self.load)
        server.route("POST", "/api/v1/models/unload", self.unload)
        server.route("POST", "/api/v1/models/download", self.download)
        server.route("GET", f"/api/v1/models/download/status/{JOB_ID}", self.download_status)
        server.route("POST", "/v1/chat/completions", self.chat)


def chunk(text: str | None, model: str, finish: str | None = None) -> str:
    delta = {"role": "assistant", "content": text} if text is not None else {}
    choice = {"index": 0, "delta": delta, "finish_reason": finish}
    return json.dumps(
        {"id": "c1", "object": "chat.completion.chunk", "model": model, "choices": [choice]}
    )


def completion(text: str, model: str) -> dict[str, Any]:
    message = {"role": "assistant", "content": text}
    return {
        "id": "c1",
        "object": "chat.completion",
        "model": model,
        "choices": [{"index": 0, "message": message, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 5, "completion_tokens": 2, "total_tokens": 7},
    }


@pytest.fixture
def lmstudio_v1(fault_server: FaultServer) -> RuntimeState:
    """The fault server as LM Studio 0.4 with qwen, gemma and an embedder downloaded."""
    state = RuntimeState()
    state.serve(fault_server)
    return state
