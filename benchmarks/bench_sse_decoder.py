"""SSE decoder benchmark: cost linear in line length, memory bounded by the event cap.

Three inputs of the same size (``--mib``, 50 by default), fed in 64 KiB reads as a
socket delivers them, to the transport's ``SSEDecoder``:

- ordinary events: LM Studio-shaped ``data: {...}`` chunks, many per read;
- one long line: a single event of that size (the decoder's cap raised above it),
  which must cost about what the ordinary events cost, not grow with its square;
- one hostile line against the default cap: decoding must fail with
  ``EventTooLargeError`` after about the cap, with peak memory about the cap.

CPU time is ``time.process_time()`` (median of ``--repeat`` runs); peak memory is the
decoder's own allocations, measured with ``tracemalloc`` in a separate run.

    uv run python benchmarks/bench_sse_decoder.py [--mib 50] [--repeat 3]
"""

from __future__ import annotations

import argparse
import functools
import json
import statistics
import time
import tracemalloc
from collections.abc import Callable, Iterator

from lmstudio_provider.transport._sse import (
    DEFAULT_MAX_EVENT_BYTES,
    EventTooLargeError,
    SSEDecoder,
)

READ_BYTES = 64 * 1024
MIB = 1024 * 1024


def reads(stream: bytes) -> Iterator[bytes]:
    view = memoryview(stream)
    for offset in range(0, len(stream), READ_BYTES):
        yield bytes(view[offset : offset + READ_BYTES])


def ordinary_events(size: int) -> bytes:
    chunk = json.dumps(
        {
            "id": "chatcmpl-1",
            "object": "chat.completion.chunk",
            "model": "qwen3-4b",
            "choices": [{"index": 0, "delta": {"content": " token"}, "finish_reason": None}],
        },
        separators=(",", ":"),
    )
    event = f"data: {chunk}\n\n".encode()
    return event * (size // len(event))


def one_line(size: int) -> bytes:
    return b"data: " + b"x" * size + b"\n\n"


def decode(stream: bytes, max_event_bytes: int) -> tuple[int, str]:
    """Feed ``stream`` read by read; return (events decoded, outcome)."""
    decoder = SSEDecoder(max_event_bytes)
    count = 0
    try:
        for data in reads(stream):
            count += len(decoder.feed(data))
        count += len(decoder.flush())
    except EventTooLargeError as error:
        return count, f"EventTooLargeError after {error.size / MIB:.1f} MiB"
    return count, f"{count} events"


def cpu_secs(run: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        started = time.process_time()
        run()
        times.append(time.process_time() - started)
    return statistics.median(times)


def peak_mib(run: Callable[[], object]) -> float:
    tracemalloc.start()
    try:
        run()
        return tracemalloc.get_traced_memory()[1] / MIB
    finally:
        tracemalloc.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mib", type=int, default=50, help="input size in MiB")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    size = args.mib * MIB
    cases: list[tuple[str, bytes, int]] = [
        (f"{args.mib} MiB of ordinary events", ordinary_events(size), DEFAULT_MAX_EVENT_BYTES),
        (f"one {args.mib} MiB line (cap raised)", one_line(size), 2 * size),
        (
            f"one {args.mib} MiB line, default cap {DEFAULT_MAX_EVENT_BYTES // MIB} MiB",
            one_line(size),
            DEFAULT_MAX_EVENT_BYTES,
        ),
    ]
    print(f"{READ_BYTES // 1024} KiB reads; input held outside the measured allocations.\n")
    print("| Input | CPU s (median) | MiB/s | Peak decoder memory MiB | Outcome |")
    print("|---|---:|---:|---:|---|")
    for name, stream, cap in cases:
        run = functools.partial(decode, stream, cap)
        seconds = cpu_secs(run, args.repeat)
        peak = peak_mib(run)
        _, outcome = decode(stream, cap)
        rate = len(stream) / MIB / seconds if seconds else float("inf")
        print(f"| {name} | {seconds:.3f} | {rate:.0f} | {peak:.1f} | {outcome} |")


if __name__ == "__main__":
    main()
