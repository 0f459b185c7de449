"""A model resolved once: ``chat``/``stream_chat`` take the ``ModelInfo`` that
``resolve_model`` returned and do not look it up again (a front end checks what it
needs against it, such as vision for images, then sends)."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
import respx

from client_api import Api
from lmstudio_provider.transport import ModelInfo, ModelNotAllowedError

BASE = "http://localhost:1234"
LISTED = {
    "models": [
        {"type": "llm", "key": "qwen/qwen3-4b", "loaded_instances": [{"id": "qwen/qwen3-4b"}]},
        {"type": "llm", "key": "google/gemma-3-4b", "loaded_instances": []},
    ]
}
ANSWER = {
    "model": "qwen/qwen3-4b",
    "choices": [
        {"index": 0, "message": {"role": "assistant", "content": "Hi"}, "finish_reason": "stop"}
    ],
}
MESSAGES = [{"role": "user", "content": "Hi"}]


async def test_a_resolved_model_is_sent_as_it_is(api: Api, respx_mock: respx.MockRouter) -> None:
    models = respx_mock.get(f"{BASE}/api/v1/models").respond(json=LISTED)
    chat = respx_mock.post(f"{BASE}/v1/chat/completions").respond(json=ANSWER)
    info = await api.resolve_model("qwen")
    assert models.call_count == 1
    result = await api.chat(MESSAGES, model=info)
    assert result.text == "Hi"
    assert json.loads(chat.calls[-1].request.content)["model"] == "qwen/qwen3-4b"
    assert models.call_count == 1  # not listed, nor resolved, again


async def test_a_resolved_model_outside_allowed_models_is_refused(
    make_api: Callable[..., Api], respx_mock: respx.MockRouter
) -> None:
    chat = respx_mock.post(f"{BASE}/v1/chat/completions").respond(json=ANSWER)
    api = make_api(allowed_models=["qwen/qwen3-4b"])
    with pytest.raises(ModelNotAllowedError):
        await api.chat(MESSAGES, model=ModelInfo("google/gemma-3-4b", type="llm"))
    assert chat.call_count == 0  # nothing was sent
