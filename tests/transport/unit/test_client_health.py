"""``health()`` of both clients: LM Studio, older LM Studio, other servers, failures."""

from __future__ import annotations

import json
from collections.abc import Callable

import httpx2
import pytest
import respx

from client_api import Api
from model_fakes import (
    BASE,
    EMBEDDER,
    GREETING_URL,
    LOADED,
    OPENAI_MODELS_URL,
    SECRET,
    UNEXPECTED_ENDPOINT,
    V0_CAPTURE,
    V0_MODELS_URL,
    V1_MODELS_URL,
    read_capture,
    serve_models,
)

# -- health() ----------------------------------------------------------------------------

HTTP_SETTINGS = {
    "timeout_secs": 60.0,
    "connect_timeout_secs": 10.0,
    "quick_timeout_secs": 0.6,
    "keep_alive_secs": 30.0,
    "max_idle_connections": 10,
    "load_timeout_secs": 600.0,
    "max_connections": 8,
    "max_event_bytes": 4194304,
}


async def test_health_of_lm_studio(
    make_api: Callable[..., Api], respx_mock: respx.MockRouter
) -> None:
    api = make_api(api_key=SECRET)
    greeting = respx_mock.get(GREETING_URL).respond(200, json={"lmstudio": True})
    models = serve_models(respx_mock)

    await api.list_models()
    report = await api.health()

    assert report.status == "ok"
    assert report.ok
    assert report.server_kind == "lmstudio"
    assert report.base_url == BASE
    assert report.loaded_models == [EMBEDDER, LOADED]
    assert report.model_count == 4
    assert report.latency_ms is not None
    assert report.latency_ms > 0
    assert report.http == HTTP_SETTINGS
    assert (report.error, report.hint) == (None, None)
    assert (greeting.call_count, models.call_count) == (1, 2)  # health looks afresh
    data = report.as_dict()
    assert set(data) == {
        "status",
        "server_kind",
        "base_url",
        "latency_ms",
        "loaded_models",
        "model_count",
        "http",
        "error",
        "hint",
    }
    assert "SeCrEtToKeN" not in json.dumps(data)
    assert "SeCrEtToKeN" not in repr(report)


async def test_health_of_an_older_lm_studio(api: Api, respx_mock: respx.MockRouter) -> None:
    """Capture: j-shelfwood v0/models/list.json (LM Studio 0.3.x has no /api/v1)."""
    respx_mock.get(GREETING_URL).respond(200, json={"lmstudio": True})
    respx_mock.get(V1_MODELS_URL).respond(200, json=UNEXPECTED_ENDPOINT)
    respx_mock.get(V0_MODELS_URL).respond(200, json=read_capture(V0_CAPTURE))

    report = await api.health()

    assert (report.status, report.server_kind) == ("ok", "lmstudio")
    assert report.loaded_models == ["granite-3.1-8b-instruct"]
    assert report.model_count == 7


async def test_health_of_another_openai_compatible_server(
    api: Api, respx_mock: respx.MockRouter
) -> None:
    respx_mock.get(GREETING_URL).respond(404, text="Not Found")
    respx_mock.get(V1_MODELS_URL).respond(404, text="Not Found")
    respx_mock.get(V0_MODELS_URL).respond(404, text="Not Found")
    respx_mock.get(OPENAI_MODELS_URL).respond(
        200, json={"object": "list", "data": [{"id": "llama-3.2-3b", "object": "model"}]}
    )

    report = await api.health()

    assert (report.status, report.server_kind) == ("ok", "openai-compatible")
    assert report.loaded_models == ["llama-3.2-3b"]
    assert report.model_count == 1
    assert report.latency_ms is not None


@pytest.mark.parametrize("failure", [httpx2.ConnectError, httpx2.ConnectTimeout])
async def test_health_of_an_unreachable_server(
    api: Api, respx_mock: respx.MockRouter, failure: type[Exception]
) -> None:
    route = respx_mock.route(host="localhost").mock(side_effect=failure)

    report = await api.health()

    assert report.status == "unreachable"
    assert not report.ok
    assert report.server_kind == "unknown"
    assert report.latency_ms is None
    assert (report.loaded_models, report.model_count) == ([], 0)
    assert report.base_url == BASE
    assert report.http == HTTP_SETTINGS
    assert report.error is not None
    assert BASE in report.error
    assert report.hint is not None
    assert "lms server start" in report.hint
    assert route.call_count == 1  # health() does not retry


async def test_health_reports_a_refusing_server_as_an_error(
    api: Api, respx_mock: respx.MockRouter
) -> None:
    respx_mock.get(GREETING_URL).respond(200, json={"lmstudio": True})
    respx_mock.get(V1_MODELS_URL).respond(
        401,
        json={
            "error": {
                "type": "invalid_request",
                "code": "invalid_api_key",
                "message": "An LM Studio API token is required to make requests.",
            }
        },
    )

    report = await api.health()

    assert (report.status, report.server_kind, report.latency_ms) == ("error", "lmstudio", None)
    assert report.error is not None
    assert "An LM Studio API token is required" in report.error
    assert report.hint is not None
    assert "LMSTUDIO_API_KEY" in report.hint
