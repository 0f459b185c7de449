"""What ``LMStudioClient`` and ``AsyncLMStudioClient`` send for a chat: body, translations,
headers and logs.

Every test runs against both clients (the ``api`` fixture is parametrized) with
respx standing in for LM Studio: no socket is opened.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from typing import Any

import httpx2
import pytest
import respx

from chat_fakes import (
    BASE_BODY,
    CHAT_URL,
    STREAM_FIELDS,
    TOOL_A,
    TOOL_B,
    chunk,
    completion,
    sent_body,
    serve_models,
    sse_response,
    wire,
)
from client_api import Api
from lmstudio_provider.transport._errors import AuthenticationError, InvalidParameterError

# -- The chat body ----------------------------------------------------------------


async def test_unset_parameters_are_never_sent(api: Api, respx_mock: respx.MockRouter) -> None:
    serve_models(respx_mock)
    route = respx_mock.post(CHAT_URL).respond(200, json=completion({"content": "Hello"}))

    await api.chat()

    assert route.call_count == 1
    assert sent_body(route) == BASE_BODY


async def test_streamed_body_without_parameters(api: Api, respx_mock: respx.MockRouter) -> None:
    serve_models(respx_mock)
    route = respx_mock.post(CHAT_URL).mock(
        return_value=sse_response([chunk({"content": "Hi"}, "stop"), "[DONE]"])
    )

    await api.stream()

    assert sent_body(route) == {**BASE_BODY, **STREAM_FIELDS}


PARAMETERS = [
    pytest.param("max_tokens", 128, 128, id="max_tokens"),
    pytest.param("max_tokens", -1, -1, id="max_tokens-unlimited"),
    pytest.param("temperature", 0.7, 0.7, id="temperature"),
    pytest.param("temperature", 0.0, 0.0, id="temperature-zero"),
    pytest.param("top_p", 0.9, 0.9, id="top_p"),
    pytest.param("frequency_penalty", -1.5, -1.5, id="frequency_penalty"),
    pytest.param("presence_penalty", 1.25, 1.25, id="presence_penalty"),
    pytest.param("stop", "\n\n", "\n\n", id="stop-string"),
    pytest.param("stop", ["END", "###"], ["END", "###"], id="stop-list"),
    pytest.param("seed", 42, 42, id="seed"),
    pytest.param("seed", 0, 0, id="seed-zero"),
    pytest.param("top_k", 40, 40, id="top_k"),
    pytest.param("min_p", 0.05, 0.05, id="min_p"),
    pytest.param("repeat_penalty", 1.1, 1.1, id="repeat_penalty"),
    pytest.param("ttl", 300, 300, id="ttl"),
    pytest.param("draft_model", "qwen/qwen3-0.6b", "qwen/qwen3-0.6b", id="draft_model"),
    pytest.param(
        "logit_bias", {"1234": -100.0, "42": 5.5}, {"1234": -100.0, "42": 5.5}, id="logit_bias"
    ),
    pytest.param("logit_bias", {1234: -100}, {"1234": -100}, id="logit_bias-int-keys"),
    pytest.param("mirostat_mode", 2, 2, id="mirostat_mode"),
    pytest.param("mirostat_tau", 5.0, 5.0, id="mirostat_tau"),
    pytest.param("mirostat_eta", 0.1, 0.1, id="mirostat_eta"),
    pytest.param("cache_prompt", True, True, id="cache_prompt"),
    pytest.param("cache_prompt", False, False, id="cache_prompt-false"),
    pytest.param("reasoning_effort", "low", "low", id="reasoning_effort"),
]


@pytest.mark.parametrize(("name", "value", "wire"), PARAMETERS)
async def test_each_parameter_is_sent_by_its_name(
    api: Api, respx_mock: respx.MockRouter, name: str, value: Any, wire: Any
) -> None:
    serve_models(respx_mock)
    route = respx_mock.post(CHAT_URL).respond(200, json=completion({"content": "Hello"}))

    await api.chat(**{name: value})

    assert sent_body(route) == {**BASE_BODY, name: wire}


ALL_PARAMETERS: dict[str, Any] = {
    "max_tokens": 64,
    "temperature": 0.3,
    "top_p": 0.95,
    "frequency_penalty": 0.5,
    "presence_penalty": -0.5,
    "stop": ["</s>"],
    "seed": 7,
    "top_k": 20,
    "min_p": 0.1,
    "repeat_penalty": 1.05,
    "ttl": 60,
    "draft_model": "qwen/qwen3-0.6b",
    "logit_bias": {"50256": -100},
    "mirostat_mode": 1,
    "mirostat_tau": 4.5,
    "mirostat_eta": 0.2,
    "cache_prompt": True,
    "reasoning_effort": "high",
}


async def test_every_parameter_together_in_a_stream(api: Api, respx_mock: respx.MockRouter) -> None:
    serve_models(respx_mock)
    route = respx_mock.post(CHAT_URL).mock(
        return_value=sse_response([chunk({"content": "Hi"}, "stop"), "[DONE]"])
    )

    await api.stream(**ALL_PARAMETERS)

    assert sent_body(route) == {**BASE_BODY, **ALL_PARAMETERS, **STREAM_FIELDS}


async def test_extra_body_is_forwarded_verbatim_and_wins(
    api: Api, respx_mock: respx.MockRouter
) -> None:
    serve_models(respx_mock)
    route = respx_mock.post(CHAT_URL).respond(200, json=completion({"content": "Hello"}))
    extra = {
        "temperature": 0.9,
        "chat_template_kwargs": {"enable_thinking": False},
        "n_probs": [1, 2],
    }

    await api.chat(temperature=0.2, top_k=5, extra_body=extra)

    assert sent_body(route) == {
        **BASE_BODY,
        "temperature": 0.9,
        "top_k": 5,
        "chat_template_kwargs": {"enable_thinking": False},
        "n_probs": [1, 2],
    }


async def test_settings_defaults_apply_unless_overridden(
    make_api: Callable[..., Api], respx_mock: respx.MockRouter
) -> None:
    api = make_api(defaults={"temperature": 0.1, "max_tokens": 50, "stop": ["END"]})
    serve_models(respx_mock)
    route = respx_mock.post(CHAT_URL).respond(200, json=completion({"content": "Hello"}))

    await api.chat()
    await api.chat(temperature=0.7, seed=3)
    await api.chat(extra_body={"max_tokens": 10})

    defaults = {"temperature": 0.1, "max_tokens": 50, "stop": ["END"]}
    assert sent_body(route, 0) == {**BASE_BODY, **defaults}
    assert sent_body(route, 1) == {**BASE_BODY, **defaults, "temperature": 0.7, "seed": 3}
    assert sent_body(route, 2) == {**BASE_BODY, **defaults, "max_tokens": 10}


async def test_streaming_always_asks_for_a_stream_with_usage(
    make_api: Callable[..., Api], respx_mock: respx.MockRouter
) -> None:
    api = make_api(defaults={"max_tokens": 5})
    serve_models(respx_mock)
    route = respx_mock.post(CHAT_URL).mock(
        return_value=sse_response([chunk({"content": "Hi"}, "stop"), "[DONE]"])
    )

    await api.stream(extra_body={"stream_options": {"include_usage": False, "x": 1}})

    assert sent_body(route) == {
        **BASE_BODY,
        "max_tokens": 5,
        **STREAM_FIELDS,
        "stream_options": {"include_usage": True, "x": 1},
    }


@pytest.mark.parametrize("key", ["model", "messages", "stream"])
async def test_extra_body_may_not_override_what_the_transport_sets(
    make_api: Callable[..., Api], respx_mock: respx.MockRouter, key: str
) -> None:
    api = make_api()
    with pytest.raises(InvalidParameterError) as caught:
        await api.stream(extra_body={key: "x"})
    assert f"extra_body may not set {key}" in caught.value.message
    assert not respx_mock.calls


OUT_OF_RANGE = [
    ("temperature", 3),
    ("temperature", -0.5),
    ("top_p", 2),
    ("frequency_penalty", 3),
    ("frequency_penalty", -3),
    ("presence_penalty", 3),
    ("presence_penalty", -3),
]


@pytest.mark.parametrize(("name", "value"), OUT_OF_RANGE)
async def test_out_of_range_values_fail_before_any_request(
    api: Api, respx_mock: respx.MockRouter, name: str, value: float
) -> None:
    models = serve_models(respx_mock)
    route = respx_mock.post(CHAT_URL).respond(200, json=completion({"content": "Hello"}))
    params: dict[str, Any] = {name: value}

    with pytest.raises(InvalidParameterError) as chat_error:
        await api.chat(**params)
    with pytest.raises(InvalidParameterError) as stream_error:
        api.start_stream(**params)

    for error in (chat_error.value, stream_error.value):
        assert error.message.startswith(f"Invalid request parameter: {name}={value!r}: ")
        assert error.hint == "Fix the value and try again; nothing was sent to LM Studio."
    assert respx_mock.calls.call_count == 0
    assert not models.called
    assert not route.called


# -- Translations -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("tool_choice", "sent_choice", "sent_tools"),
    [
        pytest.param({"type": "function", "function": {"name": "b"}}, "required", [TOOL_B]),
        pytest.param("b", "required", [TOOL_B], id="bare-name"),
        pytest.param("any", "required", [TOOL_A, TOOL_B], id="any"),
        pytest.param("auto", "auto", [TOOL_A, TOOL_B], id="auto"),
        pytest.param("none", "none", [TOOL_A, TOOL_B], id="none"),
        pytest.param("required", "required", [TOOL_A, TOOL_B], id="required"),
    ],
)
async def test_tool_choice_is_translated(
    api: Api,
    respx_mock: respx.MockRouter,
    tool_choice: str | dict[str, Any],
    sent_choice: str,
    sent_tools: list[dict[str, Any]],
) -> None:
    serve_models(respx_mock)
    route = respx_mock.post(CHAT_URL).respond(200, json=completion({"content": "ok"}))

    await api.chat(tools=[TOOL_A, TOOL_B], tool_choice=tool_choice)

    assert sent_body(route) == {**BASE_BODY, "tools": sent_tools, "tool_choice": sent_choice}


async def test_tool_choice_object_form_is_translated_when_streaming(
    api: Api, respx_mock: respx.MockRouter
) -> None:
    serve_models(respx_mock)
    route = respx_mock.post(CHAT_URL).mock(
        return_value=sse_response([chunk({"content": "Hi"}, "stop"), "[DONE]"])
    )

    await api.stream(
        tools=[TOOL_A, TOOL_B], tool_choice={"type": "function", "function": {"name": "b"}}
    )

    assert sent_body(route) == {
        **BASE_BODY,
        "tools": [TOOL_B],
        "tool_choice": "required",
        **STREAM_FIELDS,
    }


@pytest.mark.parametrize(
    ("tools", "tool_choice", "listed"),
    [
        pytest.param([TOOL_A, TOOL_B], {"type": "function", "function": {"name": "c"}}, "a, b"),
        pytest.param([TOOL_A, TOOL_B], "c", "a, b", id="bare-name"),
        pytest.param(None, "b", "none", id="no-tools"),
    ],
)
async def test_tool_choice_naming_an_absent_tool_fails_before_sending(
    api: Api,
    respx_mock: respx.MockRouter,
    tools: list[dict[str, Any]] | None,
    tool_choice: str | dict[str, Any],
    listed: str,
) -> None:
    serve_models(respx_mock)
    respx_mock.post(CHAT_URL).respond(200, json=completion({"content": "ok"}))
    name = "b" if tools is None else "c"

    with pytest.raises(InvalidParameterError) as chat_error:
        await api.chat(tools=tools, tool_choice=tool_choice)
    with pytest.raises(InvalidParameterError) as stream_error:
        api.start_stream(tools=tools, tool_choice=tool_choice)

    expected = f"tool_choice names {name!r}, which is not among the tools sent ({listed})."
    assert chat_error.value.message == expected
    assert stream_error.value.message == expected
    assert respx_mock.calls.call_count == 0


SCHEMA_FORMAT: dict[str, Any] = {
    "type": "json_schema",
    "json_schema": {
        "name": "answer",
        "strict": True,
        "schema": {
            "type": "object",
            "properties": {"city": {"type": "string"}},
            "required": ["city"],
        },
    },
}


@pytest.mark.parametrize(
    ("response_format", "sent"),
    [
        pytest.param(
            {"type": "json_object"},
            {
                "type": "json_schema",
                "json_schema": {"name": "json_object", "schema": {"type": "object"}},
            },
            id="json_object",
        ),
        pytest.param(SCHEMA_FORMAT, SCHEMA_FORMAT, id="json_schema"),
        pytest.param({"type": "text"}, {"type": "text"}, id="text"),
    ],
)
async def test_response_format_is_translated(
    api: Api,
    respx_mock: respx.MockRouter,
    response_format: dict[str, Any],
    sent: dict[str, Any],
) -> None:
    serve_models(respx_mock)
    route = respx_mock.post(CHAT_URL).respond(200, json=completion({"content": "{}"}))

    await api.chat(response_format=response_format)

    assert sent_body(route) == {**BASE_BODY, "response_format": sent}


async def test_unsupported_response_format_fails_before_sending(
    api: Api, respx_mock: respx.MockRouter
) -> None:
    serve_models(respx_mock)

    with pytest.raises(InvalidParameterError, match="response_format type 'xml'"):
        await api.chat(response_format={"type": "xml"})
    assert respx_mock.calls.call_count == 0


# -- Headers and logging -------------------------------------------------------------

SECRET = "sk-lm-AbCdEfGh:SeCrEtToKeN1234567890"


async def test_headers(make_api: Callable[..., Api], respx_mock: respx.MockRouter) -> None:
    serve_models(respx_mock)
    route = respx_mock.post(CHAT_URL).respond(200, json=completion({"content": "Hello"}))

    await make_api().chat()
    await make_api(api_key=SECRET).chat()

    anonymous, authenticated = route.calls[0].request, route.calls[1].request
    assert "authorization" not in anonymous.headers
    assert authenticated.headers["authorization"] == f"Bearer {SECRET}"
    for request in (anonymous, authenticated):
        assert request.headers["user-agent"].startswith("lmstudio-provider/")
        assert request.headers["content-type"] == "application/json"


async def test_debug_log_summarises_requests_without_the_key(
    make_api: Callable[..., Api], respx_mock: respx.MockRouter, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="lmstudio_provider")
    api = make_api(api_key=SECRET)
    serve_models(respx_mock)
    route = respx_mock.post(CHAT_URL)
    route.side_effect = [
        wire(httpx2.Response(200, json=completion({"content": "Hello"}))),
        wire(
            httpx2.Response(
                401,
                json={
                    "error": {
                        "type": "invalid_request",
                        "code": "invalid_api_key",
                        "message": "An LM Studio API token is required to make requests.",
                    }
                },
            )
        ),
    ]
    secret_prompt = [{"role": "user", "content": "my private question"}]

    await api.chat(secret_prompt, temperature=0.5)
    with pytest.raises(AuthenticationError) as refused:
        await api.chat(secret_prompt)

    messages = [record.getMessage() for record in caplog.records]
    assert all(record.name == "lmstudio_provider" for record in caplog.records)
    patterns = [
        r"-> GET /api/v1/models",
        r"<- GET /api/v1/models: 200 in \d+\.\d ms",
        r"-> POST /v1/chat/completions model='qwen/qwen3-4b' "
        r"fields=\['model', 'temperature'\] messages=1",
        r"<- POST /v1/chat/completions: 200 in \d+\.\d ms",
        r"-> POST /v1/chat/completions model='qwen/qwen3-4b' fields=\['model'\] messages=1",
        r"<- POST /v1/chat/completions: 401 in \d+\.\d ms",
    ]
    assert len(messages) == len(patterns), messages
    for message, pattern in zip(messages, patterns, strict=True):
        assert re.fullmatch(pattern, message), (message, pattern)
    assert SECRET not in caplog.text
    assert "SeCrEtToKeN" not in caplog.text
    assert "my private question" not in caplog.text
    assert SECRET not in str(refused.value)
    assert route.calls[1].request.headers["authorization"] == f"Bearer {SECRET}"
