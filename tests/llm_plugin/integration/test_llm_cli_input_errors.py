"""What a person sees in the terminal for a mistyped option or an overlong prompt.

Run through llm's command line against the server under test; nothing is logged for a
refused prompt. The overflow test needs a context small enough to overflow with a short
file: the stand-in's (2048 tokens).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from llm_fixtures import Invoke, logged
from realserver import ServerUnderTest

# Over 2048 tokens for any tokenizer: 3000 distinct-ish words.
OVERLONG = " ".join(f"word{index}" for index in range(3000))


@pytest.fixture(autouse=True)
def at_the_server(
    server: ServerUnderTest, monkeypatch: pytest.MonkeyPatch, llm_user_dir: Path
) -> None:
    monkeypatch.setenv("LMSTUDIO_BASE_URL", server.base_url)
    monkeypatch.setenv("LMSTUDIO_HTTP_TIMEOUT_SECS", "120")


def refused(result: Any) -> str:
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    output: str = result.output
    return output


@pytest.mark.parametrize(
    ("option", "shown"),
    [
        (["temprature", "0.2"], "Error: temprature\n  no such option; did you mean temperature?"),
        (["stop", '["a"'], 'Error: stop\n  not valid JSON: ["a" ('),
        (["extra", '{"model": "x"}'], "Error: extra\n  -o extra may not set model: the plugin"),
    ],
    ids=["misspelt", "broken-json", "extra-model"],
)
def test_mistyped_options_are_refused_in_cli_words(
    llm_cli: Invoke, option: list[str], shown: str
) -> None:
    output = refused(llm_cli("-m", "lmstudio", "hi", "-o", *option))

    assert output.startswith(shown)
    assert logged() == []


def test_an_overlong_streamed_prompt_says_it_does_not_fit(
    server: ServerUnderTest, llm_cli: Invoke
) -> None:
    if server.kind != "llama.cpp stand-in":
        pytest.skip(f"needs the stand-in's 2048-token context; the server is the {server.kind}")

    output = refused(llm_cli("-m", "lmstudio", OVERLONG))

    assert output.startswith("Error: The prompt does not fit the model's context")
    assert "exceed context window of 2048" in output  # llama.cpp's own words
    assert "`partial`" not in output
