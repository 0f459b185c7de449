"""``llm lmstudio load | unload | download | ps`` against a loopback LM Studio 0.4.

In-process (click's runner: stderr is no terminal) for output, errors and what is
sent; in a child process with stderr on a pseudo-terminal (python's ``pty``) for the
spinner, the progress bar and Ctrl-C.
"""

from __future__ import annotations

import json
import os
import pty
import select
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from llm_fixtures import Invoke

if TYPE_CHECKING:
    from fault_server import Exchange, FaultServer
    from lmstudio_v1 import RuntimeState

pytestmark = pytest.mark.usefixtures("llm_user_dir")

QWEN = "qwen/qwen3-4b-2507"
GEMMA = "google/gemma-3-1b"
CLI = "from llm.cli import cli; cli()"
SAFETY_SECS = 60.0  # a child still running by then has hung: the test fails


@pytest.fixture
def lmstudio(
    fault_server: FaultServer, lmstudio_v1: RuntimeState, monkeypatch: pytest.MonkeyPatch
) -> RuntimeState:
    monkeypatch.setenv("LMSTUDIO_BASE_URL", fault_server.base_url)
    return lmstudio_v1


def posts(server: FaultServer) -> list[tuple[str, object]]:
    return [(r.path, r.json()) for r in server.requests if r.method == "POST"]


# -- in-process: stdout, plain progress lines, errors --------------------------------


def test_load_prints_what_was_loaded(
    lmstudio: RuntimeState, fault_server: FaultServer, llm_cli: Invoke
) -> None:
    result = llm_cli(
        "lmstudio", "load", "qwen3-4b", "--context-length", "32768", "--flash-attention"
    )

    assert result.exit_code == 0, result.output
    assert result.stdout == (
        f"Loaded {QWEN} as {QWEN} in 2.5 s (context 16384 tokens; 32768 asked).\n"
    )
    assert result.stderr == "loading qwen3-4b\n"
    assert posts(fault_server) == [
        ("/api/v1/models/load", {"model": QWEN, "context_length": 32768, "flash_attention": True})
    ]


def test_load_as_json(lmstudio: RuntimeState, llm_cli: Invoke) -> None:
    result = llm_cli("lmstudio", "load", GEMMA, "--no-flash-attention", "--json")

    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["instance_id"] == GEMMA


def test_load_with_ttl_loads_just_in_time(
    lmstudio: RuntimeState, fault_server: FaultServer, llm_cli: Invoke
) -> None:
    result = llm_cli("lmstudio", "load", GEMMA, "--ttl", "300")

    assert result.exit_code == 0, result.output
    assert lmstudio.ttls == {GEMMA: 300}
    assert [path for path, _ in posts(fault_server)] == ["/v1/chat/completions"]


@pytest.mark.parametrize(
    ("args", "error", "status"),
    [
        (
            ["--context-length", "-5"],
            "Error: Invalid value for '--context-length': -5 is not in the range x>=1; "
            "nothing was sent.\n",
            2,
        ),
        (
            ["--context-length", "4k"],
            "Error: Invalid value for '--context-length': '4k' is not a valid integer; "
            "nothing was sent.\n",
            2,
        ),
        (
            ["--ttl", "60", "--context-length", "4096"],
            "Error: --ttl loads just in time, which takes no load options; nothing was sent.\n"
            "Hint: Use --ttl alone, or the load options without --ttl.\n",
            1,
        ),
    ],
)
def test_bad_load_options_are_refused_before_anything_is_sent(
    lmstudio: RuntimeState,
    fault_server: FaultServer,
    llm_cli: Invoke,
    args: list[str],
    error: str,
    status: int,
) -> None:
    result = llm_cli("lmstudio", "load", QWEN, *args)

    assert result.exit_code == status
    assert result.stderr.endswith(error)  # click's usage lines come first for a bad value
    assert "Traceback" not in result.output
    assert fault_server.requests == []


def test_loading_an_unknown_model_says_how_to_download_it(
    lmstudio: RuntimeState, fault_server: FaultServer, llm_cli: Invoke
) -> None:
    result = llm_cli("lmstudio", "load", "llama-3-70b")

    assert result.exit_code == 1
    error, hint = result.stderr.splitlines()[-2:]
    assert error.startswith("Error: LM Studio has no downloaded model 'llama-3-70b' (downloaded: ")
    assert hint == (
        "Hint: Download it with `llm lmstudio download <model>`; "
        "`llm lmstudio models` lists the downloaded ones."
    )
    assert posts(fault_server) == []
    assert "Traceback" not in result.output


