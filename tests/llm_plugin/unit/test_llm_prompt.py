"""What a prompt sends: tools, schemas and image attachments.

Through llm's own command line (click's ``CliRunner``), LM Studio mocked by respx: the
``lmstudio`` fixture (``tests/llm_fixtures.py``) lists ``qwen/qwen3-4b`` (loaded, trained
for tool use), ``google/gemma-3-4b`` (vision) and an embedding model, as LM Studio 0.4
does; each test adds the answers it needs.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any, TypedDict

import pytest
import respx

from llm_fixtures import (
    GEMMA,
    PNG,
    QWEN,
    Invoke,
    answered,
    chat,
    sent,
    streamed,
)

pytestmark = pytest.mark.usefixtures("llm_user_dir")


# -- Tools and schemas ----------------------------------------------------------------------


def tool_call(call_id: str, name: str, arguments: str, index: int = 0) -> dict[str, Any]:
    return {
        "index": index,
        "id": call_id,
        "type": "function",
        "function": {"name": name, "arguments": arguments},
    }


def test_a_tool_chain_streams_the_call_and_sends_the_result_back(
    llm_cli: Invoke, lmstudio: respx.MockRouter
) -> None:
    route = chat(
        lmstudio,
        streamed(tool_calls=[tool_call("123", "llm_version", "")]),
        streamed("You run llm 0.36."),
    )
    result = llm_cli("-m", "lmstudio", "-T", "llm_version", "Which llm?", "--td")
    assert result.exit_code == 0, result.output
    assert "Tool call: llm_version({})" in result.output
    assert result.stdout.endswith("You run llm 0.36.\n")
    first, second = sent(route, 0), sent(route, 1)
    assert first["tools"][0]["function"]["name"] == "llm_version"
    assert second["messages"][1:] == [
        {
            "role": "assistant",
            "content": "",
            "tool_calls": [
                {
                    "id": "123",
                    "type": "function",
                    "function": {"name": "llm_version", "arguments": "{}"},
                }
            ],
        },
        {"role": "tool", "tool_call_id": "123", "content": "0.36"},
    ]


def test_a_tool_call_not_streamed(llm_cli: Invoke, lmstudio: respx.MockRouter) -> None:
    call = {
        "id": "9",
        "type": "function",
        "function": {"name": "llm_version", "arguments": "{}"},
    }
    route = chat(lmstudio, answered("", tool_calls=[call]), answered("It is 0.36."))
    result = llm_cli("-m", "lmstudio", "--no-stream", "-T", "llm_version", "Which llm?")
    assert result.exit_code == 0, result.output
    assert result.stdout == "It is 0.36.\n"
    assert sent(route)["messages"][-1] == {"role": "tool", "tool_call_id": "9", "content": "0.36"}


def test_a_model_listed_without_tool_use_refuses_tools(
    llm_cli: Invoke, lmstudio: respx.MockRouter
) -> None:
    route = chat(lmstudio)
    result = llm_cli("-m", f"lmstudio/{GEMMA}", "-T", "llm_version", "Which llm?")
    assert result.exit_code == 1
    assert "does not support tools" in result.output
    assert route.call_count == 0


def test_a_schema_is_sent_as_lm_studios_json_schema(
    llm_cli: Invoke, lmstudio: respx.MockRouter
) -> None:
    route = chat(lmstudio, streamed('{"name": "Rex", ', '"age": 3}'))
    result = llm_cli("-m", "lmstudio", "--schema", "name, age int", "Invent a dog")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {"name": "Rex", "age": 3}
    response_format = sent(route)["response_format"]
    assert response_format["type"] == "json_schema"
    assert response_format["json_schema"]["strict"] is True
    assert response_format["json_schema"]["schema"]["properties"]["age"] == {"type": "integer"}


def test_schema_multi(llm_cli: Invoke, lmstudio: respx.MockRouter) -> None:
    route = chat(lmstudio, answered('{"items": [{"name": "Rex", "age": 3}]}'))
    result = llm_cli("-m", "lmstudio", "--no-stream", "--schema-multi", "name, age int", "Dogs")
    assert result.exit_code == 0, result.output
    schema = sent(route)["response_format"]["json_schema"]["schema"]
    assert schema["properties"]["items"]["type"] == "array"


def test_a_schema_llm_cannot_turn_into_json_is_refused_saying_what_to_give(
    lmstudio: respx.MockRouter,
) -> None:
    import llm

    class Dog(TypedDict):  # llm turns pydantic classes into JSON schemas, not these
        name: str

    route = chat(lmstudio, answered("{}"))
    model = llm.get_model("lmstudio")
    with pytest.raises(llm.ModelError) as raised:
        model.prompt("Invent a dog", schema=Dog, stream=False).text()  # type: ignore[arg-type]
    assert "Unsupported schema" in str(raised.value)
    assert "nothing was sent" in str(raised.value)
    assert "\nHint: Give the schema as a JSON schema (a dict) or a pydantic model" in str(
        raised.value
    )
    assert route.call_count == 0


# -- Attachments ----------------------------------------------------------------------------


def test_an_image_reaches_a_vision_model_as_a_data_uri(
    llm_cli: Invoke, lmstudio: respx.MockRouter, tmp_path: Path
) -> None:
    image = tmp_path / "pixel.png"
    image.write_bytes(PNG)
    route = chat(lmstudio, streamed("A pixel.", model=GEMMA))
    result = llm_cli("-m", f"lmstudio/{GEMMA}", "Describe", "-a", str(image))
    assert result.exit_code == 0, result.output
    [message] = sent(route)["messages"]
    assert message["content"] == [
        {"type": "text", "text": "Describe"},
        {
            "type": "image_url",
            "image_url": {"url": "data:image/png;base64," + base64.b64encode(PNG).decode()},
        },
    ]


def test_an_image_for_a_model_without_vision_is_an_error_not_a_silent_drop(
    llm_cli: Invoke, lmstudio: respx.MockRouter, tmp_path: Path
) -> None:
    image = tmp_path / "pixel.png"
    image.write_bytes(PNG)
    route = chat(lmstudio)
    listed = llm_cli("-m", f"lmstudio/{QWEN}", "Describe", "-a", str(image))
    assert listed.exit_code == 1
    assert "does not support attachments" in listed.output
    # The default model resolves to QWEN when the prompt runs; it is refused then.
    default = llm_cli("-m", "lmstudio", "Describe", "-a", str(image))
    assert default.exit_code == 1
    assert f"{QWEN} cannot read images: LM Studio lists it without vision" in default.output
    assert route.call_count == 0


def test_python_functions_as_tools(llm_cli: Invoke, lmstudio: respx.MockRouter) -> None:
    route = chat(
        lmstudio,
        streamed(tool_calls=[tool_call("1", "add", '{"a": 2, "b": 3}')]),
        streamed("5"),
    )
    function = "def add(a: int, b: int) -> int:\n    return a + b\n"
    result = llm_cli("-m", "lmstudio", "--functions", function, "2+3?")
    assert result.exit_code == 0, result.output
    assert result.stdout.endswith("5\n")
    assert sent(route)["messages"][-1] == {"role": "tool", "tool_call_id": "1", "content": "5"}
