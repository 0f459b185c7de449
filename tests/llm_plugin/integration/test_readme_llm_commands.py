"""Every ``llm`` command of the README, as written, against the server under test.

The commands are read from README.md (``readme_examples``), run in README order by
``bash`` in one working directory with an llm user directory of their own
(``LLM_USER_PATH``) and ``LMSTUDIO_BASE_URL`` at the server, so ``llm -c`` continues the
conversation before it and ``llm similar docs`` finds what ``llm embed-multi docs`` stored.
The test makes the files the commands name, substitutes ``<embedding-id>``, types into
the two interactive commands, and checks that every command exits 0 and that every answer
ended by itself (finish reason ``stop`` or ``tool_calls``, read from ``llm logs``).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from readme_examples import Example, llm_commands
from realserver import ServerUnderTest

EXAMPLES = llm_commands()
# What a person types into the interactive commands.
TYPED = {
    "llm chat -m lmstudio": "Say hi\nquit\n",
    "llm keys set lmstudio": "not-needed-by-the-stand-in\n",
}
NATURAL_ENDS = {"stop", "tool_calls"}
COMMAND_TIMEOUT_SECS = 110
DOCS = [
    {"id": "cat", "content": "A cat sleeps on the warm windowsill."},
    {"id": "dog", "content": "A dog barks at the postman."},
    {"id": "tea", "content": "Green tea is brewed at 80 degrees."},
]


def test_the_readme_shows_llm_commands() -> None:
    assert len(EXAMPLES) >= 20
    assert any(example.needs_lm_studio for example in EXAMPLES)


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The directory the commands run in, with the files they name."""
    directory = tmp_path_factory.mktemp("readme-llm")
    (directory / "notes.txt").write_text(
        "Meeting notes: the stand-in now serves an instruction-tuned model. "
        "Answers end by themselves. Next: run every README example in CI.\n"
    )
    (directory / "docs.json").write_text(json.dumps(DOCS))
    return directory


def run(command: str, workdir: Path, server: ServerUnderTest, typed: str = "") -> str:
    venv_bin = str(Path(sys.executable).parent)  # the `llm` of this environment
    env = {
        **os.environ,
        "PATH": f"{venv_bin}{os.pathsep}{os.environ.get('PATH', '')}",
        "LLM_USER_PATH": str(workdir / "llm-user"),
        "LMSTUDIO_BASE_URL": server.base_url,
        "LMSTUDIO_HTTP_TIMEOUT_SECS": "100",
    }
    done = subprocess.run(  # noqa: S603 (bash runs the README's own line)
        ["bash", "-c", command],  # noqa: S607
        cwd=workdir,
        env=env,
        input=typed,
        capture_output=True,
        text=True,
        timeout=COMMAND_TIMEOUT_SECS,
        check=False,
    )
    assert done.returncode == 0, f"$ {command}\n{done.stdout}\n{done.stderr}"
    assert "Traceback" not in done.stderr, done.stderr
    return done.stdout


def prompts_a_model(command: str) -> bool:
    return command.startswith(("llm -m", "llm -c", "llm chat"))


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda example: example.id)
def test_readme_llm_command(example: Example, server: ServerUnderTest, workdir: Path) -> None:
    command = example.text
    if command.startswith("llm install"):
        pytest.skip("installs from the package index; the tests use this checkout's install")
    if example.needs_lm_studio and not server.is_lmstudio:
        pytest.skip(f"{example.comment} (the server under test is the {server.kind})")
    if example.names_standin_model and server.kind != "llama.cpp stand-in":
        pytest.skip("names the stand-in's chat model")
    if "<embedding-id>" in command:
        if server.embedding_model is None:
            pytest.skip(f"the server at {server.base_url} lists no embedding model")
        command = command.replace("<embedding-id>", server.embedding_model)

    output = run(command, workdir, server, TYPED.get(command, ""))

    if prompts_a_model(command):
        [last] = json.loads(run("llm logs -n 1 --json", workdir, server))
        finish_reason = last["response_json"]["finish_reason"]
        assert finish_reason in NATURAL_ENDS, f"$ {command}\n{output}"
        assert last["response"] or last["tool_calls"]
