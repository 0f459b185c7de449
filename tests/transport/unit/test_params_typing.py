"""``SamplingOptions`` (the ``chat()`` keywords for type checkers) follows ``ChatParams``."""

from __future__ import annotations

import types
import typing
from typing import Any

from lmstudio_provider.transport import ChatParamFields, ChatParams, SamplingOptions


def without_none(annotation: Any) -> set[Any]:
    """The members of a union (or the annotation itself), ``None`` left out."""
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        return set(typing.get_args(annotation)) - {type(None)}
    return {annotation}


def test_sampling_options_name_every_parameter_in_order() -> None:
    assert list(typing.get_type_hints(SamplingOptions)) == list(ChatParams.model_fields)


def test_sampling_options_have_each_parameter_s_type() -> None:
    hints = typing.get_type_hints(SamplingOptions)
    for name, field in ChatParams.model_fields.items():
        assert without_none(hints[name]) == without_none(field.annotation), name


def test_every_parameter_is_optional_and_unset_by_default() -> None:
    assert SamplingOptions.__required_keys__ == frozenset()
    for name, field in ChatParamFields.model_fields.items():
        assert type(None) in typing.get_args(field.annotation), name
        assert field.default is None, name


def test_chat_params_declares_no_field_of_its_own() -> None:
    assert ChatParams.model_fields.keys() == ChatParamFields.model_fields.keys()
