"""The plugin through llm's own command line (click's ``CliRunner``), LM Studio mocked by respx.

The ``lmstudio`` fixture (``tests/llm_fixtures.py``) lists ``qwen/qwen3-4b`` (loaded,
trained for tool use), ``google/gemma-3-4b`` (vision) and an embedding model, as
LM Studio 0.4 does; each test adds the answers it needs.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import httpx2
import pytest
import respx

from llm_fixtures import (
    GEMMA,
    NOMIC,
    QWEN,
    Invoke,
    completion,
    logged,
    sse,
    stream_events,
)
from lmstudio_provider.transport._errors import START_SERVER_HINT

pytestmark = pytest.mark.usefixtures("llm_user_dir")

PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)


def streamed(*pieces: str, model: str = QWEN, **options: Any) -> httpx2.Response:
    body = sse(stream_events(pieces, model=model, **options))
    return httpx2.Response(200, content=body, headers={"Content-Type": "text/event-stream"})


def answered(text: str, model: str = QWEN, **options: Any) -> httpx2.Response:
    return httpx2.Response(200, json=completion(text, model=model, **options))


def chat(lmstudio: respx.MockRouter, *replies: Any) -> respx.Route:
    route = lmstudio.post("/v1/chat/completions", name="chat")
    route.side_effect = list(replies)
    return route


def sent(route: respx.Route, call: int = -1) -> dict[str, Any]:
    body: dict[str, Any] = json.loads(route.calls[call].request.content)
    return body


def refuse_connections(lmstudio: respx.MockRouter) -> None:
    lmstudio.routes["models"].side_effect = httpx2.ConnectError("[Errno 111] Connection refused")


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


# -- Prompts ----------------------------------------------------------------------------


def test_the_default_model_streams_with_one_listing_and_one_chat(
    llm_cli: Invoke, lmstudio: respx.MockRouter
) -> None:
    route = chat(lmstudio, streamed("Hello", ", world", "!"))
    result = llm_cli("-m", "lmstudio", "Say hello")
    assert result.exit_code == 0, result.output
    assert result.stdout == "Hello, world!\n"
    body = sent(route)
    assert body["model"] == QWEN  # the loaded model, resolved when the prompt ran
    assert body["stream"] is True
    assert body["messages"] == [{"role": "user", "content": "Say hello"}]
    assert len(lmstudio.calls) == 2  # one model list (shared with the transport), one chat
    [row] = logged()
    assert row["model"] == "lmstudio/default"
    assert row["resolved_model"] == QWEN
    assert row["response"] == "Hello, world!"
    assert (row["input_tokens"], row["output_tokens"]) == (12, 5)


def test_no_stream_system_prompt_and_options(llm_cli: Invoke, lmstudio: respx.MockRouter) -> None:
    route = chat(lmstudio, answered("Paris."))
    result = llm_cli(
        "-m", f"lmstudio/{QWEN}", "--no-stream", "-s", "Be brief.", "Capital of France?",
        "-o", "temperature", "0.2", "-o", "top_k", "40", "-o", "min_p", "0.05",
        "-o", "stop", '["END", "STOP"]', "-o", "logit_bias", '{"1": -100}',
        "-o", "repeat_penalty", "1.1", "-o", "seed", "3", "-o", "max_tokens", "50",
        "-o", "ttl", "600", "-o", "cache_prompt", "true", "-o", "reasoning_effort", "low",
        "-o", "extra", '{"top_n_sigma": 1}',
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert result.stdout == "Paris.\n"
    body = sent(route)
    assert "stream" not in body
    assert body["messages"] == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Capital of France?"},
    ]
    assert {key: body[key] for key in body if key not in ("model", "messages")} == {
        "temperature": 0.2,
        "top_k": 40,
        "min_p": 0.05,
        "stop": ["END", "STOP"],
        "logit_bias": {"1": -100.0},
        "repeat_penalty": 1.1,
        "seed": 3,
        "max_tokens": 50,
        "ttl": 600,
        "cache_prompt": True,
        "reasoning_effort": "low",
        "top_n_sigma": 1,
    }


def test_a_unique_part_of_an_id_names_that_model(
    llm_cli: Invoke, lmstudio: respx.MockRouter
) -> None:
    route = chat(lmstudio, streamed("Hi", model=GEMMA))
    result = llm_cli("-m", "lmstudio/gemma", "hi")
    assert result.exit_code == 0, result.output
    assert sent(route)["model"] == GEMMA
    assert logged()[0]["model"] == f"lmstudio/{GEMMA}"  # logged under its full id


def test_a_name_matching_several_models_lists_them(
    llm_cli: Invoke, lmstudio: respx.MockRouter
) -> None:
    route = chat(lmstudio)
    result = llm_cli("-m", "lmstudio/4b", "hi")
    assert result.exit_code == 1
    assert f"Error: Model name '4b' matches 2 models: {QWEN}, {GEMMA}." in result.output
    assert "Hint: Use more of the id, or the full id." in result.output
    assert route.call_count == 0


def test_an_unknown_name_gets_lm_studios_list_not_unknown_model(
    llm_cli: Invoke, lmstudio: respx.MockRouter
) -> None:
    result = llm_cli("-m", "lmstudio/mistral-7b", "hi")
    assert result.exit_code == 1
    assert "Unknown model" not in result.output
    assert f"LM Studio has no model 'mistral-7b'. Available: {QWEN}, {GEMMA}." in result.output
    assert "lms get" in result.output


def test_a_conversation_sends_the_history(llm_cli: Invoke, lmstudio: respx.MockRouter) -> None:
    route = chat(lmstudio, streamed("Hi there."), answered("You said hi."))
    assert llm_cli("-m", "lmstudio", "-s", "Be kind.", "hi").exit_code == 0
    result = llm_cli("-c", "--no-stream", "What did I say?")
    assert result.exit_code == 0, result.output
    assert sent(route)["messages"] == [
        {"role": "system", "content": "Be kind."},
        {"role": "user", "content": "hi"},
        {"role": "assistant", "content": "Hi there."},
        {"role": "user", "content": "What did I say?"},
    ]
    rows = logged()
    assert rows[0]["conversation_id"] == rows[1]["conversation_id"]


def test_fragments_join_the_prompt(
    llm_cli: Invoke, lmstudio: respx.MockRouter, tmp_path: Path
) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("The meeting is at noon.")
    route = chat(lmstudio, answered("Noon."))
    result = llm_cli("-m", "lmstudio", "--no-stream", "-f", str(notes), "When is it?")
    assert result.exit_code == 0, result.output
    assert sent(route)["messages"] == [
        {"role": "user", "content": "The meeting is at noon.\nWhen is it?"}
    ]


def test_usage_the_answering_model_and_lm_studios_stats_are_logged(
    llm_cli: Invoke, lmstudio: respx.MockRouter
) -> None:
    stats = {"tokens_per_second": 42.5, "time_to_first_token": 0.1, "stop_reason": "eosFound"}
    chat(lmstudio, answered("Four.", usage=(20, 2), stats=stats))
    assert llm_cli("-m", "lmstudio", "--no-stream", "2+2?", "-u").exit_code == 0
    [row] = logged()
    assert (row["input_tokens"], row["output_tokens"]) == (20, 2)
    assert row["resolved_model"] == QWEN
    response_json = row["response_json"]
    assert response_json["stats"] == stats
    assert response_json["usage"]["total_tokens"] == 22
    assert response_json["metrics"]["tokens_per_second"] == 42.5  # LM Studio's own figure
    assert response_json["finish_reason"] == "stop"
    assert response_json["id"] == "chatcmpl-test"


def test_reasoning_is_shown_as_llm_shows_it_and_hidden_with_r(
    llm_cli: Invoke, lmstudio: respx.MockRouter
) -> None:
    chat(
        lmstudio,
        streamed("42", reasoning=["Let me ", "think."]),
        streamed("42", reasoning=["Let me ", "think."]),
    )
    shown = llm_cli("-m", "lmstudio", "Answer?")
    assert shown.exit_code == 0, shown.output
    assert shown.stdout == "42\n"
    assert "Let me think." in shown.stderr
    hidden = llm_cli("-m", "lmstudio", "-R", "Answer?")
    assert hidden.stdout == "42\n"
    assert "Let me think." not in hidden.stderr
    assert "Let me think." not in json.dumps(logged()[0]["response"])


def test_inline_think_tags_become_reasoning(llm_cli: Invoke, lmstudio: respx.MockRouter) -> None:
    chat(lmstudio, streamed("<think>Hm", "m.</think>", "\n\nYes."))
    result = llm_cli("-m", "lmstudio", "Sure?")
    assert result.stdout == "Yes.\n"
    assert "Hmm." in result.stderr


# -- Tools and schemas ----------------------------------------------------------------------


def tool_call(call_id: str, name: str, arguments: str, index: int = 0) -> dict[str, Any]:
    return {
        "index": index,
        "id": call_id,
        "type": "function",
        "function": {"name": name, "arguments": arguments},
    }


def test_a_tool_chain_streams_the_call_and_sends_the_result_back(
    llm_cli: Invoke, lmstudio: respx.MockRouter
) -> None:
    route = chat(
        lmstudio,
        streamed(tool_calls=[tool_call("123", "llm_version", "")]),
        streamed("You run llm 0.36."),
    )
    result = llm_cli("-m", "lmstudio", "-T", "llm_version", "Which llm?", "--td")
    assert result.exit_code == 0, result.output
    assert "Tool call: llm_version({})" in result.output
    assert result.stdout.endswith("You run llm 0.36.\n")
    first, second = sent(route, 0), sent(route, 1)
    assert first["tools"][0]["function"]["name"] == "llm_version"
    assert second["messages"][1:] == [
        {
            "role": "assistant",
            "content": "",
            "tool_calls": [
                {
                    "id": "123",
                    "type": "function",
                    "function": {"name": "llm_version", "arguments": "{}"},
                }
            ],
        },
        {"role": "tool", "tool_call_id": "123", "content": "0.36"},
    ]


def test_a_tool_call_not_streamed(llm_cli: Invoke, lmstudio: respx.MockRouter) -> None:
    call = {
        "id": "9",
        "type": "function",
        "function": {"name": "llm_version", "arguments": "{}"},
    }
    route = chat(lmstudio, answered("", tool_calls=[call]), answered("It is 0.36."))
    result = llm_cli("-m", "lmstudio", "--no-stream", "-T", "llm_version", "Which llm?")
    assert result.exit_code == 0, result.output
    assert result.stdout == "It is 0.36.\n"
    assert sent(route)["messages"][-1] == {"role": "tool", "tool_call_id": "9", "content": "0.36"}


def test_a_model_listed_without_tool_use_refuses_tools(
    llm_cli: Invoke, lmstudio: respx.MockRouter
) -> None:
    route = chat(lmstudio)
    result = llm_cli("-m", f"lmstudio/{GEMMA}", "-T", "llm_version", "Which llm?")
    assert result.exit_code == 1
    assert "does not support tools" in result.output
    assert route.call_count == 0


def test_a_schema_is_sent_as_lm_studios_json_schema(
    llm_cli: Invoke, lmstudio: respx.MockRouter
) -> None:
    route = chat(lmstudio, streamed('{"name": "Rex", ', '"age": 3}'))
    result = llm_cli("-m", "lmstudio", "--schema", "name, age int", "Invent a dog")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {"name": "Rex", "age": 3}
    response_format = sent(route)["response_format"]
    assert response_format["type"] == "json_schema"
    assert response_format["json_schema"]["strict"] is True
    assert response_format["json_schema"]["schema"]["properties"]["age"] == {"type": "integer"}


def test_schema_multi(llm_cli: Invoke, lmstudio: respx.MockRouter) -> None:
    route = chat(lmstudio, answered('{"items": [{"name": "Rex", "age": 3}]}'))
    result = llm_cli("-m", "lmstudio", "--no-stream", "--schema-multi", "name, age int", "Dogs")
    assert result.exit_code == 0, result.output
    schema = sent(route)["response_format"]["json_schema"]["schema"]
    assert schema["properties"]["items"]["type"] == "array"


# -- Attachments ----------------------------------------------------------------------------


def test_an_image_reaches_a_vision_model_as_a_data_uri(
    llm_cli: Invoke, lmstudio: respx.MockRouter, tmp_path: Path
) -> None:
    image = tmp_path / "pixel.png"
    image.write_bytes(PNG)
    route = chat(lmstudio, streamed("A pixel.", model=GEMMA))
    result = llm_cli("-m", f"lmstudio/{GEMMA}", "Describe", "-a", str(image))
    assert result.exit_code == 0, result.output
    [message] = sent(route)["messages"]
    assert message["content"] == [
        {"type": "text", "text": "Describe"},
        {
            "type": "image_url",
            "image_url": {"url": "data:image/png;base64," + base64.b64encode(PNG).decode()},
        },
    ]


def test_an_image_for_a_model_without_vision_is_an_error_not_a_silent_drop(
    llm_cli: Invoke, lmstudio: respx.MockRouter, tmp_path: Path
) -> None:
    image = tmp_path / "pixel.png"
    image.write_bytes(PNG)
    route = chat(lmstudio)
    listed = llm_cli("-m", f"lmstudio/{QWEN}", "Describe", "-a", str(image))
    assert listed.exit_code == 1
    assert "does not support attachments" in listed.output
    # The default model resolves to QWEN when the prompt runs; it is refused then.
    default = llm_cli("-m", "lmstudio", "Describe", "-a", str(image))
    assert default.exit_code == 1
    assert f"{QWEN} cannot read images: LM Studio lists it without vision" in default.output
    assert route.call_count == 0


# -- Keys ---------------------------------------------------------------------------------


def test_the_api_key_from_llm_keys_or_the_key_option(
    llm_cli: Invoke, lmstudio: respx.MockRouter
) -> None:
    route = chat(lmstudio, answered("ok"), answered("ok"))
    assert llm_cli("keys", "set", "lmstudio", "--value", "sk-lm-stored:key").exit_code == 0
    assert llm_cli("-m", "lmstudio", "--no-stream", "hi").exit_code == 0
    assert lmstudio.calls[-2].request.headers["Authorization"] == "Bearer sk-lm-stored:key"
    assert route.calls[0].request.headers["Authorization"] == "Bearer sk-lm-stored:key"
    assert llm_cli("-m", "lmstudio", "--no-stream", "--key", "sk-lm-other", "hi").exit_code == 0
    assert route.calls[1].request.headers["Authorization"] == "Bearer sk-lm-other"


def test_no_key_is_fine(llm_cli: Invoke, lmstudio: respx.MockRouter) -> None:
    route = chat(lmstudio, answered("ok"))
    assert llm_cli("-m", "lmstudio", "--no-stream", "hi").exit_code == 0
    assert "Authorization" not in route.calls[0].request.headers


# -- Async ---------------------------------------------------------------------------------


def test_async_streams_and_waits(llm_cli: Invoke, lmstudio: respx.MockRouter) -> None:
    route = chat(lmstudio, streamed("as", "ync"), answered("whole"))
    streaming = llm_cli("-m", "lmstudio", "--async", "hi")
    assert streaming.exit_code == 0, streaming.output
    assert streaming.stdout == "async\n"
    waiting = llm_cli("-m", "lmstudio", "--async", "--no-stream", "hi")
    assert waiting.stdout == "whole\n"
    assert sent(route, 0)["stream"] is True
    assert "stream" not in sent(route, 1)
    rows = logged()
    assert [row["resolved_model"] for row in rows] == [QWEN, QWEN]
    assert rows[0]["output_tokens"] == 5


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


def test_a_stream_that_breaks_is_an_error_and_nothing_is_logged(
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
    assert logged() == []


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


# -- llm lmstudio ... ---------------------------------------------------------------------------


def test_lmstudio_models_table_and_json(llm_cli: Invoke, lmstudio: respx.MockRouter) -> None:
    result = llm_cli("lmstudio", "models")
    assert result.exit_code == 0, result.output
    header, *rows = result.output.splitlines()
    assert header.split() == [
        "ID", "TYPE", "STATE", "QUANTIZATION", "CONTEXT", "CAPABILITIES", "INSTANCES"
    ]  # fmt: skip
    assert rows[0].split() == [QWEN, "llm", "loaded", "Q4_K_M", "4096/32768", "tool_use", QWEN]
    assert rows[1].split() == [GEMMA, "vlm", "not-loaded", "Q4_K_M", "32768", "vision", "-"]
    assert rows[2].split() == [NOMIC, "embeddings", "not-loaded", "Q4_K_M", "2048", "-", "-"]
    as_json = json.loads(llm_cli("lmstudio", "models", "--json").output)
    assert as_json[0]["llm_model_id"] == f"lmstudio/{QWEN}"
    assert as_json[0]["capabilities"] == ["tool_use"]


def test_lmstudio_health(llm_cli: Invoke, lmstudio: respx.MockRouter) -> None:
    lmstudio.get("/lmstudio-greeting").respond(json={"lmstudio": True})
    result = llm_cli("lmstudio", "health")
    assert result.exit_code == 0, result.output
    assert "Status:   ok" in result.output
    assert "Server:   http://localhost:1234 (lmstudio)" in result.output
    assert f"loaded: {QWEN}" in result.output
    assert "connect timeout 10.0 s" in result.output
    report = json.loads(llm_cli("lmstudio", "health", "--json").output)
    assert report["status"] == "ok"
    assert report["loaded_models"] == [QWEN]
    assert report["http"]["timeout_secs"] == 60.0


def test_lmstudio_health_exits_1_when_unhealthy(
    llm_cli: Invoke, lmstudio: respx.MockRouter
) -> None:
    lmstudio.get("/lmstudio-greeting").mock(side_effect=httpx2.ConnectError("refused"))
    result = llm_cli("lmstudio", "health")
    assert result.exit_code == 1
    assert "Status:   unreachable" in result.output
    assert "Hint:     start the server" in result.output
    assert json.loads(llm_cli("lmstudio", "health", "--json").output)["status"] == "unreachable"


def test_lmstudio_config_shows_sources_and_masks_secrets(
    llm_cli: Invoke, monkeypatch: pytest.MonkeyPatch, llm_user_dir: Path
) -> None:
    monkeypatch.setenv("LMSTUDIO_BASE_URL", "http://127.0.0.1:4321/v1")
    monkeypatch.setenv("LMSTUDIO_API_KEY", "sk-lm-SECRET")
    result = llm_cli("lmstudio", "config")
    assert result.exit_code == 0, result.output
    assert "sk-lm-SECRET" not in result.output
    rows = {line.split()[0]: line.split()[1:] for line in result.output.splitlines() if line}
    assert rows["base_url"] == ["http://127.0.0.1:4321", "environment", "LMSTUDIO_BASE_URL"]
    assert rows["api_key"] == ["********", "environment", "LMSTUDIO_API_KEY"]
    assert rows["max_retries"] == ["2", "default"]
    assert f"Models cache:  {llm_user_dir / 'lmstudio-models.json'}" in result.output
    monkeypatch.delenv("LMSTUDIO_API_KEY")
    assert llm_cli("keys", "set", "lmstudio", "--value", "sk-lm-STORED").exit_code == 0
    stored = json.loads(llm_cli("lmstudio", "config", "--json").output)
    assert stored["settings"]["api_key"] == {"value": "********", "source": "llm keys (lmstudio)"}
    assert "sk-lm-STORED" not in json.dumps(stored)


def test_lmstudio_config_reports_a_bad_setting(
    llm_cli: Invoke, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LMSTUDIO_MAX_RETRIES", "many")
    result = llm_cli("lmstudio", "config")
    assert result.exit_code == 1
    assert "Error: Invalid configuration: max_retries='many'" in result.output
    assert "from environment variable LMSTUDIO_MAX_RETRIES" in result.output


def test_lmstudio_config_with_bad_settings_still_shows_each_setting_as_given(
    llm_cli: Invoke, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, llm_user_dir: Path
) -> None:
    """The error's hint sends the user here: the table is shown, then what is wrong."""
    config = tmp_path / "config.yaml"
    config.write_text(
        "inference:\n  base_url: localhost:1234\n  api_key: sk-lm-FILE\n"
        "  http:\n    timeout_secs: 5\n"
    )
    monkeypatch.setenv("LMSTUDIO_CONFIG", str(config))
    monkeypatch.setenv("LMSTUDIO_MAX_RETRIES", "many")
    result = llm_cli("lmstudio", "config")
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    assert "sk-lm-FILE" not in result.output
    rows = {
        line.split()[0]: line.split()[1:]
        for line in result.stdout.splitlines()
        if line and not line.startswith(("Config file:", "Models cache:"))
    }
    assert rows["SETTING"] == ["VALUE", "SOURCE"]
    assert rows["base_url"] == ["localhost:1234", "file", f"{config}", "(inference.base_url)"]
    assert rows["api_key"] == ["********", "file", f"{config}", "(inference.api_key)"]
    assert rows["http.timeout_secs"][:2] == ["5", "file"]
    assert rows["max_retries"] == ["many", "environment", "LMSTUDIO_MAX_RETRIES"]
    assert rows["http.connect_timeout_secs"] == ["10", "default"]
    assert f"Config file:   {config} (LMSTUDIO_CONFIG)" in result.stdout
    assert f"Models cache:  {llm_user_dir / 'lmstudio-models.json'}" in result.stdout
    error = result.stderr
    assert error.startswith("Error: Invalid configuration: ")
    assert f"base_url='localhost:1234' from config file {config}" in error
    assert "max_retries='many' from environment variable LMSTUDIO_MAX_RETRIES" in error
    assert "\nHint: " in error
    as_json = llm_cli("lmstudio", "config", "--json")
    assert as_json.exit_code == 1
    report = json.loads(as_json.stdout)
    assert report["settings"]["max_retries"] == {
        "value": "many",
        "source": "environment LMSTUDIO_MAX_RETRIES",
    }
    assert report["settings"]["api_key"]["value"] == "********"
    assert report["error"]["message"].startswith("Invalid configuration: ")
    assert report["error"]["hint"]
    assert "sk-lm-FILE" not in as_json.output


