"""The bytes-level SSE decoder: line ends, split reads, multi-line data, comments."""

from __future__ import annotations

import random

import pytest

from lmstudio_provider.transport._sse import SSEDecoder, SSEEvent

STREAM = (
    b'data: {"a": 1}\n\n'
    b": keep-alive comment\n\n"
    b"event: message.delta\ndata: first line\ndata: second line\n\n"
    b"data:no-space\n\n"
    b"id: 7\nretry: 100\ndata: with id\n\n"
    b"data: [DONE]\n\n"
)
EXPECTED = [
    SSEEvent(b'{"a": 1}'),
    SSEEvent(b"first line\nsecond line", "message.delta"),
    SSEEvent(b"no-space"),
    SSEEvent(b"with id"),
    SSEEvent(b"[DONE]"),
]


def decode_in_pieces(stream: bytes, sizes: list[int]) -> list[SSEEvent]:
    decoder = SSEDecoder()
    events: list[SSEEvent] = []
    offset = 0
    for size in sizes:
        events += decoder.feed(stream[offset : offset + size])
        offset += size
    events += decoder.feed(stream[offset:])
    return events + decoder.flush()


def test_whole_stream() -> None:
    assert decode_in_pieces(STREAM, []) == EXPECTED


@pytest.mark.parametrize("line_end", [b"\r\n", b"\r"])
def test_crlf_and_cr_line_ends(line_end: bytes) -> None:
    assert decode_in_pieces(STREAM.replace(b"\n", line_end), []) == EXPECTED


def test_byte_by_byte() -> None:
    assert decode_in_pieces(STREAM, [1] * len(STREAM)) == EXPECTED


def test_crlf_split_between_cr_and_lf() -> None:
    stream = STREAM.replace(b"\n", b"\r\n")
    cut = stream.index(b"\r\n") + 1  # the first read ends on a bare CR
    assert decode_in_pieces(stream, [cut]) == EXPECTED


@pytest.mark.parametrize("seed", range(20))
def test_random_splits(seed: int) -> None:
    rng = random.Random(seed)
    stream = STREAM.replace(b"\n", b"\r\n") if seed % 2 else STREAM
    sizes = [rng.randint(1, 9) for _ in range(len(stream) // 3)]
    assert decode_in_pieces(stream, sizes) == EXPECTED


def test_event_held_back_until_complete() -> None:
    decoder = SSEDecoder()
    assert decoder.feed(b'data: {"x"') == []
    assert decoder.pending == b'data: {"x"'
    assert decoder.feed(b": 1}\n") == []
    assert decoder.feed(b"\n") == [SSEEvent(b'{"x": 1}')]
    assert decoder.pending == b""


def test_missing_final_blank_line_is_flushed() -> None:
    decoder = SSEDecoder()
    assert decoder.feed(b"data: a\n\ndata: last") == [SSEEvent(b"a")]
    assert decoder.flush() == [SSEEvent(b"last")]
    assert decoder.flush() == []


def test_missing_final_blank_line_after_crlf() -> None:
    decoder = SSEDecoder()
    assert decoder.feed(b"data: a\r\n\r\ndata: last\r\n") == [SSEEvent(b"a")]
    assert decoder.flush() == [SSEEvent(b"last")]


def test_comment_only_and_empty_events_yield_nothing() -> None:
    assert decode_in_pieces(b": ping\n\n\n\n: pong\n\nevent: x\n\n", []) == []


def test_data_field_with_empty_value() -> None:
    assert decode_in_pieces(b"data:\n\n", []) == [SSEEvent(b"")]


def test_utf8_split_inside_a_character() -> None:
    payload = "data: héllo ✓\n\n".encode()
    events = decode_in_pieces(payload, [8, 1, 1, 5])
    assert [event.data.decode() for event in events] == ["héllo ✓"]
