"""The front ends' keyword rules (``_keywords``): per-call options, unknown and
credential-looking keywords, and pydantic's findings as a ``ConfigError``."""

from __future__ import annotations

import warnings
from typing import Any

import pytest
from pydantic import BaseModel, Field, ValidationError, field_validator

from lmstudio_provider.transport import (
    ConfigError,
    InvalidParameterError,
    collect_unknown_keywords,
    config_error_from_validation,
    field_keywords,
    refuse_credential_keywords,
    split_call_options,
)

SECRET = "sk-PLANTED-7f3a9c"


def split(defaults: dict[str, Any], **call: Any) -> dict[str, Any]:
    return dict(split_call_options(defaults, call, owner="Chat", also=("model",)))


def test_set_call_values_override_the_defaults_and_unset_ones_do_not() -> None:
    options = split({"temperature": 0.5, "top_k": 40}, temperature=0.1, top_k=None, seed=7)
    assert options == {"temperature": 0.1, "top_k": 40, "seed": 7}


def test_request_fields_pass_and_extra_bodies_merge_in_order() -> None:
    with pytest.warns(UserWarning, match="num_ctx is not a Chat parameter"):
        options = split(
            {"extra_body": {"a": 1, "b": 1}},
            num_ctx=8,  # an unknown keyword wins over extra_body, wherever it stands
            extra_body={"b": 2, "num_ctx": 4},
            tool_choice="required",
        )
    assert options == {"tool_choice": "required", "extra_body": {"a": 1, "b": 2, "num_ctx": 8}}


def test_no_extras_send_no_extra_body() -> None:
    assert split({"extra_body": {}}, extra_body=None) == {}


def test_an_unknown_keyword_warns_at_the_callers_line_with_the_known_ones() -> None:
    with pytest.warns(UserWarning, match="temprature") as caught:
        split({}, temprature=0.1)
    message = str(caught[0].message)
    assert message.startswith("temprature is not a Chat parameter (did you mean temperature?)")
    assert "Per-call parameters: cache_prompt, draft_model, extra_body," in message
    assert ", model, presence_penalty," in message  # ``also`` is listed
    assert "extra_body={'temprature': ...}" in message
    assert caught[0].filename == __file__


@pytest.mark.parametrize("call", [{"apikey": SECRET}, {"colour": SECRET}, {"hf_token": "x"}])
def test_a_credential_looking_keyword_is_refused_without_its_value(call: dict[str, Any]) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(ConfigError) as caught:
            split_call_options({}, call, owner="Chat")
    (name,) = call
    assert caught.value.message.startswith(f"{name} is not a Chat parameter")
    assert "looks like a credential" in caught.value.message
    assert caught.value.hint is not None
    assert "api_key=... when constructing Chat" in caught.value.hint
    assert "extra_body" in caught.value.hint
    assert SECRET not in str(caught.value)


def test_known_keywords_are_never_refused_and_the_hint_fits_the_owner() -> None:
    refuse_credential_keywords({"api_key": SECRET}, {"api_key"}, owner="Embed")
    with pytest.raises(
        ConfigError, match=r"api_kye is not a Embed parameter \(did you mean api_key"
    ) as caught:
        refuse_credential_keywords({"api_kye": SECRET}, {"api_key"}, owner="Embed")
    assert caught.value.hint is not None
    assert "extra_body" not in caught.value.hint  # Embed takes none


class Model(BaseModel):
    temperature: float | None = Field(None, le=2)
    api_key: str | None = None
    extras: dict[str, Any] = Field(default_factory=dict, alias="extra_fields")

    @field_validator("temperature")
    @classmethod
    def _no_one(cls, value: float | None) -> float | None:
        if value == 1:
            raise InvalidParameterError("one is refused", hint="use another")
        return value


def test_field_keywords_are_names_and_aliases() -> None:
    assert field_keywords(Model) == {"temperature", "api_key", "extras", "extra_fields"}


def test_unknown_constructor_keywords_move_into_the_extras_with_a_warning() -> None:
    given = {"temperature": 1.5, "temprature": 0.1, "extras": {"a": 1}}
    with pytest.warns(UserWarning, match="temprature") as caught:
        values = collect_unknown_keywords(given, field_keywords(Model), owner="M", into="extras")
    assert values == {"temperature": 1.5, "extras": {"a": 1, "temprature": 0.1}}
    assert given["temprature"] == 0.1  # the caller's dict is kept
    assert str(caught[0].message) == (
        "temprature is not a M field (did you mean temperature?): it is sent in the request "
        "body (extras). Pass it in extras to silence this warning."
    )
    assert caught[0].filename == __file__
    assert collect_unknown_keywords({"api_key": "x"}, {"api_key"}, owner="M") == {"api_key": "x"}


def validation_error(**values: Any) -> ValidationError:
    with pytest.raises(ValidationError) as caught:
        Model(**values)
    return caught.value


def test_pydantic_findings_become_one_config_error_without_secrets() -> None:
    error = config_error_from_validation(
        validation_error(temperature=3, api_key=123, extra_fields=SECRET), owner="M"
    )
    assert isinstance(error, ConfigError)
    assert error.message.startswith("Invalid M arguments: temperature=3: Input should be less")
    assert "api_key: Input should be a valid string" in error.message  # a secret's name: no value
    assert "extra_fields: Input should be a valid dictionary" in error.message  # a token's value
    assert SECRET not in error.message
    assert error.hint == "Fix the arguments named above; see help(M) for each field."


def test_an_error_a_validator_raised_is_returned_as_it_is() -> None:
    error = config_error_from_validation(validation_error(temperature=1), owner="M")
    assert isinstance(error, InvalidParameterError)
    assert error.hint == "use another"
