"""What ``ChatLMStudio`` sends for histories, images, tools and structured output, and
what ``LMStudioEmbeddings`` does; the fields derived from ``ChatParams``."""

from __future__ import annotations

import json
from typing import Annotated, Any

import pytest
import respx
from langchain_core.messages import AIMessage, HumanMessage, SystemMessage, ToolMessage
from pydantic import BaseModel, Field
from pydantic.v1 import BaseModel as BaseModelV1
from typing_extensions import TypedDict

from langchain_fakes import (
    CAPTURED_MODEL,
    CHAT_URL,
    EMBEDDING_MODEL,
    EMBEDDINGS_URL,
    completion,
    sent_body,
    serve_models,
)
from lmstudio_provider import ModelNotFoundError
from lmstudio_provider.langchain import ChatLMStudio, LMStudioEmbeddings
from lmstudio_provider.transport._params import ChatParams


class Joke(BaseModel):
    """Joke to tell user."""

    setup: str = Field(description="question to set up a joke")
    punchline: str = Field(description="answer to resolve the joke")


class JokeV1(BaseModelV1):
    """Joke to tell user."""

    setup: str
    punchline: str


class JokeDict(TypedDict):
    """Joke to tell user."""

    setup: Annotated[str, ..., "question to set up a joke"]
    punchline: Annotated[str, ..., "answer to resolve the joke"]


JOKE = {"setup": "Why?", "punchline": "Because."}


def add(a: int, b: int) -> int:
    """Add two integers."""
    return a + b


def multiply(a: int, b: int) -> int:
    """Multiply two integers."""
    return a * b


@pytest.fixture
def chat_route(respx_mock: respx.MockRouter) -> respx.Route:
    serve_models(respx_mock)
    return respx_mock.post(CHAT_URL).respond(200, json=completion({"content": json.dumps(JOKE)}))


def test_fields_are_derived_from_chat_params() -> None:
    for name, source in ChatParams.model_fields.items():
        field = ChatLMStudio.model_fields[name]
        assert field.annotation == source.annotation, name
        assert field.description == source.description, name
        assert field.metadata == source.metadata, name  # the same range
        assert field.default is None, name


def test_history_with_tool_calls_is_sent_as_lm_studio_accepts(chat_route: respx.Route) -> None:
    history = [
        SystemMessage([{"type": "text", "text": "Be brief."}]),
        HumanMessage("What is 1 + 2?", name="ada"),
        AIMessage(
            [
                {"type": "thinking", "thinking": "Add.", "signature": "x"},
                {"type": "reasoning", "reasoning": "Add them."},
                {"type": "tool_use", "id": "abc", "name": "add", "input": {"a": 1, "b": 2}},
            ],
            tool_calls=[
                {"name": "add", "args": {"a": 1, "b": 2}, "id": "abc", "type": "tool_call"}
            ],
        ),
        ToolMessage([{"type": "text", "text": "3"}], tool_call_id="abc"),
        AIMessage(
            "", tool_calls=[{"name": "add", "args": {"a": 1}, "id": "", "type": "tool_call"}]
        ),
        ToolMessage("Missing b.", tool_call_id="def", status="error"),
    ]
    ChatLMStudio().bind_tools([add]).invoke(history)
    messages = sent_body(chat_route)["messages"]
    assert messages[0] == {"role": "system", "content": "Be brief."}
    assert messages[1] == {"role": "user", "content": "What is 1 + 2?", "name": "ada"}
    assert messages[2] == {
        "role": "assistant",
        "content": "",  # a string: LM Studio rejects null; thinking and tool_use stripped
        "tool_calls": [
            {
                "id": "abc",
                "type": "function",
                "function": {"name": "add", "arguments": '{"a": 1, "b": 2}'},
            }
        ],
    }
    assert messages[3] == {"role": "tool", "tool_call_id": "abc", "content": "3"}
    assert messages[4]["tool_calls"][0]["id"].startswith("call_")  # never an empty id
    assert messages[5]["content"] == "Error: Missing b."


