"""The chat models: prompts, conversations, reasoning, keys, sync and async.

Through llm's own command line (click's ``CliRunner``), LM Studio mocked by respx: the
``lmstudio`` fixture (``tests/llm_fixtures.py``) lists ``qwen/qwen3-4b`` (loaded, trained
for tool use), ``google/gemma-3-4b`` (vision) and an embedding model, as LM Studio 0.4
does; each test adds the answers it needs.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import respx

from llm_fixtures import (
    GEMMA,
    QWEN,
    Invoke,
    answered,
    chat,
    logged,
    sent,
    streamed,
)

pytestmark = pytest.mark.usefixtures("llm_user_dir")


# -- Prompts ----------------------------------------------------------------------------


def test_the_default_model_streams_with_one_listing_and_one_chat(
    llm_cli: Invoke, lmstudio: respx.MockRouter
) -> None:
    route = chat(lmstudio, streamed("Hello", ", world", "!"))
    result = llm_cli("-m", "lmstudio", "Say hello")
    assert result.exit_code == 0, result.output
    assert result.stdout == "Hello, world!\n"
    body = sent(route)
    assert body["model"] == QWEN  # the loaded model, resolved when the prompt ran
    assert body["stream"] is True
    assert body["messages"] == [{"role": "user", "content": "Say hello"}]
    assert len(lmstudio.calls) == 2  # one model list (shared with the transport), one chat
    [row] = logged()
    assert row["model"] == "lmstudio/default"
    assert row["resolved_model"] == QWEN
    assert row["response"] == "Hello, world!"
    assert (row["input_tokens"], row["output_tokens"]) == (12, 5)


def test_no_stream_system_prompt_and_options(llm_cli: Invoke, lmstudio: respx.MockRouter) -> None:
    route = chat(lmstudio, answered("Paris."))
    result = llm_cli(
        "-m", f"lmstudio/{QWEN}", "--no-stream", "-s", "Be brief.", "Capital of France?",
        "-o", "temperature", "0.2", "-o", "top_k", "40", "-o", "min_p", "0.05",
        "-o", "stop", '["END", "STOP"]', "-o", "logit_bias", '{"1": -100}',
        "-o", "repeat_penalty", "1.1", "-o", "seed", "3", "-o", "max_tokens", "50",
        "-o", "ttl", "600", "-o", "cache_prompt", "true", "-o", "reasoning_effort", "low",
        "-o", "extra", '{"top_n_sigma": 1}',
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert result.stdout == "Paris.\n"
    body = sent(route)
    assert "stream" not in body
    assert body["messages"] == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Capital of France?"},
    ]
    assert {key: body[key] for key in body if key not in ("model", "messages")} == {
        "temperature": 0.2,
        "top_k": 40,
        "min_p": 0.05,
        "stop": ["END", "STOP"],
        "logit_bias": {"1": -100.0},
        "repeat_penalty": 1.1,
        "seed": 3,
        "max_tokens": 50,
        "ttl": 600,
        "cache_prompt": True,
        "reasoning_effort": "low",
        "top_n_sigma": 1,
    }


def test_a_unique_part_of_an_id_names_that_model(
    llm_cli: Invoke, lmstudio: respx.MockRouter
) -> None:
    route = chat(lmstudio, streamed("Hi", model=GEMMA))
    result = llm_cli("-m", "lmstudio/gemma", "hi")
    assert result.exit_code == 0, result.output
    assert sent(route)["model"] == GEMMA
    assert logged()[0]["model"] == f"lmstudio/{GEMMA}"  # logged under its full id


def test_a_name_matching_several_models_lists_them(
    llm_cli: Invoke, lmstudio: respx.MockRouter
) -> None:
    route = chat(lmstudio)
    result = llm_cli("-m", "lmstudio/4b", "hi")
    assert result.exit_code == 1
    assert f"Error: Model name '4b' matches 2 models: {QWEN}, {GEMMA}." in result.output
    assert "Hint: Use more of the id, or the full id." in result.output
    assert route.call_count == 0


def test_an_unknown_name_gets_lm_studios_list_not_unknown_model(
    llm_cli: Invoke, lmstudio: respx.MockRouter
) -> None:
    result = llm_cli("-m", "lmstudio/mistral-7b", "hi")
    assert result.exit_code == 1
    assert "Unknown model" not in result.output
    assert f"LM Studio has no model 'mistral-7b'. Available: {QWEN}, {GEMMA}." in result.output
    assert "lms get" in result.output


def test_a_conversation_sends_the_history(llm_cli: Invoke, lmstudio: respx.MockRouter) -> None:
    route = chat(lmstudio, streamed("Hi there."), answered("You said hi."))
    assert llm_cli("-m", "lmstudio", "-s", "Be kind.", "hi").exit_code == 0
    result = llm_cli("-c", "--no-stream", "What did I say?")
    assert result.exit_code == 0, result.output
    assert sent(route)["messages"] == [
        {"role": "system", "content": "Be kind."},
        {"role": "user", "content": "hi"},
        {"role": "assistant", "content": "Hi there."},
        {"role": "user", "content": "What did I say?"},
    ]
    rows = logged()
    assert rows[0]["conversation_id"] == rows[1]["conversation_id"]


def test_fragments_join_the_prompt(
    llm_cli: Invoke, lmstudio: respx.MockRouter, tmp_path: Path
) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("The meeting is at noon.")
    route = chat(lmstudio, answered("Noon."))
    result = llm_cli("-m", "lmstudio", "--no-stream", "-f", str(notes), "When is it?")
    assert result.exit_code == 0, result.output
    assert sent(route)["messages"] == [
        {"role": "user", "content": "The meeting is at noon.\nWhen is it?"}
    ]


def test_usage_the_answering_model_and_lm_studios_stats_are_logged(
    llm_cli: Invoke, lmstudio: respx.MockRouter
) -> None:
    stats = {"tokens_per_second": 42.5, "time_to_first_token": 0.1, "stop_reason": "eosFound"}
    chat(lmstudio, answered("Four.", usage=(20, 2), stats=stats))
    assert llm_cli("-m", "lmstudio", "--no-stream", "2+2?", "-u").exit_code == 0
    [row] = logged()
    assert (row["input_tokens"], row["output_tokens"]) == (20, 2)
    assert row["resolved_model"] == QWEN
    response_json = row["response_json"]
    assert response_json["stats"] == stats
    assert response_json["usage"]["total_tokens"] == 22
    assert response_json["metrics"]["tokens_per_second"] == 42.5  # LM Studio's own figure
    assert response_json["finish_reason"] == "stop"
    assert response_json["id"] == "chatcmpl-test"


def test_reasoning_is_shown_as_llm_shows_it_and_hidden_with_r(
    llm_cli: Invoke, lmstudio: respx.MockRouter
) -> None:
    chat(
        lmstudio,
        streamed("42", reasoning=["Let me ", "think."]),
        streamed("42", reasoning=["Let me ", "think."]),
    )
    shown = llm_cli("-m", "lmstudio", "Answer?")
    assert shown.exit_code == 0, shown.output
    assert shown.stdout == "42\n"
    assert "Let me think." in shown.stderr
    hidden = llm_cli("-m", "lmstudio", "-R", "Answer?")
    assert hidden.stdout == "42\n"
    assert "Let me think." not in hidden.stderr
    assert "Let me think." not in json.dumps(logged()[0]["response"])


def test_inline_think_tags_become_reasoning(llm_cli: Invoke, lmstudio: respx.MockRouter) -> None:
    chat(lmstudio, streamed("<think>Hm", "m.</think>", "\n\nYes."))
    result = llm_cli("-m", "lmstudio", "Sure?")
    assert result.stdout == "Yes.\n"
    assert "Hmm." in result.stderr


# -- Keys ---------------------------------------------------------------------------------


def test_the_api_key_from_llm_keys_or_the_key_option(
    llm_cli: Invoke, lmstudio: respx.MockRouter
) -> None:
    route = chat(lmstudio, answered("ok"), answered("ok"))
    assert llm_cli("keys", "set", "lmstudio", "--value", "sk-lm-stored:key").exit_code == 0
    assert llm_cli("-m", "lmstudio", "--no-stream", "hi").exit_code == 0
    assert lmstudio.calls[-2].request.headers["Authorization"] == "Bearer sk-lm-stored:key"
    assert route.calls[0].request.headers["Authorization"] == "Bearer sk-lm-stored:key"
    assert llm_cli("-m", "lmstudio", "--no-stream", "--key", "sk-lm-other", "hi").exit_code == 0
    assert route.calls[1].request.headers["Authorization"] == "Bearer sk-lm-other"


def test_no_key_is_fine(llm_cli: Invoke, lmstudio: respx.MockRouter) -> None:
    route = chat(lmstudio, answered("ok"))
    assert llm_cli("-m", "lmstudio", "--no-stream", "hi").exit_code == 0
    assert "Authorization" not in route.calls[0].request.headers


# -- Async ---------------------------------------------------------------------------------


def test_async_streams_and_waits(llm_cli: Invoke, lmstudio: respx.MockRouter) -> None:
    route = chat(lmstudio, streamed("as", "ync"), answered("whole"))
    streaming = llm_cli("-m", "lmstudio", "--async", "hi")
    assert streaming.exit_code == 0, streaming.output
    assert streaming.stdout == "async\n"
    waiting = llm_cli("-m", "lmstudio", "--async", "--no-stream", "hi")
    assert waiting.stdout == "whole\n"
    assert sent(route, 0)["stream"] is True
    assert "stream" not in sent(route, 1)
    rows = logged()
    assert [row["resolved_model"] for row in rows] == [QWEN, QWEN]
    assert rows[0]["output_tokens"] == 5
