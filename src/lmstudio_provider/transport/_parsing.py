"""Parse chat answers, streamed or not, into ``ChatChunk``/``ChatResponse`` (pure: no I/O).

``StreamState`` is the sans-I/O heart of streaming: the sync and async clients
feed it the bytes they read and yield the chunks it returns.
"""

from __future__ import annotations

import contextlib
import json
import time
import uuid
from typing import Any

from lmstudio_provider.transport._error_mapping import (
    RequestContext,
    error_from_body,
    error_from_reply,
    extract_error,
)
from lmstudio_provider.transport._errors import (
    LMStudioError,
    ModelMismatchError,
    ProtocolError,
    StreamInterruptedError,
)
from lmstudio_provider.transport._models import same_model
from lmstudio_provider.transport._results import (
    ChatChunk,
    ChatResponse,
    Metrics,
    ToolCall,
    ToolCallDelta,
    Usage,
)
from lmstudio_provider.transport._sse import DEFAULT_MAX_EVENT_BYTES, EventTooLargeError, SSEDecoder
from lmstudio_provider.transport._think import ThinkSplitter, split_think

__all__ = [
    "StreamState",
    "check_model",
    "new_tool_call_id",
    "parse_chat_response",
    "unreadable_answer",
]

DONE = b"[DONE]"
_raw_decode = json.JSONDecoder().raw_decode


def _loads(data: bytes) -> Any:
    """``json.loads(data)``, faster for what a stream carries: one compact UTF-8 value.

    ``json.loads`` on bytes first sniffs the encoding and skips whitespace with a
    regular expression at both ends; decoding and ``raw_decode`` skip that work. Anything
    else (a BOM, whitespace, another encoding, invalid JSON) takes ``json.loads``.
    """
    try:
        text = data.decode()
        value, end = _raw_decode(text)
    except ValueError:
        return json.loads(data)
    return value if end == len(text) else json.loads(data)


def new_tool_call_id() -> str:
    """An id for a tool call the server sent without one."""
    return f"call_{uuid.uuid4().hex[:24]}"


def _tool_call_id(raw: Any) -> str | None:
    # LM Studio sends numeric-string ids; some builds send numbers or nothing.
    if raw is None or raw == "":
        return None
    return str(raw)


def _arguments_text(raw: Any) -> str:
    if raw is None:
        return ""
    if isinstance(raw, str):
        return raw
    return json.dumps(raw)


def check_model(
    requested: str | None, answered: str | None, context: RequestContext | None = None
) -> None:
    """Raise if LM Studio answered with another model than the one asked for.

    Any loaded instance of the model asked for may answer (asked for a key, LM Studio
    may name the instance: its ``:N`` id or the identifier chosen at load time);
    ``context`` carries those ids and what was loaded, for the message.
    """
    if not requested or not answered:
        return
    answering = context.answering_ids if context is not None else ()
    if any(same_model(name, answered) for name in (requested, *answering)):
        return
    loaded = context.loaded_ids if context is not None else None
    if loaded is None:
        why = "LM Studio answers an unknown model with its loaded model when only one is loaded."
    elif len(loaded) == 1:
        why = f"LM Studio answers an unknown model with its only loaded model ({loaded[0]!r})."
    else:
        shown = ", ".join(repr(name) for name in loaded) or "none"
        why = f"Loaded: {shown}."
    raise ModelMismatchError(
        f"Asked for model {requested!r}, but LM Studio answered with {answered!r}. {why}",
        requested=requested,
        answered=answered,
        hint=f"Load {requested!r} (`lms load {requested}`), or ask for {answered!r}.",
    )


def compute_tokens_per_second(
    stats: dict[str, Any],
    usage: Usage | None,
    generation_secs: float | None,
    streamed_deltas: int = 0,
) -> float | None:
    """LM Studio's own figure when it sent one, else completion tokens over generation time.

    Without usage (servers that send none while streaming), the number of streamed
    deltas stands in for the token count: LM Studio and llama.cpp send one per token.
    """
    reported = stats.get("tokens_per_second")
    if isinstance(reported, int | float):
        return float(reported)
    tokens = usage.completion_tokens if usage else streamed_deltas
    if tokens and generation_secs and generation_secs > 0:
        return tokens / generation_secs
    return None


