"""The contenders' registry of the streaming benchmark, and what they share.

A contender is a generator that sets itself up for a base URL, yields a ``Run``
(a function that streams one answer and returns what it received), then cleans up.
``@contender("name")`` registers it. ``bench_streaming.py`` imports every module of
contenders, so registering is all a new module has to do.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from typing import Any

MODEL = "bench-model"
MESSAGES = [{"role": "user", "content": "Write a long story."}]
TIMEOUT_SECS = 120.0


@dataclass(frozen=True, slots=True)
class Received:
    """What one streamed answer delivered: the chunks that carried text, and the text."""

    chunks: int
    text: str
    cpu_secs: float | None = None
    """CPU time the contender measured itself (when it streams in another process)."""


Run = Callable[[], Received]
"""Streams one answer and returns what it received."""


@dataclass(frozen=True, slots=True)
class Contender:
    name: str
    setup: Callable[[str], AbstractContextManager[Run]]
    baseline: str
    """The contender this one is compared with (the naive loop of the same kind)."""


CONTENDERS: dict[str, Contender] = {}
NAIVE_SYNC = "naive-httpx2"
NAIVE_ASYNC = "naive-httpx2 async"


def contender(
    name: str, *, baseline: str = NAIVE_SYNC
) -> Callable[[Callable[[str], Iterator[Run]]], Callable[[str], Iterator[Run]]]:
    """Register a contender: a generator given the base URL that yields a ``Run``."""

    def register(setup: Callable[[str], Iterator[Run]]) -> Callable[[str], Iterator[Run]]:
        CONTENDERS[name] = Contender(name, contextmanager(setup), baseline)
        return setup

    return register


def run_async(make_client: Callable[[], Any], stream_once: Callable[[Any], Any]) -> Iterator[Run]:
    """Set-up shared by async contenders: one event loop and one client for all runs."""
    with asyncio.Runner() as runner:
        client = make_client()
        try:
            yield lambda: runner.run(stream_once(client))
        finally:
            runner.run(client.aclose())
