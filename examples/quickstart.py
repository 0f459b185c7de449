"""Stream a chat from LM Studio and print the tokens as they arrive, then the metrics.

Run it with the README's main-job command, or ``uv run python examples/quickstart.py``.
It talks to LM Studio at the configured base URL (``LMSTUDIO_BASE_URL``, default
http://localhost:1234) and uses whatever model is loaded there.
"""

from __future__ import annotations

import argparse
import sys

from lmstudio_provider import LMStudioClient, LMStudioError

DEFAULT_PROMPT = "In two sentences: why run a language model on your own machine?"


def stream_once(prompt: str, model: str | None, max_tokens: int) -> int:
    with LMStudioClient() as client:
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
    args = parser.parse_args()
    return stream_once(args.prompt, args.model, args.max_tokens)


if __name__ == "__main__":
    raise SystemExit(main())
