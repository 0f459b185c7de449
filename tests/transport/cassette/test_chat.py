"""Non-streamed chat, replayed from recorded LM Studio answers.

Cassettes (``cassettes/test_chat/``, built by ``build_cassettes.py``):

* ``chat_simple_prompt``: ``cs3b__ace__spec_cassettes_llm_lmstudio_query_integration_
  queries_lm_studio_with_simple_prompt.yml__79d1a045.yml`` (LM Studio 0.3.16, full headers);
* ``chat_system_instruction``: ``cs3b__ace__..._uses_system_instruction.yml__f40a2f3c.yml``
  (its answer was recorded as ``!binary``: UTF-8 with an emoji);
* ``chat_max_tokens``: ``cs3b__ace__..._respects_max_tokens.yml__e258c20f.yml``;
* ``chat_loaded_model``: ``j-shelfwood__prj-php-lmstudio__tests_mocks_v0_models_list.json__
  af1d513f.json`` then ``..._v1_chat_standard-response.json__e4dd3d9d.json``;
* ``chat_tool_call``: the same model list, then ``..._v1_chat_tool-response.json__7bbe8254.json``.

The request bodies in the cassettes are compared (parsed JSON) with what the transport
sends, so these tests also pin the resolved model id and the parameters sent.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import vcr

from lmstudio_provider import AsyncLMStudioClient, ChatResponse, LMStudioClient, Metrics, ToolCall
from lmstudio_provider.transport._error_mapping import RequestContext
from lmstudio_provider.transport._parsing import parse_chat_response
from lmstudio_provider.transport._results import Usage

BASE_URL = "http://localhost:1234"
ROOT = Path(__file__).resolve().parents[3]
CAPTURES = ROOT.parent / "shared" / "lmstudio-captures"
replay = vcr.VCR(
    cassette_library_dir=str(ROOT / "cassettes" / "test_chat"),
    record_mode="none",
    match_on=["method", "uri", "body"],
    filter_headers=["authorization"],
)

SIMPLE_PROMPT = [{"role": "user", "content": "What is 2+2? Reply with just the number."}]
WEATHER = [{"role": "user", "content": "What is the weather in London?"}]
WEATHER_TOOL: dict[str, Any] = {
    "type": "function",
    "function": {
        "name": "get_current_weather",
        "description": "Get the current weather",
        "parameters": {
            "type": "object",
            "properties": {
                "location": {"type": "string", "description": "The location to get weather for"}
            },
            "required": ["location"],
        },
    },
}
DEVSTRAL = "mistralai/devstral-small-2505"


def read_capture(name: str) -> str:
    """A capture's text without its ``# SOURCE`` line."""
    first, _, rest = (CAPTURES / name).read_text(encoding="utf-8").partition("\n")
    assert first.startswith("# SOURCE")
    return rest


def check_simple_prompt(result: ChatResponse) -> None:
    """The answer of capture 79d1a045, shared by the sync and async tests."""
    assert result.text == "4"
    assert result.reasoning == ""
    assert result.finish_reason == "stop"
    assert result.usage == Usage(prompt_tokens=1238, completion_tokens=1, total_tokens=1239)
    assert result.stats == {}  # /v1 sends an empty stats object
    assert result.model == DEVSTRAL
    assert result.system_fingerprint == DEVSTRAL
    assert result.id == "chatcmpl-j1mdqstbj3g5p7yraecs6x"
    assert result.tool_calls == []
    assert result.metrics.retries == 0


def test_chat_simple_prompt_resolves_a_substring() -> None:
    """Capture 79d1a045: 'devstral' is sent as the full id, the answer is '4'."""
    with replay.use_cassette("chat_simple_prompt.yaml", record_mode="none") as cassette:
        with LMStudioClient(base_url=BASE_URL, max_retries=0) as lm:
            result = lm.chat(SIMPLE_PROMPT, model="devstral", temperature=0.7, max_tokens=-1)
        assert cassette.all_played
    check_simple_prompt(result)


