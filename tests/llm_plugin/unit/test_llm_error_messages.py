"""Errors reach llm users as one line and a hint, never a traceback; nothing is logged.

Through llm's own command line (click's ``CliRunner``), LM Studio mocked by respx: the
``lmstudio`` fixture (``tests/llm_fixtures.py``) lists ``qwen/qwen3-4b`` (loaded, trained
for tool use), ``google/gemma-3-4b`` (vision) and an embedding model, as LM Studio 0.4
does; each test adds the answers it needs.
"""

from __future__ import annotations

import json
from typing import Any

import httpx2
import pytest
import respx

from llm_fixtures import (
    GEMMA,
    QWEN,
    Invoke,
    answered,
    chat,
    logged,
    refuse_connections,
    sent,
    stream_events,
    streamed,
)
from lmstudio_provider.transport._errors import START_SERVER_HINT

pytestmark = pytest.mark.usefixtures("llm_user_dir")


# -- Errors ----------------------------------------------------------------------------------


def test_lm_studio_down_with_nothing_saved(llm_cli: Invoke, lmstudio: respx.MockRouter) -> None:
    refuse_connections(lmstudio)
    listed = llm_cli("models")
    assert listed.exit_code == 0, listed.output
    assert "LM Studio: lmstudio/default (aliases: lmstudio)" in listed.output
    result = llm_cli("-m", "lmstudio", "hi")
    assert result.exit_code == 1
    assert "Unknown model" not in result.output
    assert result.output == (
        "Error: LM Studio is not reachable at http://localhost:1234 "
        "(GET http://localhost:1234/api/v1/models): [Errno 111] Connection refused\n"
        f"Hint: {START_SERVER_HINT}; if it listens elsewhere, set LMSTUDIO_BASE_URL.\n"
    )
    named = llm_cli("-m", f"lmstudio/{QWEN}", "hi")
    assert "is not reachable" in named.output
    assert logged() == []


def test_lm_studio_down_after_a_good_listing_keeps_the_saved_models(
    llm_cli: Invoke, lmstudio: respx.MockRouter
) -> None:
    route = chat(lmstudio)
    assert llm_cli("models").exit_code == 0
    refuse_connections(lmstudio)
    listed = llm_cli("models")
    assert f"LM Studio: lmstudio/{QWEN}" in listed.output
    result = llm_cli("-m", f"lmstudio/{QWEN}", "hi")
    assert result.exit_code == 1
    assert "is not reachable" in result.output
    assert route.call_count == 0  # it failed at once: LM Studio just failed to list


def test_a_busy_server_slow_to_list_still_gets_the_prompt(
    llm_cli: Invoke, lmstudio: respx.MockRouter
) -> None:
    """The plugin's quick listing timed out (the server was busy): the transport lists
    again with the configured timeouts, and the answer comes rather than "may be frozen"."""
    listed = lmstudio.routes["models"].return_value
    assert listed is not None
    lmstudio.routes["models"].side_effect = [httpx2.ReadTimeout("timed out"), listed]
    route = chat(lmstudio, streamed("Hello"))
    result = llm_cli("-m", "lmstudio", "hi")
    assert result.exit_code == 0, result.output
    assert result.stdout == "Hello\n"
    assert sent(route)["model"] == QWEN
    assert lmstudio.routes["models"].call_count == 2  # the plugin's, then the transport's


def test_an_answer_from_another_model_is_refused_and_not_logged(
    llm_cli: Invoke, lmstudio: respx.MockRouter
) -> None:
    chat(lmstudio, answered("I am someone else.", model="mistral-7b-instruct"))
    result = llm_cli("-m", f"lmstudio/{GEMMA}", "--no-stream", "hi")
    assert result.exit_code == 1
    assert (
        f"Error: Asked for model '{GEMMA}', but LM Studio answered with 'mistral-7b-instruct'."
    ) in result.output
    assert f"Hint: Load '{GEMMA}'" in result.output
    assert logged() == []


def test_a_stream_that_breaks_is_an_error_and_its_partial_answer_is_logged(
    llm_cli: Invoke, lmstudio: respx.MockRouter
) -> None:
    first = stream_events(["Once upon"], model=QWEN)[0]
    crash = {"error": "The model has crashed without additional information."}
    # Two reads, as a server sends them: the text arrives before the error does.
    reads = iter(
        [f"data: {json.dumps(first)}\n\n".encode(), f"data: {json.dumps(crash)}\n\n".encode()]
    )
    chat(
        lmstudio, httpx2.Response(200, content=reads, headers={"Content-Type": "text/event-stream"})
    )
    result = llm_cli("-m", "lmstudio", "hi")
    assert result.exit_code == 1
    assert "Once upon" in result.stdout  # what had arrived was shown
    assert "The model crashed while answering" in result.output
    assert "Traceback" not in result.output
    assert [row["response"] for row in logged()] == ["Once upon"]  # see test_partial_answer_logged


@pytest.mark.parametrize(
    ("status", "body", "expected"),
    [
        (500, {"error": "boom"}, "LM Studio failed (HTTP 500)"),
        (400, {"error": "No models loaded. Please load a model."}, "LM Studio has no model loaded"),
        (401, {"error": {"code": "invalid_api_key", "message": "token"}}, "LMSTUDIO_API_KEY"),
    ],
)
def test_every_transport_error_is_a_model_error_with_its_hint(
    llm_cli: Invoke, lmstudio: respx.MockRouter, status: int, body: Any, expected: str
) -> None:
    chat(lmstudio, httpx2.Response(status, json=body))
    result = llm_cli("-m", "lmstudio", "--no-stream", "hi")
    assert result.exit_code == 1
    assert result.output.startswith("Error: ")
    assert expected in result.output
    assert "\nHint: " in result.output
    assert "Traceback" not in result.output


def test_the_model_error_is_llms(lmstudio: respx.MockRouter) -> None:
    import llm

    chat(lmstudio, httpx2.Response(500, json={"error": "boom"}))
    model = llm.get_model("lmstudio")
    with pytest.raises(llm.ModelError, match=r"HTTP 500[\s\S]*Hint: "):
        model.prompt("hi", stream=False).text()