def test_ps_lists_instances_with_their_config(lmstudio: RuntimeState, llm_cli: Invoke) -> None:
    lmstudio.add_instance(QWEN, "my-qwen", context=8192)
    lmstudio.add_instance(GEMMA)

    table = llm_cli("lmstudio", "ps")
    as_json = llm_cli("lmstudio", "ps", "--json")

    assert table.stdout.splitlines() == [
        "INSTANCE           MODEL               CONTEXT  CONFIG",
        f"my-qwen            {QWEN}  8192     flash_attention=False, eval_batch_size=512",
        f"{GEMMA}  {GEMMA}   4096     flash_attention=False, eval_batch_size=512",
    ]
    assert [item["id"] for item in json.loads(as_json.stdout)] == ["my-qwen", GEMMA]


def test_ps_with_nothing_loaded(lmstudio: RuntimeState, llm_cli: Invoke) -> None:
    assert llm_cli("lmstudio", "ps").stdout == "No model is loaded.\n"


def test_unload_named_instances_and_all(
    lmstudio: RuntimeState, fault_server: FaultServer, llm_cli: Invoke
) -> None:
    lmstudio.add_instance(QWEN, "my-qwen")
    lmstudio.add_instance(QWEN)
    lmstudio.add_instance(GEMMA)

    named = llm_cli("lmstudio", "unload", "my-qwen")
    every = llm_cli("lmstudio", "unload", "--all")

    assert named.stdout == "Unloaded my-qwen.\n"
    assert every.stdout == f"Unloaded {QWEN}:2.\nUnloaded {GEMMA}.\n"
    assert lmstudio.instance_ids() == []


@pytest.mark.parametrize("args", [[], ["my-qwen", "--all"]])
def test_unload_needs_names_or_all(
    lmstudio: RuntimeState, fault_server: FaultServer, llm_cli: Invoke, args: list[str]
) -> None:
    result = llm_cli("lmstudio", "unload", *args)

    assert result.exit_code == 1
    assert result.stderr == (
        "Error: Name the instances to unload, or pass --all (not both); nothing was sent.\n"
        "Hint: `llm lmstudio ps` lists the loaded instances.\n"
    )
    assert fault_server.requests == []


def test_unloading_an_instance_that_is_not_loaded_unloads_nothing(
    lmstudio: RuntimeState, fault_server: FaultServer, llm_cli: Invoke
) -> None:
    lmstudio.add_instance(GEMMA)

    result = llm_cli("lmstudio", "unload", GEMMA, "my-qwen")

    assert result.exit_code == 1
    assert result.stderr == (
        f"Error: No loaded instance 'my-qwen' (loaded: {GEMMA}); nothing was sent.\n"
        "Hint: `llm lmstudio ps` lists the loaded instances.\n"
    )
    assert posts(fault_server) == []


def test_download_on_a_pipe_prints_one_parseable_line_per_report(
    lmstudio: RuntimeState, llm_cli: Invoke, monkeypatch: pytest.MonkeyPatch
) -> None:
    from lmstudio_provider.transport import _sync_client

    monkeypatch.setattr(_sync_client, "DOWNLOAD_POLL_SECS", 0.0)
    lmstudio.entries = [e for e in lmstudio.entries if e["key"] != QWEN]

    result = llm_cli("lmstudio", "download", QWEN)

    assert result.exit_code == 0, result.output
    assert result.stdout == f"Downloaded {QWEN}.\n"
    assert result.stderr.splitlines() == [
        "status=downloading downloaded_bytes=0 total_bytes=1200000 bytes_per_second=400000.0 "
        "eta_secs=3.0",
        "status=downloading downloaded_bytes=400000 total_bytes=1200000 "
        "bytes_per_second=400000.0 eta_secs=2.0",
        "status=downloading downloaded_bytes=800000 total_bytes=1200000 "
        "bytes_per_second=400000.0 eta_secs=1.0",
        "status=completed downloaded_bytes=1200000 total_bytes=1200000 "
        "bytes_per_second=400000.0 eta_secs=0.0",
    ]


