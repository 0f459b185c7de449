"""A base URL with a path, or https:// to a plain-HTTP server, is named as the mistake.

LM Studio (and llama.cpp) serve at the server's root: ``http://host:1234/wrong``,
``.../api/v1`` or ``.../v1/chat/completions`` make every endpoint unknown, which used
to read as "no such model". The fault server answers unknown routes as LM Studio 0.3.x
does (200, "Unexpected endpoint or method"); a route of ours answers as llama.cpp's
server does (404 ``{"detail": "Not Found"}``).
"""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

from lmstudio_provider import (
    AsyncLMStudioClient,
    BadRequestError,
    LMStudioClient,
    ModelNotFoundError,
    ServerUnreachableError,
)

if TYPE_CHECKING:
    from fault_server import FaultServer, MakeClient

LLAMA_CPP_404 = {"detail": "Not Found"}


async def test_an_html_404_page_is_quoted_on_one_line(
    fault_server: FaultServer, make_client: MakeClient
) -> None:
    page = "<!DOCTYPE HTML>\n<html>\n  <body>\n    <h1>404</h1>" + " padding" * 60 + "\n</html>\n"
    for route in ("/wrong/api/v1/models", "/wrong/api/v0/models", "/wrong/v1/models"):
        fault_server.route("GET", route, fault_server.reply(404, page, content_type="text/html"))
    client = make_client(base_url=fault_server.base_url + "/wrong")

    with pytest.raises(BadRequestError) as raised:
        await client.chat()

    assert "\n" not in raised.value.message
    assert "<!DOCTYPE HTML> <html> <body> <h1>404</h1> padding" in raised.value.message
    assert raised.value.message.endswith("...).")


@pytest.mark.parametrize("path", ["/wrong", "/api/v1", "/v1/chat/completions"])
async def test_a_base_url_with_a_path_is_reported_with_the_root(
    fault_server: FaultServer, make_client: MakeClient, path: str
) -> None:
    """LM Studio's own answer to an unknown route."""
    client = make_client(base_url=fault_server.base_url + path)

    with pytest.raises(BadRequestError) as raised:
        await client.chat()

    error = raised.value
    assert "looks wrong" in error.message
    assert error.hint is not None
    assert f"use the server's root, {fault_server.base_url} (" in error.hint


async def test_llama_cpp_404s_under_a_path_are_a_wrong_base_url_not_a_missing_model(
    fault_server: FaultServer, make_client: MakeClient
) -> None:
    for route in ("/wrong/api/v1/models", "/wrong/api/v0/models", "/wrong/v1/models"):
        fault_server.route("GET", route, fault_server.reply(404, LLAMA_CPP_404))
    fault_server.route("POST", "/wrong/v1/chat/completions", fault_server.reply(404, LLAMA_CPP_404))
    client = make_client(base_url=fault_server.base_url + "/wrong")

    with pytest.raises(BadRequestError) as raised:
        await client.chat(model="granite")

    assert not isinstance(raised.value, ModelNotFoundError)
    assert "The base URL http://127.0.0.1:" in raised.value.message
    assert raised.value.hint is not None
    assert fault_server.base_url in raised.value.hint


async def test_a_missing_model_at_the_root_is_still_a_missing_model(
    fault_server: FaultServer, make_client: MakeClient
) -> None:
    fault_server.route(
        "POST",
        "/v1/chat/completions",
        fault_server.reply(404, {"error": "model 'nope' not found"}),
    )
    client = make_client()

    with pytest.raises(ModelNotFoundError):
        await client.chat(model="granite-3.1-8b-instruct")


@pytest.fixture
def plain_http_server() -> Iterator[str]:
    """A plain-HTTP server that answers a TLS handshake with an HTTP 400, as most do."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), http.server.BaseHTTPRequestHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
    thread.join()


@pytest.mark.parametrize("kind", ["sync", "async"])
async def test_https_to_a_plain_http_server_says_to_use_http(
    plain_http_server: str, kind: str
) -> None:
    https_url = plain_http_server.replace("http://", "https://")

    async def list_models() -> None:
        if kind == "sync":
            with LMStudioClient(base_url=https_url, max_retries=0, connect_timeout=5) as client:
                client.list_models()
            return
        async with AsyncLMStudioClient(
            base_url=https_url, max_retries=0, connect_timeout=5
        ) as aclient:
            await aclient.list_models()

    with pytest.raises(ServerUnreachableError) as raised:
        await list_models()

    error = raised.value
    assert "does not speak HTTPS" in error.message
    assert error.hint is not None
    assert f"use {plain_http_server} " in error.hint
    assert "lms server start" not in error.hint
    assert not error.retryable
