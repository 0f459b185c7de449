"""Invalid messages, an invalid port: refused before anything reaches the server."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from lmstudio_provider import ConfigError, InvalidParameterError

if TYPE_CHECKING:
    from fault_server import FaultServer, MakeClient, Wire

INVALID: list[tuple[Any, str]] = [
    ("hello", "messages must be a list of messages, got a string"),
    ([{"role": "user", "content": None}], "messages[0] has content None"),
    ([{"role": "wizard", "content": "hi"}], "messages[0] has an unknown role 'wizard'"),
    ([{"role": "user", "content": "bad \ud800"}], "messages[0] has content with a lone surrogate"),
]


@pytest.mark.parametrize("operation", ["chat", "stream"])
@pytest.mark.parametrize(("messages", "expected"), INVALID)
async def test_invalid_messages_send_nothing(
    make_client: MakeClient,
    fault_server: FaultServer,
    wire: type[Wire],
    operation: str,
    messages: Any,
    expected: str,
) -> None:
    client = make_client()

    async def send() -> object:
        if client.sync is not None:
            if operation == "chat":
                return client.sync.chat(messages, model=wire.MODEL)
            return client.sync.stream_chat(messages, model=wire.MODEL)
        assert client.async_ is not None
        if operation == "chat":
            return await client.async_.chat(messages, model=wire.MODEL)
        return client.async_.stream_chat(messages, model=wire.MODEL)

    with pytest.raises(InvalidParameterError) as caught:
        await send()
    assert caught.value.message.startswith(expected)
    assert fault_server.requests == []  # not even the model list


async def test_assistant_tool_turns_and_parts_are_sent(
    make_client: MakeClient, fault_server: FaultServer, wire: type[Wire]
) -> None:
    fault_server.route("POST", wire.CHAT, fault_server.reply(200, wire.completion("Done.")))
    call = {"id": "1", "type": "function", "function": {"name": "f", "arguments": "{}"}}
    messages: list[dict[str, Any]] = [
        {"role": "developer", "content": "Be brief."},
        {"role": "user", "content": [{"type": "text", "text": "Run f."}]},
        {"role": "assistant", "content": None, "tool_calls": [call]},
        {"role": "tool", "tool_call_id": "1", "content": "42"},
    ]
    client = make_client()
    if client.sync is not None:
        result = client.sync.chat(messages, model=wire.MODEL)
    else:
        assert client.async_ is not None
        result = await client.async_.chat(messages, model=wire.MODEL)
    assert result.text == "Done."
    assert fault_server.requests[-1].json()["messages"] == messages


def test_an_invalid_port_is_refused_before_connecting(make_client: MakeClient) -> None:
    with pytest.raises(ConfigError, match="the port must be a number from 1 to 65535"):
        make_client(base_url="http://127.0.0.1:99999")
