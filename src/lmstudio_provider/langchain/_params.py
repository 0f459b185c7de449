"""Pydantic fields for the sampling parameters, derived from ``ChatParams``.

``ChatParams`` holds each parameter's type, range and description once; the
chat model's fields copy the description and the range from it, so the
LangChain signature, its JSON schema and the transport agree.
"""

from __future__ import annotations

from typing import Any

import annotated_types
from pydantic import Field

from lmstudio_provider.transport import ChatParams

__all__ = ["SAMPLING_PARAMETERS", "param_field"]

SAMPLING_PARAMETERS: tuple[str, ...] = tuple(ChatParams.model_fields)
_BOUNDS = (
    (annotated_types.Ge, "ge"),
    (annotated_types.Gt, "gt"),
    (annotated_types.Le, "le"),
    (annotated_types.Lt, "lt"),
)


def param_field(name: str) -> Any:
    """A field for the parameter ``name``: unset by default, range and description as in
    ``ChatParams`` (whose own validators still run on every request)."""
    source = ChatParams.model_fields[name]
    bounds: dict[str, Any] = {}
    for item in source.metadata:
        for kind, keyword in _BOUNDS:
            if isinstance(item, kind):
                bounds[keyword] = getattr(item, keyword)
    return Field(default=None, description=source.description, **bounds)
