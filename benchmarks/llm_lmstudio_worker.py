"""Stream the benchmark's answer through whatever llm plugin serves MODEL, on request.

Run by ``contenders_llm.py`` with the interpreter of a venv that has ``llm`` and
``llm-lmstudio`` (and not this package)::

    python llm_lmstudio_worker.py MODEL_ID PROMPT

For each line read on stdin it streams one answer with llm's
``model.prompt(PROMPT)`` and prints one JSON line: the text chunks, the text, and
the CPU seconds this process spent (the benchmark cannot see another process's CPU).
It needs nothing but llm and the standard library.
"""

from __future__ import annotations

import gc
import json
import sys
import time


def main() -> None:
    import llm

    model_id, prompt = sys.argv[1], sys.argv[2]
    model = llm.get_model(model_id)
    for _ in sys.stdin:
        gc.collect()
        started = time.process_time()
        parts = [piece for piece in model.prompt(prompt) if piece]
        cpu_secs = time.process_time() - started
        answer = {"chunks": len(parts), "text": "".join(parts), "cpu_secs": cpu_secs}
        sys.stdout.write(json.dumps(answer) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
