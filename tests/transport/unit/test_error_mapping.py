"""LM Studio's error bodies (both forms, every case in the API summary) to typed errors."""

from __future__ import annotations

import json

import httpx2
import pytest

from lmstudio_provider.transport._error_mapping import (
    RequestContext,
    error_from_reply,
    error_from_transport,
    is_retryable,
)
from lmstudio_provider.transport._errors import (
    AuthenticationError,
    BadRequestError,
    ContextLengthExceededError,
    LMStudioError,
    LMStudioTimeoutError,
    ModelLoadingError,
    ModelNotFoundError,
    NoModelLoadedError,
    ProtocolError,
    ServerError,
    ServerUnreachableError,
    StreamInterruptedError,
)
from lmstudio_provider.transport._results import ChatResponse

CONTEXT = RequestContext("http://localhost:1234", "POST", "/v1/chat/completions", "qwen2.5-7b")


def body(error: object) -> bytes:
    return json.dumps({"error": error}).encode()


UNKNOWN_MODEL_04 = {
    "message": 'Invalid model identifier "x". Please specify a valid downloaded model '
    "(e.g., qwen2.5-7b-instruct).",
    "type": "invalid_request_error",
    "param": "model",
    "code": "model_not_found",
}
CASES: list[tuple[int, bytes, type[LMStudioError], str]] = [
    (400, body(UNKNOWN_MODEL_04), ModelNotFoundError, "lms ls"),
    (
        404,
        body({"message": "Model x not found. Your models: a, b", "code": "model_not_found"}),
        ModelNotFoundError,
        "lms get",
    ),
    (
        400,
        body(
            "No models loaded. Please load a model in the developer page or use the "
            "'lms load' command."
        ),
        NoModelLoadedError,
        "lms load",
    ),
    (
        400,
        body(
            {
                "message": 'Failed to load model "big". Error: insufficient memory',
                "code": "model_not_found",
            }
        ),
        BadRequestError,
        "lms unload --all",
    ),
    (
        400,
        body({"message": "Model is not embedding.", "code": "model_not_found"}),
        BadRequestError,
        "embedding model",
    ),
    (
        400,
        body(
            "The number of tokens to keep from the initial prompt is greater than "
            "the context length"
        ),
        ContextLengthExceededError,
        "--context-length",
    ),
    (
        400,
        body("'response_format.type' must be 'json_schema' or 'text'"),
        BadRequestError,
        "parameters",
    ),
    (
        400,
        body("The model has crashed without additional information. (Exit code: 11)"),
        ServerError,
        "lms load",
    ),
    (
        200,
        body("Unexpected endpoint or method. (POST /chat/completions)"),
        BadRequestError,
        "base URL is probably wrong",
    ),
    (
        401,
        body(
            {
                "type": "invalid_request",
                "code": "invalid_api_key",
                "message": "An LM Studio API token is required to make requests to this server.",
            }
        ),
        AuthenticationError,
        "LMSTUDIO_API_KEY",
    ),
    (
        503,
        body({"code": 503, "message": "Loading model", "type": "unavailable_error"}),
        ModelLoadingError,
        "max_retries",
    ),
    (500, b"Internal Server Error", ServerError, "server log"),
]


@pytest.mark.parametrize(("status", "raw", "expected", "hint_part"), CASES)
def test_error_bodies(
    status: int, raw: bytes, expected: type[LMStudioError], hint_part: str
) -> None:
    error = error_from_reply(status, raw, CONTEXT)
    assert type(error) is expected
    assert error.hint is not None
    assert hint_part in error.hint
    assert "POST http://localhost:1234/v1/chat/completions" in error.message
    assert "qwen2.5-7b" in error.message
    decoded = json.loads(raw) if raw.startswith(b"{") else None
    if decoded is not None:
        server = decoded["error"]
        expected_message = server if isinstance(server, str) else server["message"]
        assert error.server_message == expected_message
        assert expected_message in str(error)


def test_str_holds_message_and_hint() -> None:
    error = error_from_reply(400, body(UNKNOWN_MODEL_04), CONTEXT)
    assert str(error) == f"{error.message}\nHint: {error.hint}"


def test_a_200_body_that_is_not_json_is_a_protocol_error() -> None:
    error = error_from_reply(200, b"<html>proxy</html>", CONTEXT)
    assert isinstance(error, ProtocolError)
    assert "<html>proxy</html>" in error.message


@pytest.mark.parametrize(
    ("status", "retryable"),
    [(502, True), (503, True), (504, True), (400, False), (500, False)],
)
def test_retryable_statuses(status: int, retryable: bool) -> None:
    assert is_retryable(error_from_reply(status, b"{}", CONTEXT)) is retryable


def test_statuses_map_to_the_error_classes_status_codes() -> None:
    assert error_from_reply(404, body("gone"), CONTEXT).status_code == 404
    assert error_from_reply(401, body("no"), CONTEXT).status_code == 401
    assert error_from_reply(500, body("boom"), CONTEXT).status_code == 500


def test_connect_error_is_unreachable_and_retryable() -> None:
    error = error_from_transport(httpx2.ConnectError("[Errno 111] Connection refused"), CONTEXT)
    assert isinstance(error, ServerUnreachableError)
    assert error.status_code == 502
    assert "LM Studio is not reachable at http://localhost:1234" in error.message
    assert "lms server start" in (error.hint or "")
    assert is_retryable(error)


def test_connect_timeout_names_its_setting() -> None:
    error = error_from_transport(httpx2.ConnectTimeout("timed out"), CONTEXT)
    assert isinstance(error, LMStudioTimeoutError)
    assert error.which == "connect"
    assert error.status_code == 504
    assert "LMSTUDIO_HTTP_CONNECT_TIMEOUT_SECS" in (error.hint or "")
    assert is_retryable(error)


def test_read_timeout_is_not_retried_and_keeps_the_partial_answer() -> None:
    partial = ChatResponse(text="half an ans")
    error = error_from_transport(httpx2.ReadTimeout("timed out"), CONTEXT, partial=partial)
    assert isinstance(error, LMStudioTimeoutError)
    assert error.which == "read"
    assert "60 s" in error.message
    assert "LMSTUDIO_HTTP_TIMEOUT_SECS" in (error.hint or "")
    assert error.partial is partial
    assert not is_retryable(error)


def test_a_cut_stream_is_interrupted_with_partial() -> None:
    partial = ChatResponse(text="abc")
    error = error_from_transport(
        httpx2.RemoteProtocolError("peer closed connection"), CONTEXT, partial=partial
    )
    assert isinstance(error, StreamInterruptedError)
    assert error.partial is partial
    assert "3 characters had arrived" in error.message


def test_a_200_json_body_of_the_wrong_shape_is_a_protocol_error() -> None:
    error = error_from_reply(200, b'{"choices": []}', CONTEXT)
    assert isinstance(error, ProtocolError)
    assert "an unexpected body" in error.message
    assert "not valid JSON" not in error.message
