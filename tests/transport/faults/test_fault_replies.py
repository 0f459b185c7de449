"""LM Studio's error replies, in both forms, mapped to typed errors with hints.

Bodies are LM Studio's own (see ``../shared/LMSTUDIO-API.md``, "Errors"): the 0.4.x
``model_not_found`` 400, the 0.3.x 404 listing "Your models:" (as recorded in
letta-ai/letta#1876), "No models loaded", the rejected ``response_format``, the
context overflow, the crash, a JIT load failure (body from the capture
``j-shelfwood__prj-php-lmstudio__tests_mocks_v1_embeddings_standard-response.json__0c79a8d9.json``),
the 200 "Unexpected endpoint" and the 401 asking for an API token.
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING, Any

import pytest

from lmstudio_provider import (
    AuthenticationError,
    BadRequestError,
    ContextLengthExceededError,
    LMStudioError,
    ModelMismatchError,
    ModelNotFoundError,
    NoModelLoadedError,
    ServerError,
)

if TYPE_CHECKING:
    from fault_server import FaultServer, MakeClient, Wire

MODEL = "granite-3.1-8b-instruct"
CHAT = "/v1/chat/completions"
BOUND_SECS = 5.0

INVALID_ID_04 = (
    f'Invalid model identifier "{MODEL}". Please specify a valid downloaded model (e.g., ...).'
)
NOT_FOUND_03 = (
    f'Model "{MODEL}" not found. Please specify a valid model.\n\nYour models:\n\n'
    "text-embedding-nomic-embed-text-v1.5\nqwen2.5-7b-instruct-1m"
)
NO_MODELS = (
    "No models loaded. Please load a model in the developer page or use the 'lms load' command."
)
RESPONSE_FORMAT = "'response_format.type' must be 'json_schema' or 'text'"
OVERFLOW = (
    "Trying to keep the first 14538 tokens when context the overflows. However, the model is "
    "loaded with context length of only 2048 tokens, which is not enough. Try to load the "
    "model with a larger context length, or provide a shorter input"
)
CRASH = "The model has crashed without additional information. (Exit code: 11)"
JIT_FAILED = (
    'Failed to load model "qwen2.5-7b-instruct-1m". Error: Model loading aborted due to '
    "insufficient system resources. Overloading the system will likely cause it to freeze. "
    "If you believe this is a mistake, you can try to change the model loading guardrails "
    "in the settings."
)
UNKNOWN_ROUTE = "Unexpected endpoint or method. (POST /v1/chat/completions)"
TOKEN_REQUIRED = "An LM Studio API token is required to make requests to this server."


def object_form(message: str, *, param: str | None = "model", code: str | None = None) -> Any:
    return {
        "error": {
            "message": message,
            "type": "invalid_request_error",
            "param": param,
            "code": code,
        }
    }


REPLY_CASES = [
    pytest.param(
        400,
        object_form(INVALID_ID_04, code="model_not_found"),
        INVALID_ID_04,
        ModelNotFoundError,
        "lms get",
        id="0.4-unknown-model-400-object",
    ),
    pytest.param(
        404,
        object_form(NOT_FOUND_03, code="model_not_found"),
        NOT_FOUND_03,
        ModelNotFoundError,
        "lms get",
        id="0.3-unknown-model-404-object",
    ),
    pytest.param(
        404,
        {"error": f'Model "{MODEL}" not found. Please specify a valid model.'},
        f'Model "{MODEL}" not found. Please specify a valid model.',
        ModelNotFoundError,
        "lms get",
        id="unknown-model-404-string",
    ),
    pytest.param(
        400, {"error": NO_MODELS}, NO_MODELS, NoModelLoadedError, "lms load", id="no-models-loaded"
    ),
    pytest.param(
        400,
        {"error": RESPONSE_FORMAT},
        RESPONSE_FORMAT,
        BadRequestError,
        "parameters",
        id="bad-response-format-string",
    ),
    pytest.param(
        400,
        object_form(RESPONSE_FORMAT, param="response_format"),
        RESPONSE_FORMAT,
        BadRequestError,
        "parameters",
        id="bad-response-format-object",
    ),
    pytest.param(
        400,
        {"error": OVERFLOW},
        OVERFLOW,
        ContextLengthExceededError,
        "--context-length",
        id="context-overflow",
    ),
    pytest.param(400, {"error": CRASH}, CRASH, ServerError, "lms unload", id="model-crashed"),
    pytest.param(
        400,
        object_form(JIT_FAILED, code="model_not_found"),
        JIT_FAILED,
        BadRequestError,
        "smaller",
        id="jit-load-failed-object",
    ),
]


@pytest.mark.parametrize("operation", ["chat", "stream"])
@pytest.mark.parametrize(("status", "body", "message", "expected", "hint_part"), REPLY_CASES)
async def test_error_reply_is_typed_with_lm_studios_message(
    make_client: MakeClient,
    fault_server: FaultServer,
    operation: str,
    status: int,
    body: Any,
    message: str,
    expected: type[LMStudioError],
    hint_part: str,
) -> None:
    fault_server.route("POST", CHAT, fault_server.reply(status, body))
    client = make_client(max_retries=2)  # retries allowed, yet a 4xx must not be retried
    started = time.monotonic()
    with pytest.raises(LMStudioError) as caught:
        await getattr(client, operation)()
    assert time.monotonic() - started < BOUND_SECS
    error = caught.value
    assert type(error) is expected
    assert error.status_code == expected.status_code
    assert error.server_message == message
    assert message in error.message
    assert MODEL in error.message  # says what was asked
    assert error.hint is not None
    assert hint_part in error.hint
    assert not error.retryable
    assert fault_server.count("POST", CHAT) == 1
    assert client.in_flight == 0


@pytest.mark.parametrize("operation", ["chat", "stream"])
@pytest.mark.parametrize(
    ("message", "expected", "hint_part"),
    [
        (UNKNOWN_ROUTE, BadRequestError, "base URL is probably wrong"),
        (OVERFLOW, ContextLengthExceededError, "--context-length"),
    ],
    ids=["unknown-route", "context-overflow"],
)
async def test_200_carrying_an_error_is_not_a_success(
    make_client: MakeClient,
    fault_server: FaultServer,
    operation: str,
    message: str,
    expected: type[LMStudioError],
    hint_part: str,
) -> None:
    # LM Studio answers an unknown route with 200 (and, streaming, may answer an
    # overflowing prompt with a 200 JSON error instead of an event stream).
    fault_server.route("POST", CHAT, fault_server.reply(200, {"error": message}))
    client = make_client()
    with pytest.raises(LMStudioError) as caught:
        await getattr(client, operation)()
    error = caught.value
    assert type(error) is expected
    assert error.status_code == 400
    assert error.server_message == message
    assert error.hint is not None
    assert hint_part in error.hint
    assert fault_server.count("POST", CHAT) == 1
    assert client.in_flight == 0


async def test_wrong_base_url_everything_unknown_says_so(
    make_client: MakeClient, fault_server: FaultServer
) -> None:
    # A base URL with an extra path: every route LM Studio is asked for is unknown to it.
    client = make_client(base_url=fault_server.base_url + "/api")
    with pytest.raises(BadRequestError) as caught:
        await client.chat()
    error = caught.value
    assert error.hint is not None
    assert "base URL is probably wrong" in error.hint
    assert fault_server.base_url + "/api" in error.hint
    assert error.server_message is not None
    assert error.server_message.startswith("Unexpected endpoint or method. (GET /api/")
    # The three model-list dialects were tried, nothing else.
    assert [r.path for r in fault_server.requests] == [
        "/api/api/v1/models",
        "/api/api/v0/models",
        "/api/v1/models",
    ]


# -- authentication -------------------------------------------------------------

API_KEY = "sk-lm-Zx81Qw7A:Pq93Lm4Rt6Yv2Bn8Kd1S"
AUTH_BODY = {
    "error": {
        "type": "invalid_request",
        "code": "invalid_api_key",
        "message": TOKEN_REQUIRED,
    }
}


@pytest.mark.parametrize("operation", ["chat", "stream", "list_models"])
@pytest.mark.parametrize("api_key", [None, API_KEY], ids=["no-key", "rejected-key"])
async def test_401_is_an_authentication_error_that_never_leaks_the_key(
    make_client: MakeClient,
    fault_server: FaultServer,
    caplog: pytest.LogCaptureFixture,
    operation: str,
    api_key: str | None,
) -> None:
    caplog.set_level(logging.DEBUG)  # every logger: ours, httpx2's and httpcore2's
    fault_server.everything = fault_server.reply(401, AUTH_BODY)
    client = make_client(api_key=api_key, max_retries=2)
    with pytest.raises(AuthenticationError) as caught:
        await getattr(client, operation)()
    error = caught.value
    assert error.status_code == 401
    assert error.server_message == TOKEN_REQUIRED
    assert error.hint is not None
    assert "LMSTUDIO_API_KEY" in error.hint
    assert "api_key=" in error.hint
    # The first refusal ends it: no retry, no probing of other model endpoints.
    assert len(fault_server.requests) == 1
    sent = fault_server.requests[0].headers.get("authorization")
    if api_key is None:
        assert sent is None
    else:
        assert sent == f"Bearer {api_key}"
        secret = api_key.split(":", 1)[1]
        shown = [str(error), repr(error), repr(client.client), repr(client.client.settings)]
        ours = [r for r in caplog.records if r.name == "lmstudio_provider"]
        assert ours, "expected the request to be logged at DEBUG"
        for text in [*shown, caplog.text]:
            assert api_key not in text
            assert secret not in text
    assert client.in_flight == 0


async def test_api_key_is_sent_as_bearer_on_every_request(
    make_client: MakeClient, fault_server: FaultServer, wire: type[Wire]
) -> None:
    fault_server.route("POST", CHAT, fault_server.reply(200, wire.completion("Hi.")))
    client = make_client(api_key=API_KEY)
    assert (await client.chat()).text == "Hi."
    assert len(fault_server.requests) == 3  # v1 models, v0 models, chat
    assert {r.headers.get("authorization") for r in fault_server.requests} == {f"Bearer {API_KEY}"}
    sent = fault_server.requests[-1].json()
    assert sent["model"] == MODEL
    assert sent.get("stream", False) is False


# -- the model that answered ----------------------------------------------------


@pytest.mark.parametrize("operation", ["chat", "stream"])
async def test_another_model_answering_is_a_mismatch(
    make_client: MakeClient, fault_server: FaultServer, wire: type[Wire], operation: str
) -> None:
    if operation == "chat":
        handler = fault_server.reply(200, wire.completion("Hello!", model="other-model"))
    else:
        handler = fault_server.events([wire.chunk("Hello!", model="other-model")])
    fault_server.route("POST", CHAT, handler)
    client = make_client()
    with pytest.raises(ModelMismatchError) as caught:
        await getattr(client, operation)()
    error = caught.value
    assert isinstance(error, ModelNotFoundError)
    assert error.status_code == 404
    assert error.requested == MODEL
    assert error.answered == "other-model"
    assert MODEL in error.message
    assert "other-model" in error.message
    assert error.hint is not None
    assert f"lms load {MODEL}" in error.hint
    assert client.in_flight == 0


@pytest.mark.parametrize("operation", ["chat", "stream"])
@pytest.mark.parametrize(
    "answered",
    ["GRANITE-3.1-8B-Instruct", f"{MODEL}@q4_k_m", f"{MODEL}:2"],
    ids=["case", "variant", "instance"],
)
async def test_the_same_model_under_another_spelling_is_accepted(
    make_client: MakeClient,
    fault_server: FaultServer,
    wire: type[Wire],
    operation: str,
    answered: str,
) -> None:
    if operation == "chat":
        handler = fault_server.reply(200, wire.completion("Hello!", model=answered))
    else:
        handler = fault_server.events([wire.chunk("Hello!", model=answered)])
    fault_server.route("POST", CHAT, handler)
    client = make_client()
    result = await getattr(client, operation)()
    assert result.text == "Hello!"
    assert result.model == answered
    assert result.finish_reason == "stop"
