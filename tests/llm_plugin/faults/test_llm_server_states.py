"""``llm models`` and ``llm -m lmstudio`` in every state LM Studio's server can be in.

Real loopback sockets, no mocks: the plugin's quick listing and the transport meet a
port nobody listens on (refused), a listener whose accept queue is full so that
connections never complete (black-holed), the fault server
reading requests and never answering (silent), sending its answer a byte at a time
(trickling), answering garbage (malformed) or 500, being slow to list because it is
busy, and LM Studio answering with another model than the one asked for.

In every state ``llm models`` returns, bounded by the quick deadline rather than the
user's timeouts, without a traceback. A prompt fails
at once only when nothing listens (refused); otherwise it goes to the transport, with
the user's own timeouts (short ones here, so that the tests are quick), and gets the
answer or the transport's error, saying what happened and what to do. (The tests only
bound the time generously; what each state costs, llm's own start-up included, is
measured by ``benchmarks/bench_startup.py``.)
"""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import pytest
from click.testing import Result

from llm_fixtures import Invoke, v1_model, v1_models
from lmstudio_provider import LMStudioClient
from lmstudio_provider.transport import (
    START_SERVER_HINT,
    LMStudioError,
    ProtocolError,
    ServerUnreachableError,
)
from server_states import black_hole, closed_port

if TYPE_CHECKING:
    from fault_server import Exchange, FaultServer, Handler, Wire

pytestmark = pytest.mark.usefixtures("llm_user_dir")

# A bound, not a timing: a command that waited out the default read timeout (60 s) or a
# server that trickles forever would pass it; a loaded machine must not fail it. What each
# state costs is measured by benchmarks/bench_startup.py (--states), never asserted here.
BUDGET_SECS = 15.0
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


@pytest.fixture
def quick_transport(monkeypatch: pytest.MonkeyPatch) -> None:
    """The user's timeouts, short, and no retries: a failing prompt fails within the budget."""
    monkeypatch.setenv("LMSTUDIO_HTTP_TIMEOUT_SECS", "0.3")
    monkeypatch.setenv("LMSTUDIO_HTTP_CONNECT_TIMEOUT_SECS", "0.3")
    monkeypatch.setenv("LMSTUDIO_MAX_RETRIES", "0")


def trickle(part: Literal["head", "body"], every: float = 0.3) -> Handler:
    """A whole answer (a model list), sent a byte every ``every`` seconds from ``part`` on.

    Each byte comes well within the listing's read timeout, so only a deadline for the
    whole answer ends the wait. Ends when the client goes away.
    """
    body = json.dumps({"data": [{"id": "trickled", "type": "llm"}]}).encode()
    head = f"HTTP/1.1 200 OK\r\nContent-Length: {len(body)}\r\n\r\n".encode()

    def handler(exchange: Exchange) -> None:
        slow = head + body if part == "head" else body
        if part == "body":
            exchange.send(head)
        for byte in slow:
            time.sleep(every)
            exchange.send(bytes([byte]))  # raises once the client has closed: the end

    return handler


def after(secs: float, handler: Handler) -> Handler:
    """``handler``, after ``secs`` seconds: a server busy with another request."""

    def delayed(exchange: Exchange) -> None:
        time.sleep(secs)
        handler(exchange)

    return delayed


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


@pytest.mark.usefixtures("quick_transport")
def test_black_holed(llm_cli: Invoke, at: Callable[[str], None]) -> None:
    with black_hole() as url:
        probe = socket.socket()
        probe.settimeout(0.2)
        with pytest.raises(TimeoutError), probe:
            probe.connect(("127.0.0.1", int(url.rsplit(":", 1)[1])))  # the state really holds
        at(url)
        check_models(llm_cli)
        # No TCP handshake: the server is not there, and a prompt says so at once.
        check_prompt_fails(
            llm_cli,
            f"Connecting to LM Studio at {url} took longer than 0.3 s",
            "Hint: Nothing at that address completes a connection",
            "lms server start",
        )


@pytest.mark.usefixtures("quick_transport")
def test_silent(fault_server: FaultServer, llm_cli: Invoke, at: Callable[[str], None]) -> None:
    fault_server.everything = fault_server.silence()
    at(fault_server.base_url)
    check_models(llm_cli)
    check_prompt_fails(
        llm_cli,
        "LM Studio sent nothing for 0.3 s (read timeout)",  # the configured timeout
        "raise http.timeout_secs (LMSTUDIO_HTTP_TIMEOUT_SECS)",
    )
    # A listing request per command, one more by the transport; no chat request was sent
    # to a server that did not list its models.
    assert [request.path for request in fault_server.requests] == ["/api/v1/models"] * 3


