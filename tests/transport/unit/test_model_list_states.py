"""``ModelList.served_models``: the state of each model, as ``health()`` reports it."""

from __future__ import annotations

from lmstudio_provider.transport import ModelList
from lmstudio_provider.transport._models import parse_model_list


def test_an_openai_style_list_is_of_models_the_server_serves() -> None:
    listing = parse_model_list("openai", {"data": [{"id": "llama-3.2-3b"}, {"id": "qwen"}]})
    assert [model.state for model in listing.models] == ["unknown", "unknown"]  # as listed
    assert [model.state for model in listing.served_models] == ["loaded", "loaded"]


def test_lm_studio_lists_keep_their_states() -> None:
    body = {
        "data": [
            {"id": "qwen", "type": "llm", "state": "loaded"},
            {"id": "gemma", "type": "vlm", "state": "not-loaded"},
        ]
    }
    listing: ModelList = parse_model_list("v0", body)
    assert [model.state for model in listing.served_models] == ["loaded", "not-loaded"]
