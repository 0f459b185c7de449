"""Structured output cut off by max_tokens raises ``StructuredOutputTruncatedError``.

As ``ChatOpenAI`` raises ``LengthFinishReasonError``: for pydantic, TypedDict and JSON-schema
targets, with and without ``include_raw``, invoked or streamed. A complete answer that
merely ends with ``finish_reason == "stop"`` is untouched.
"""

from __future__ import annotations

from typing import Any

import pytest
import respx
from pydantic import BaseModel
from typing_extensions import TypedDict

from chat_fakes import CHAT_URL, chunk, completion, serve_models, sse_response
from lmstudio_provider.langchain import ChatLMStudio, StructuredOutputTruncatedError

CUT = '{"setup": "Why did the chicken'


class Joke(BaseModel):
    setup: str
    punchline: str


class JokeDict(TypedDict):
    setup: str
    punchline: str


SCHEMAS: list[Any] = [Joke, JokeDict, Joke.model_json_schema()]


@pytest.fixture
def cut_off(respx_mock: respx.MockRouter) -> respx.Route:
    serve_models(respx_mock)
    return respx_mock.post(CHAT_URL).respond(
        200, json=completion({"content": CUT}, finish="length")
    )


@pytest.mark.parametrize("schema", SCHEMAS, ids=["pydantic", "typeddict", "json-schema"])
@pytest.mark.parametrize("include_raw", [False, True], ids=["parsed", "include-raw"])
def test_a_cut_off_answer_raises_the_typed_error(
    cut_off: respx.Route, schema: Any, include_raw: bool
) -> None:
    structured = ChatLMStudio(max_tokens=8).with_structured_output(schema, include_raw=include_raw)

    with pytest.raises(StructuredOutputTruncatedError) as raised:
        structured.invoke("Tell a joke")

    error = raised.value
    assert "cut off after 3 tokens" in error.message
    assert "max_tokens" in error.message
    assert error.hint is not None
    assert "Raise max_tokens" in error.hint
    assert error.raw.text == CUT


@pytest.mark.parametrize("schema", SCHEMAS, ids=["pydantic", "typeddict", "json-schema"])
async def test_async_too(cut_off: respx.Route, schema: Any) -> None:
    with pytest.raises(StructuredOutputTruncatedError):
        await ChatLMStudio().with_structured_output(schema).ainvoke("Tell a joke")


def test_a_cut_off_stream_raises_at_its_end(respx_mock: respx.MockRouter) -> None:
    serve_models(respx_mock)
    events = [chunk({"content": CUT[:10]}), chunk({"content": CUT[10:]}), chunk({}, "length")]
    respx_mock.post(CHAT_URL).mock(return_value=sse_response([*events, "[DONE]"]))

    stream = ChatLMStudio().with_structured_output(JokeDict).stream("Tell a joke")
    with pytest.raises(StructuredOutputTruncatedError) as raised:
        list(stream)

    assert raised.value.raw.text == CUT


def test_a_complete_answer_is_parsed_as_before(respx_mock: respx.MockRouter) -> None:
    serve_models(respx_mock)
    joke = '{"setup": "Why?", "punchline": "Because."}'
    respx_mock.post(CHAT_URL).respond(200, json=completion({"content": joke}))

    assert ChatLMStudio().with_structured_output(Joke).invoke("Joke") == Joke(
        setup="Why?", punchline="Because."
    )
