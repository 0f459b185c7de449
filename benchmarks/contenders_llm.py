"""The llm plugin's contenders of the streaming benchmark, and ``llm-lmstudio`` to compare.

``bench_streaming.py`` imports this module once, which registers ``llm plugin sync``
and ``llm plugin async``: llm's own ``model.prompt(...)``, iterated as a user of llm's
Python API reads a streamed answer (so llm's response bookkeeping is counted too).

``llm-lmstudio`` (another plugin for LM Studio) would register models of the same
names as ours, so it never enters this project's environment: ``--with-llm-lmstudio
PYTHON`` names the interpreter of a throwaway venv that has it, and
``llm_lmstudio_worker.py`` streams there, measuring its own CPU time::

    uv venv /tmp/other && uv pip install --python /tmp/other llm llm-lmstudio httpx2
    uv run python benchmarks/bench_streaming.py --with-llm-lmstudio /tmp/other/bin/python
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import contenders as bench

WORKER = Path(__file__).with_name("llm_lmstudio_worker.py")
LLM_LMSTUDIO = "llm-lmstudio (own venv)"
MODEL_ID = "lmstudio/bench-model"  # the model sse_server.py serves


def prompt() -> str:
    return str(bench.MESSAGES[0]["content"])


@contextmanager
def llm_pointed_at(base_url: str) -> Iterator[None]:
    """The plugin's LM Studio is ``base_url``; llm's user directory is a throwaway one."""
    from lmstudio_provider.transport import ModelListCache

    names = ("LMSTUDIO_BASE_URL", "LLM_USER_PATH")
    saved = {name: os.environ.get(name) for name in names}
    with tempfile.TemporaryDirectory(prefix="bench-llm-") as user_dir:
        os.environ.update(LMSTUDIO_BASE_URL=base_url, LLM_USER_PATH=user_dir)
        ModelListCache.forget_recent()
        try:
            yield
        finally:
            ModelListCache.forget_recent()
            for name, value in saved.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value


@bench.contender("llm plugin sync")
def llm_plugin_sync(base_url: str) -> Iterator[bench.Run]:
    """``llm.get_model("lmstudio/...").prompt(...)``, iterated."""
    import llm

    with llm_pointed_at(base_url):
        model = llm.get_model(MODEL_ID)

        def run() -> bench.Received:
            parts = [piece for piece in model.prompt(prompt()) if piece]
            return bench.Received(len(parts), "".join(parts))

        yield run


@bench.contender("llm plugin async", baseline=bench.NAIVE_ASYNC)
def llm_plugin_async(base_url: str) -> Iterator[bench.Run]:
    """``llm.get_async_model("lmstudio/...").prompt(...)``, iterated with ``async for``."""
    import llm

    async def stream_once(model: Any) -> bench.Received:
        parts = [piece async for piece in model.prompt(prompt()) if piece]
        return bench.Received(len(parts), "".join(parts))

    with llm_pointed_at(base_url), asyncio.Runner() as runner:
        model = llm.get_async_model(MODEL_ID)
        yield lambda: runner.run(stream_once(model))


def add_llm_lmstudio(python: str) -> str:
    """Register ``llm-lmstudio``, run by ``python``; returns the contender's name."""

    @bench.contender(LLM_LMSTUDIO)
    def llm_lmstudio(base_url: str) -> Iterator[bench.Run]:
        """llm-lmstudio's ``model.prompt(...)``, iterated in a worker process."""
        with tempfile.TemporaryDirectory(prefix="bench-llm-lmstudio-") as user_dir:
            environment = {
                **os.environ,
                "LMSTUDIO_API_BASE": base_url,  # llm-lmstudio's setting
                "LLM_USER_PATH": user_dir,
            }
            worker = subprocess.Popen(  # noqa: S603 (the interpreter the user named)
                [python, str(WORKER), MODEL_ID, prompt()],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
                env=environment,
            )
            assert worker.stdin is not None
            assert worker.stdout is not None
            stdin, stdout = worker.stdin, worker.stdout

            def run() -> bench.Received:
                stdin.write("run\n")
                stdin.flush()
                line = stdout.readline()
                if not line:
                    raise RuntimeError(f"the llm-lmstudio worker exited with {worker.wait()}")
                answer = json.loads(line)
                return bench.Received(answer["chunks"], answer["text"], answer["cpu_secs"])

            try:
                yield run
            finally:
                stdin.close()
                worker.wait(timeout=30)
                stdout.close()

    return LLM_LMSTUDIO
