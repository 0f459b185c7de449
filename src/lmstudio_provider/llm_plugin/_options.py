"""The ``-o`` options of every LM Studio model, derived from ``ChatParams``.

Names, types, ranges and descriptions are written once, in
``lmstudio_provider.transport._params.ChatParams``; each option is also validated through it,
so the CLI rejects exactly what the transport would. ``-o`` values arrive as text:
lists and objects may be given as JSON (``-o stop '["a","b"]'``).
"""

from __future__ import annotations

import copy
import json
import re
from typing import Any

import llm
from pydantic import (
    Field,
    ValidationError,
    ValidatorFunctionWrapHandler,
    create_model,
    field_validator,
    model_validator,
)
from pydantic_core import InitErrorDetails, PydanticCustomError

from lmstudio_provider.transport import (
    RESERVED_BODY_KEYS,
    ChatParams,
    allowed_range,
    closest_name,
)

__all__ = ["LMStudioOptions", "request_options"]

# What sets each request field -o extra may not set, in the CLI's words.
RESERVED_IN_CLI_WORDS = {
    "model": "-m/--model chooses the model",
    "messages": "the prompt, -s/--system and -c/--continue make the messages",
    "stream": "llm streams unless given --no-stream",
}
# Text that opens a JSON list of strings (or an empty one): meant as JSON, so it must parse.
# Anything else starting with "[" (e.g. "[INST]") is a stop sequence of its own.
JSON_LIST_OPENING = re.compile(r'\s*\[\s*["\]]')
EXTRA_DESCRIPTION = (
    "Request fields as a JSON object, sent to LM Studio verbatim, "
    'e.g. {"top_n_sigma": 1} (model, messages and stream are set by the plugin).'
)


def _from_json_text(value: Any, *, keep_invalid: bool) -> Any:
    """``-o`` gives text: decode a JSON list or object written there.

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
        detail = (
            f"not valid JSON: {value} ({reason}); write a list as "
            '\'["a", "b"]\' and an object as \'{"key": 1}\''
        )
        raise PydanticCustomError("json_invalid", "{detail}", {"detail": detail}) from None


def unknown_option_message(name: str, known: list[str]) -> str:
    """``temprature`` -> "no such option; did you mean temperature? Options: ..."."""
    close = closest_name(name, known)
    guess = f"did you mean {close}? " if close else ""
    return f"no such option; {guess}the options are: {', '.join(known)}"


class _ValidatedThroughChatParams(llm.Model.Options):
    """Validates each sampling option exactly as the transport will."""

    @model_validator(mode="before")
    @classmethod
    def _known_options_only(cls, values: Any) -> Any:
        if isinstance(values, dict):
            known = list(cls.model_fields)
            unknown = [name for name in values if name not in cls.model_fields]
            if unknown:  # located at the option, as llm shows other option errors
                raise ValidationError.from_exception_data(
                    cls.__name__,
                    [
                        InitErrorDetails(
                            type=PydanticCustomError(
                                "lmstudio_option",
                                "{detail}",
                                {"detail": unknown_option_message(str(name), known)},
                            ),
                            loc=(name,),
                            input=values[name],
                        )
                        for name in unknown
                    ],
                )
        return values

    @field_validator("*", mode="wrap")
    @classmethod
    def _through_chat_params(
        cls, value: Any, handler: ValidatorFunctionWrapHandler, info: Any
    ) -> Any:
        name = info.field_name
        field = ChatParams.model_fields.get(name)
        if field is None:
            return handler(value)
        if value is None:
            return None
        value = _from_json_text(value, keep_invalid=name == "stop")
        try:
            return getattr(ChatParams.model_validate({name: value}), name)
        except ValidationError as error:
            problem = error.errors()[0]["msg"].removeprefix("Value error, ")
            bounds = allowed_range(field)
            detail = f"{problem} (allowed: {bounds}; got {value!r})" if bounds else problem
            raise PydanticCustomError("lmstudio_option", "{detail}", {"detail": detail}) from None

    @field_validator("extra", mode="before", check_fields=False)
    @classmethod
    def _extra_is_object(cls, value: Any) -> Any:
        value = _from_json_text(value, keep_invalid=False)
        if value is not None and not isinstance(value, dict):
            raise PydanticCustomError(
                "lmstudio_option", "{detail}", {"detail": f"must be a JSON object, got {value!r}"}
            )
        reserved = sorted(RESERVED_BODY_KEYS.intersection(value or {}))
        if reserved:
            ways = "; ".join(RESERVED_IN_CLI_WORDS.get(key, key) for key in reserved)
            detail = (
                f"-o extra may not set {', '.join(reserved)}: the plugin sets "
                f"{'it' if len(reserved) == 1 else 'them'} ({ways}); nothing was sent"
            )
            raise PydanticCustomError("lmstudio_option", "{detail}", {"detail": detail})
        return value


def _build_options() -> type[llm.Model.Options]:
    fields: dict[str, Any] = {
        name: (field.annotation, copy.copy(field))
        for name, field in ChatParams.model_fields.items()
    }
    fields["extra"] = (dict[str, Any] | None, Field(None, description=EXTRA_DESCRIPTION))
    model: type[llm.Model.Options] = create_model(
        "LMStudioOptions", __base__=_ValidatedThroughChatParams, __module__=__name__, **fields
    )
    return model


LMStudioOptions = _build_options()


def request_options(options: llm.Options) -> dict[str, Any]:
    """The set options as transport keywords: sampling fields, and ``extra`` as ``extra_body``."""
    values = {name: value for name, value in options if value is not None}
    extra = values.pop("extra", None)
    if extra:
        values["extra_body"] = extra
    return values
