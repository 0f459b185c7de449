"""What ``llm models --options`` and ``llm lmstudio models`` say a model can do.

Through llm's own command line, LM Studio mocked by respx (the ``lmstudio`` fixture of
``tests/llm_fixtures.py``: ``qwen/qwen3-4b`` loaded and trained for tool use,
``google/gemma-3-4b`` with vision); other tests swap its model list for an older
LM Studio's or an OpenAI-style server's, which do not say.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import respx

from llm_fixtures import GEMMA, PNG, QWEN, Invoke, answered, chat, sent

pytestmark = pytest.mark.usefixtures("llm_user_dir")

LLAMA = "llama-3.2-3b"
IMAGE_TYPES = "image/jpeg, image/png, image/webp"


def model_block(output: str, model_id: str) -> str:
    """The lines ``llm models --options`` prints for one model (up to the next model)."""
    blocks = output.split("\nLM Studio")
    return next(block for block in blocks if f": {model_id}" in block.splitlines()[0])


def as_openai_server(lmstudio: respx.MockRouter) -> None:
    """No LM Studio list: only ``/v1/models`` answers, with ids only (as llama.cpp)."""
    lmstudio.routes["models"].respond(404, text="Not Found")
    lmstudio.get("/api/v0/models").respond(404, text="Not Found")
    lmstudio.get("/v1/models").respond(json={"object": "list", "data": [{"id": LLAMA}]})


def test_lm_studio_lists_images_only_for_vision_and_tools_only_for_tool_use(
    llm_cli: Invoke, lmstudio: respx.MockRouter
) -> None:
    result = llm_cli("models", "--options")
    assert result.exit_code == 0, result.output
    vision = model_block(result.output, f"lmstudio/{GEMMA}")
    assert "Attachment types:" in vision
    assert IMAGE_TYPES in vision
    assert "- schemas" in vision
    assert "- tools" not in vision  # not trained for tool use
    tools = model_block(result.output, f"lmstudio/{QWEN}")
    assert "Attachment types:" not in tools  # no vision
    assert "- schemas" in tools
    assert "- tools" in tools
    assert "unknown" not in vision.splitlines()[0] + tools.splitlines()[0]


def test_an_older_lm_studio_that_does_not_say_tool_use_says_it_is_unknown(
    llm_cli: Invoke, lmstudio: respx.MockRouter
) -> None:
    lmstudio.routes["models"].respond(404, text="Not Found")
    lmstudio.get("/api/v0/models").respond(
        json={"data": [{"id": GEMMA, "type": "vlm", "state": "loaded"}]}
    )
    result = llm_cli("models", "--options")
    block = model_block(result.output, f"lmstudio/{GEMMA}")
    assert block.splitlines()[0] == (
        f": lmstudio/{GEMMA} (tool use unknown: tools are sent as asked; the server decides)"
    )
    assert IMAGE_TYPES in block  # vision is listed
    assert "- tools" in block  # not refused by llm: the server decides


def test_an_openai_style_server_says_capabilities_are_unknown(
    llm_cli: Invoke, lmstudio: respx.MockRouter
) -> None:
    as_openai_server(lmstudio)
    result = llm_cli("models", "--options")
    assert result.exit_code == 0, result.output
    block = model_block(result.output, f"lmstudio/{LLAMA}")
    assert block.splitlines()[0] == (
        f": lmstudio/{LLAMA} (capabilities unknown: images, tools and schemas are sent as "
        "asked; the server decides)"
    )
    listed = json.loads(llm_cli("models", "--json").output)
    llama = next(model for model in listed if model["model_id"] == f"lmstudio/{LLAMA}")
    # llm refuses what a model says it cannot take: unknown is let through.
    assert (llama["supports_schema"], llama["supports_tools"]) == (True, True)


def test_an_openai_style_server_still_gets_images_and_schemas_as_asked(
    llm_cli: Invoke, lmstudio: respx.MockRouter, tmp_path: Path
) -> None:
    as_openai_server(lmstudio)
    route = chat(lmstudio, answered('{"name": "Pelly"}', model=LLAMA))
    image = tmp_path / "pelican.png"
    image.write_bytes(PNG)
    result = llm_cli(
        "-m", f"lmstudio/{LLAMA}", "--no-stream", "--schema", "name str", "-a", str(image), "hi"
    )
    assert result.exit_code == 0, result.output
    body = sent(route)
    assert body["response_format"]["type"] == "json_schema"
    parts = body["messages"][-1]["content"]
    assert any(part.get("type") == "image_url" for part in parts)


def test_lmstudio_models_on_an_openai_style_server_agrees_with_health(
    llm_cli: Invoke, lmstudio: respx.MockRouter
) -> None:
    as_openai_server(lmstudio)
    lmstudio.get("/lmstudio-greeting").respond(404, text="Not Found")
    health = json.loads(llm_cli("lmstudio", "health", "--json").output)
    assert health["loaded_models"] == [LLAMA]
    result = llm_cli("lmstudio", "models")
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[1].split()[:3] == [LLAMA, "unknown", "loaded"]
    listed = json.loads(llm_cli("lmstudio", "models", "--json").output)
    assert listed[0]["state"] == "loaded"
