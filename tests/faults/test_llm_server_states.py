"""``llm models`` and ``llm -m lmstudio`` in every state LM Studio's server can be in.

Real loopback sockets, no mocks: the plugin's own listing request (``http.client``)
and the transport meet a port nobody listens on (refused), a listener whose accept
queue is full so that connections never complete (black-holed), the fault server
reading requests and never answering (silent), answering garbage (malformed) or
500, and LM Studio answering with another model than the one asked for.

In every state ``llm models`` returns within 1.5 s without a traceback, and a prompt
fails with what happened and what to do. (Times are measured in-process: llm's own
start-up is measured by ``benchmarks/bench_startup.py``.)
"""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from click.testing import Result

from llm_fixtures import Invoke
from lmstudio_provider.error_mapping import RequestContext
from lmstudio_provider.errors import START_SERVER_HINT
from lmstudio_provider.llm_plugin import registry
from server_states import black_hole, closed_port

if TYPE_CHECKING:
    from faults.conftest import FaultServer, Wire

pytestmark = pytest.mark.usefixtures("llm_user_dir")

BUDGET_SECS = 1.5
LOADED = "granite-3.1-8b-instruct"  # the loaded model of the fault server's model list


def timed(invoke: Callable[[], Result]) -> tuple[Result, float]:
    started = time.perf_counter()
    result = invoke()
    return result, time.perf_counter() - started


@pytest.fixture
def at(monkeypatch: pytest.MonkeyPatch) -> Callable[[str], None]:
    def point(base_url: str) -> None:
        monkeypatch.setenv("LMSTUDIO_BASE_URL", base_url)

    return point


def check_models(llm_cli: Invoke) -> Result:
    result, elapsed = timed(lambda: llm_cli("models"))
    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output
    assert "LM Studio: lmstudio/default (aliases: lmstudio)" in result.output
    assert elapsed < BUDGET_SECS, f"llm models took {elapsed:.2f} s"
    return result


def check_prompt_fails(llm_cli: Invoke, *expected: str) -> Result:
    result, elapsed = timed(lambda: llm_cli("-m", "lmstudio", "hi"))
    assert result.exit_code == 1
    assert result.output.startswith("Error: ")
    assert "Unknown model" not in result.output
    assert "Traceback" not in result.output
    for text in expected:
        assert text in result.output
    assert elapsed < BUDGET_SECS, f"llm -m lmstudio took {elapsed:.2f} s"
    return result


def test_refused(llm_cli: Invoke, at: Callable[[str], None]) -> None:
    url = closed_port()
    at(url)
    check_models(llm_cli)
    check_prompt_fails(
        llm_cli,
        f"LM Studio is not reachable at {url}",
        "Connection refused",
        f"Hint: {START_SERVER_HINT}",
    )


def test_black_holed(llm_cli: Invoke, at: Callable[[str], None]) -> None:
    with black_hole() as url:
        probe = socket.socket()
        probe.settimeout(0.2)
        with pytest.raises(TimeoutError), probe:
            probe.connect(("127.0.0.1", int(url.rsplit(":", 1)[1])))  # the state really holds
        at(url)
        check_models(llm_cli)
        check_prompt_fails(
            llm_cli,
            f"Connecting to LM Studio at {url} took longer than 0.3 s",
            "Hint: LM Studio at",
            "Restart the server",
        )


def test_silent(fault_server: FaultServer, llm_cli: Invoke, at: Callable[[str], None]) -> None:
    fault_server.everything = fault_server.silence()
    at(fault_server.base_url)
    check_models(llm_cli)
    check_prompt_fails(
        llm_cli,
        "LM Studio sent nothing for 0.6 s (read timeout)",
        "took longer than 0.6 s to list its models",
        "`llm lmstudio health`",
    )
    # One listing request per command, and no prompt was sent to a server that hangs.
    assert {request.path for request in fault_server.requests} == {"/api/v1/models"}
    assert len(fault_server.requests) == 2


def test_malformed(fault_server: FaultServer, llm_cli: Invoke, at: Callable[[str], None]) -> None:
    fault_server.everything = fault_server.reply(200, "{'models': [oops")
    at(fault_server.base_url)
    check_models(llm_cli)
    check_prompt_fails(llm_cli, "with a body that is not valid JSON", "{'models': [oops")


def test_server_error(
    fault_server: FaultServer, llm_cli: Invoke, at: Callable[[str], None]
) -> None:
    fault_server.everything = fault_server.reply(500, {"error": "Internal failure"})
    at(fault_server.base_url)
    check_models(llm_cli)
    check_prompt_fails(llm_cli, "LM Studio failed (HTTP 500)", "Internal failure", "Hint: ")


@pytest.mark.parametrize("stream", [True, False], ids=["stream", "no-stream"])
def test_another_model_answers(
    fault_server: FaultServer,
    llm_cli: Invoke,
    at: Callable[[str], None],
    wire: type[Wire],
    stream: bool,
) -> None:
    """LM Studio answers an unknown or unloaded model with its loaded one, status 200."""
    asked = "qwen2.5-coder-32b-instruct"  # listed, not loaded
    if stream:
        fault_server.route("POST", wire.CHAT, fault_server.events([wire.chunk("Hi", model=LOADED)]))
    else:
        fault_server.route("POST", wire.CHAT, fault_server.reply(200, wire.completion("Hi")))
    at(fault_server.base_url)
    listed = check_models(llm_cli)
    assert f"LM Studio: lmstudio/{asked}" in listed.output
    args = ["-m", f"lmstudio/{asked}", "hi", *([] if stream else ["--no-stream"])]
    result = llm_cli(*args)
    assert result.exit_code == 1
    assert f"Asked for model '{asked}', but LM Studio answered with '{LOADED}'" in result.output
    assert f"Hint: Load '{asked}' (`lms load {asked}`)" in result.output
    assert "Hi" not in result.stdout  # the other model's words were not shown as the answer


def test_a_healthy_server_gets_one_listing_request_then_the_chat(
    fault_server: FaultServer,
    llm_cli: Invoke,
    at: Callable[[str], None],
    wire: type[Wire],
    llm_user_dir: Path,
) -> None:
    at(fault_server.base_url)
    fault_server.route("POST", wire.CHAT, fault_server.events([wire.chunk("Hello")]))
    first = llm_cli("-m", "lmstudio", "hi")
    assert first.exit_code == 0, first.output
    assert first.stdout == "Hello\n"
    # One request for the models (the saved endpoint first), one for the chat.
    assert [r.path for r in fault_server.requests] == [
        "/api/v1/models",  # LM Studio 0.3 answers "Unexpected endpoint": the next is tried
        "/api/v0/models",
        "/v1/chat/completions",
    ]
    saved = json.loads((llm_user_dir / "lmstudio-models.json").read_text())
    assert saved["servers"][fault_server.base_url]["dialect"] == "v0"
    assert llm_cli("-m", "lmstudio", "hi").exit_code == 0
    assert [r.path for r in fault_server.requests[3:]] == ["/api/v0/models", "/v1/chat/completions"]


def test_the_listing_request_itself(fault_server: FaultServer) -> None:
    """``registry.get`` on a real socket: the status and body of an answer (failures: above)."""
    context = RequestContext(fault_server.base_url, "GET", "/api/v0/models")
    status, body = registry.get(fault_server.base_url, "/api/v0/models", {}, 1.0, context)
    assert status == 200
    assert json.loads(body)["data"][0]["id"] == LOADED
    [request] = fault_server.requests
    assert request.headers["accept-encoding"] == "identity"