BAD_UTF8_HINT = (
    "Each invalid byte of the answer shows as U+FFFD. The model (or its tokenizer) "
    "produced broken text: see LM Studio's server log; another quantization of the model "
    "may help."
)


def describe_bad_utf8(data: bytes, error: UnicodeDecodeError) -> str:
    return f"byte {data[error.start]:#04x} at offset {error.start} ({error.reason})"


def unreadable_answer(
    body: bytes, requested_model: str | None, context: RequestContext, metrics: Metrics
) -> LMStudioError:
    """The error for a non-streamed answer that is not JSON: invalid UTF-8 is said as
    such, with the answer (bad bytes replaced) kept in ``partial``."""
    try:
        body.decode("utf-8")
    except UnicodeDecodeError as bad:
        partial = None
        with contextlib.suppress(ValueError, LMStudioError):
            decoded = json.loads(body.decode("utf-8", "replace"))
            partial = parse_chat_response(decoded, requested_model, context, metrics)
        return ProtocolError(
            f"LM Studio's answer to {context.target} is not valid UTF-8: "
            f"{describe_bad_utf8(body, bad)}.",
            hint=BAD_UTF8_HINT,
            partial=partial,
        )
    return error_from_reply(200, body, context)


def parse_chat_response(
    body: Any, requested_model: str | None, context: RequestContext, metrics: Metrics
) -> ChatResponse:
    """A non-streamed chat completion body as a ``ChatResponse``.

    Raises:
        LMStudioError: for an ``error`` in the body, a body of the wrong shape or a
            model other than the one asked for.
    """
    found = extract_error(body)
    if found is not None:
        raise error_from_body(found[0], found[1], 200, context)
    try:
        return _chat_result(body, requested_model, context, metrics)
    except LMStudioError:
        raise
    except (AttributeError, TypeError, KeyError, ValueError, IndexError):
        # Valid JSON of the wrong shape ("message": "oops", "tool_calls": [5], ...).
        raise ProtocolError(
            f"LM Studio's answer to {context.target} is not a chat completion: {str(body)[:300]!r}",
            hint="The server at the base URL may not be LM Studio; check LMSTUDIO_BASE_URL.",
        ) from None


def finish_reason(given: str | None, has_tool_calls: bool) -> str | None:
    """The finish reason, ``tool_calls`` when a tool was called (LM Studio before 0.3.15
    said ``stop``)."""
    return "tool_calls" if given == "stop" and has_tool_calls else given


def _chat_result(
    body: Any, requested_model: str | None, context: RequestContext, metrics: Metrics
) -> ChatResponse:
    choices = body.get("choices") if isinstance(body, dict) else None
    if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
        raise ProtocolError(
            f"LM Studio's answer to {context.target} has no choices: {str(body)[:300]!r}",
            hint="The server at the base URL may not be LM Studio; check LMSTUDIO_BASE_URL.",
        )
    assert isinstance(body, dict)
    check_model(requested_model, body.get("model"), context)
    choice = choices[0]
    message = choice.get("message") or {}
    text, reasoning = split_think(message.get("content") or "")
    explicit_reasoning = message.get("reasoning_content") or message.get("reasoning") or ""
    tool_calls = [
        ToolCall(
            id=_tool_call_id(call.get("id")) or new_tool_call_id(),
            name=str((call.get("function") or {}).get("name") or ""),
            arguments=_arguments_text((call.get("function") or {}).get("arguments")),
        )
        for call in message.get("tool_calls") or []
        if isinstance(call, dict)
    ]
    usage = Usage.from_wire(body["usage"]) if isinstance(body.get("usage"), dict) else None
    raw_stats = body.get("stats")
    stats: dict[str, Any] = raw_stats if isinstance(raw_stats, dict) else {}
    finish = finish_reason(choice.get("finish_reason"), bool(tool_calls))
    metrics.tokens_per_second = compute_tokens_per_second(stats, usage, metrics.wall_duration_secs)
    return ChatResponse(
        text=text,
        reasoning=explicit_reasoning + reasoning,
        tool_calls=tool_calls,
        finish_reason=finish,
        usage=usage,
        stats=stats,
        model=str(body.get("model") or requested_model or ""),
        id=body.get("id"),
        system_fingerprint=body.get("system_fingerprint"),
        metrics=metrics,
    )


class _PendingToolCall:
    __slots__ = ("arguments", "id", "name")

    def __init__(self, call_id: str, name: str) -> None:
        self.id = call_id
        self.name = name
        self.arguments: list[str] = []


