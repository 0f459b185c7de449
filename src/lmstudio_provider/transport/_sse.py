"""A server-sent events decoder that works on raw bytes.

It is fed whatever the socket delivered and returns the complete events'
``data`` payloads. Working on bytes avoids decoding the stream to text twice
(``json.loads`` takes bytes), which keeps the per-token cost below a naive
``iter_lines`` loop. Handles LF, CRLF and CR line ends, events split across
reads, multi-line data, comments, named events and a missing final blank line.

Cost is linear in what arrives: an unfinished event is kept in a ``bytearray``
that each read extends, and only the new bytes are searched for the blank line
that ends it. One event may hold at most ``max_event_bytes``; a longer one raises
``EventTooLargeError`` as soon as the cap is passed, so memory stays bounded by
the cap plus one read.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["DEFAULT_MAX_EVENT_BYTES", "EventTooLargeError", "SSEDecoder", "SSEEvent"]

DEFAULT_MAX_EVENT_BYTES = 4 * 1024 * 1024
QUOTED_START_BYTES = 120


@dataclass(slots=True)
class SSEEvent:
    """One event: its ``data`` lines joined by ``\\n``, and its ``event`` name if any."""

    data: bytes
    event: str | None = None


class EventTooLargeError(ValueError):
    """One event grew past the decoder's cap before its blank line arrived."""

    def __init__(self, size: int, limit: int, start: bytes) -> None:
        self.size = size
        self.limit = limit
        self.start = start
        super().__init__(f"an SSE event of over {limit} bytes (starting {start!r})")


class SSEDecoder:
    """Incremental SSE decoder: ``feed`` bytes, get complete events; ``flush`` at the end."""

    __slots__ = ("_buffer", "_carriage_returns", "_held_cr", "_max_event_bytes")

    def __init__(self, max_event_bytes: int = DEFAULT_MAX_EVENT_BYTES) -> None:
        self._buffer = bytearray()
        self._carriage_returns = False
        self._held_cr = False
        self._max_event_bytes = max_event_bytes

    def feed(self, data: bytes) -> list[SSEEvent]:
        """Decode ``data``; return the events it completed (held back: an unfinished one).

        Raises:
            EventTooLargeError: the unfinished event is longer than the cap.
        """
        if self._carriage_returns or b"\r" in data:
            data = self._normalise_line_ends(data)
        buffer = self._buffer
        if not buffer:
            if data.find(b"\n") == len(data) - 2 and data.endswith(b"\n\n"):
                # Fast path, one read per token: exactly one one-line event, nothing held back.
                if data.startswith(b"data: "):
                    return [SSEEvent(data[6:-2])]
                event = _parse_block(data[:-2])
                return [event] if event is not None else []
            end = data.rfind(b"\n\n")
            if end < 0:
                buffer += data
                self._check_size()
                return []
            buffer += data[end + 2 :]
            self._check_size()
            return self._parse_blocks(data[:end].split(b"\n\n"))
        # Only the new bytes (and the one before them: "\n" + "\n") can hold a separator.
        start = len(buffer) - 1
        buffer += data
        end = buffer.rfind(b"\n\n", start)
        if end < 0:
            self._check_size()
            return []
        # The first completed event began in an earlier read: it may be the long one.
        self._check_size(buffer.find(b"\n\n", start))
        with memoryview(buffer) as view:
            complete = bytes(view[:end])  # one copy (a bytearray slice would be two)
        del buffer[: end + 2]
        self._check_size()
        return self._parse_blocks(complete.split(b"\n\n"))

    def flush(self) -> list[SSEEvent]:
        """Events left when the stream ends without a final blank line."""
        buffer = bytes(self._buffer).strip(b"\n")  # line ends are LF by now
        self._buffer = bytearray()
        self._held_cr = False
        return self._parse_blocks(buffer.split(b"\n\n")) if buffer else []

    @property
    def pending(self) -> bytes:
        """Bytes received but not yet part of a complete event."""
        return bytes(self._buffer) + (b"\r" if self._held_cr else b"")

    def _normalise_line_ends(self, data: bytes) -> bytes:
        """CRLF and lone CR as LF, for this read only (a CR ending it waits for the next)."""
        self._carriage_returns = True
        if self._held_cr:
            data = b"\r" + data
        # A CR at the very end may be the first half of a CRLF: wait for the next read.
        self._held_cr = data.endswith(b"\r")
        if self._held_cr:
            data = data[:-1]
        return data.replace(b"\r\n", b"\n").replace(b"\r", b"\n")

    def _check_size(self, event_end: int = -1) -> None:
        """Fail when the event at the start of the buffer (unfinished, or completed and
        ending at ``event_end``) is longer than the cap; the buffer is dropped."""
        size = event_end if event_end >= 0 else len(self._buffer)
        if size > self._max_event_bytes:
            start = bytes(self._buffer[:QUOTED_START_BYTES])
            self._buffer = bytearray()
            raise EventTooLargeError(size, self._max_event_bytes, start)

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