def test_images_are_sent_as_image_url_parts(respx_mock: respx.MockRouter) -> None:
    serve_models(respx_mock, (CAPTURED_MODEL, "vlm"))  # listed with vision
    chat_route = respx_mock.post(CHAT_URL).respond(200, json=completion({"content": "A cat."}))
    image = HumanMessage(
        [
            {"type": "text", "text": "Describe."},
            {"type": "image", "base64": "iVBORw0KGgo=", "mime_type": "image/png"},
            {"type": "image", "url": "https://example.com/cat.png"},
            {"type": "image_url", "image_url": {"url": "data:image/jpeg;base64,/9j/4AAQ"}},
            {"type": "image_url", "image_url": "https://example.com/dog.png"},
            {
                "type": "image",
                "source": {"type": "base64", "media_type": "image/gif", "data": "R0lG"},
            },
        ]
    )
    ChatLMStudio().invoke([image])
    [message] = sent_body(chat_route)["messages"]
    assert message["content"] == [
        {"type": "text", "text": "Describe."},
        {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="}},
        {"type": "image_url", "image_url": {"url": "https://example.com/cat.png"}},
        {"type": "image_url", "image_url": {"url": "data:image/jpeg;base64,/9j/4AAQ"}},
        {"type": "image_url", "image_url": {"url": "https://example.com/dog.png"}},
        {"type": "image_url", "image_url": {"url": "data:image/gif;base64,R0lG"}},
    ]


@pytest.mark.parametrize(
    ("tool_choice", "sent_choice", "sent_tools"),
    [
        ("auto", "auto", ["add", "multiply"]),
        ("none", "none", ["add", "multiply"]),
        ("any", "required", ["add", "multiply"]),
        ("required", "required", ["add", "multiply"]),
        (True, "required", ["add", "multiply"]),
        ("multiply", "required", ["multiply"]),  # LM Studio rejects the object form
        ({"type": "function", "function": {"name": "add"}}, "required", ["add"]),
        (False, None, ["add", "multiply"]),
        (None, None, ["add", "multiply"]),
    ],
)
def test_tool_choice_is_mapped_to_what_lm_studio_accepts(
    chat_route: respx.Route, tool_choice: Any, sent_choice: str | None, sent_tools: list[str]
) -> None:
    ChatLMStudio().bind_tools([add, multiply], tool_choice=tool_choice).invoke("Hi")
    body = sent_body(chat_route)
    assert body.get("tool_choice") == sent_choice
    assert [tool["function"]["name"] for tool in body["tools"]] == sent_tools


def test_true_with_one_tool_names_it(chat_route: respx.Route) -> None:
    ChatLMStudio().bind_tools([add], tool_choice=True).invoke("Hi")
    assert sent_body(chat_route)["tool_choice"] == "required"
    assert [tool["function"]["name"] for tool in sent_body(chat_route)["tools"]] == ["add"]


@pytest.mark.parametrize("schema", [Joke, JokeV1, JokeDict, Joke.model_json_schema()])
def test_json_schema_structured_output(chat_route: respx.Route, schema: Any) -> None:
    result = ChatLMStudio().with_structured_output(schema, strict=True).invoke("Joke")
    if isinstance(schema, type) and issubclass(schema, BaseModel | BaseModelV1):
        assert isinstance(result, schema)  # pydantic classes come back as instances
        result = dict(result)
    assert result == JOKE
    response_format = sent_body(chat_route)["response_format"]
    assert response_format["type"] == "json_schema"
    assert response_format["json_schema"]["strict"] is True
    assert set(response_format["json_schema"]["schema"]["properties"]) == {"setup", "punchline"}


def test_json_mode_is_sent_as_an_object_schema(chat_route: respx.Route) -> None:
    result = ChatLMStudio().with_structured_output(Joke, method="json_mode").invoke("Joke")
    assert result == Joke(**JOKE)
    assert sent_body(chat_route)["response_format"] == {
        "type": "json_schema",
        "json_schema": {"name": "json_object", "schema": {"type": "object"}},
    }


def test_function_calling_forces_the_schema_tool(respx_mock: respx.MockRouter) -> None:
    serve_models(respx_mock)
    call = {
        "id": "7",
        "type": "function",
        "function": {"name": "Joke", "arguments": json.dumps(JOKE)},
    }
    route = respx_mock.post(CHAT_URL).respond(
        200, json=completion({"content": "", "tool_calls": [call]})
    )
    structured = ChatLMStudio().with_structured_output(
        Joke, method="function_calling", include_raw=True
    )
    result = structured.invoke("Joke")
    assert result["parsed"] == Joke(**JOKE)
    assert result["parsing_error"] is None
    assert isinstance(result["raw"], AIMessage)
    body = sent_body(route)
    assert body["tool_choice"] == "required"
    assert [tool["function"]["name"] for tool in body["tools"]] == ["Joke"]


def test_include_raw_returns_a_parsing_error(respx_mock: respx.MockRouter) -> None:
    serve_models(respx_mock)
    respx_mock.post(CHAT_URL).respond(200, json=completion({"content": "not json"}))
    result = ChatLMStudio().with_structured_output(Joke, include_raw=True).invoke("Joke")
    assert result["parsed"] is None
    assert result["parsing_error"] is not None
    assert result["raw"].text == "not json"


def test_structured_output_rejects_unknown_arguments() -> None:
    with pytest.raises(ValueError, match="unsupported arguments"):
        ChatLMStudio().with_structured_output(Joke, tools=[])
    with pytest.raises(ValueError, match=r"unsupported arguments \['token'\]$"):
        ChatLMStudio().with_structured_output(Joke, token="sk-lm-PLANTED7f3a9c")  # not shown
    with pytest.raises(ValueError, match="Unrecognized method"):
        ChatLMStudio().with_structured_output(Joke, method="xml")  # type: ignore[arg-type]


# -- Embeddings -----------------------------------------------------------------


def _embedding_reply(request: Any) -> Any:
    texts = json.loads(request.content)["input"]
    data = [
        {"object": "embedding", "index": i, "embedding": [float(len(text)), float(i)]}
        for i, text in reversed(list(enumerate(texts)))  # out of order: order is restored
    ]
    return respx.MockResponse(200, json={"model": EMBEDDING_MODEL, "data": data, "usage": {}})


async def test_embeddings_are_batched_and_kept_in_order(respx_mock: respx.MockRouter) -> None:
    serve_models(respx_mock, (CAPTURED_MODEL, "llm"), (EMBEDDING_MODEL, "embedding"))
    route = respx_mock.post(EMBEDDINGS_URL).mock(side_effect=_embedding_reply)
    embeddings = LMStudioEmbeddings(batch_size=2)
    texts = ["a", "bb", "ccc", "dddd", "eeeee"]
    vectors = embeddings.embed_documents(texts)
    assert [vector[0] for vector in vectors] == [1.0, 2.0, 3.0, 4.0, 5.0]
    assert [len(json.loads(call.request.content)["input"]) for call in route.calls] == [2, 2, 1]
    assert json.loads(route.calls[0].request.content)["model"] == EMBEDDING_MODEL
    assert await embeddings.aembed_query("xyz") == [3.0, 0.0]
    assert embeddings.embed_documents([]) == []


def test_a_chat_model_is_refused_for_embeddings(respx_mock: respx.MockRouter) -> None:
    serve_models(respx_mock, (CAPTURED_MODEL, "llm"), (EMBEDDING_MODEL, "embedding"))
    with pytest.raises(ModelNotFoundError) as caught:
        LMStudioEmbeddings(model=CAPTURED_MODEL).embed_query("x")
    assert "not an embedding model" in caught.value.message
    assert caught.value.available == [EMBEDDING_MODEL]
    assert caught.value.hint is not None
