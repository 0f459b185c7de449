"""The llm plugin against a real model server: LM Studio, or the llama.cpp stand-in.

Everything runs through llm itself (its command line, or ``llm.get_model``) with
``LMSTUDIO_BASE_URL`` pointing at the server under test. The stand-in is a 270M
model: tests check behaviour (text arrives, options reach the sampler, history is
sent), never wording. What only LM Studio does is skipped on the stand-in, saying so.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import llm
import pytest

from llm_fixtures import Invoke, logged
from realserver import ServerUnderTest

PROMPT = "Write a short poem about the sea."


@pytest.fixture(autouse=True)
def at_the_server(
    server: ServerUnderTest, monkeypatch: pytest.MonkeyPatch, llm_user_dir: Path
) -> None:
    monkeypatch.setenv("LMSTUDIO_BASE_URL", server.base_url)
    monkeypatch.setenv("LMSTUDIO_HTTP_TIMEOUT_SECS", "120")


def ok(result: Any) -> str:
    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output
    stdout: str = result.stdout
    return stdout


def test_models_and_embedding_models_are_listed(server: ServerUnderTest, llm_cli: Invoke) -> None:
    listed = ok(llm_cli("models"))
    assert "LM Studio: lmstudio/default (aliases: lmstudio)" in listed
    # A server other than LM Studio does not say what its models can do.
    unknown = "\n" if server.is_lmstudio else " (capabilities unknown: images, tools and schemas"
    assert f"LM Studio: lmstudio/{server.chat_model}{unknown}" in listed
    if server.embedding_model:
        assert f"lmstudio/{server.embedding_model}" in ok(llm_cli("embed-models"))
        assert f"lmstudio/{server.embedding_model}" not in listed


def test_prompt_streams_with_the_default_model(server: ServerUnderTest, llm_cli: Invoke) -> None:
    text = ok(llm_cli("-m", "lmstudio", PROMPT, "-o", "max_tokens", "24", "-o", "temperature", "0"))
    assert text.strip()
    [row] = logged()
    assert row["model"] == "lmstudio/default"
    assert row["resolved_model"].lower() == server.chat_model.lower()
    metrics = row["response_json"]["metrics"]
    assert metrics["time_to_first_token_secs"] > 0
    assert metrics["tokens_per_second"] > 0


def test_streamed_text_arrives_in_pieces(server: ServerUnderTest) -> None:
    model = llm.get_model(f"lmstudio/{server.chat_model}")
    pieces = list(model.prompt(PROMPT, max_tokens=32, temperature=0))
    assert len([piece for piece in pieces if piece]) >= 5
    response = model.prompt(PROMPT, max_tokens=8)
    events = [event.type for event in response.stream_events()]  # type: ignore[no-untyped-call]
    assert set(events) <= {"text", "reasoning"}
    assert "text" in events


def test_no_stream_records_usage(server: ServerUnderTest, llm_cli: Invoke) -> None:
    ok(llm_cli("-m", "lmstudio", "--no-stream", PROMPT, "-o", "max_tokens", "16"))
    [row] = logged()
    assert row["input_tokens"] > 0
    assert 0 < row["output_tokens"] <= 16


def test_streamed_usage(lmstudio_only: None, llm_cli: Invoke) -> None:
    ok(llm_cli("-m", "lmstudio", PROMPT, "-o", "max_tokens", "16"))
    assert logged()[0]["output_tokens"] > 0


def test_a_conversation_sends_its_history(server: ServerUnderTest, llm_cli: Invoke) -> None:
    """The second turn's prompt is longer on the server's own count: the history went with it."""
    ok(llm_cli("-m", "lmstudio", "--no-stream", "-s", "Answer briefly.", "Name a fruit.",
               "-o", "max_tokens", "12"))  # fmt: skip
    ok(llm_cli("-c", "--no-stream", "Name another one.", "-o", "max_tokens", "12"))
    first, second = logged()
    assert first["conversation_id"] == second["conversation_id"]
    assert second["input_tokens"] > first["input_tokens"] + first["output_tokens"]


def test_max_tokens_stop_and_seed_reach_the_sampler(server: ServerUnderTest) -> None:
    model = llm.get_model("lmstudio")
    short = model.prompt(PROMPT, stream=False, max_tokens=5, temperature=0)
    short.text()
    assert short.response_json is not None
    assert short.response_json["finish_reason"] == "length"
    assert short.output_tokens is not None
    assert short.output_tokens <= 5
    seeded = {model.prompt(PROMPT, max_tokens=20, temperature=0.9, seed=1234).text() for _ in "ab"}
    assert len(seeded) == 1
    reference = model.prompt(PROMPT, max_tokens=32, temperature=0, seed=7).text()
    words = [w for w in reference.split() if len(w) > 3 and reference.count(w) == 1]
    assert words, f"no usable stop word in {reference!r}"
    stop = words[len(words) // 2]
    stopped = model.prompt(PROMPT, max_tokens=32, temperature=0, seed=7, stop=json.dumps([stop]))
    assert stop not in stopped.text()


@pytest.mark.parametrize(
    "options",
    [
        {"top_k": "20", "min_p": "0.05", "repeat_penalty": "1.1"},
        {"mirostat_mode": "2", "mirostat_tau": "5", "mirostat_eta": "0.1"},
        {"logit_bias": '{"1": -100}', "cache_prompt": "true"},
        {"extra": '{"top_n_sigma": 1}'},
    ],
    ids=lambda options: ",".join(options),
)
def test_lm_studio_options_are_accepted(llm_cli: Invoke, options: dict[str, str]) -> None:
    flags = [item for name, value in options.items() for item in ("-o", name, value)]
    ok(llm_cli("-m", "lmstudio", PROMPT, "-o", "max_tokens", "8", *flags))


def test_async_stream_and_no_stream(llm_cli: Invoke) -> None:
    assert ok(llm_cli("-m", "lmstudio", "--async", PROMPT, "-o", "max_tokens", "12")).strip()
    assert ok(
        llm_cli("-m", "lmstudio", "--async", "--no-stream", PROMPT, "-o", "max_tokens", "12")
    ).strip()
    assert len(logged()) == 2


def test_a_forced_tool_call(server: ServerUnderTest) -> None:
    """The stand-in (llama.cpp) forces a tool only with the object form of tool_choice,
    LM Studio only with "required": either is passed through ``-o extra``."""

    def get_weather(city: str) -> str:
        """Current weather in a city."""
        return f"Sunny in {city}"

    choice: Any = (
        "required"
        if server.is_lmstudio
        else {"type": "function", "function": {"name": "get_weather"}}
    )
    model = llm.get_model("lmstudio")
    response = model.prompt(
        "What is the weather in Paris?",
        tools=[get_weather],
        max_tokens=64,
        temperature=0,
        extra={"tool_choice": choice},
    )
    [call] = response.tool_calls()
    assert call.name == "get_weather"
    assert call.tool_call_id
    assert isinstance(call.arguments, dict)


def test_a_schema(lmstudio_only: None, llm_cli: Invoke) -> None:
    text = ok(llm_cli("-m", "lmstudio", "--schema", "name, age int", "Invent a person."))
    value = json.loads(text)
    assert isinstance(value["name"], str)
    assert isinstance(value["age"], int)


def test_an_image(lmstudio_only: None, llm_cli: Invoke, tmp_path: Path) -> None:
    listed = json.loads(ok(llm_cli("lmstudio", "models", "--json")))
    vision = [m["id"] for m in listed if "vision" in m["capabilities"]]
    if not vision:
        pytest.skip("needs a vision model in LM Studio (`lms get qwen2.5-vl-7b`)")
    image = tmp_path / "red.png"
    image.write_bytes(
        base64.b64decode(
            "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg=="
        )
    )
    assert ok(llm_cli("-m", f"lmstudio/{vision[0]}", "Which colour is this?", "-a", str(image)))


def test_embed_and_embed_multi(llm_cli: Invoke, embedding_model: str, tmp_path: Path) -> None:
    vector = json.loads(ok(llm_cli("embed", "-m", f"lmstudio/{embedding_model}", "-c", "Hello")))
    assert len(vector) > 8
    texts = ["The cat sat on the mat.", "Quarterly revenue grew by 4%.", "A kitten on a rug."]
    source = tmp_path / "texts.json"
    source.write_text(json.dumps([{"id": str(i), "text": t} for i, t in enumerate(texts)]))
    database = tmp_path / "embeddings.db"
    ok(llm_cli("embed-multi", "texts", str(source), "-m", f"lmstudio/{embedding_model}",
               "-d", str(database), "--batch-size", "2"))  # fmt: skip
    similar = ok(llm_cli("similar", "texts", "0", "-d", str(database), "-n", "1"))
    assert json.loads(similar)["id"] == "2"  # the kitten, not the revenue


def test_lmstudio_commands(server: ServerUnderTest, llm_cli: Invoke) -> None:
    health = ok(llm_cli("lmstudio", "health"))
    assert "Status:   ok" in health
    assert server.chat_model in health
    assert server.chat_model in ok(llm_cli("lmstudio", "models"))
    assert server.base_url in ok(llm_cli("lmstudio", "config"))