def test_lmstudio_config_with_a_bad_setting_names_the_key_llm_holds(
    llm_cli: Invoke, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert llm_cli("keys", "set", "lmstudio", "--value", "sk-lm-STORED").exit_code == 0
    monkeypatch.setenv("LMSTUDIO_HTTP_TIMEOUT_SECS", "-1")
    result = llm_cli("lmstudio", "config")
    assert result.exit_code == 1
    assert "sk-lm-STORED" not in result.output
    rows = {line.split()[0]: line.split()[1:] for line in result.stdout.splitlines() if line}
    assert rows["api_key"] == ["********", "llm", "keys", "(lmstudio)"]
    assert rows["http.timeout_secs"] == ["-1", "environment", "LMSTUDIO_HTTP_TIMEOUT_SECS"]
    assert "http.timeout_secs='-1'" in result.stderr


def test_the_default_model_follows_the_configured_default_model(
    llm_cli: Invoke, lmstudio: respx.MockRouter, monkeypatch: pytest.MonkeyPatch
) -> None:
    route = chat(lmstudio, answered("Hi", model=GEMMA))
    monkeypatch.setenv("LMSTUDIO_DEFAULT_MODEL", "gemma")
    assert llm_cli("-m", "lmstudio", "--no-stream", "hi").exit_code == 0
    assert sent(route)["model"] == GEMMA  # not QWEN, the loaded one


def test_python_functions_as_tools(llm_cli: Invoke, lmstudio: respx.MockRouter) -> None:
    route = chat(
        lmstudio,
        streamed(tool_calls=[tool_call("1", "add", '{"a": 2, "b": 3}')]),
        streamed("5"),
    )
    function = "def add(a: int, b: int) -> int:\n    return a + b\n"
    result = llm_cli("-m", "lmstudio", "--functions", function, "2+3?")
    assert result.exit_code == 0, result.output
    assert result.stdout.endswith("5\n")
    assert sent(route)["messages"][-1] == {"role": "tool", "tool_call_id": "1", "content": "5"}