class StreamState:
    """Accumulates one streamed answer; ``feed`` bytes, then ``close`` and ``result``."""

    __slots__ = (
        "_calls",
        "_decoder",
        "_reasoning",
        "_splitter",
        "_text",
        "context",
        "deltas",
        "done",
        "events",
        "finish_reason",
        "first_token_at",
        "id",
        "metrics",
        "model",
        "requested_model",
        "started_at",
        "stats",
        "system_fingerprint",
        "usage",
    )

    def __init__(
        self,
        requested_model: str | None,
        context: RequestContext,
        metrics: Metrics,
        started_at: float | None = None,
        max_event_bytes: int = DEFAULT_MAX_EVENT_BYTES,
    ) -> None:
        self.requested_model = requested_model
        self.context = context
        self.metrics = metrics
        # When the request began (before connecting), so TTFT and wall time include it.
        self.started_at = time.perf_counter() if started_at is None else started_at
        self.first_token_at: float | None = None
        self._decoder = SSEDecoder(max_event_bytes)
        self._splitter = ThinkSplitter()
        self._text: list[str] = []
        self._reasoning: list[str] = []
        self._calls: dict[int, _PendingToolCall] = {}
        self.finish_reason: str | None = None
        self.usage: Usage | None = None
        self.stats: dict[str, Any] = {}
        self.model: str | None = None
        self.id: str | None = None
        self.system_fingerprint: str | None = None
        self.done = False
        self.deltas = 0
        self.events = 0  # complete SSE events decoded: each one restarts the read deadline

    def feed(self, data: bytes) -> list[ChatChunk]:
        """Decode what the socket delivered; return the chunks it completed."""
        chunks = []
        try:
            events = self._decoder.feed(data)
        except EventTooLargeError as error:
            raise ProtocolError(
                f"LM Studio sent one stream event of more than {error.limit} bytes on "
                f"{self.context.target}, starting {error.start!r}.",
                hint="The server at the base URL may not be LM Studio (check LMSTUDIO_BASE_URL); "
                "if such events are expected, raise http.max_event_bytes "
                "(LMSTUDIO_HTTP_MAX_EVENT_BYTES).",
                partial=self.result(),
            ) from None
        self.events += len(events)
        for event in events:
            chunk = self._on_data(event.data)
            if chunk is not None:
                chunks.append(chunk)
        return chunks

    def close(self) -> list[ChatChunk]:
        """Flush the end of the stream; raise if it ended before the answer was complete.

        Raises:
            StreamInterruptedError: carrying the partial result.
        """
        chunks = []
        for event in self._decoder.flush():
            chunk = self._on_data(event.data)
            if chunk is not None:
                chunks.append(chunk)
        text, reasoning = self._splitter.flush()
        if text or reasoning:
            self._text.append(text)
            self._reasoning.append(reasoning)
            chunks.append(ChatChunk(text=text, reasoning=reasoning))
        if not self.done and self.finish_reason is None:
            received = "".join(self._text)
            raise StreamInterruptedError(
                f"The stream from LM Studio ended before the answer was complete "
                f"(no finish reason, no [DONE]) on {self.context.target}; "
                f"{len(received)} characters had arrived.",
                hint="The model may have crashed, been unloaded or run out of context: see "
                "LM Studio's server log.",
                partial=self.result(),
            )
        return chunks

    def result(self) -> ChatResponse:
        """Everything received so far, as a ``ChatResponse``."""
        now = time.perf_counter()
        metrics = self.metrics
        metrics.wall_duration_secs = now - self.started_at
        if self.first_token_at is not None:
            metrics.time_to_first_token_secs = self.first_token_at - self.started_at
            generation = now - self.first_token_at
        else:
            generation = None
        metrics.tokens_per_second = compute_tokens_per_second(
            self.stats, self.usage, generation, self.deltas
        )
        calls = [
            ToolCall(id=call.id, name=call.name, arguments="".join(call.arguments))
            for _, call in sorted(self._calls.items())
        ]
        return ChatResponse(
            text="".join(self._text),
            reasoning="".join(self._reasoning),
            tool_calls=calls,
            finish_reason=self.finish_reason,
            usage=self.usage,
            stats=self.stats,
            model=self.model or self.requested_model or "",
            id=self.id,
            system_fingerprint=self.system_fingerprint,
            metrics=metrics,
        )

    def error(self, message: str) -> LMStudioError:
        return ProtocolError(
            f"LM Studio sent a stream line that is not valid on {self.context.target}: {message}",
            hint="The server at the base URL may not be LM Studio, or it broke mid-answer.",
            partial=self.result(),
        )

    def _on_data(self, data: bytes) -> ChatChunk | None:
        if data == DONE:
            self.done = True
            return None
        try:
            obj = _loads(data)
        except UnicodeDecodeError as bad:
            # Keep what the event carried (bad bytes as U+FFFD), then say what is wrong.
            with contextlib.suppress(ValueError, LMStudioError, AttributeError, TypeError):
                self._on_event(json.loads(data.decode("utf-8", "replace")))
            raise ProtocolError(
                f"LM Studio sent text that is not valid UTF-8 on {self.context.target}: "
                f"{describe_bad_utf8(data, bad)}.",
                hint=BAD_UTF8_HINT,
                partial=self.result(),
            ) from None
        except ValueError:
            raise self.error(f"data: {data[:300].decode('utf-8', 'replace')!r}") from None
        if not isinstance(obj, dict):
            raise self.error(f"data: {data[:300].decode('utf-8', 'replace')!r}")
        try:
            return self._on_event(obj)
        except LMStudioError:
            raise
        except (AttributeError, TypeError, KeyError, ValueError, IndexError):
            # Valid JSON of the wrong shape ("choices": [1], "delta": "x", ...).
            raise self.error(f"data: {data[:300].decode('utf-8', 'replace')!r}") from None

    def _on_event(self, obj: dict[str, Any]) -> ChatChunk | None:
        if "error" in obj:
            found = extract_error(obj)
            assert found is not None
            raise error_from_body(found[0], found[1], 200, self.context, partial=self.result())
        if self.model is None:
            self.model = obj.get("model") or ""
            self.id = obj.get("id")
            self.system_fingerprint = obj.get("system_fingerprint")
            check_model(self.requested_model, self.model, self.context)
        usage_raw = obj.get("usage")
        usage = Usage.from_wire(usage_raw) if usage_raw else None
        if usage is not None:
            self.usage = usage
        stats = obj.get("stats")
        if stats:
            self.stats.update(stats)
        choices = obj.get("choices")
        if not choices:
            return ChatChunk(usage=usage, stats=stats) if usage or stats else None
        choice = choices[0]
        delta = choice.get("delta") or {}
        text = ""
        reasoning = delta.get("reasoning_content") or delta.get("reasoning") or ""
        content = delta.get("content")
        if content:
            text, inline_reasoning = self._splitter.feed(content)
            if inline_reasoning:
                reasoning += inline_reasoning
            if text:
                self._text.append(text)
        if reasoning:
            self._reasoning.append(reasoning)
        raw_calls = delta.get("tool_calls")
        tool_calls = self._on_tool_calls(raw_calls) if raw_calls else None
        finish = finish_reason(choice.get("finish_reason"), bool(self._calls))
        if finish:
            self.finish_reason = finish
        if not (text or reasoning or tool_calls or finish or usage or stats):
            return None  # a role-only delta, or text held back to complete a tag
        if text or reasoning or tool_calls:
            self.deltas += 1
            if self.first_token_at is None:
                self.first_token_at = time.perf_counter()
        return ChatChunk(text, reasoning, tool_calls, finish, usage, stats or None, self.model)

    def _on_tool_calls(self, raw_calls: list[Any]) -> list[ToolCallDelta]:
        deltas = []
        for position, raw in enumerate(raw_calls):
            index = raw.get("index", position)
            function = raw.get("function") or {}
            name = function.get("name") or None  # older builds repeat "name": "" on fragments
            arguments = _arguments_text(function.get("arguments"))
            call_id = _tool_call_id(raw.get("id"))
            pending = self._calls.get(index)
            if pending is None:
                pending = _PendingToolCall(call_id or new_tool_call_id(), name or "")
                self._calls[index] = pending
                call_id = pending.id
            elif name and not pending.name:
                pending.name = name
            elif name:  # llama.cpp repeats the name on every fragment: it is given once
                name = None
            if arguments:
                pending.arguments.append(arguments)
            deltas.append(ToolCallDelta(index, call_id, name, arguments))
        return deltas
