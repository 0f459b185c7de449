"""The llm plugin replaying recorded LM Studio traffic (``cassettes/test_llm_plugin/``).

Built by ``build_cassettes.py`` from ``../shared/lmstudio-captures``; each cassette
names its captures. The request bodies are compared (parsed JSON) with what the
plugin sends, so these tests also pin the messages, the options and the resolved
model; ``cassette.all_played`` pins the number of requests (one listing, one chat).

* ``prompt_simple``, ``prompt_system``: ``cs3b__ace__..._queries_lm_studio_with_simple_
  prompt.yml__79d1a045.yml`` and ``..._uses_system_instruction.yml__f40a2f3c.yml``;
* ``stream_story``: ``j-shelfwood__..._models_list.json__710ca4ad.json`` and
  ``..._streaming_chat-stream.txt__2f975aae.txt`` (650 chunks);
* ``stream_tool_call``: the same list and ``..._streaming_tool-stream.txt__527beafe.txt``;
* ``embed_multi``: ``..._v0_models_list.json__af1d513f.json`` and a synthetic answer;
* ``server_unavailable``: ``cs3b__ace__..._server_unavailable`` (a refused connection).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import llm
import pytest
import vcr

from llm_fixtures import Invoke, logged
from lmstudio_provider.transport._errors import START_SERVER_HINT

pytestmark = pytest.mark.usefixtures("llm_user_dir")

ROOT = Path(__file__).resolve().parents[3]
replay = vcr.VCR(
    cassette_library_dir=str(ROOT / "cassettes" / "test_llm_plugin"),
    record_mode="none",
    match_on=["method", "uri", "body"],
    filter_headers=["authorization"],
)
DEVSTRAL = "mistralai/devstral-small-2505"
QWEN = "qwen2.5-7b-instruct"
NOMIC = "text-embedding-nomic-embed-text-v1.5"
EMBED_TEXTS = ["The capital of France is Paris.", "LM Studio runs models locally.", "Hello"]


def test_prompt_simple(llm_cli: Invoke) -> None:
    with replay.use_cassette("prompt_simple.yaml") as cassette:
        result = llm_cli(
            "-m", f"lmstudio/{DEVSTRAL}", "--no-stream",
            "-o", "temperature", "0.7", "-o", "max_tokens", "-1",
            "What is 2+2? Reply with just the number.",
        )  # fmt: skip
        assert cassette.all_played
    assert result.exit_code == 0, result.output
    assert result.stdout == "4\n"
    [row] = logged()
    assert row["model"] == f"lmstudio/{DEVSTRAL}"
    assert row["resolved_model"] == DEVSTRAL
    assert (row["input_tokens"], row["output_tokens"]) == (1238, 1)
    assert row["response_json"]["id"] == "chatcmpl-j1mdqstbj3g5p7yraecs6x"
    assert row["response_json"]["stats"] == {}


def test_prompt_system(llm_cli: Invoke) -> None:
    with replay.use_cassette("prompt_system.yaml") as cassette:
        result = llm_cli(
            "-m", "lmstudio/devstral", "--no-stream", "-o", "temperature", "0.7",
            "-o", "max_tokens", "-1",
            "-s", "You are a helpful assistant. Always respond with enthusiasm.", "Hello",
        )  # fmt: skip
        assert cassette.all_played
    assert result.exit_code == 0, result.output
    assert result.stdout.endswith(
        "Let's make this conversation awesome! \N{SMILING FACE WITH SMILING EYES}\n"
    )
    assert logged()[0]["model"] == f"lmstudio/{DEVSTRAL}"  # "devstral" named it uniquely


def test_stream_story(llm_cli: Invoke) -> None:
    with replay.use_cassette("stream_story.yaml") as cassette:
        result = llm_cli("-m", "lmstudio", "Tell me a story about magic.")
        assert cassette.all_played
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("In the quaint village of Willowbrook, nestled between")
    assert result.stdout.endswith("and that magic can be found when we dare to believe in it.\n")
    assert len(result.stdout) == 3185 + 1
    [row] = logged()
    assert row["resolved_model"] == QWEN  # the loaded model
    assert row["input_tokens"] is None  # the recording predates streamed usage
    assert row["response_json"]["finish_reason"] == "stop"
    assert row["response_json"]["metrics"]["time_to_first_token_secs"] is not None


@pytest.mark.parametrize("use_async", [False, True], ids=["sync", "async"])
async def test_stream_tool_call(use_async: bool) -> None:
    """Fragments without ids and with empty names assemble into one call, id kept."""
    tool = llm.Tool(
        name="get_current_weather",
        description="Get the current weather in a given location",
        input_schema={
            "type": "object",
            "properties": {
                "location": {"type": "string", "description": "The city, e.g. London"},
                "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
            },
            "required": ["location"],
        },
    )
    prompt = "What is the weather in London?"
    with replay.use_cassette("stream_tool_call.yaml") as cassette:
        if use_async:
            response: Any = llm.get_async_model(f"lmstudio/{QWEN}").prompt(prompt, tools=[tool])
            calls = await response.tool_calls()
        else:
            response = llm.get_model(f"lmstudio/{QWEN}").prompt(prompt, tools=[tool])
            calls = response.tool_calls()
        assert cassette.all_played
    assert calls == [
        llm.ToolCall(
            name="get_current_weather",
            arguments={"location": "London", "unit": "celsius"},
            tool_call_id="633167655",
        )
    ]
    [message] = await response.messages() if use_async else response.messages()
    assert [type(part).__name__ for part in message.parts] == ["ToolCallPart"]


def test_embed_multi_keeps_the_input_order() -> None:
    with replay.use_cassette("embed_multi.yaml") as cassette:
        model = llm.get_embedding_model(f"lmstudio/{NOMIC}")  # type: ignore[no-untyped-call]
        vectors = list(model.embed_multi(EMBED_TEXTS))
        assert cassette.all_played
    # The answer lists the items as 2, 0, 1; item i is [i + 0.25, -(i + 0.5), 0.125 * i].
    assert vectors == [[i + 0.25, -(i + 0.5), 0.125 * i] for i in range(3)]


def test_server_unavailable(llm_cli: Invoke, refused: list[tuple[str, int]]) -> None:
    with replay.use_cassette("server_unavailable.yaml", ignore_localhost=True) as cassette:
        listed = llm_cli("models")
        result = llm_cli("-m", "lmstudio", "hi")
        assert cassette.play_count == 0
    assert listed.exit_code == 0
    assert result.exit_code == 1
    assert result.output == (
        "Error: LM Studio is not reachable at http://localhost:1234 "
        "(GET http://localhost:1234/api/v1/models): [Errno 111] Connection refused\n"
        f"Hint: {START_SERVER_HINT}; if it listens elsewhere, set LMSTUDIO_BASE_URL.\n"
    )
    # One attempt per command: no retries while listing, and the prompt failed at once.
    assert refused == [("localhost", 1234), ("localhost", 1234)]
    assert json.loads(llm_cli("logs", "--json").output) == []
