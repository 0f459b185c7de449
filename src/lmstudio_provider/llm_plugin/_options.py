"""The ``-o`` options of every LM Studio model, derived from ``ChatParams``.

Names, types, ranges and descriptions are written once, in
``lmstudio_provider.transport._params.ChatParams``; each option is also validated through it,
so the CLI rejects exactly what the transport would. ``-o`` values arrive as text:
lists and objects may be given as JSON (``-o stop '["a","b"]'``).
"""

from __future__ import annotations

import copy
import json
from typing import Any

import llm
from annotated_types import Ge, Gt, Le, Lt
from pydantic import (
    Field,
    ValidationError,
    ValidatorFunctionWrapHandler,
    create_model,
    field_validator,
)
from pydantic.fields import FieldInfo
from pydantic_core import PydanticCustomError

from lmstudio_provider.transport import ChatParams

__all__ = ["LMStudioOptions", "allowed_range", "request_options"]

EXTRA_DESCRIPTION = (
    "Request fields as a JSON object, sent to LM Studio verbatim, "
    'e.g. {"top_n_sigma": 1} (model, messages and stream are set by the plugin).'
)


def allowed_range(field: FieldInfo) -> str | None:
    """The field's numeric bounds in words, e.g. ``0 to 2`` or ``at least -1``."""
    low = next(
        (m.ge if isinstance(m, Ge) else m.gt for m in field.metadata if isinstance(m, Ge | Gt)),
        None,
    )
    high = next(
        (m.le if isinstance(m, Le) else m.lt for m in field.metadata if isinstance(m, Le | Lt)),
        None,
    )
    if low is not None and high is not None:
        return f"{low} to {high}"
    if low is not None:
        return f"at least {low}"
    if high is not None:
        return f"at most {high}"
    return None


def _from_json_text(value: Any, *, keep_invalid: bool) -> Any:
    """``-o`` gives text: decode a JSON list or object written there."""
    if not isinstance(value, str) or not value.lstrip().startswith(("[", "{")):
        return value
    try:
        return json.loads(value)
    except ValueError:
        if keep_invalid:  # a stop sequence may itself start with "[" or "{"
            return value
        raise PydanticCustomError(
            "json_invalid", "not valid JSON: {value}", {"value": value}
        ) from None


class _ValidatedThroughChatParams(llm.Model.Options):
    """Validates each sampling option exactly as the transport will."""

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
