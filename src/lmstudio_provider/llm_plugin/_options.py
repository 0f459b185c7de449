"""The ``-o`` options of every LM Studio model: the transport's ``ChatParamFields``.

Names, types, ranges, checks and descriptions are inherited, so the CLI refuses
exactly what the transport would, in the CLI's words. ``-o`` values arrive as text:
lists and objects may be given as JSON (``-o stop '["a","b"]'``).
"""

from __future__ import annotations

import json
import re
from typing import Any

import llm
from pydantic import (
    Field,
    ValidationError,
    ValidatorFunctionWrapHandler,
    field_validator,
    model_validator,
)
from pydantic_core import InitErrorDetails, PydanticCustomError

from lmstudio_provider.transport import (
    RESERVED_BODY_KEYS,
    ChatParamFields,
    allowed_range,
    closest_name,
    looks_like_token,
)

# What sets each request field -o extra may not set, in the CLI's words.
RESERVED_IN_CLI_WORDS = {
    "model": "-m/--model chooses the model",
    "messages": "the prompt, -s/--system and -c/--continue make the messages",
    "stream": "llm streams unless given --no-stream",
}
# Text that opens a JSON list of strings (or an empty one): meant as JSON, so it must parse.
# Anything else starting with "[" (e.g. "[INST]") is a stop sequence of its own.
JSON_LIST_OPENING = re.compile(r'\s*\[\s*["\]]')


def _problem(detail: str) -> PydanticCustomError:
    """An error llm shows under the option's name, as it shows its own."""
    return PydanticCustomError("lmstudio_option", "{detail}", {"detail": detail})


def _from_json_text(value: Any, *, keep_invalid: bool) -> Any:
    """Decode a JSON list or object written as ``-o`` text.

    With ``keep_invalid`` (``stop``), text that is not JSON is a stop sequence of its own,
    unless it opens like a JSON list of strings (``["a"``): that is a typo, refused.
    """
    if not isinstance(value, str) or not value.lstrip().startswith(("[", "{")):
        return value
    try:
        return json.loads(value)
    except ValueError as error:
        if keep_invalid and not JSON_LIST_OPENING.match(value):
            return value  # e.g. "[INST]"
        reason = str(error).split(":")[0]
        raise _problem(
            f"not valid JSON: {value} ({reason}); write a list as "
            '\'["a", "b"]\' and an object as \'{"key": 1}\''
        ) from None


class LMStudioOptions(llm.Model.Options, ChatParamFields):
    """Every sampling parameter LM Studio takes, and ``extra`` request fields."""

    extra: dict[str, Any] | None = Field(
        None,
        description="Request fields as a JSON object, sent to LM Studio verbatim, "
        'e.g. {"top_n_sigma": 1} (model, messages and stream are set by the plugin).',
    )

    @model_validator(mode="before")
    @classmethod
    def _known_options_only(cls, values: Any) -> Any:
        """A misspelt option gets the likely one and the list, located at the option."""
        unknown = [name for name in values if name not in cls.model_fields]
        if unknown:
            known = list(cls.model_fields)
            raise ValidationError.from_exception_data(
                cls.__name__,
                [
                    InitErrorDetails(
                        type=_problem(f"no such option; {_guess(str(name), known)}"),
                        loc=(name,),
                        input=values[name],
                    )
                    for name in unknown
                ],
            )
        return values

    @field_validator("*", mode="wrap")
    @classmethod
    def _from_text(cls, value: Any, handler: ValidatorFunctionWrapHandler, info: Any) -> Any:
        """JSON text decoded; a value out of range says the range and what was given."""
        if value is None or info.field_name == "extra":
            return handler(value)
        value = _from_json_text(value, keep_invalid=info.field_name == "stop")
        try:
            return handler(value)
        except ValidationError as error:
            problem = error.errors()[0]["msg"].removeprefix("Value error, ")
            bounds = allowed_range(cls.model_fields[info.field_name])
            detail = f"{problem} (allowed: {bounds}; got {_shown(value)})" if bounds else problem
            raise _problem(detail) from None

    @field_validator("extra", mode="before")
    @classmethod
    def _extra_is_object(cls, value: Any) -> Any:
        value = _from_json_text(value, keep_invalid=False)
        if value is not None and not isinstance(value, dict):
            raise _problem(f"must be a JSON object, got {_shown(value)}")
        reserved = sorted(RESERVED_BODY_KEYS.intersection(value or {}))
        if reserved:
            ways = "; ".join(RESERVED_IN_CLI_WORDS.get(key, key) for key in reserved)
            raise _problem(
                f"-o extra may not set {', '.join(reserved)}: the plugin sets "
                f"{'it' if len(reserved) == 1 else 'them'} ({ways}); nothing was sent"
            )
        return value


def _shown(value: Any) -> str:
    """A value given as an option, unless it looks like a token (never echoed)."""
    return "a value that looks like a token" if looks_like_token(value) else repr(value)


def _guess(name: str, known: list[str]) -> str:
    """``temprature`` -> "did you mean temperature? the options are: ..."."""
    close = closest_name(name, known)
    return f"{f'did you mean {close}? ' if close else ''}the options are: {', '.join(known)}"


def request_options(options: llm.Options) -> dict[str, Any]:
    """The set options as transport keywords: sampling fields, and ``extra`` as ``extra_body``."""
    values = {name: value for name, value in options if value is not None}
    extra = values.pop("extra", None)
    if extra:
        values["extra_body"] = extra
    return values
