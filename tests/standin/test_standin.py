"""The stand-in's lifetime: it ends, and its directory goes, however whoever started it ends.

The server runs in a session of its own, so a signal to the process that started it
does not reach it: these tests start stand-ins of their own (about 3 s each), end
their starters in the ways a user, a CI runner or a crash does, and look in ``/proc``
for any server left behind.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx2
import pytest

from lmstudio_provider.standin import free_port, start_standin

pytestmark = [
    pytest.mark.skipif(sys.platform != "linux", reason="looks for processes in /proc"),
    pytest.mark.skipif(
        importlib.util.find_spec("llama_cpp") is None,
        reason="the stand-in is not installed (the `integration` dependency group)",
    ),
]

STARTUP_SECS = 180.0
GONE_SECS = 20.0  # the server shuts down gracefully in a second or two
# A process that starts the stand-in as a library user (a quick start, a test run) does,
# with no signal handler of its own.
LIBRARY_USER = """
import sys
from lmstudio_provider.standin import start_standin
server = start_standin(port=int(sys.argv[1]))
print(server.base_url, flush=True)
server.process.wait()
"""


@dataclass(frozen=True)
class Process:
    parent: int
    args: list[str]


def live_processes() -> dict[int, Process]:
    """Every live process (zombies excluded): its parent and its command line."""
    found: dict[int, Process] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            args = (entry / "cmdline").read_bytes().split(b"\0")
            state, parent = (entry / "stat").read_text().rsplit(")", 1)[1].split()[:2]
        except (OSError, ValueError):
            continue  # gone meanwhile
        if state not in ("Z", "X"):
            decoded = [arg.decode(errors="replace") for arg in args if arg]
            found[int(entry.name)] = Process(int(parent), decoded)
    return found


def servers(match: Callable[[Process], bool]) -> list[int]:
    """The live ``lmstudio_provider.standin --serve`` processes that ``match``."""
    return [
        pid
        for pid, process in live_processes().items()
        if "lmstudio_provider.standin" in process.args
        and "--serve" in process.args
        and match(process)
    ]


def answers(port: int) -> bool:
    try:
        return httpx2.get(f"http://127.0.0.1:{port}/v1/models", timeout=2.0).status_code == 200
    except httpx2.HTTPError:
        return False


def wait_until(condition: Callable[[], bool], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


@dataclass
class Started:
    """A process that started a stand-in, and the stand-in's server process."""

    starter: subprocess.Popen[bytes]
    port: int
    server_pid: int
    config: str

    @property
    def workdir(self) -> Path:
        return Path(self.config).parent

    def server_left(self) -> list[int]:
        """Servers still running with this stand-in's config (there should be none)."""
        return servers(lambda process: self.config in process.args)


@pytest.fixture
def start(tmp_path: Path) -> Iterator[Callable[[list[str]], Started]]:
    """Start ``python <args> <free port>`` (a stand-in's starter); wait until it answers.

    Whatever a test leaves running is killed afterwards, by pid, and its directory removed.
    """
    started: list[Started] = []
    starters: list[subprocess.Popen[bytes]] = []

    def run(args: list[str]) -> Started:
        port = free_port()
        log = (tmp_path / f"starter-{port}.log").open("wb")
        starter = subprocess.Popen(  # noqa: S603 (our own interpreter and module)
            [sys.executable, *args, str(port)], stdout=log, stderr=subprocess.STDOUT
        )
        starters.append(starter)
        up = wait_until(lambda: answers(port) or starter.poll() is not None, STARTUP_SECS)
        if not up or starter.poll() is not None:
            log.close()
            output = (tmp_path / f"starter-{port}.log").read_text(errors="replace")
            pytest.fail(f"the stand-in did not start (exit {starter.poll()}):\n{output}")
        [server_pid] = servers(lambda process: process.parent == starter.pid)
        args_of_server = live_processes()[server_pid].args
        config = args_of_server[args_of_server.index("--serve") + 1]
        item = Started(starter, port, server_pid, config)
        started.append(item)
        return item

    yield run
    for item in started:
        for pid in (item.server_pid, *item.server_left()):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        shutil.rmtree(item.workdir, ignore_errors=True)
    for starter in starters:
        if starter.poll() is None:
            starter.kill()
        starter.wait(10)


def assert_all_gone(item: Started) -> None:
    assert wait_until(lambda: not item.server_left(), GONE_SECS), (
        f"the server (pid {item.server_pid}) outlived its starter"
    )
    assert not answers(item.port), f"port {item.port} still answers"
    assert wait_until(lambda: not item.workdir.exists(), 5.0), f"{item.workdir} was left behind"


CLI = ["-m", "lmstudio_provider.standin", "--port"]


@pytest.mark.parametrize(
    ("signum", "exit_code"),
    [(signal.SIGTERM, 128 + signal.SIGTERM), (signal.SIGHUP, 128 + signal.SIGHUP)],
    ids=["SIGTERM", "SIGHUP"],
)
def test_the_cli_stops_its_server_on_a_signal(
    start: Callable[[list[str]], Started], signum: int, exit_code: int
) -> None:
    item = start(CLI)
    assert item.workdir.is_dir()
    item.starter.send_signal(signum)
    assert item.starter.wait(GONE_SECS) == exit_code  # it ran its clean-up, then exited
    assert_all_gone(item)


@pytest.mark.parametrize(
    ("starter", "signum"),
    [
        (CLI, signal.SIGKILL),
        (["-c", LIBRARY_USER], signal.SIGKILL),
        (["-c", LIBRARY_USER], signal.SIGTERM),
    ],
    ids=["cli-SIGKILL", "library-user-SIGKILL", "library-user-SIGTERM"],
)
def test_the_server_dies_with_a_starter_that_cannot_clean_up(
    start: Callable[[list[str]], Started], starter: list[str], signum: int
) -> None:
    """The starter ends with no clean-up of its own: the server notices and ends itself."""
    item = start(starter)
    item.starter.send_signal(signum)
    assert item.starter.wait(GONE_SECS) == -signum
    assert_all_gone(item)


def test_stop_ends_the_server_and_removes_its_directory() -> None:
    server = start_standin()
    try:
        workdir = server.workdir
        assert workdir is not None
        assert (workdir / "config.json").is_file()
        assert server.log_path.parent == workdir
        config = str(workdir / "config.json")
        assert servers(lambda process: config in process.args) == [server.process.pid]
    finally:
        server.stop()
    assert server.process.poll() is not None
    assert not workdir.exists()
    assert servers(lambda process: config in process.args) == []
    server.stop()  # idempotent
