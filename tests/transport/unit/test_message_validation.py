"""Chat messages are checked before anything is sent: index and problem named."""

from __future__ import annotations

from typing import Any

import pytest
import respx

from client_api import Api
from lmstudio_provider import InvalidParameterError
from lmstudio_provider.transport._messages import validate_messages

TOOL_CALL = {"id": "1", "type": "function", "function": {"name": "f", "arguments": "{}"}}
IMAGE = {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}}

VALID: list[list[dict[str, Any]]] = [
    [{"role": "user", "content": "Hi"}],
    [{"role": "system", "content": "Be brief."}, {"role": "developer", "content": "Terse."}],
    [{"role": "assistant", "content": None, "tool_calls": [TOOL_CALL]}],
    [{"role": "assistant", "tool_calls": [TOOL_CALL]}],
    [{"role": "assistant", "content": "", "tool_calls": [TOOL_CALL]}],
    [{"role": "tool", "tool_call_id": "1", "content": "42"}],
    [{"role": "user", "content": [{"type": "text", "text": "What is this?"}, IMAGE]}],
    [{"role": "user", "content": [{"type": "image_url", "image_url": "https://x/y.png"}]}],
    [{"role": "user", "content": "héllo ✓ 🦜", "name": "ann"}],
]


@pytest.mark.parametrize("messages", VALID)
def test_valid_messages_pass(messages: list[dict[str, Any]]) -> None:
    validate_messages(messages)


INVALID: list[tuple[Any, str]] = [
    ("hello", "messages must be a list of messages, got a string"),
    ({"role": "user", "content": "Hi"}, "messages must be a list of messages, got a dict"),
    (["hello"], "messages[0] is a string, not a mapping with role and content"),
    ([{"content": "Hi"}], "messages[0] has no role"),
    ([{"role": "user"}], "messages[0] has no content"),
    ([{"role": "user", "content": None}], "messages[0] has content None"),
    ([{"role": "assistant", "content": None}], "messages[0] has content None"),
    ([{"role": "user", "content": 5}], "messages[0] has content of type int"),
    ([{"role": "user", "content": {"text": "x"}}], "messages[0] has content of type dict"),
    (
        [{"role": "user", "content": "a"}, {"role": "wizard", "content": "b"}],
        "messages[1] has an unknown role 'wizard'",
    ),
    (
        [{"role": "user", "content": [{"type": "audio", "data": "x"}]}],
        "messages[0] has content[0] of unsupported type 'audio'",
    ),
    (
        [{"role": "user", "content": [{"type": "text", "text": None}]}],
        "messages[0] has content[0] (type text) whose text is None",
    ),
    (
        [{"role": "user", "content": [{"type": "image_url", "image_url": {}}]}],
        "messages[0] has content[0] (type image_url) without a URL",
    ),
    (
        [{"role": "user", "content": "bad \ud800 text"}],
        "messages[0] has content with a lone surrogate '\\ud800' at offset 4",
    ),
    (
        [{"role": "user", "content": [{"type": "text", "text": "x\udfffy"}]}],
        "messages[0] has content[0].text with a lone surrogate '\\udfff' at offset 1",
    ),
    (
        [{"role": "tool", "tool_call_id": 7, "content": "42"}],
        "messages[0] (role tool) has a tool_call_id that is not a string",
    ),
]


@pytest.mark.parametrize(("messages", "expected"), INVALID)
async def test_invalid_messages_are_refused_before_sending(
    api: Api, respx_mock: respx.MockRouter, messages: Any, expected: str
) -> None:
    with pytest.raises(InvalidParameterError) as caught:
        await api.chat(messages, model="m")
    assert caught.value.message.startswith(expected)
    assert caught.value.hint is not None
    with pytest.raises(InvalidParameterError):
        api.start_stream(messages, model="m")
    assert not respx_mock.calls  # nothing was sent
