"""The SSE decoder's event cap and its linear buffering (split separators, held CRs)."""

from __future__ import annotations

import pytest

from lmstudio_provider.transport._sse import EventTooLargeError, SSEDecoder, SSEEvent

CAP = 4096


def test_event_over_the_cap_fails_as_soon_as_it_passes_it() -> None:
    decoder = SSEDecoder(CAP)
    assert decoder.feed(b'data: {"start": ') == []

    def feed_forever() -> None:
        for _ in range(100):
            decoder.feed(b"x" * 1000)

    with pytest.raises(EventTooLargeError) as caught:
        feed_forever()
    error = caught.value
    assert error.limit == CAP
    assert CAP < error.size <= CAP + 1000  # at the first read past the cap, not later
    assert error.start.startswith(b'data: {"start": xxx')
    assert decoder.pending == b""  # the long event's bytes are let go


def test_long_event_completed_in_a_later_read_is_refused() -> None:
    decoder = SSEDecoder(CAP)
    assert decoder.feed(b"data: " + b"y" * (CAP - 100)) == []
    with pytest.raises(EventTooLargeError):
        decoder.feed(b"y" * 200 + b"\n\ndata: next\n\n")


def test_events_up_to_the_cap_pass_and_memory_stays_bounded() -> None:
    decoder = SSEDecoder(CAP)
    payload = b"z" * (CAP - 10)
    stream = (b"data: " + payload + b"\n\n") * 20
    events: list[SSEEvent] = []
    for offset in range(0, len(stream), 333):
        events += decoder.feed(stream[offset : offset + 333])
        assert len(decoder.pending) <= CAP
    assert events == [SSEEvent(payload)] * 20


@pytest.mark.parametrize("line_end", [b"\n", b"\r\n", b"\r"])
def test_separator_split_across_reads(line_end: bytes) -> None:
    decoder = SSEDecoder(CAP)
    stream = b"data: a" + line_end + b"data: b" + line_end * 2 + b"data: c" + line_end * 2
    events: list[SSEEvent] = []
    for byte in range(len(stream)):
        events += decoder.feed(stream[byte : byte + 1])
    assert events + decoder.flush() == [SSEEvent(b"a\nb"), SSEEvent(b"c")]


def test_one_long_line_in_many_reads_is_one_event() -> None:
    decoder = SSEDecoder(10 * 1024 * 1024)
    line = b"data: " + b"q" * (3 * 1024 * 1024) + b"\n\n"
    events: list[SSEEvent] = []
    for offset in range(0, len(line), 65536):
        events += decoder.feed(line[offset : offset + 65536])
    assert len(events) == 1
    assert events[0].data == line[6:-2]
