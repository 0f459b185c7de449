"""Mistyped ``-o`` input is refused in the CLI's words, before anything is sent.

A misspelt option name gets the likely one and the list; a stop list that is broken JSON is
refused (not sent as a literal stop string); ``-o extra`` naming what the plugin sets says
which llm option sets it. Transport hints name no Python attribute (``str()`` of the
error adds where Python code finds the partial answer; the terminal is not told).
"""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from lmstudio_provider.llm_plugin._error_messages import LMStudioModelError
from lmstudio_provider.llm_plugin._options import LMStudioOptions
from lmstudio_provider.transport import LMStudioError, ProtocolError, StreamInterruptedError
from lmstudio_provider.transport._error_mapping import RequestContext
from lmstudio_provider.transport._parsing import StreamState
from lmstudio_provider.transport._results import Metrics

pytestmark = pytest.mark.usefixtures("llm_user_dir")


def problems(**values: Any) -> list[tuple[tuple[str | int, ...], str]]:
    with pytest.raises(ValidationError) as caught:
        LMStudioOptions(**values)
    return [(error["loc"], error["msg"]) for error in caught.value.errors()]


def test_a_misspelt_option_names_the_one_meant_and_lists_them_all() -> None:
    [(loc, message)] = problems(temprature="0.2")

    assert loc == ("temprature",)
    assert message.startswith("no such option; did you mean temperature? the options are: ")
    assert message.endswith(", ".join(LMStudioOptions.model_fields))


def test_an_option_like_none_is_listed_without_a_guess() -> None:
    [(loc, message)] = problems(zzz="1")

    assert loc == ("zzz",)
    assert "did you mean" not in message
    assert "max_tokens, temperature" in message


@pytest.mark.parametrize("typed", ['["a"', '["a", "b"', "[]]", '[ "x",]'])
def test_a_stop_list_that_is_broken_json_is_refused(typed: str) -> None:
    [(loc, message)] = problems(stop=typed)

    assert loc == ("stop",)
    assert message.startswith(f"not valid JSON: {typed} (")
    assert 'write a list as \'["a", "b"]\'' in message


@pytest.mark.parametrize("typed", ["[INST]", "[/INST]", "{end}", "[END"])
def test_a_stop_sequence_that_merely_starts_with_a_bracket_is_kept(typed: str) -> None:
    values = {"stop": typed}
    options: Any = LMStudioOptions(**values)
    assert options.stop == typed


@pytest.mark.parametrize(
    ("extra", "words"),
    [
        ('{"model": "qwen"}', "-m/--model chooses the model"),
        ('{"messages": []}', "the prompt, -s/--system and -c/--continue make the messages"),
        ('{"stream": false}', "llm streams unless given --no-stream"),
    ],
)
def test_extra_may_not_set_what_the_plugin_sets(extra: str, words: str) -> None:
    [(loc, message)] = problems(extra=extra)

    assert loc == ("extra",)
    assert message.startswith("-o extra may not set ")
    assert words in message
    assert "nothing was sent" in message
    assert "stream_chat()" not in message


def stream_error(after_text: bytes) -> LMStudioError:
    """The error the transport raises when ``after_text`` follows a first piece of text."""
    context = RequestContext("http://localhost:1234", "POST", "/v1/chat/completions", "m")
    state = StreamState("m", context, Metrics())
    state.feed(b'data: {"choices": [{"index": 0, "delta": {"content": "Once upon"}}]}\n\n')
    with pytest.raises(LMStudioError) as caught:
        state.close() if after_text == b"" else state.feed(after_text)
    return caught.value


@pytest.mark.parametrize(
    ("after_text", "kind"),
    [(b"", StreamInterruptedError), (b"data: {not json\n\n", ProtocolError)],
    ids=["interrupted", "protocol"],
)
def test_a_stream_error_speaks_of_the_terminal_not_of_python(
    after_text: bytes, kind: type[LMStudioError]
) -> None:
    error = stream_error(after_text)
    assert isinstance(error, kind)
    assert error.partial is not None
    assert error.partial.text == "Once upon"
    assert "`partial`" in str(error)  # Python code is told where the answer is

    shown = str(LMStudioModelError.from_error(error))

    assert "`partial`" not in shown
    assert "error's" not in shown
    message, hint = shown.split("\nHint: ")
    assert message == error.message
    assert hint == error.hint
    assert hint[0].isupper()
    assert hint.endswith(".")
