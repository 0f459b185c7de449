"""The plugin's ``-o`` options: derived from ``ChatParams``, validated through it."""

from __future__ import annotations

from typing import Any

import pytest
import respx
from pydantic import ValidationError

from llm_fixtures import Invoke
from lmstudio_provider.llm_plugin._options import LMStudioOptions, request_options
from lmstudio_provider.transport import allowed_range
from lmstudio_provider.transport._params import ChatParams

pytestmark = pytest.mark.usefixtures("llm_user_dir")

# The options issue 5 asks for, in its words.
ISSUE_TEXT = (
    "max_tokens, temperature, top_p, frequency_penalty, presence_penalty, stop, seed, top_k, "
    "min_p, repeat_penalty, ttl, draft_model, logit_bias, mirostat_mode, mirostat_tau, "
    "mirostat_eta, cache_prompt, reasoning_effort, extra"
)
ISSUE_OPTIONS = [name.strip() for name in ISSUE_TEXT.split(",")]


def problems(**values: Any) -> list[tuple[tuple[str | int, ...], str]]:
    with pytest.raises(ValidationError) as caught:
        LMStudioOptions(**values)
    return [(error["loc"], error["msg"]) for error in caught.value.errors()]


def test_every_option_has_a_description_from_chat_params() -> None:
    schema = LMStudioOptions.model_json_schema()["properties"]
    assert list(schema) == ISSUE_OPTIONS
    for name, field in ChatParams.model_fields.items():
        assert schema[name]["description"] == field.description
    assert all(schema[name].get("description") for name in ISSUE_OPTIONS)
    # The bounds written in ChatParams reach the JSON schema llm shows.
    temperature = schema["temperature"]["anyOf"][0]
    assert (temperature["minimum"], temperature["maximum"]) == (0, 2)


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ({"stop": "END"}, {"stop": "END"}),
        ({"stop": '["a", "b"]'}, {"stop": ["a", "b"]}),
        ({"stop": "[END]"}, {"stop": "[END]"}),  # not JSON: a stop sequence that starts with [
        ({"logit_bias": '{"1": -100}'}, {"logit_bias": {"1": -100.0}}),
        (
            {"temperature": "0.5", "top_k": "40", "seed": "7"},
            {"temperature": 0.5, "top_k": 40, "seed": 7},
        ),
        ({"cache_prompt": "false"}, {"cache_prompt": False}),
        ({"reasoning_effort": "low", "ttl": "300"}, {"reasoning_effort": "low", "ttl": 300}),
        ({"draft_model": "qwen3-0.6b"}, {"draft_model": "qwen3-0.6b"}),
        (
            {"mirostat_mode": "2", "mirostat_tau": "5", "mirostat_eta": "0.1"},
            {"mirostat_mode": 2, "mirostat_tau": 5.0, "mirostat_eta": 0.1},
        ),
        ({"extra": '{"top_n_sigma": 1}'}, {"extra_body": {"top_n_sigma": 1}}),
        (
            {"max_tokens": "-1", "min_p": "0.05", "repeat_penalty": "1.1"},
            {"max_tokens": -1, "min_p": 0.05, "repeat_penalty": 1.1},
        ),
    ],
)
def test_command_line_text_becomes_request_values(
    given: dict[str, str], expected: dict[str, Any]
) -> None:
    """``-o`` gives strings: numbers, booleans, JSON lists and objects are read from them."""
    assert request_options(LMStudioOptions(**given)) == expected


@pytest.mark.parametrize(
    ("given", "message"),
    [
        (
            {"temperature": "5"},
            "Input should be less than or equal to 2 (allowed: 0 to 2; got '5')",
        ),
        ({"top_p": "-0.1"}, "(allowed: 0 to 1; got '-0.1')"),
        ({"max_tokens": "-2"}, "(allowed: at least -1; got '-2')"),
        ({"mirostat_mode": "3"}, "(allowed: 0 to 2; got '3')"),
        ({"presence_penalty": "hot"}, "valid number"),
        ({"stop": ""}, "a stop sequence must not be empty"),
        ({"logit_bias": '{"1": 500}'}, "logit_bias values must be -100 to 100, got 500"),
        ({"logit_bias": '{"a": 1}'}, "logit_bias keys are token ids (integers), got 'a'"),
        ({"logit_bias": "{oops"}, "not valid JSON: {oops"),
        ({"extra": "[1, 2]"}, "must be a JSON object, got [1, 2]"),
        (
            {"reasoning_effort": "max"},
            "Input should be 'none', 'minimal', 'low', 'medium' or 'high'",
        ),
    ],
)
def test_bad_values_are_refused_saying_what_is_allowed(given: dict[str, str], message: str) -> None:
    [(loc, msg)] = problems(**given)
    assert loc == (next(iter(given)),)
    assert message in msg


def test_a_value_that_looks_like_a_token_is_not_shown() -> None:
    [(loc, message)] = problems(temperature="sk-lm-PLANTED7f3a9c")
    assert loc == ("temperature",)
    assert "PLANTED" not in message
    assert message.endswith("(allowed: 0 to 2; got a value that looks like a token)")


def test_extra_that_is_a_token_is_not_shown() -> None:
    [(loc, message)] = problems(extra="sk-lm-PLANTED7f3a9c")
    assert loc == ("extra",)
    assert message == "must be a JSON object, got a value that looks like a token"


def test_unknown_options_are_refused() -> None:
    [(loc, message)] = problems(tempreature=0.5)  # the guess: test_llm_option_input.py
    assert loc == ("tempreature",)
    assert message.startswith("no such option; did you mean temperature?")


def test_allowed_range_words() -> None:
    fields = ChatParams.model_fields
    assert allowed_range(fields["temperature"]) == "0 to 2"
    assert allowed_range(fields["ttl"]) == "at least 1"
    assert allowed_range(fields["seed"]) is None


def test_cli_rejects_an_out_of_range_option_before_sending(
    llm_cli: Invoke, lmstudio: respx.MockRouter
) -> None:
    """Only the model list is mocked: the option fails before any chat is sent."""
    result = llm_cli("-m", "lmstudio", "hi", "-o", "temperature", "3")
    assert result.exit_code == 1
    assert (
        "temperature\n  Input should be less than or equal to 2 (allowed: 0 to 2" in result.output
    )
    assert "Traceback" not in result.output


def test_models_options_lists_every_option_with_its_description(
    llm_cli: Invoke, lmstudio: respx.MockRouter
) -> None:
    result = llm_cli("models", "--options", "-m", "lmstudio")
    assert result.exit_code == 0, result.output
    for name in ISSUE_OPTIONS:
        assert f"\n    {name}: " in result.output
    assert "Sampling temperature, 0 to 2 (0: deterministic)." in result.output
    assert "Keys:\n    key: lmstudio\n    env_var: LMSTUDIO_API_KEY" in result.output
