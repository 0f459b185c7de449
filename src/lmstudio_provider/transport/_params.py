"""Request parameters: one typed definition shared by the transport and both front ends.

``ChatParamFields`` declares what a chat request may carry, which ranges are valid
and what each parameter means, once. ``ChatParams`` validates a request with them,
``ChatLMStudio`` inherits them as its fields and the ``llm`` options are derived
from them. ``SamplingOptions`` repeats the names and types as ``chat()`` keywords for
type checkers (a TypedDict cannot be derived); a test fails when the two drift.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal, TypedDict

from annotated_types import Ge, Gt, Le, Lt
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from pydantic.fields import FieldInfo

from lmstudio_provider.transport._errors import InvalidParameterError

__all__ = [
    "EXTENSION_PARAMETERS",
    "STANDARD_PARAMETERS",
    "ChatOptions",
    "ChatParamFields",
    "ChatParams",
    "ReasoningEffort",
    "SamplingOptions",
    "allowed_range",
    "describe_validation_error",
    "validate_params",
]

ReasoningEffort = Literal["none", "minimal", "low", "medium", "high"]


class ChatParamFields(BaseModel):
    """The sampling and generation parameters of a chat, unset by default, with their
    ranges and meanings: the fields of ``ChatParams`` and of ``ChatLMStudio``."""

    max_tokens: int | None = Field(
        None, ge=-1, description="Maximum number of tokens to generate (-1: no limit)."
    )
    temperature: float | None = Field(
        None, ge=0, le=2, description="Sampling temperature, 0 to 2 (0: deterministic)."
    )
    top_p: float | None = Field(None, ge=0, le=1, description="Nucleus sampling mass, 0 to 1.")
    frequency_penalty: float | None = Field(
        None, ge=-2, le=2, description="Penalise tokens by how often they appeared, -2 to 2."
    )
    presence_penalty: float | None = Field(
        None, ge=-2, le=2, description="Penalise tokens that appeared at all, -2 to 2."
    )
    stop: str | list[str] | None = Field(
        None, description="A stop sequence or a list of them; generation ends before it."
    )
    seed: int | None = Field(None, description="Random seed, for reproducible sampling.")
    # LM Studio and llama.cpp extensions.
    top_k: int | None = Field(
        None, ge=0, description="Sample only from the K most likely tokens (0: off)."
    )
    min_p: float | None = Field(
        None, ge=0, le=1, description="Drop tokens below this fraction of the top token's prob."
    )
    repeat_penalty: float | None = Field(
        None, ge=0, description="Penalty for repeated tokens (1.0: none; 1.1 is typical)."
    )
    ttl: int | None = Field(
        None, ge=1, description="Seconds a just-in-time loaded model stays loaded when idle."
    )
    draft_model: str | None = Field(
        None, description="Draft model id for speculative decoding (must match the main model)."
    )
    logit_bias: dict[str, float] | None = Field(
        None, description='Token id to bias, -100 to 100, e.g. {"1234": -100} bans token 1234.'
    )
    mirostat_mode: int | None = Field(
        None, ge=0, le=2, description="Mirostat sampling: 0 off, 1 Mirostat, 2 Mirostat 2.0."
    )
    mirostat_tau: float | None = Field(
        None, ge=0, description="Mirostat target entropy (lower: more focused text)."
    )
    mirostat_eta: float | None = Field(None, ge=0, description="Mirostat learning rate.")
    cache_prompt: bool | None = Field(
        None, description="Reuse the KV cache of a shared prompt prefix between requests."
    )
    reasoning_effort: ReasoningEffort | None = Field(
        None, description="How much a reasoning model thinks: none, minimal, low, medium, high."
    )

    @field_validator("stop")
    @classmethod
    def _stop_not_empty(cls, value: str | list[str] | None) -> str | list[str] | None:
        if value == "" or value == [] or (isinstance(value, list) and "" in value):
            raise ValueError("a stop sequence must not be empty")
        return value

    @field_validator("logit_bias", mode="before")
    @classmethod
    def _logit_bias_keys(cls, value: Any) -> Any:
        if isinstance(value, dict):
            out: dict[str, Any] = {}
            for key, bias in value.items():
                if not str(key).lstrip("-").isdigit():
                    raise ValueError(f"logit_bias keys are token ids (integers), got {key!r}")
                try:  # range-check what the float field will accept, text like "150" too
                    number: float | None = float(bias)
                except (TypeError, ValueError):
                    number = None  # not a number: the field's own type check reports it
                if number is not None and not -100 <= number <= 100:
                    raise ValueError(f"logit_bias values must be -100 to 100, got {bias!r}")
                out[str(key)] = bias
            return out
        return value


class ChatParams(ChatParamFields):
    """Sampling and generation parameters of a chat request; unset ones are never sent."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    def to_body(self) -> dict[str, Any]:
        """The request body fields for the parameters that are set."""
        return self.model_dump(exclude_none=True)


class SamplingOptions(TypedDict, total=False):
    """``ChatParams`` as keyword arguments (the same names and types, in the same order)."""

    max_tokens: int
    temperature: float
    top_p: float
    frequency_penalty: float
    presence_penalty: float
    stop: str | list[str]
    seed: int
    top_k: int
    min_p: float
    repeat_penalty: float
    ttl: int
    draft_model: str
    logit_bias: dict[str, float]
    mirostat_mode: int
    mirostat_tau: float
    mirostat_eta: float
    cache_prompt: bool
    reasoning_effort: ReasoningEffort


class ChatOptions(SamplingOptions, total=False):
    """Keyword arguments of ``chat``/``stream_chat`` besides the messages and model."""

    tools: Sequence[Mapping[str, Any]] | None
    tool_choice: str | Mapping[str, Any] | None
    response_format: Mapping[str, Any] | None
    extra_body: Mapping[str, Any] | None


STANDARD_PARAMETERS = (
    "max_tokens",
    "temperature",
    "top_p",
    "frequency_penalty",
    "presence_penalty",
    "stop",
    "seed",
)
EXTENSION_PARAMETERS = tuple(
    name for name in ChatParams.model_fields if name not in STANDARD_PARAMETERS
)


def describe_validation_error(error: ValidationError, *, origin: str = "") -> str:
    """One line per problem: the parameter, the value given and what is expected."""
    lines = []
    for item in error.errors():
        where = ".".join(str(part) for part in item["loc"]) or "value"
        expected = item["msg"]
        if item["type"] == "extra_forbidden":
            # Never the value: an unknown name may well be a mistyped secret.
            known = ", ".join(ChatParams.model_fields)
            lines.append(f"{where}{origin}: unknown parameter (known: {known})")
            continue
        given = item.get("input")
        lines.append(f"{where}={given!r}{origin}: {expected}")
    return "; ".join(lines)


def validate_params(values: dict[str, Any]) -> ChatParams:
    """Validate request parameters before anything is sent.

    Raises:
        InvalidParameterError: naming each bad parameter, its value and the valid range.
    """
    try:
        return ChatParams.model_validate(values)
    except ValidationError as error:
        raise InvalidParameterError(
            f"Invalid request parameter: {describe_validation_error(error)}",
            hint="Fix the value and try again; nothing was sent to LM Studio.",
        ) from None


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
