"""``register_models``: every LLM LM Studio lists, the default model, asked names.

Through llm's own command line (click's ``CliRunner``), LM Studio mocked by respx: the
``lmstudio`` fixture (``tests/llm_fixtures.py``) lists ``qwen/qwen3-4b`` (loaded, trained
for tool use), ``google/gemma-3-4b`` (vision) and an embedding model, as LM Studio 0.4
does; each test adds the answers it needs.
"""

from __future__ import annotations

import json

import pytest
import respx

from llm_fixtures import (
    GEMMA,
    NOMIC,
    QWEN,
    Invoke,
    answered,
    chat,
    sent,
)

pytestmark = pytest.mark.usefixtures("llm_user_dir")


# -- Models ------------------------------------------------------------------------------


def test_llm_models_lists_every_llm_and_the_default(
    llm_cli: Invoke, lmstudio: respx.MockRouter
) -> None:
    result = llm_cli("models")
    assert result.exit_code == 0, result.output
    lines = [line for line in result.output.splitlines() if line.startswith("LM Studio")]
    assert lines == [
        "LM Studio: lmstudio/default (aliases: lmstudio)",
        f"LM Studio: lmstudio/{QWEN}",
        f"LM Studio: lmstudio/{GEMMA}",
    ]
    assert lmstudio.routes["models"].call_count == 1  # llm asks for models once per command
    embedding = llm_cli("embed-models")
    assert f"LM Studio: lmstudio/{NOMIC}" in embedding.output


def test_capabilities_come_from_each_models_info(
    llm_cli: Invoke, lmstudio: respx.MockRouter
) -> None:
    tools = llm_cli("models", "--tools")
    assert f"lmstudio/{QWEN}" in tools.output
    assert f"lmstudio/{GEMMA}" not in tools.output  # not trained for tool use
    options = json.loads(llm_cli("models", "--json").output)
    by_id = {model["model_id"]: model for model in options}
    assert by_id[f"lmstudio/{GEMMA}"]["attachment_types"] == [
        "image/jpeg",
        "image/png",
        "image/webp",
    ]
    assert by_id[f"lmstudio/{QWEN}"]["attachment_types"] == []
    assert by_id["lmstudio/default"]["supports_tools"]  # decided when the prompt runs
    assert all(
        model["can_stream"] and model["supports_async"]
        for model in options
        if model["model_id"].startswith("lmstudio/")
    )


def test_the_default_model_follows_the_configured_default_model(
    llm_cli: Invoke, lmstudio: respx.MockRouter, monkeypatch: pytest.MonkeyPatch
) -> None:
    route = chat(lmstudio, answered("Hi", model=GEMMA))
    monkeypatch.setenv("LMSTUDIO_DEFAULT_MODEL", "gemma")
    assert llm_cli("-m", "lmstudio", "--no-stream", "hi").exit_code == 0
    assert sent(route)["model"] == GEMMA  # not QWEN, the loaded one
