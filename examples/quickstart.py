"""Stream a chat from LM Studio and print the tokens as they arrive, then the metrics.

Run it with the README's main-job command, or ``uv run python examples/quickstart.py``.
It talks to LM Studio at the configured base URL (``LMSTUDIO_BASE_URL``, default
http://localhost:1234) and uses whatever model is loaded there. When no LM Studio
answers, it starts the stand-in (llama.cpp's server with SmolLM2 135M Instruct, from
the ``integration`` dependency group), streams from it, and stops it afterwards.

The answer goes to stdout, everything about it (which server, errors) to stderr, and
stdout is flushed before anything goes to stderr, so that the two never interleave.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
from collections.abc import Iterator

from lmstudio_provider import LMStudioClient, LMStudioError, load_settings
from lmstudio_provider.standin import StandInError, start_standin

DEFAULT_PROMPT = "In two sentences: why run a language model on your own machine?"


@contextlib.contextmanager
def model_server(use_standin: bool) -> Iterator[str | None]:
    """The base URL to use: LM Studio's when it answers, else a stand-in started for us."""
    if not use_standin:
        with LMStudioClient(max_retries=0, connect_timeout=2) as probe:
            health = probe.health()
        if health.ok:
            print(f"Using {health.server_kind} at {health.base_url}.\n", file=sys.stderr)
            yield None  # the configured URL
            return
        print(f"{health.error}\n", file=sys.stderr)
    print(
        "Starting the stand-in model server (llama.cpp + SmolLM2 135M Instruct) on loopback...",
        file=sys.stderr,
    )
    with start_standin() as server:
        print(
            f"Stand-in ready at {server.base_url} (its log: {server.log_path}).\n", file=sys.stderr
        )
        yield server.base_url
        sys.stdout.flush()  # the answer and its metrics first, then our own message
    print("Stand-in stopped.", file=sys.stderr)


def stream_once(base_url: str | None, prompt: str, model: str | None, max_tokens: int) -> int:
    with LMStudioClient(base_url=base_url) as client:
        stream = client.stream_chat(
            [{"role": "user", "content": prompt}], model=model, max_tokens=max_tokens
        )
        try:
            with stream:
                for chunk in stream:
                    if chunk.reasoning:
                        sys.stdout.write(f"\033[2m{chunk.reasoning}\033[0m")
                    sys.stdout.write(chunk.text)
                    sys.stdout.flush()
        except LMStudioError as error:
            sys.stdout.flush()
            print(f"\n{error}", file=sys.stderr)
            return 1
        result = stream.result
        metrics = result.metrics
        print("\n")
        print(f"model:               {result.model}")
        print(f"finish reason:       {result.finish_reason}")
        if metrics.time_to_first_token_secs is not None:
            print(f"time to first token: {metrics.time_to_first_token_secs * 1000:.0f} ms")
        if metrics.tokens_per_second is not None:
            print(f"tokens per second:   {metrics.tokens_per_second:.1f}")
        if result.usage is not None:
            print(
                f"tokens:              {result.usage.prompt_tokens} prompt, "
                f"{result.usage.completion_tokens} completion"
            )
        print(f"wall time:           {metrics.wall_duration_secs:.2f} s")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("prompt", nargs="?", default=DEFAULT_PROMPT)
    parser.add_argument("--model", default=None, help="model id or unique part of one")
    parser.add_argument("--max-tokens", type=int, default=200)
    parser.add_argument(
        "--standin", action="store_true", help="use the stand-in even if LM Studio answers"
    )
    args = parser.parse_args()
    try:
        load_settings()  # a bad setting is reported before anything else happens
        with model_server(args.standin) as base_url:
            return stream_once(base_url, args.prompt, args.model, args.max_tokens)
    except (LMStudioError, StandInError) as error:
        print(error, file=sys.stderr)
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
