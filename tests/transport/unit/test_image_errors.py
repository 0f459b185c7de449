"""A request that carried an image and failed says so (servers' own words are cryptic)."""

from __future__ import annotations

from typing import Any

import pytest
import respx

from client_api import Api
from lmstudio_provider.transport import (
    BadRequestError,
    InvalidParameterError,
    ModelInfo,
    ServerError,
)
from lmstudio_provider.transport._error_mapping import IMAGES_HINT
from lmstudio_provider.transport._messages import has_image_parts

BASE = "http://localhost:1234"
IMAGE = {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="}}
WITH_IMAGE = [{"role": "user", "content": [{"type": "text", "text": "What is it?"}, IMAGE]}]
TEXT_ONLY = [{"role": "user", "content": [{"type": "text", "text": "What is it?"}]}]
# What llama.cpp's server (the stand-in) answers an image sent to a text-only chat template.
LLAMA_CPP_IMAGE_FAILURE = 'can only concatenate str (not "list") to str'


@pytest.fixture
def server(respx_mock: respx.MockRouter) -> respx.MockRouter:
    respx_mock.get(f"{BASE}/api/v1/models").respond(
        200,
        json={
            "models": [
                {
                    "type": "llm",
                    "key": "smollm2-135m-instruct",
                    # Listed with vision: the image is sent, and the server's failure is
                    # reported (a model listed without vision is refused before sending).
                    "capabilities": {"vision": True},
                    "loaded_instances": [{"id": "smollm2-135m-instruct", "config": {}}],
                }
            ]
        },
    )
    return respx_mock


def test_has_image_parts() -> None:
    assert has_image_parts(WITH_IMAGE)
    assert not has_image_parts(TEXT_ONLY)
    assert not has_image_parts([{"role": "user", "content": "a text"}])


@pytest.mark.parametrize(("status", "error"), [(500, ServerError), (400, BadRequestError)])
async def test_a_failed_request_with_an_image_names_the_image(
    api: Api, server: respx.MockRouter, status: int, error: type[Exception]
) -> None:
    server.post(f"{BASE}/v1/chat/completions").respond(
        status, json={"error": LLAMA_CPP_IMAGE_FAILURE}
    )
    with pytest.raises(error) as caught:
        await api.chat(WITH_IMAGE, max_tokens=5)
    failure: Any = caught.value
    assert LLAMA_CPP_IMAGE_FAILURE in failure.message
    assert "carried an image" in failure.message
    assert failure.hint == IMAGES_HINT


async def test_the_same_failure_without_an_image_says_nothing_of_images(
    api: Api, server: respx.MockRouter
) -> None:
    server.post(f"{BASE}/v1/chat/completions").respond(500, json={"error": LLAMA_CPP_IMAGE_FAILURE})
    with pytest.raises(ServerError) as caught:
        await api.chat(TEXT_ONLY, max_tokens=5)
    assert "image" not in caught.value.message
    assert caught.value.hint != IMAGES_HINT


@pytest.mark.parametrize(
    ("model", "refused"),
    [
        (ModelInfo("qwen", type="llm"), True),  # listed without vision
        (ModelInfo("gemma", type="vlm"), False),
        (ModelInfo("qwen", type="llm", capabilities=frozenset({"vision"})), False),
        (ModelInfo("qwen", type="unknown"), False),  # the server did not say: it decides
    ],
)
async def test_images_for_a_model_listed_without_vision_are_refused_before_sending(
    api: Api, respx_mock: respx.MockRouter, model: ModelInfo, refused: bool
) -> None:
    chat = respx_mock.post(f"{BASE}/v1/chat/completions").respond(
        json={"choices": [{"message": {"role": "assistant", "content": "A"}}]}
    )
    if refused:
        with pytest.raises(InvalidParameterError) as caught:
            await api.chat(WITH_IMAGE, model=model)
        assert caught.value.message == (
            "qwen cannot read images: LM Studio lists it without vision. Nothing was sent."
        )
        assert "vision model" in str(caught.value.hint)
        assert chat.call_count == 0
    else:
        await api.chat(WITH_IMAGE, model=model)
        assert chat.call_count == 1
    await api.chat(TEXT_ONLY, model=model)  # text alone is always sent
