"""Streaming benchmark: client CPU per chunk, the transport against a naive loop.

Every contender streams the same answer (``--chunks`` content chunks shaped like
LM Studio's) from the same loopback server, which runs in a separate process so
that only the client's CPU is counted (``time.process_time()``). Each contender
is warmed up once, then runs ``--repeat`` times, interleaved with the others; the
table gives the median CPU microseconds per chunk and its ratio to the naive
``iter_lines`` + ``json.loads`` loop of the same kind (sync or async). Every run
must receive every chunk's text, exactly, or the benchmark fails.

    uv run python benchmarks/bench_streaming.py [--chunks 10000] [--repeat 5]

To add a contender, write a generator that sets it up for a base URL, yields a
function that streams one answer and returns what it received, then cleans up,
and register it with ``@contender("name")`` from ``contenders.py``.
"""

from __future__ import annotations

import argparse
import gc
import hashlib
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import httpx2

import contenders_langchain  # noqa: F401 (registers the LangChain contenders)
import contenders_llm  # registers the llm plugin's contenders
from contenders import (
    CONTENDERS,
    MESSAGES,
    MODEL,
    NAIVE_ASYNC,
    NAIVE_SYNC,
    TIMEOUT_SECS,
    Received,
    Run,
    contender,
    run_async,
)
from lmstudio_provider import AsyncLMStudioClient, LMStudioClient

SERVER_SCRIPT = Path(__file__).with_name("sse_server.py")
REQUEST = {"model": MODEL, "messages": MESSAGES, "stream": True}
CHAT_PATH = "/v1/chat/completions"
TIMES = "\N{MULTIPLICATION SIGN}"


# -- Contenders ----------------------------------------------------------------


@contender(NAIVE_SYNC)
def naive_httpx2(base_url: str) -> Iterator[Run]:
    """``Client.stream`` + ``iter_lines`` + ``json.loads``: the loop everyone writes."""
    with httpx2.Client(base_url=base_url, timeout=TIMEOUT_SECS) as client:

        def run() -> Received:
            parts: list[str] = []
            with client.stream("POST", CHAT_PATH, json=REQUEST) as response:
                response.raise_for_status()
                for line in response.iter_lines():
                    if not line.startswith("data: "):
                        continue
                    data = line[6:]
                    if data == "[DONE]":
                        continue  # read on to the end, so the connection is reused
                    choices = json.loads(data).get("choices")
                    if choices:
                        content = choices[0].get("delta", {}).get("content")
                        if content:
                            parts.append(content)
            return Received(len(parts), "".join(parts))

        yield run


@contender(NAIVE_ASYNC, baseline=NAIVE_ASYNC)
def naive_httpx2_async(base_url: str) -> Iterator[Run]:
    """The same naive loop on ``AsyncClient``."""

    async def stream_once(client: httpx2.AsyncClient) -> Received:
        parts: list[str] = []
        async with client.stream("POST", CHAT_PATH, json=REQUEST) as response:
            response.raise_for_status()
            async for line in response.aiter_lines():
                if not line.startswith("data: "):
                    continue
                data = line[6:]
                if data == "[DONE]":
                    continue
                choices = json.loads(data).get("choices")
                if choices:
                    content = choices[0].get("delta", {}).get("content")
                    if content:
                        parts.append(content)
        return Received(len(parts), "".join(parts))

    yield from run_async(
        lambda: httpx2.AsyncClient(base_url=base_url, timeout=TIMEOUT_SECS), stream_once
    )


@contender("lmstudio-provider sync")
def provider_sync(base_url: str) -> Iterator[Run]:
    """``LMStudioClient.stream_chat``."""
    with LMStudioClient(base_url=base_url, timeout=TIMEOUT_SECS, max_retries=0) as client:

        def run() -> Received:
            parts: list[str] = []
            for chunk in client.stream_chat(MESSAGES, model=MODEL):
                if chunk.text:
                    parts.append(chunk.text)
            return Received(len(parts), "".join(parts))

        yield run


