"""Images for a model LM Studio lists without vision are refused before anything is
sent (the transport's rule, the same for the llm plugin); a vision model gets them."""

from __future__ import annotations

import asyncio

import pytest
import respx
from langchain_core.messages import HumanMessage

from langchain_fakes import CAPTURED_MODEL, CHAT_URL, completion, serve_models
from lmstudio_provider import InvalidParameterError
from lmstudio_provider.langchain import ChatLMStudio

IMAGE = HumanMessage(
    [
        {"type": "text", "text": "Describe."},
        {"type": "image", "base64": "iVBORw0KGgo=", "mime_type": "image/png"},
    ]
)


async def test_an_image_for_a_model_listed_without_vision_is_refused(
    kind: str, respx_mock: respx.MockRouter
) -> None:
    serve_models(respx_mock, (CAPTURED_MODEL, "llm"))
    chat = respx_mock.post(CHAT_URL).respond(200, json=completion({"content": "A cat."}))
    model = ChatLMStudio(model=CAPTURED_MODEL)
    with pytest.raises(InvalidParameterError) as caught:
        await (
            asyncio.to_thread(model.invoke, [IMAGE]) if kind == "sync" else model.ainvoke([IMAGE])
        )
    assert caught.value.message.startswith(f"{CAPTURED_MODEL} cannot read images")
    assert chat.call_count == 0
    assert model.invoke("Describe a cat.").content == "A cat."  # text alone is sent
