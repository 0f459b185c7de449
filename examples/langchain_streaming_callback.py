"""Streaming with a callback handler: every token reaches ``on_llm_new_token`` as it
arrives, and ``on_llm_end`` sees the whole answer with usage and LM Studio's metadata::

    python examples/langchain_streaming_callback.py
"""

from __future__ import annotations

import sys
import time
from typing import Any

from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.outputs import ChatGeneration, LLMResult

from lmstudio_provider import LMStudioError
from lmstudio_provider.langchain import ChatLMStudio


class PrintTokens(BaseCallbackHandler):
    """Prints tokens as they stream, then the time to first token and the usage."""

    def __init__(self) -> None:
        self.started = time.perf_counter()
        self.first_token_at: float | None = None
        self.tokens = 0

    def on_llm_new_token(self, token: Any, **kwargs: Any) -> None:
        if token and self.first_token_at is None:
            self.first_token_at = time.perf_counter()
        self.tokens += 1
        sys.stdout.write(str(token))
        sys.stdout.flush()

    def on_llm_end(self, response: LLMResult, **kwargs: Any) -> None:
        print()
        generation = response.generations[0][0]
        if self.first_token_at is not None:
            print(f"first token after {self.first_token_at - self.started:.2f} s")
        print(f"{self.tokens} chunks")
        if isinstance(generation, ChatGeneration):
            message = generation.message
            print(f"usage: {getattr(message, 'usage_metadata', None)}")
            print(f"model: {message.response_metadata.get('model_name')}")


def main() -> None:
    llm = ChatLMStudio(temperature=0.5, max_tokens=100)
    # With a handler in the config, stream() (and invoke() with streaming=True) report
    # every token to it.
    for _ in llm.stream("Describe a sunrise in two sentences.", {"callbacks": [PrintTokens()]}):
        pass


if __name__ == "__main__":
    try:
        main()
    except LMStudioError as error:  # LM Studio down, no model loaded, ...: the message and hint
        sys.exit(str(error))