@contender("lmstudio-provider async", baseline=NAIVE_ASYNC)
def provider_async(base_url: str) -> Iterator[Run]:
    """``AsyncLMStudioClient.stream_chat``."""

    async def stream_once(client: AsyncLMStudioClient) -> Received:
        parts: list[str] = []
        async for chunk in client.stream_chat(MESSAGES, model=MODEL):
            if chunk.text:
                parts.append(chunk.text)
        return Received(len(parts), "".join(parts))

    yield from run_async(
        lambda: AsyncLMStudioClient(base_url=base_url, timeout=TIMEOUT_SECS, max_retries=0),
        stream_once,
    )


# -- Server --------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Server:
    """The running loopback server and the answer it streams."""

    url: str
    chunks: int
    chars: int
    sha256: str


@contextmanager
def serve(chunks: int, events_per_write: int) -> Iterator[Server]:
    """Run ``sse_server.py`` in its own process; stop it on the way out."""
    command = [
        sys.executable,
        str(SERVER_SCRIPT),
        "--chunks",
        str(chunks),
        "--events-per-write",
        str(events_per_write),
        "--exit-with-stdin",  # so it cannot outlive us, even if we are killed
    ]
    process = subprocess.Popen(  # noqa: S603 (our own script, with our own interpreter)
        command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        if not line:
            raise RuntimeError(f"the benchmark server exited with {process.wait()}")
        ready = json.loads(line)
        yield Server(ready["url"], ready["chunks"], ready["chars"], ready["sha256"])
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        for pipe in (process.stdin, process.stdout):
            if pipe is not None:
                pipe.close()


# -- Measurement ---------------------------------------------------------------


@dataclass(slots=True)
class Result:
    name: str
    baseline: str
    cpu_secs: list[float] = field(default_factory=list)
    wall_secs: list[float] = field(default_factory=list)

    def cpu_us_per_chunk(self, chunks: int) -> float:
        return statistics.median(self.cpu_secs) / chunks * 1e6

    def min_cpu_us_per_chunk(self, chunks: int) -> float:
        return min(self.cpu_secs) / chunks * 1e6

    def wall_ms(self) -> float:
        return statistics.median(self.wall_secs) * 1e3


def check(name: str, received: Received, server: Server) -> None:
    """Fail unless the contender received every chunk's text, exactly."""
    digest = hashlib.sha256(received.text.encode()).hexdigest()
    if received.chunks != server.chunks or digest != server.sha256:
        raise RuntimeError(
            f"{name} received {received.chunks} chunks and {len(received.text)} characters; "
            f"the server sent {server.chunks} chunks and {server.chars} characters"
        )


def timed(run: Run) -> tuple[float, float, Received]:
    """(client CPU seconds, wall seconds, what was received) for one run."""
    gc.collect()
    cpu_start, wall_start = time.process_time(), time.perf_counter()
    received = run()
    cpu, wall = time.process_time() - cpu_start, time.perf_counter() - wall_start
    return (cpu if received.cpu_secs is None else received.cpu_secs), wall, received


def benchmark(names: list[str], server: Server, repeat: int) -> list[Result]:
    """Warm each contender up, then time ``repeat`` rounds, rotating the order."""
    results = [Result(name, CONTENDERS[name].baseline) for name in names]
    with _set_up(names, server.url) as runs:
        for name, run in zip(names, runs, strict=True):
            check(name, run(), server)  # warm-up: connections, caches, imports
        for round_number in range(repeat):
            shift = round_number % len(names)
            for index in [*range(shift, len(names)), *range(shift)]:
                cpu, wall, received = timed(runs[index])
                check(names[index], received, server)
                results[index].cpu_secs.append(cpu)
                results[index].wall_secs.append(wall)
    return results


@contextmanager
def _set_up(names: list[str], base_url: str) -> Iterator[list[Run]]:
    with ExitStack() as stack:
        yield [stack.enter_context(CONTENDERS[name].setup(base_url)) for name in names]


# -- Report --------------------------------------------------------------------


def markdown(results: list[Result], chunks: int, repeat: int) -> str:
    by_name = {result.name: result for result in results}
    lines = [
        f"Streaming {chunks:,} chunks from a loopback server (separate process), "
        f"median of {repeat} runs; client CPU from `time.process_time()`.",
        f"Python {platform.python_version()}, httpx2 {httpx2.__version__}, "
        f"{platform.system()} {platform.machine()}, {_cpu_count()} cores.",
        "",
        "| Contender | CPU µs/chunk (median) | CPU µs/chunk (min) | Wall ms (median) | Ratio |",
        "|---|---:|---:|---:|---|",
    ]
    for result in results:
        cpu = result.cpu_us_per_chunk(chunks)
        base = by_name.get(result.baseline)
        if result.baseline == result.name:
            ratio = f"1.00{TIMES} (baseline)"
        elif base is None:
            ratio = "n/a"
        else:
            ratio = f"{cpu / base.cpu_us_per_chunk(chunks):.2f}{TIMES} {result.baseline}"
        lines.append(
            f"| {result.name} | {cpu:.2f} | {result.min_cpu_us_per_chunk(chunks):.2f} "
            f"| {result.wall_ms():.0f} | {ratio} |"
        )
    return "\n".join(lines)


def as_json(results: list[Result], args: argparse.Namespace) -> dict[str, Any]:
    by_name = {result.name: result for result in results}
    entries = []
    for result in results:
        cpu = result.cpu_us_per_chunk(args.chunks)
        base = by_name.get(result.baseline)
        entries.append(
            {
                **asdict(result),
                "cpu_us_per_chunk": cpu,
                "min_cpu_us_per_chunk": result.min_cpu_us_per_chunk(args.chunks),
                "wall_ms": result.wall_ms(),
                "ratio_to_baseline": cpu / base.cpu_us_per_chunk(args.chunks) if base else None,
            }
        )
    return {
        "chunks": args.chunks,
        "repeat": args.repeat,
        "events_per_write": args.events_per_write,
        "python": platform.python_version(),
        "httpx2": httpx2.__version__,
        "platform": platform.platform(),
        "cores": _cpu_count(),
        "results": entries,
    }


def _cpu_count() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n", 1)[0])
    parser.add_argument("--chunks", type=int, default=10_000, help="content chunks per answer")
    parser.add_argument("--repeat", type=int, default=5, help="timed runs per contender")
    parser.add_argument(
        "--events-per-write", type=int, default=1, help="SSE events the server sends per write"
    )
    parser.add_argument(
        "--only", action="append", metavar="NAME", help="run only this contender (repeatable)"
    )
    parser.add_argument("--list", action="store_true", help="list the contenders and exit")
    parser.add_argument("--json", type=Path, metavar="FILE", help="also write the results here")
    parser.add_argument(
        "--with-llm-lmstudio",
        metavar="PYTHON",
        help="also run llm-lmstudio, installed in the venv of this interpreter",
    )
    args = parser.parse_args(argv)
    if args.with_llm_lmstudio:
        contenders_llm.add_llm_lmstudio(args.with_llm_lmstudio)
    if args.list:
        for item in CONTENDERS.values():
            print(f"{item.name}  (compared with {item.baseline})")
        return
    names = args.only or list(CONTENDERS)
    unknown = [name for name in names if name not in CONTENDERS]
    if unknown:
        parser.error(f"unknown contender(s) {unknown}; known: {list(CONTENDERS)}")
    if args.chunks < 1 or args.repeat < 1:
        parser.error("--chunks and --repeat must be at least 1")
    with serve(args.chunks, max(1, args.events_per_write)) as server:
        results = benchmark(names, server, args.repeat)
    print(markdown(results, args.chunks, args.repeat))
    if args.json is not None:
        args.json.write_text(json.dumps(as_json(results, args), indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
