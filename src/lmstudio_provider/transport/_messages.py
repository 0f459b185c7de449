"""Check chat messages before anything is sent (pure: no I/O).

LM Studio takes OpenAI's chat messages. What it would choke on, or silently
misread (a string sent as a list of one-letter messages, ``None`` content, an
unknown role, a lone surrogate that cannot be encoded), is refused here with
the message's index and what is wrong with it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from lmstudio_provider.transport._errors import InvalidParameterError
from lmstudio_provider.transport._models import ModelInfo

__all__ = ["ROLES", "has_image_parts", "refuse_images_without_vision", "validate_messages"]

ROLES = ("system", "developer", "user", "assistant", "tool")
PART_TYPES = ("text", "image_url")
EXAMPLE = '[{"role": "user", "content": "Hello"}]'


def validate_messages(messages: Any) -> None:
    """Raise ``InvalidParameterError`` naming the first message that is not valid.

    Valid: a list of mappings with a known ``role``; ``content`` a string or a list of
    ``text`` / ``image_url`` parts; an assistant message with ``tool_calls`` may have
    no content (or ``null``); a tool message's ``tool_call_id`` is a string.
    """
    if isinstance(messages, str | bytes) or not isinstance(messages, Sequence):
        raise InvalidParameterError(
            f"messages must be a list of messages, got {_kind(messages)}.",
            hint=f"Wrap the text in a message: {EXAMPLE}.",
        )
    for index, message in enumerate(messages):
        problem = _problem(message)
        if problem is not None:
            raise InvalidParameterError(
                f"messages[{index}] {problem}; nothing was sent.",
                hint=f"Each message is a mapping like {EXAMPLE}; roles: {', '.join(ROLES)}; "
                "content is text or a list of text and image_url parts.",
            )


def _problem(message: Any) -> str | None:
    if not isinstance(message, Mapping):
        return f"is {_kind(message)}, not a mapping with role and content"
    role = message.get("role")
    if role is None:
        return "has no role"
    if role not in ROLES:
        shown = repr(role)[:60] if isinstance(role, str) else _kind(role)
        return f"has an unknown role {shown}"
    if role == "tool" and not isinstance(message.get("tool_call_id", ""), str):
        return "(role tool) has a tool_call_id that is not a string"
    if "content" not in message or message["content"] is None:
        if role == "assistant" and message.get("tool_calls"):
            return None  # a turn that only called tools
        return "has no content" if "content" not in message else "has content None"
    return _content_problem(message["content"])


def _content_problem(content: Any) -> str | None:
    if isinstance(content, str):
        return _text_problem(content, "content")
    if not isinstance(content, list | tuple):
        return f"has content of type {type(content).__name__} (expected text or a list of parts)"
    for number, part in enumerate(content):
        where = f"content[{number}]"
        if not isinstance(part, Mapping):
            return f"has {where} of type {type(part).__name__} (expected a mapping with a type)"
        kind = part.get("type")
        if kind not in PART_TYPES:
            shown = repr(kind)[:60]
            return f"has {where} of unsupported type {shown} (supported: {', '.join(PART_TYPES)})"
        if kind == "text":
            text = part.get("text")
            if not isinstance(text, str):
                return f"has {where} (type text) whose text is {_kind(text)}"
            problem = _text_problem(text, f"{where}.text")
            if problem is not None:
                return problem
        else:
            image = part.get("image_url")
            url = image.get("url") if isinstance(image, Mapping) else image
            if not isinstance(url, str) or not url:
                return f"has {where} (type image_url) without a URL"
    return None


def _text_problem(text: str, where: str) -> str | None:
    if text.isascii():
        return None
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as error:
        return (
            f"has {where} with a lone surrogate {text[error.start]!a} at offset {error.start}, "
            "which is no character and cannot be sent as UTF-8"
        )
    return None


def _kind(value: Any) -> str:
    if value is None:
        return "None"
    if isinstance(value, str):
        return "a string"
    return f"a {type(value).__name__}"


def has_image_parts(messages: Sequence[Mapping[str, Any]]) -> bool:
    """Whether any message carries an ``image_url`` part."""
    return any(
        isinstance(part, Mapping) and part.get("type") == "image_url"
        for message in messages
        if isinstance(message, Mapping) and isinstance(message.get("content"), list)
        for part in message["content"]
    )


def refuse_images_without_vision(model: ModelInfo, messages: Sequence[Mapping[str, Any]]) -> None:
    """Refuse images for a model the server lists without vision, before sending them.

    A model of unknown type (an OpenAI-style list does not say) gets them: the server
    decides.

    Raises:
        InvalidParameterError: naming the model and what to do.
    """
    known_blind = model.type in ("llm", "embeddings") and not model.supports_vision
    if known_blind and has_image_parts(messages):
        raise InvalidParameterError(
            f"{model.id} cannot read images: LM Studio lists it without vision. Nothing was sent.",
            hint="Use a vision model (LM Studio's model list shows which have vision), "
            "or leave out the image.",
        )