def test_download_of_a_model_already_there(lmstudio: RuntimeState, llm_cli: Invoke) -> None:
    result = llm_cli("lmstudio", "download", QWEN)

    assert result.stdout == f"{QWEN} is already downloaded.\n"


def test_a_failed_download_is_one_error(
    lmstudio: RuntimeState, llm_cli: Invoke, monkeypatch: pytest.MonkeyPatch
) -> None:
    from lmstudio_provider.transport import _sync_client

    monkeypatch.setattr(_sync_client, "DOWNLOAD_POLL_SECS", 0.0)
    lmstudio.entries = [e for e in lmstudio.entries if e["key"] != QWEN]
    lmstudio.download_fails = True

    result = llm_cli("lmstudio", "download", QWEN)

    assert result.exit_code == 1
    assert "Error: LM Studio's download 'job-1' failed" in result.stderr
    assert "Hint: See LM Studio's Downloads panel" in result.stderr
    assert "Traceback" not in result.output


def test_quantization_without_a_url_is_refused(
    lmstudio: RuntimeState, fault_server: FaultServer, llm_cli: Invoke
) -> None:
    result = llm_cli("lmstudio", "download", QWEN, "--quantization", "Q4_K_M")

    assert result.exit_code == 1
    assert result.stderr == (
        f"Error: The quantization 'Q4_K_M' only applies to a Hugging Face URL, and {QWEN!r} "
        "is a catalog key; nothing was sent.\nHint: Name the model by its URL "
        "(https://huggingface.co/<user>/<repo>) to pick a quantization, or leave the "
        "quantization out.\n"
    )
    assert fault_server.requests == []


