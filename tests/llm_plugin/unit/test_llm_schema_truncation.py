"""``llm --schema``: an answer cut off by max_tokens gets a one-line warning on stderr.

The answer itself is still printed (and logged) as it arrived; without a schema, or when
the answer ended by itself, nothing is added.
"""

from __future__ import annotations

from typing import Any

import httpx2
import pytest
import respx

from llm_fixtures import QWEN, Invoke, completion, sse, stream_events

pytestmark = pytest.mark.usefixtures("llm_user_dir")

CUT = '{"name": "Re'
WARNING = (
    "Warning: the answer was cut off by max_tokens (finish reason 'length'), so its JSON is "
    "incomplete; raise -o max_tokens or ask for less."
)


def cut_off_answer() -> Any:  # respx is typed for httpx, the alias of httpx2
    body: dict[str, Any] = completion(CUT, model=QWEN)
    body["choices"][0]["finish_reason"] = "length"
    return httpx2.Response(200, json=body)


def cut_off_stream() -> Any:
    events = stream_events([CUT], model=QWEN)
    for event in events:
        for choice in event.get("choices", []):
            if choice.get("finish_reason"):
                choice["finish_reason"] = "length"
    return httpx2.Response(200, content=sse(events), headers={"Content-Type": "text/event-stream"})


@pytest.mark.parametrize("stream", [False, True], ids=["no-stream", "stream"])
def test_a_cut_off_schema_answer_warns_in_one_line(
    llm_cli: Invoke, lmstudio: respx.MockRouter, stream: bool
) -> None:
    lmstudio.post("/v1/chat/completions").side_effect = [
        cut_off_stream() if stream else cut_off_answer()
    ]
    args = ["-m", "lmstudio", "--schema", "name, age int", "Invent a dog", "-o", "max_tokens", "5"]

    result = llm_cli(*args, *([] if stream else ["--no-stream"]))

    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == CUT
    assert result.stderr.splitlines() == [WARNING]


def test_no_warning_without_a_schema(llm_cli: Invoke, lmstudio: respx.MockRouter) -> None:
    lmstudio.post("/v1/chat/completions").side_effect = [cut_off_answer()]

    result = llm_cli("-m", "lmstudio", "--no-stream", "Invent a dog")

    assert result.exit_code == 0, result.output
    assert result.stderr == ""
