"""A stream cut off mid-answer in ``llm prompt``: the text that arrived is in ``llm logs``.

A real loopback server streams two pieces of text, then closes the connection. The
prompt fails as before (exit 1, one error line), and the partial answer is logged as
llm logs any answer, marked as cut off, unless logging is off for this prompt.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import llm
import pytest
from click.testing import Result

from llm_fixtures import Invoke, logged
from lmstudio_provider.llm_plugin._error_messages import LOGGED_HINT
from lmstudio_provider.transport import ModelListCache

if TYPE_CHECKING:
    from fault_server import FaultServer, Wire

pytestmark = pytest.mark.usefixtures("llm_user_dir")

MODES = pytest.mark.parametrize("mode", [[], ["--async"]], ids=["sync", "async"])


@pytest.fixture
def prompt(
    fault_server: FaultServer, llm_cli: Invoke, monkeypatch: pytest.MonkeyPatch
) -> Callable[..., Result]:
    """``llm -m lmstudio hi ARGS...`` against the fault server (no retries)."""
    monkeypatch.setenv("LMSTUDIO_BASE_URL", fault_server.base_url)
    monkeypatch.setenv("LMSTUDIO_MAX_RETRIES", "0")

    def run(*args: str) -> Result:
        return llm_cli("-m", "lmstudio", "hi", *args)

    return run


@pytest.fixture
def cut_stream(fault_server: FaultServer, wire: type[Wire]) -> None:
    pieces = [wire.chunk("The answer "), wire.chunk("begins")]
    fault_server.route("POST", wire.CHAT, fault_server.events(pieces, end="cut"))


def check_failed(result: Result) -> None:
    assert result.exit_code == 1, result.output
    assert "Error: " in result.output
    assert "Traceback" not in result.output


@MODES
@pytest.mark.usefixtures("cut_stream")
def test_a_cut_stream_logs_the_partial_answer(
    prompt: Callable[..., Result], mode: list[str]
) -> None:
    result = prompt(*mode)
    check_failed(result)
    assert f"{LOGGED_HINT}." in result.output
    assert "partial" not in result.output.replace("partial answer", "")  # no Python words
    [row] = logged()
    assert row["response"] == "The answer begins"
    assert row["prompt"] == "hi"
    cut = row["response_json"]
    cut = json.loads(cut) if isinstance(cut, str) else cut
    assert cut["cut_off"] is True
    assert cut["cut_off_error"] in result.output


@pytest.mark.usefixtures("cut_stream")
def test_no_log_logs_nothing(prompt: Callable[..., Result]) -> None:
    result = prompt("-n")
    check_failed(result)
    assert LOGGED_HINT not in result.output
    assert logged() == []


@pytest.mark.usefixtures("cut_stream")
def test_logs_off_logs_nothing_unless_log_is_asked(
    prompt: Callable[..., Result], llm_cli: Invoke
) -> None:
    assert llm_cli("logs", "off").exit_code == 0
    result = prompt()
    check_failed(result)
    assert LOGGED_HINT not in result.output
    assert logged() == []
    result = prompt("--log")
    check_failed(result)
    assert f"{LOGGED_HINT}." in result.output
    assert [row["response"] for row in logged()] == ["The answer begins"]


@pytest.mark.usefixtures("cut_stream")
def test_the_database_option_is_honoured(
    prompt: Callable[..., Result], llm_cli: Invoke, llm_user_dir: Path, tmp_path: Path
) -> None:
    other = tmp_path / "other.db"
    result = prompt("--database", str(other))
    check_failed(result)
    assert f"{LOGGED_HINT} --database {other}." in result.output
    shown = llm_cli("logs", "--database", str(other), "--json", "-n", "1")
    assert [row["response"] for row in json.loads(shown.output)] == ["The answer begins"]
    assert not (llm_user_dir / "logs.db").exists()


@MODES
def test_a_failure_before_any_text_is_not_logged(
    prompt: Callable[..., Result], fault_server: FaultServer, wire: type[Wire], mode: list[str]
) -> None:
    fault_server.route("POST", wire.CHAT, fault_server.events([], end="cut"))
    result = prompt(*mode)
    check_failed(result)
    assert LOGGED_HINT not in result.output
    assert logged() == []


@pytest.mark.usefixtures("cut_stream")
def test_the_python_api_logs_nothing_new(
    fault_server: FaultServer, llm_user_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """From Python the caller holds the response: the error is raised as it always was."""
    monkeypatch.setenv("LMSTUDIO_BASE_URL", fault_server.base_url)
    monkeypatch.setenv("LMSTUDIO_MAX_RETRIES", "0")
    response = llm.get_model("lmstudio").prompt("hi")
    with pytest.raises(llm.ModelError) as raised:
        response.text()
    assert LOGGED_HINT not in str(raised.value)
    assert not (llm_user_dir / "logs.db").exists()
    ModelListCache.forget_recent()  # the listing's connections, closed before the server checks
