"""Request parameters: ranges, stop sequences, logit_bias and unknown names."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from lmstudio_provider.transport._errors import BadRequestError, InvalidParameterError
from lmstudio_provider.transport._params import (
    EXTENSION_PARAMETERS,
    STANDARD_PARAMETERS,
    ChatParams,
    describe_validation_error,
    validate_params,
)

KNOWN_PARAMETERS = (
    "max_tokens, temperature, top_p, frequency_penalty, presence_penalty, stop, seed, "
    "top_k, min_p, repeat_penalty, ttl, draft_model, logit_bias, mirostat_mode, "
    "mirostat_tau, mirostat_eta, cache_prompt, reasoning_effort"
)
HINT = "Fix the value and try again; nothing was sent to LM Studio."
GE = "Input should be greater than or equal to"
LE = "Input should be less than or equal to"


def rejected(values: dict[str, Any]) -> InvalidParameterError:
    with pytest.raises(InvalidParameterError) as info:
        validate_params(values)
    return info.value


# (parameter, lowest valid, highest valid or None when unbounded)
RANGES: list[tuple[str, float, float | None]] = [
    ("temperature", 0, 2),
    ("top_p", 0, 1),
    ("frequency_penalty", -2, 2),
    ("presence_penalty", -2, 2),
    ("min_p", 0, 1),
    ("mirostat_mode", 0, 2),
    ("max_tokens", -1, None),
    ("top_k", 0, None),
    ("repeat_penalty", 0, None),
    ("ttl", 1, None),
    ("mirostat_tau", 0, None),
    ("mirostat_eta", 0, None),
]
INTEGER_PARAMETERS = {"mirostat_mode", "max_tokens", "top_k", "ttl"}


@pytest.mark.parametrize(("name", "low", "high"), RANGES)
def test_range_bounds_are_accepted(name: str, low: float, high: float | None) -> None:
    for value in (low, high if high is not None else low + 1000):
        assert validate_params({name: value}).to_body() == {name: value}


@pytest.mark.parametrize(("name", "low", "high"), RANGES)
def test_below_the_range_is_rejected(name: str, low: float, high: float | None) -> None:
    below: float = low - 1 if name in INTEGER_PARAMETERS else low - 0.01
    below = round(below, 2)

    error = rejected({name: below})

    assert error.message == f"Invalid request parameter: {name}={below!r}: {GE} {low}"
    assert error.hint == HINT


@pytest.mark.parametrize(("name", "low", "high"), [r for r in RANGES if r[2] is not None])
def test_above_the_range_is_rejected(name: str, low: float, high: float) -> None:
    above: float = high + 1 if name in INTEGER_PARAMETERS else high + 0.01
    above = round(above, 2)

    error = rejected({name: above})

    assert error.message == f"Invalid request parameter: {name}={above!r}: {LE} {high}"


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("temperature", 0.7),
        ("top_p", 0.95),
        ("frequency_penalty", -1.5),
        ("presence_penalty", 1.5),
        ("min_p", 0.05),
        ("mirostat_mode", 1),
        ("max_tokens", 100),
        ("seed", -42),
        ("draft_model", "qwen3-0.6b"),
        ("cache_prompt", False),
        ("reasoning_effort", "low"),
    ],
)
def test_values_inside_the_range_pass_unchanged(name: str, value: Any) -> None:
    assert validate_params({name: value}).to_body() == {name: value}


@pytest.mark.parametrize("value", [float("nan"), float("inf")])
def test_temperature_must_be_a_real_number_in_range(value: float) -> None:
    error = rejected({"temperature": value})

    assert error.message == f"Invalid request parameter: temperature={value!r}: {LE} 2"


def test_mirostat_mode_must_be_an_integer() -> None:
    error = rejected({"mirostat_mode": 1.5})

    assert error.message == (
        "Invalid request parameter: mirostat_mode=1.5: "
        "Input should be a valid integer, got a number with a fractional part"
    )


def test_wrong_type_is_rejected() -> None:
    error = rejected({"max_tokens": "lots"})

    assert error.message == (
        "Invalid request parameter: max_tokens='lots': "
        "Input should be a valid integer, unable to parse string as an integer"
    )


def test_reasoning_effort_is_one_of_the_levels() -> None:
    for level in ("none", "minimal", "low", "medium", "high"):
        assert validate_params({"reasoning_effort": level}).reasoning_effort == level

    error = rejected({"reasoning_effort": "extreme"})

    assert error.message == (
        "Invalid request parameter: reasoning_effort='extreme': "
        "Input should be 'none', 'minimal', 'low', 'medium' or 'high'"
    )


# -- stop --------------------------------------------------------------------


@pytest.mark.parametrize("stop", ["", [], [""], ["###", ""]])
def test_empty_stop_is_rejected(stop: str | list[str]) -> None:
    error = rejected({"stop": stop})

    assert error.message == (
        f"Invalid request parameter: stop={stop!r}: Value error, a stop sequence must not be empty"
    )


@pytest.mark.parametrize("stop", ["\n\n", ["###"], ["User:", "</s>"]])
def test_stop_sequences_are_kept(stop: str | list[str]) -> None:
    assert validate_params({"stop": stop}).to_body() == {"stop": stop}


# -- logit_bias ----------------------------------------------------------------


def test_logit_bias_keys_become_strings_and_bounds_are_accepted() -> None:
    params = validate_params({"logit_bias": {50256: -100, "1234": 100, "7": 0.5}})

    assert params.to_body() == {"logit_bias": {"50256": -100.0, "1234": 100.0, "7": 0.5}}


@pytest.mark.parametrize("key", ["abc", "12a", "", "1.5", "token"])
def test_logit_bias_keys_must_be_integers(key: str) -> None:
    error = rejected({"logit_bias": {key: 1}})

    assert error.message == (
        f"Invalid request parameter: logit_bias={{{key!r}: 1}}: "
        f"Value error, logit_bias keys are token ids (integers), got {key!r}"
    )


@pytest.mark.parametrize("bias", [101, -101, 100.5, -1e9, float("inf"), float("nan")])
def test_logit_bias_values_must_be_within_100(bias: float) -> None:
    error = rejected({"logit_bias": {"42": bias}})

    assert error.message == (
        f"Invalid request parameter: logit_bias={{'42': {bias!r}}}: "
        f"Value error, logit_bias values must be -100 to 100, got {bias!r}"
    )


@pytest.mark.parametrize("bias", ["150", "-101", "nan"])
def test_logit_bias_values_given_as_text_are_range_checked_too(bias: str) -> None:
    error = rejected({"logit_bias": {"42": bias}})

    assert "logit_bias values must be -100 to 100" in error.message


def test_logit_bias_value_must_be_a_number() -> None:
    error = rejected({"logit_bias": {"42": "ban"}})

    assert error.message == (
        "Invalid request parameter: logit_bias.42='ban': "
        "Input should be a valid number, unable to parse string as a number"
    )


def test_logit_bias_must_be_a_mapping() -> None:
    error = rejected({"logit_bias": [42]})

    assert error.message == (
        "Invalid request parameter: logit_bias=[42]: Input should be a valid dictionary"
    )


# -- unknown parameters and error shape ----------------------------------------


def test_unknown_parameter_lists_the_known_ones() -> None:
    error = rejected({"temprature": 0.5})

    assert error.message == (
        f"Invalid request parameter: temprature: unknown parameter (known: {KNOWN_PARAMETERS})"
    )


def test_every_problem_is_reported_at_once() -> None:
    error = rejected({"temperature": 3, "top_p": 2, "bogus": True})

    assert error.message == (
        f"Invalid request parameter: temperature=3: {LE} 2; top_p=2: {LE} 1; "
        f"bogus: unknown parameter (known: {KNOWN_PARAMETERS})"
    )


def test_invalid_parameter_error_is_a_bad_request_and_a_value_error() -> None:
    error = rejected({"temperature": -1})

    assert isinstance(error, BadRequestError)
    assert isinstance(error, ValueError)
    assert error.status_code == 400
    assert str(error) == f"{error.message}\nHint: {HINT}"


def test_describe_validation_error_appends_the_origin() -> None:
    with pytest.raises(ValidationError) as info:
        ChatParams.model_validate({"top_p": 1.5})

    described = describe_validation_error(info.value, origin=" (from --option)")

    assert described == f"top_p=1.5 (from --option): {LE} 1"


def test_unset_parameters_are_never_sent() -> None:
    assert validate_params({}).to_body() == {}
    assert validate_params({"temperature": None, "seed": 7}).to_body() == {"seed": 7}


def test_parameter_groups_cover_every_parameter_once() -> None:
    assert STANDARD_PARAMETERS == (
        "max_tokens",
        "temperature",
        "top_p",
        "frequency_penalty",
        "presence_penalty",
        "stop",
        "seed",
    )
    assert ", ".join((*STANDARD_PARAMETERS, *EXTENSION_PARAMETERS)) == KNOWN_PARAMETERS


def test_chat_params_are_frozen() -> None:
    params = validate_params({"temperature": 0.5})

    with pytest.raises(ValidationError, match="frozen"):
        params.temperature = 1.0  # type: ignore[misc]
