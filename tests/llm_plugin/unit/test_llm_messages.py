"""``prompt.messages`` as LM Studio chat messages, and the rest of a chat request."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import llm
import pytest
from llm.parts import (
    AttachmentPart,
    Message,
    ReasoningPart,
    TextPart,
    ToolCallPart,
    ToolResultPart,
)

from lmstudio_provider.llm_plugin._prompt import chat_messages, tool_spec
from lmstudio_provider.transport._errors import InvalidParameterError
from lmstudio_provider.transport._messages import has_image_parts

# The smallest valid PNG: 1x1 pixel.
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)
PNG_URI = "data:image/png;base64," + base64.b64encode(PNG).decode()


def text(role: str, words: str) -> Message:
    return Message(role=role, parts=[TextPart(text=words)])


def test_a_conversation_with_system_prompt_repeated_on_every_turn() -> None:
    """llm repeats the system prompt per turn; it is sent once, reasoning never."""
    messages = [
        text("system", "Be brief."),
        text("user", "Hi"),
        Message("assistant", [ReasoningPart(text="greet back"), TextPart(text="Hello!")]),
        text("system", "Be brief."),
        text("user", "Again"),
    ]
    assert chat_messages(messages) == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Hi"},
        {"role": "assistant", "content": "Hello!"},
        {"role": "user", "content": "Again"},
    ]


def test_a_changed_system_prompt_is_sent_again() -> None:
    messages = [text("system", "A"), text("user", "1"), text("system", "B"), text("user", "2")]
    assert [m["content"] for m in chat_messages(messages)] == ["A", "1", "B", "2"]


def test_tool_calls_and_results_round_trip() -> None:
    messages = [
        text("user", "Weather in Paris?"),
        Message(
            "assistant",
            [ToolCallPart(name="get_weather", arguments={"city": "Paris"}, tool_call_id="7")],
        ),
        Message(
            "tool",
            [ToolResultPart(name="get_weather", output="18 C, sunny", tool_call_id="7")],
        ),
    ]
    assert chat_messages(messages) == [
        {"role": "user", "content": "Weather in Paris?"},
        {
            "role": "assistant",
            "content": "",  # "" rather than null: llama.cpp's server requires a string
            "tool_calls": [
                {
                    "id": "7",
                    "type": "function",
                    "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'},
                }
            ],
        },
        {"role": "tool", "tool_call_id": "7", "content": "18 C, sunny"},
    ]


def test_images_go_inline_as_data_uris(tmp_path: Path) -> None:
    path = tmp_path / "pixel.png"
    path.write_bytes(PNG)
    messages = [
        Message(
            "user",
            [TextPart(text="Describe"), AttachmentPart(attachment=llm.Attachment(path=str(path)))],
        ),
        Message("user", [AttachmentPart(attachment=llm.Attachment(content=PNG))]),
    ]
    wire = chat_messages(messages)
    image = {"type": "image_url", "image_url": {"url": PNG_URI}}
    assert wire == [
        {"role": "user", "content": [{"type": "text", "text": "Describe"}, image]},
        {"role": "user", "content": [image]},
    ]
    assert has_image_parts(wire)
    assert not has_image_parts([{"role": "user", "content": "no image"}])


def test_a_tool_that_returns_an_image_is_followed_by_a_user_message_holding_it() -> None:
    result = ToolResultPart(
        name="snap", output="taken", tool_call_id="1", attachments=[llm.Attachment(content=PNG)]
    )
    assert chat_messages([Message("tool", [result])]) == [
        {"role": "tool", "tool_call_id": "1", "content": "taken"},
        {"role": "user", "content": [{"type": "image_url", "image_url": {"url": PNG_URI}}]},
    ]


def test_a_file_that_is_not_an_image_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "notes.pdf"
    path.write_bytes(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    message = Message("user", [AttachmentPart(attachment=llm.Attachment(path=str(path)))])
    with pytest.raises(InvalidParameterError) as caught:
        chat_messages([message])
    assert (
        "takes image attachments only (image/jpeg, image/png, image/webp)" in caught.value.message
    )
    assert "notes.pdf is application/pdf" in caught.value.message
    assert caught.value.hint is not None


def test_an_empty_user_turn_is_left_out() -> None:
    assert chat_messages([text("user", ""), text("user", "Hi")]) == [
        {"role": "user", "content": "Hi"}
    ]


def test_tool_spec() -> None:
    def get_weather(city: str) -> str:
        """Current weather in a city."""
        return "sunny"

    spec: dict[str, Any] = tool_spec(llm.Tool.function(get_weather))  # type: ignore[no-untyped-call]
    assert spec["type"] == "function"
    assert spec["function"]["name"] == "get_weather"
    assert spec["function"]["description"] == "Current weather in a city."
    assert spec["function"]["parameters"]["properties"] == {"city": {"type": "string"}}
    bare = tool_spec(llm.Tool(name="now"))
    assert bare["function"] == {"name": "now", "parameters": {"type": "object", "properties": {}}}