async def test_chat_simple_prompt_async_with_api_key() -> None:
    """Capture 79d1a045 through AsyncLMStudioClient, with a token (filtered by vcrpy)."""
    seen: list[Any] = []  # requests as vcrpy matches (and would record) them

    def spy(request: Any) -> Any:
        seen.append(request)
        return request

    with replay.use_cassette(
        "chat_simple_prompt.yaml", record_mode="none", before_record_request=spy
    ) as cassette:
        async with AsyncLMStudioClient(
            base_url=BASE_URL, api_key="sk-lm-test:not-a-real-token", max_retries=0
        ) as lm:
            result = await lm.chat(SIMPLE_PROMPT, model=DEVSTRAL, temperature=0.7, max_tokens=-1)
        assert cassette.all_played
    live = [r for r in seen if r.headers.get("User-Agent", "").startswith("lmstudio-provider/")]
    # vcrpy filters each request more than once (to match, then to play it back).
    assert list(dict.fromkeys(r.uri.removeprefix(BASE_URL) for r in live)) == [
        "/api/v1/models",
        "/api/v0/models",
        "/v1/models",
        "/v1/chat/completions",
    ]
    for request in live:
        assert {name.lower() for name in request.headers}.isdisjoint({"authorization"})
        assert b"sk-lm-test" not in (request.body or b"")
    check_simple_prompt(result)
    assert result.metrics.tokens_per_second is not None  # from usage over wall time


def test_chat_utf8_answer_recorded_as_binary() -> None:
    """Capture f40a2f3c: a system message; the answer ends with an emoji (U+1F60A)."""
    messages = [
        {
            "role": "system",
            "content": "You are a helpful assistant. Always respond with enthusiasm.",
        },
        {"role": "user", "content": "Hello"},
    ]
    with replay.use_cassette("chat_system_instruction.yaml", record_mode="none") as cassette:
        with LMStudioClient(base_url=BASE_URL, max_retries=0) as lm:
            result = lm.chat(messages, model=DEVSTRAL, temperature=0.7, max_tokens=-1)
        assert cassette.all_played
    assert result.text == (
        "Hello! It's great to have you here. How can I assist you today? "
        "Let's make this conversation awesome! \U0001f60a"
    )
    assert result.usage == Usage(prompt_tokens=17, completion_tokens=27, total_tokens=44)
    assert result.id == "chatcmpl-tp316r2ts7kwf1vthwzpgc"
    assert result.finish_reason == "stop"


def test_chat_max_tokens_finishes_with_length() -> None:
    """Capture e258c20f: max_tokens 50 (sent as a number) ends with finish_reason length."""
    prompt = [{"role": "user", "content": "Write a very long story about a dragon"}]
    with replay.use_cassette("chat_max_tokens.yaml", record_mode="none") as cassette:
        with LMStudioClient(base_url=BASE_URL, max_retries=0) as lm:
            result = lm.chat(prompt, model=DEVSTRAL, temperature=0.7, max_tokens=50)
        assert cassette.all_played
    assert result.finish_reason == "length"
    assert result.text == (
        "Once upon a time, in a land of towering mountains and lush valleys, there lived a "
        "dragon named Draconis. Unlike the mythical beasts of legend that breathed fire and "
        "devastation, Draconis was a creature of wisdom and"
    )
    assert result.usage == Usage(prompt_tokens=1233, completion_tokens=49, total_tokens=1282)


LOADED_MODEL_ANSWER = (
    "I'm sorry for any inconvenience, but as an AI, I don't have real-time capabilities to "
    "provide current weather updates or live data. For accurate and up-to-date information "
    "on the weather in London, please refer to a reliable weather forecasting service or "
    "website. They can give you the most recent details about temperature, precipitation, "
    "wind conditions, etc."
)


def test_chat_without_a_model_uses_the_loaded_one() -> None:
    """Captures af1d513f + e4dd3d9d: no model named, qwen2.5-7b-instruct-1m is loaded."""
    with replay.use_cassette("chat_loaded_model.yaml", record_mode="none") as cassette:
        with LMStudioClient(base_url=BASE_URL, max_retries=0) as lm:
            result = lm.chat(WEATHER, temperature=0.7)
        assert cassette.all_played
    assert result.text == LOADED_MODEL_ANSWER
    assert result.model == "qwen2.5-7b-instruct-1m"
    assert result.system_fingerprint == "qwen2.5-7b-instruct-1m"
    assert result.id == "chatcmpl-l2h08ceu3pl6medaupa8j"
    assert result.usage == Usage(prompt_tokens=49, completion_tokens=77, total_tokens=126)
    assert result.finish_reason == "stop"
    assert result.stats == {}


