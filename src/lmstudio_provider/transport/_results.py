"""What a chat returns: streamed chunks, the final result, usage and metrics.

A streamed answer and a non-streamed one end in the same ``ChatResponse`` shape.
Chunk classes use ``__slots__``: a stream creates one per token.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "ChatChunk",
    "ChatResponse",
    "EmbeddingResult",
    "Metrics",
    "ToolCall",
    "ToolCallDelta",
    "Usage",
]


@dataclass(slots=True)
class Usage:
    """Token counts reported by the server."""

    prompt_tokens: int = 0
    completion_tokens: int = 0
    total_tokens: int = 0
    reasoning_tokens: int | None = None
    cached_tokens: int | None = None

    @classmethod
    def from_wire(cls, data: dict[str, Any]) -> Usage:
        prompt = int(data.get("prompt_tokens") or 0)
        completion = int(data.get("completion_tokens") or 0)
        details = data.get("completion_tokens_details") or {}
        prompt_details = data.get("prompt_tokens_details") or {}
        reasoning = details.get("reasoning_tokens") if isinstance(details, dict) else None
        cached = prompt_details.get("cached_tokens") if isinstance(prompt_details, dict) else None
        return cls(
            prompt_tokens=prompt,
            completion_tokens=completion,
            total_tokens=int(data.get("total_tokens") or prompt + completion),
            reasoning_tokens=reasoning,
            cached_tokens=cached,
        )


@dataclass(slots=True)
class ToolCallDelta:
    """A fragment of a tool call as it streams: ``index`` ties fragments together."""

    index: int
    id: str | None = None
    name: str | None = None
    arguments: str = ""


@dataclass(slots=True)
class ToolCall:
    """A complete tool call: ``arguments`` is the JSON text the model wrote."""

    id: str
    name: str
    arguments: str = ""

    def parsed_arguments(self) -> dict[str, Any]:
        """The arguments as a dict (``{}`` for empty arguments).

        Raises:
            ValueError: if the model wrote arguments that are not a JSON object.
        """
        if not self.arguments.strip():
            return {}
        value = json.loads(self.arguments)
        if not isinstance(value, dict):
            raise ValueError(f"tool call arguments are not a JSON object: {self.arguments!r}")
        return value


@dataclass(slots=True)
class ChatChunk:
    """One streamed piece of an answer. Empty fields mean "nothing new of this kind"."""

    text: str = ""
    reasoning: str = ""
    tool_calls: list[ToolCallDelta] | None = None
    finish_reason: str | None = None
    usage: Usage | None = None
    stats: dict[str, Any] | None = None
    model: str | None = None


@dataclass(slots=True)
class Metrics:
    """Client-side measurements of one request."""

    wall_duration_secs: float = 0.0
    time_to_first_token_secs: float | None = None
    tokens_per_second: float | None = None
    retries: int = 0
    in_flight_at_start: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "wall_duration_secs": self.wall_duration_secs,
            "time_to_first_token_secs": self.time_to_first_token_secs,
            "tokens_per_second": self.tokens_per_second,
            "retries": self.retries,
            "in_flight_at_start": self.in_flight_at_start,
        }


@dataclass(slots=True)
class ChatResponse:
    """A whole answer, the same whether or not it streamed."""

    text: str = ""
    reasoning: str = ""
    tool_calls: list[ToolCall] = field(default_factory=list)
    finish_reason: str | None = None
    usage: Usage | None = None
    stats: dict[str, Any] = field(default_factory=dict)
    model: str = ""
    id: str | None = None
    system_fingerprint: str | None = None
    metrics: Metrics = field(default_factory=Metrics)

    def as_dict(self) -> dict[str, Any]:
        """Plain data, for logs and ``response_json``."""
        return {
            "id": self.id,
            "model": self.model,
            "text": self.text,
            "reasoning": self.reasoning,
            "tool_calls": [
                {"id": call.id, "name": call.name, "arguments": call.arguments}
                for call in self.tool_calls
            ],
            "finish_reason": self.finish_reason,
            "usage": None
            if self.usage is None
            else {
                "prompt_tokens": self.usage.prompt_tokens,
                "completion_tokens": self.usage.completion_tokens,
                "total_tokens": self.usage.total_tokens,
                "reasoning_tokens": self.usage.reasoning_tokens,
                "cached_tokens": self.usage.cached_tokens,
            },
            "stats": self.stats,
            "system_fingerprint": self.system_fingerprint,
            "metrics": self.metrics.as_dict(),
        }


@dataclass(slots=True)
class EmbeddingResult:
    """Embeddings in the order of the input texts."""

    vectors: list[list[float]]
    model: str
    usage: Usage | None = None
    metrics: Metrics = field(default_factory=Metrics)
