"""Start-up benchmark: what the llm plugin adds to ``llm --help`` and ``llm models``.

Each scenario runs the real ``llm`` command in a fresh process, ``--repeat`` times,
interleaved with the other scenarios; the table gives the median and the minimum
wall time. "without plugin" sets ``LLM_LOAD_PLUGINS=""`` (llm then loads no plugin).
Every run gets a fresh llm user directory unless the scenario is about the saved
model list.

``llm models`` is also timed against LM Studio in every bad state a server can be
in: refused, black-holed (a loopback listener whose accept queue is full),
accepting but silent, trickling its answer a byte every 0.2 s, answering malformed
JSON, answering 500. It must stay at most 1.0 s slower than without plugins in each.

Python runs with bytecode caching on, as it does by default (this project's
sandbox sets ``PYTHONDONTWRITEBYTECODE``, which makes every start compile llm and
its dependencies from source); a warm-up run per scenario writes the cache.

    uv run python benchmarks/bench_startup.py [--repeat 21] [--standin] [--states]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

LLM = Path(sys.executable).with_name("llm")
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))  # for server_states

from server_states import black_hole, closed_port  # noqa: E402

ADDED_BUDGET_SECS = 1.0  # what the plugin may add to `llm models`, in any state


@dataclass
class Scenario:
    name: str
    args: list[str]
    env: dict[str, str]
    fresh_user_dir: bool = True
    times: list[float] = field(default_factory=list)

    def run(self, user_dir: Path) -> float:
        env = {**os.environ, **self.env}
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        if self.fresh_user_dir:
            user_dir = Path(tempfile.mkdtemp(dir=user_dir))
        env["LLM_USER_PATH"] = str(user_dir)
        started = time.perf_counter()
        finished = subprocess.run(  # noqa: S603 (llm from this interpreter's environment)
            [str(LLM), *self.args], env=env, capture_output=True, text=True, check=False
        )
        elapsed = time.perf_counter() - started
        if "Traceback" in finished.stderr:
            raise RuntimeError(f"{self.name}: a traceback\n{finished.stderr}")
        return elapsed


# -- Servers in every state -------------------------------------------------------------


@contextlib.contextmanager
def answering(answer: Callable[[socket.socket], None]) -> Iterator[str]:
    """A loopback server that reads each request and hands the connection to ``answer``."""
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.2)
    stopping = threading.Event()

    def serve(connection: socket.socket) -> None:
        with connection:
            connection.settimeout(5)
            with contextlib.suppress(OSError):
                connection.recv(65536)
                answer(connection)

    def accept() -> None:
        while not stopping.is_set():
            try:
                connection, _ = listener.accept()
            except TimeoutError:
                continue
            threading.Thread(target=serve, args=(connection,), daemon=True).start()

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        stopping.set()
        thread.join()
        listener.close()


def reply(status: str, body: bytes) -> Callable[[socket.socket], None]:
    def answer(connection: socket.socket) -> None:
        head = f"HTTP/1.1 {status}\r\nContent-Type: application/json\r\n"
        head += f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
        connection.sendall(head.encode() + body)

    return answer


def trickling(connection: socket.socket) -> None:
    """A whole model list, a byte every 0.2 s, until the client gives up."""
    body = b'{"data": [{"id": "trickled", "type": "llm"}]}'
    answer = b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body)
    for byte in answer:
        time.sleep(0.2)
        connection.sendall(bytes([byte]))


def silent(connection: socket.socket) -> None:
    with contextlib.suppress(OSError):
        connection.recv(1)  # until the client gives up and closes


# -- Running ------------------------------------------------------------------------------

NO_PLUGINS = {"LLM_LOAD_PLUGINS": ""}


def scenarios(refused: str, standin: str | None, states: dict[str, str] | None) -> list[Scenario]:
    plugin = {"LMSTUDIO_BASE_URL": refused}
    chosen = [
        Scenario("llm --help, without plugin", ["--help"], NO_PLUGINS),
        Scenario("llm --help, with plugin", ["--help"], plugin),
        Scenario("llm models, without plugin", ["models"], NO_PLUGINS),
        Scenario("llm models, with plugin, LM Studio not running", ["models"], plugin),
    ]
    if standin:
        up = {"LMSTUDIO_BASE_URL": standin}
        chosen.append(Scenario("llm models, with plugin, stand-in up", ["models"], up))
        chosen.append(
            Scenario(
                "llm models, with plugin, stand-in up, list saved",
                ["models"],
                up,
                fresh_user_dir=False,
            )
        )
    for state, url in (states or {}).items():
        chosen.append(
            Scenario(f"llm models, server {state}", ["models"], {"LMSTUDIO_BASE_URL": url})
        )
    return chosen


def measure(chosen: list[Scenario], repeat: int, user_dir: Path) -> None:
    for scenario in chosen:
        scenario.run(user_dir)  # warm-up: writes bytecode, and the saved list where kept
    for round_number in range(repeat):
        shift = round_number % len(chosen)
        for scenario in chosen[shift:] + chosen[:shift]:
            scenario.times.append(scenario.run(user_dir))


def markdown(chosen: list[Scenario], repeat: int) -> str:
    by_name = {scenario.name: scenario for scenario in chosen}
    lines = [
        f"Wall time of a fresh `llm` process, median of {repeat} runs (interleaved), "
        f"bytecode cached. Python {platform.python_version()}, {platform.system()} "
        f"{platform.machine()}, {os.cpu_count()} cores.",
        "",
        "| Command | Median ms | Min ms | Added by the plugin |",
        "|---|---:|---:|---|",
    ]
    for scenario in chosen:
        median = statistics.median(scenario.times) * 1000
        base_name = scenario.name.split(",")[0] + ", without plugin"
        base = by_name.get(base_name)
        added = ""
        if base is not None and base is not scenario:
            base_median = statistics.median(base.times) * 1000
            added = f"{median - base_median:+.0f} ms ({(median / base_median - 1) * 100:+.1f}%)"
        if "server" in scenario.name or "stand-in" in scenario.name:
            bare = by_name["llm models, without plugin"]
            over = statistics.median(scenario.times) - statistics.median(bare.times)
            worst = max(scenario.times)
            verdict = "within" if over <= ADDED_BUDGET_SECS else "OVER"
            added += (
                f"; slowest {worst * 1000:.0f} ms; {verdict} +{ADDED_BUDGET_SECS:g} s "
                "over no plugins"
            )
        lines.append(
            f"| `{scenario.name}` | {median:.0f} | {min(scenario.times) * 1000:.0f} | {added} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n", 1)[0])
    parser.add_argument("--repeat", type=int, default=21, help="timed runs per scenario")
    parser.add_argument(
        "--standin", action="store_true", help="also time llm models with the stand-in up"
    )
    parser.add_argument(
        "--states", action="store_true", help="also time llm models with a server in each bad state"
    )
    args = parser.parse_args(argv)
    with contextlib.ExitStack() as stack:
        standin_url = None
        if args.standin:
            from lmstudio_provider.standin import start_standin

            standin_url = stack.enter_context(start_standin()).base_url
        states = None
        if args.states:
            states = {
                "refused": closed_port(),
                "black-holed": stack.enter_context(black_hole()),
                "silent": stack.enter_context(answering(silent)),
                "trickling": stack.enter_context(answering(trickling)),
                "malformed": stack.enter_context(answering(reply("200 OK", b"{'models': [oops"))),
                "500": stack.enter_context(
                    answering(reply("500 Internal Server Error", b'{"error": "boom"}'))
                ),
            }
        user_dir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-startup-")))
        chosen = scenarios(closed_port(), standin_url, states)
        measure(chosen, args.repeat, user_dir)
    print(markdown(chosen, args.repeat))


if __name__ == "__main__":
    main()