async def test_chat_loaded_model_async_local_model_alias() -> None:
    """Captures af1d513f + e4dd3d9d: 'local-model' means the loaded model too."""
    with replay.use_cassette("chat_loaded_model.yaml", record_mode="none") as cassette:
        async with AsyncLMStudioClient(base_url=BASE_URL, max_retries=0) as lm:
            result = await lm.chat(WEATHER, model="local-model", temperature=0.7)
        assert cassette.all_played
    assert result.text == LOADED_MODEL_ANSWER
    assert result.usage == Usage(prompt_tokens=49, completion_tokens=77, total_tokens=126)


@pytest.mark.parametrize("use_async", [False, True])
async def test_chat_tool_call(use_async: bool) -> None:
    """Captures af1d513f + 7bbe8254: a tool call with the numeric-string id 864811135."""
    with replay.use_cassette("chat_tool_call.yaml", record_mode="none") as cassette:
        if use_async:
            async with AsyncLMStudioClient(base_url=BASE_URL, max_retries=0) as alm:
                result = await alm.chat(
                    WEATHER,
                    model="qwen2.5-7b-instruct-1m",
                    tools=[WEATHER_TOOL],
                    tool_choice="auto",
                    temperature=0.7,
                )
        else:
            with LMStudioClient(base_url=BASE_URL, max_retries=0) as lm:
                result = lm.chat(
                    WEATHER,
                    model="qwen2.5-7b-instruct-1m",
                    tools=[WEATHER_TOOL],
                    tool_choice="auto",
                    temperature=0.7,
                )
        assert cassette.all_played
    assert result.tool_calls == [
        ToolCall(id="864811135", name="get_current_weather", arguments='{"location":"London"}')
    ]
    assert result.tool_calls[0].parsed_arguments() == {"location": "London"}
    assert result.finish_reason == "tool_calls"
    assert result.text == ""
    assert result.usage == Usage(prompt_tokens=502, completion_tokens=34, total_tokens=536)
    assert result.id == "chatcmpl-mfyr96tm8s7j7vr358yb"


# /api/v0/chat/completions answers carry "stats". The transport only talks to /v1, whose
# "stats" is empty, but the parser must keep whatever a server sends: these feed the
# captured /api/v0 bodies straight to it (no HTTP, so no cassette).
V0_CONTEXT = RequestContext(BASE_URL, "POST", "/v1/chat/completions", "qwen2.5-7b-instruct")


def test_v0_chat_body_keeps_stats() -> None:
    """Capture j-shelfwood__prj-php-lmstudio__tests_mocks_chat_standard-response.json__557ea1d4."""
    body = json.loads(
        read_capture(
            "j-shelfwood__prj-php-lmstudio__tests_mocks_chat_standard-response.json__557ea1d4.json"
        )
    )
    result = parse_chat_response(body, "qwen2.5-7b-instruct", V0_CONTEXT, Metrics())
    assert result.text == "The capital of France is Paris."
    assert result.stats == {
        "tokens_per_second": 37.359609592079764,
        "time_to_first_token": 0.354,
        "generation_time": 0.214,
        "stop_reason": "stop",
    }
    assert result.metrics.tokens_per_second == 37.359609592079764  # LM Studio's own figure
    assert result.usage == Usage(prompt_tokens=36, completion_tokens=7, total_tokens=43)
    assert result.system_fingerprint is None  # /api/v0 sends none


def test_v0_tool_call_body_with_stop_reason_stop() -> None:
    """Capture ..._chat_tool-error-invalid-name.json__7537c7d1: finish tool_calls, stats stop."""
    body = json.loads(
        read_capture(
            "j-shelfwood__prj-php-lmstudio__tests_mocks_chat_tool-error-invalid-name.json__7537c7d1.json"
        )
    )
    result = parse_chat_response(body, "qwen2.5-7b-instruct", V0_CONTEXT, Metrics())
    assert result.finish_reason == "tool_calls"
    assert result.stats["stop_reason"] == "stop"
    assert result.tool_calls == [
        ToolCall(
            id="380362260",
            name="get_current_weather",
            arguments='{"location":"London","unit":"celsius"}',
        )
    ]
    assert result.metrics.tokens_per_second == 33.54591057379082