@pytest.mark.parametrize("part", ["head", "body"])
def test_trickling(
    fault_server: FaultServer,
    llm_cli: Invoke,
    at: Callable[[str], None],
    part: Literal["head", "body"],
) -> None:
    """A byte every 0.3 s: each read is quick, the answer never ends; the saved list is used."""
    at(fault_server.base_url)
    assert f"lmstudio/{LOADED}" in check_models(llm_cli).output  # listed, and saved
    fault_server.everything = trickle(part)
    listed = check_models(llm_cli)
    assert f"LM Studio: lmstudio/{LOADED}" in listed.output  # the saved list
    assert "trickled" not in listed.output


@pytest.mark.usefixtures("quick_transport")
def test_malformed(fault_server: FaultServer, llm_cli: Invoke, at: Callable[[str], None]) -> None:
    fault_server.everything = fault_server.reply(200, "{'models': [oops")
    at(fault_server.base_url)
    check_models(llm_cli)
    check_prompt_fails(llm_cli, "with a body that is not valid JSON", "{'models': [oops")


@pytest.mark.usefixtures("quick_transport")
def test_server_error(
    fault_server: FaultServer, llm_cli: Invoke, at: Callable[[str], None]
) -> None:
    fault_server.everything = fault_server.reply(500, {"error": "Internal failure"})
    at(fault_server.base_url)
    check_models(llm_cli)
    check_prompt_fails(llm_cli, "LM Studio failed (HTTP 500)", "Internal failure", "Hint: ")


@pytest.mark.usefixtures("quick_transport")
def test_cut_off(fault_server: FaultServer, llm_cli: Invoke, at: Callable[[str], None]) -> None:
    """A server that takes the connection and closes it unanswered is there: no fast failure."""
    fault_server.everything = lambda exchange: exchange.cut()
    at(fault_server.base_url)
    check_models(llm_cli)
    check_prompt_fails(llm_cli, f"The connection to LM Studio at {fault_server.base_url} failed")
    # The plugin's listing did not stop the prompt: the transport asked for itself.
    assert len(fault_server.requests) == 3


@pytest.mark.parametrize("stream", [True, False], ids=["stream", "no-stream"])
def test_a_busy_server_slow_to_list_still_answers(
    fault_server: FaultServer,
    llm_cli: Invoke,
    at: Callable[[str], None],
    wire: type[Wire],
    stream: bool,
) -> None:
    """Busy with another request, the server lists its models after the plugin's 0.6 s.

    The prompt is not failed for it: the transport lists again, with the configured
    timeouts (60 s), and the answer comes.
    """
    listed = fault_server.reply(200, v1_models(v1_model(LOADED, loaded=True)))
    fault_server.route("GET", "/api/v1/models", after(1.0, listed))
    if stream:
        fault_server.route("POST", wire.CHAT, fault_server.events([wire.chunk("Hello")]))
    else:
        fault_server.route("POST", wire.CHAT, fault_server.reply(200, wire.completion("Hello")))
    at(fault_server.base_url)
    result = llm_cli("-m", "lmstudio", "hi", *([] if stream else ["--no-stream"]))
    assert result.exit_code == 0, result.output
    assert result.stdout == "Hello\n"
    assert [r.path for r in fault_server.requests] == [
        "/api/v1/models",  # the plugin's listing, given up after 0.6 s
        "/api/v1/models",  # the transport's, answered after 1 s
        "/v1/chat/completions",
    ]


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


def quick_listing(base_url: str) -> list[str]:
    """The plugin's listing call: the transport's quick model list, the saved endpoint first."""
    with LMStudioClient(base_url=base_url) as client:
        return [model.id for model in client.model_list(quick=True, first="v0").models]


def test_the_listing_request_itself(fault_server: FaultServer) -> None:
    """The quick listing on a real socket: the models of an answer (failures: above)."""
    assert quick_listing(fault_server.base_url)[0] == LOADED
    [request] = fault_server.requests
    assert request.path == "/api/v0/models"
    assert request.headers["user-agent"].startswith("lmstudio-provider/")


def test_the_listing_request_reads_no_more_than_a_model_list(fault_server: FaultServer) -> None:
    huge = b'{"data": [' + b" " * 4 * 1024 * 1024 + b"]}"
    fault_server.route("GET", "/api/v0/models", fault_server.reply(200, huge))
    with pytest.raises(ProtocolError, match="sent more than 4 MiB"):
        quick_listing(fault_server.base_url)


def test_the_listing_request_tells_a_refused_connection_from_a_broken_answer(
    fault_server: FaultServer,
) -> None:
    """Only a refused connection means the server is down (and fails a prompt at once)."""
    with pytest.raises(ServerUnreachableError, match="Connection refused") as refused:
        quick_listing(closed_port())
    assert refused.value.server_down
    for broken_off in (cut_at_once, cut_mid_body):
        fault_server.everything = broken_off
        with pytest.raises(LMStudioError) as broken:
            quick_listing(fault_server.base_url)
        assert not broken.value.server_down


def cut_at_once(exchange: Exchange) -> None:
    exchange.cut()


def cut_mid_body(exchange: Exchange) -> None:
    exchange.send(b'HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{"data": []}')
    exchange.cut()
