"""``ChatLMStudio`` and ``LMStudioEmbeddings`` against the real server (LM Studio or the stand-in).

What the standard suites leave out: the answering model and the transport's metrics in
``response_metadata``, LM Studio's forced named tool and ``json_schema`` output, and the
typed errors of a real server.
"""

from __future__ import annotations

import pytest
from langchain_core.messages import AIMessageChunk
from pydantic import BaseModel

from lmstudio_provider import ModelNotFoundError
from lmstudio_provider.langchain import ChatLMStudio, LMStudioEmbeddings
from realserver import ServerUnderTest


class City(BaseModel):
    """A city and its country."""

    city: str
    country: str


def get_weather(city: str) -> str:
    """Current weather in a city."""
    return "sunny"


@pytest.fixture
def llm(server: ServerUnderTest) -> ChatLMStudio:
    return ChatLMStudio(
        base_url=server.base_url, temperature=0, max_tokens=32, timeout=120, max_retries=1
    )


def test_invoke_names_the_answering_model(server: ServerUnderTest, llm: ChatLMStudio) -> None:
    message = llm.invoke("Name a colour.")
    assert message.text.strip()
    assert message.response_metadata["model_name"].lower() == server.chat_model.lower()
    assert message.response_metadata["model_provider"] == "lmstudio"
    assert message.response_metadata["metrics"]["wall_duration_secs"] > 0
    assert message.usage_metadata is not None
    assert message.usage_metadata["output_tokens"] > 0


async def test_astream_arrives_in_pieces(llm: ChatLMStudio) -> None:
    chunks: list[AIMessageChunk] = [chunk async for chunk in llm.astream("Count to ten.")]
    assert sum(1 for chunk in chunks if chunk.text) >= 3
    assert chunks[-1].chunk_position == "last"
    assert chunks[-1].response_metadata["finish_reason"] in ("stop", "length")


def test_unknown_model_is_a_typed_error(server: ServerUnderTest, llm: ChatLMStudio) -> None:
    with pytest.raises(ModelNotFoundError) as caught:
        llm.invoke("Hi", model="no-such-model-anywhere-xyz")
    assert server.chat_model in caught.value.available
    assert caught.value.hint


def test_embeddings(server: ServerUnderTest, embedding_model: str) -> None:
    embeddings = LMStudioEmbeddings(base_url=server.base_url, model=embedding_model, batch_size=2)
    vectors = embeddings.embed_documents(["one", "two", "three"])
    assert len(vectors) == 3
    assert len({len(vector) for vector in vectors}) == 1
    assert vectors[0] != vectors[2]


def test_streamed_usage_and_stats(lmstudio_only: None, llm: ChatLMStudio) -> None:
    full = None
    for chunk in llm.stream("Name a colour."):
        full = chunk if full is None else full + chunk
    assert full is not None
    assert full.usage_metadata is not None
    assert full.usage_metadata["input_tokens"] > 0


def test_named_tool_choice_forces_that_tool(lmstudio_only: None, llm: ChatLMStudio) -> None:
    message = llm.bind_tools([get_weather, City], tool_choice="get_weather").invoke("Hi!")
    assert [call["name"] for call in message.tool_calls] == ["get_weather"]


def test_json_schema_structured_output(lmstudio_only: None, llm: ChatLMStudio) -> None:
    result = llm.with_structured_output(City).invoke("Paris is in which country?")
    assert isinstance(result, City)
