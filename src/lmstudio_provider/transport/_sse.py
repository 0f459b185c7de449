"""A server-sent events decoder that works on raw bytes.

It is fed whatever the socket delivered and returns the complete events'
``data`` payloads. Working on bytes avoids decoding the stream to text twice
(``json.loads`` takes bytes), which keeps the per-token cost below a naive
``iter_lines`` loop. Handles LF, CRLF and CR line ends, events split across
reads, multi-line data, comments, named events and a missing final blank line.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["SSEDecoder", "SSEEvent"]


@dataclass(slots=True)
class SSEEvent:
    """One event: its ``data`` lines joined by ``\\n``, and its ``event`` name if any."""

    data: bytes
    event: str | None = None


class SSEDecoder:
    """Incremental SSE decoder: ``feed`` bytes, get complete events; ``flush`` at the end."""

    __slots__ = ("_buffer", "_carriage_returns")

    def __init__(self) -> None:
        self._buffer = b""
        self._carriage_returns = False

    def feed(self, data: bytes) -> list[SSEEvent]:
        """Decode ``data``; return the events it completed (held back: an unfinished one)."""
        if b"\r" in data or self._carriage_returns:
            return self._feed_with_carriage_returns(data)
        if not self._buffer and data.find(b"\n") == len(data) - 2 and data.endswith(b"\n\n"):
            # Fast path, one read per token: exactly one one-line event, nothing held back.
            if data.startswith(b"data: "):
                return [SSEEvent(data[6:-2])]
            event = _parse_block(data[:-2])
            return [event] if event is not None else []
        buffer = self._buffer + data if self._buffer else data
        end = buffer.rfind(b"\n\n")
        if end < 0:
            self._buffer = buffer
            return []
        self._buffer = buffer[end + 2 :]
        return self._parse_blocks(buffer[:end].split(b"\n\n"))

    def flush(self) -> list[SSEEvent]:
        """Events left when the stream ends without a final blank line."""
        buffer, self._buffer = self._buffer, b""
        if self._carriage_returns:
            buffer = buffer.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
        buffer = buffer.strip(b"\n")
        return self._parse_blocks(buffer.split(b"\n\n")) if buffer else []

    @property
    def pending(self) -> bytes:
        """Bytes received but not yet part of a complete event."""
        return self._buffer

    def _feed_with_carriage_returns(self, data: bytes) -> list[SSEEvent]:
        self._carriage_returns = True
        buffer = self._buffer + data
        # A CR at the very end may be the first half of a CRLF: wait for the next read.
        held = b"\r" if buffer.endswith(b"\r") else b""
        if held:
            buffer = buffer[:-1]
        buffer = buffer.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
        end = buffer.rfind(b"\n\n")
        if end < 0:
            self._buffer = buffer + held
            return []
        self._buffer = buffer[end + 2 :] + held
        return self._parse_blocks(buffer[:end].split(b"\n\n"))

    @staticmethod
    def _parse_blocks(blocks: list[bytes]) -> list[SSEEvent]:
        events = []
        for block in blocks:
            # The common case, one "data: {...}" line, skips the general field parser.
            if block.startswith(b"data: ") and b"\n" not in block:
                events.append(SSEEvent(block[6:]))
                continue
            event = _parse_block(block)
            if event is not None:
                events.append(event)
        return events


def _parse_block(block: bytes) -> SSEEvent | None:
    data_lines: list[bytes] = []
    name: str | None = None
    for line in block.split(b"\n"):
        if not line or line.startswith(b":"):
            continue  # blank separator runs, or a comment (keep-alive)
        field, _, value = line.partition(b":")
        if value.startswith(b" "):
            value = value[1:]
        if field == b"data":
            data_lines.append(value)
        elif field == b"event":
            name = value.decode("utf-8", "replace")
        # "id" and "retry" mean nothing for chat streams.
    if not data_lines:
        return None
    return SSEEvent(b"\n".join(data_lines), name)