def test_lm_studio_0_3_is_told_which_lms_command_does_it(
    fault_server: FaultServer, llm_cli: Invoke, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LMSTUDIO_BASE_URL", fault_server.base_url)  # LM Studio 0.3.x

    result = llm_cli("lmstudio", "load", "granite")

    assert result.exit_code == 1
    assert result.stderr.splitlines()[-1] == (
        "Hint: Update LM Studio to 0.4 or later, or run `lms load <model>` on the machine "
        "running it."
    )
    assert posts(fault_server) == []


def test_models_shows_instance_ids(lmstudio: RuntimeState, llm_cli: Invoke) -> None:
    lmstudio.add_instance(QWEN, "my-qwen")
    lmstudio.add_instance(QWEN)

    result = llm_cli("lmstudio", "models")

    assert "INSTANCES" in result.stdout.splitlines()[0]
    assert f"my-qwen, {QWEN}:2" in result.stdout


def test_a_prompt_to_an_identifier_works(lmstudio: RuntimeState, llm_cli: Invoke) -> None:
    lmstudio.add_instance(QWEN, "my-qwen")
    lmstudio.add_instance(GEMMA)

    result = llm_cli("-m", "lmstudio/my-qwen", "hi")

    assert result.exit_code == 0, result.output
    assert result.stdout == "Hi there\n"
    assert "KeyError" not in result.output


# -- on a terminal ---------------------------------------------------------------------


def run_on_terminal(
    args: list[str], env: dict[str, str], *, interrupt_on: str | None = None
) -> tuple[int, str, str]:
    """Run ``llm ARGS`` with stderr on a pseudo-terminal; (status, stdout, stderr).

    With ``interrupt_on``, send SIGINT (Ctrl-C) once stderr shows that text.
    """
    leader, follower = pty.openpty()
    child = subprocess.Popen(  # noqa: S603 (our own interpreter and llm)
        [sys.executable, "-c", CLI, *args],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=follower,
        env=env,
    )
    os.close(follower)
    received = b""
    interrupted = False
    deadline = time.monotonic() + SAFETY_SECS
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([leader], [], [], 0.05)
            if ready:
                try:
                    data = os.read(leader, 65536)
                except OSError:  # the child closed its end
                    break
                if not data:
                    break
                received += data
                if interrupt_on and not interrupted and interrupt_on.encode() in received:
                    child.send_signal(signal.SIGINT)
                    interrupted = True
            elif child.poll() is not None:
                break
        status = child.wait(timeout=max(0.1, deadline - time.monotonic()))
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
        os.close(leader)
    assert child.stdout is not None
    stdout = child.stdout.read().decode()
    child.stdout.close()
    return status, stdout, received.decode(errors="replace")


@pytest.fixture
def child_env(fault_server: FaultServer, tmp_path: Path) -> dict[str, str]:
    user = tmp_path / "llm-child"
    user.mkdir()
    return {
        "PATH": "/usr/bin:/bin",
        "LLM_USER_PATH": str(user),
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
        "HOME": str(tmp_path),
        "LMSTUDIO_BASE_URL": fault_server.base_url,
        "TERM": "xterm",
    }


def slow(server: FaultServer, handler: Callable[[Exchange], None]) -> Callable[[Exchange], None]:
    def answer(exchange: Exchange) -> None:
        server.stopping.wait(0.6)
        handler(exchange)

    return answer


def test_a_load_on_a_terminal_shows_a_spinner_with_the_elapsed_time(
    lmstudio: RuntimeState, fault_server: FaultServer, child_env: dict[str, str]
) -> None:
    fault_server.route("POST", "/api/v1/models/load", slow(fault_server, lmstudio.load))

    status, stdout, stderr = run_on_terminal(["lmstudio", "load", GEMMA], child_env)

    assert status == 0, stderr
    assert f"Loading {GEMMA}... 0s" in stderr
    assert stderr.endswith("\r\x1b[K")  # the spinner's line is erased at the end
    assert stdout.startswith(f"Loaded {GEMMA} as {GEMMA}")


def test_a_download_on_a_terminal_shows_a_progress_bar(
    lmstudio: RuntimeState, child_env: dict[str, str]
) -> None:
    lmstudio.entries = [e for e in lmstudio.entries if e["key"] != QWEN]
    lmstudio.download_steps = [0, 600_000]

    status, stdout, stderr = run_on_terminal(["lmstudio", "download", QWEN], child_env)

    assert status == 0, stderr
    assert f"Downloading {QWEN}" in stderr
    assert "[####" in stderr
    assert "600.0 kB/1.2 MB  400.0 kB/s  ETA 2s" in stderr
    assert "100%" in stderr
    assert "status=" not in stderr  # the plain lines are for pipes
    assert stdout == f"Downloaded {QWEN}.\n"


def test_ctrl_c_stops_watching_a_download_without_a_traceback(
    lmstudio: RuntimeState, child_env: dict[str, str]
) -> None:
    lmstudio.entries = [e for e in lmstudio.entries if e["key"] != QWEN]
    lmstudio.download_steps = [0, *range(1000, 100_000, 1000)]  # a long download

    status, _stdout, stderr = run_on_terminal(
        ["lmstudio", "download", QWEN], child_env, interrupt_on="kB/s"
    )

    assert status == 130
    assert "Stopped watching; LM Studio keeps downloading (see its Downloads panel)." in stderr
    assert "Traceback" not in stderr


def test_a_prompt_to_a_model_that_is_not_loaded_says_it_is_loading(
    lmstudio: RuntimeState, fault_server: FaultServer, child_env: dict[str, str]
) -> None:
    lmstudio.add_instance(QWEN)
    fault_server.route("POST", "/v1/chat/completions", slow(fault_server, lmstudio.chat))

    status, stdout, stderr = run_on_terminal(["-m", f"lmstudio/{GEMMA}", "hi"], child_env)
    _, loaded_stdout, loaded_stderr = run_on_terminal(["-m", f"lmstudio/{QWEN}", "hi"], child_env)

    assert status == 0, stderr
    assert f"Loading {GEMMA}... 0s" in stderr
    assert stdout == "Hi there\n"
    assert "Loading" not in loaded_stderr
    assert loaded_stdout == "Hi there\n"


def test_a_prompt_on_a_pipe_says_nothing_of_the_load(
    lmstudio: RuntimeState, llm_cli: Invoke
) -> None:
    result = llm_cli("-m", f"lmstudio/{GEMMA}", "hi")

    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    assert result.stdout == "Hi there\n"


def test_ctrl_c_while_loading_stops_without_a_traceback(
    lmstudio: RuntimeState, fault_server: FaultServer, child_env: dict[str, str]
) -> None:
    fault_server.route("POST", "/api/v1/models/load", fault_server.silence())  # a long load

    status, stdout, stderr = run_on_terminal(
        ["lmstudio", "load", GEMMA], child_env, interrupt_on=f"Loading {GEMMA}..."
    )

    assert status == 130
    assert "Stopped waiting; LM Studio may still finish what it was asked" in stderr
    assert "Traceback" not in stderr
    assert stdout == ""
