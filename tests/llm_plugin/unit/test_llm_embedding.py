"""The embedding models: ``llm embed`` and ``embed-multi``.

Through llm's own command line (click's ``CliRunner``), LM Studio mocked by respx: the
``lmstudio`` fixture (``tests/llm_fixtures.py``) lists ``qwen/qwen3-4b`` (loaded, trained
for tool use), ``google/gemma-3-4b`` (vision) and an embedding model, as LM Studio 0.4
does; each test adds the answers it needs.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx2
import pytest
import respx

from llm_fixtures import (
    NOMIC,
    Invoke,
)

pytestmark = pytest.mark.usefixtures("llm_user_dir")


# -- Embeddings ------------------------------------------------------------------------------


def embeddings_reply(request: Any) -> Any:
    texts = json.loads(request.content)["input"]
    data = [
        {"object": "embedding", "index": i, "embedding": [float(len(t)), 1.0]}
        for i, t in enumerate(texts)
    ]
    return httpx2.Response(
        200,
        json={
            "object": "list",
            "data": data,
            "model": NOMIC,
            "usage": {"prompt_tokens": 0, "total_tokens": 0},
        },
    )


def test_embed(llm_cli: Invoke, lmstudio: respx.MockRouter) -> None:
    route = lmstudio.post("/v1/embeddings").mock(side_effect=embeddings_reply)
    result = llm_cli("embed", "-m", "lmstudio/nomic", "-c", "hello")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == [5.0, 1.0]
    assert json.loads(route.calls[0].request.content) == {"model": NOMIC, "input": ["hello"]}


def test_embed_multi_sends_batches(
    llm_cli: Invoke, lmstudio: respx.MockRouter, tmp_path: Path
) -> None:
    route = lmstudio.post("/v1/embeddings").mock(side_effect=embeddings_reply)
    rows = [{"id": str(i), "text": "x" * (i + 1)} for i in range(70)]
    source = tmp_path / "rows.json"
    source.write_text(json.dumps(rows))
    database = tmp_path / "embeddings.db"
    result = llm_cli(
        "embed-multi", "texts", str(source), "-m", f"lmstudio/{NOMIC}", "-d", str(database)
    )
    assert result.exit_code == 0, result.output
    assert [len(json.loads(call.request.content)["input"]) for call in route.calls] == [64, 6]
    similar = llm_cli("similar", "texts", "-c", "xxx", "-d", str(database), "-n", "1")
    assert json.loads(similar.stdout)["id"] == "2"


def test_an_embedding_error_is_one_line_not_a_traceback(
    llm_cli: Invoke, lmstudio: respx.MockRouter
) -> None:
    lmstudio.post("/v1/embeddings").respond(400, json={"error": "Model is not embedding."})
    result = llm_cli("embed", "-m", f"lmstudio/{NOMIC}", "-c", "hello")
    assert result.exit_code == 1
    assert result.output.startswith("Error: LM Studio could not load the model")
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
