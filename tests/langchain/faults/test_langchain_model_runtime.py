"""LM Studio's model runtime from LangChain, against a loopback LM Studio 0.4
(``tests/lmstudio_v1.py``): the models' ``client``, the load timeout on a model
that is not loaded, and ``examples/langchain_model_runtime.py`` run as written."""

from __future__ import annotations

import contextlib
import io
import runpy
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from lmstudio_provider import AsyncLMStudioClient, LMStudioClient, LMStudioTimeoutError
from lmstudio_provider.langchain import ChatLMStudio, LMStudioEmbeddings
from readme_examples import python_blocks

if TYPE_CHECKING:
    from fault_server import Exchange, FaultServer
    from lmstudio_v1 import RuntimeState

QWEN = "qwen/qwen3-4b-2507"
GEMMA = "google/gemma-3-1b"
EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "langchain_model_runtime.py"


def slow_chat(server: FaultServer, state: RuntimeState) -> Callable[[Exchange], None]:
    """LM Studio's silence while it loads the model just in time: 1 s, then the answer."""

    def answer(exchange: Exchange) -> None:
        server.stopping.wait(1.0)
        state.chat(exchange)

    return answer


def test_the_client_manages_models(fault_server: FaultServer, lmstudio_v1: RuntimeState) -> None:
    chat = ChatLMStudio(model=QWEN, base_url=fault_server.base_url)
    embeddings = LMStudioEmbeddings(base_url=fault_server.base_url)

    loaded = chat.client.load_model(QWEN, context_length=8192)

    assert isinstance(chat.client, LMStudioClient)
    assert chat.client is chat.client  # the model's own, reused
    assert [i.id for i in embeddings.client.loaded_models()] == [loaded.instance_id]
    chat.close()
    embeddings.close()


async def test_the_async_client_manages_models(
    fault_server: FaultServer, lmstudio_v1: RuntimeState
) -> None:
    chat = ChatLMStudio(model=QWEN, base_url=fault_server.base_url)

    client = chat.async_client
    await client.load_model(GEMMA)

    assert isinstance(client, AsyncLMStudioClient)
    assert client is chat.async_client
    assert [i.id for i in await client.loaded_models()] == [GEMMA]
    await chat.aclose()


@pytest.mark.parametrize("how", ["invoke", "stream", "ainvoke", "astream"])
async def test_a_model_that_is_not_loaded_gets_the_load_timeout(
    fault_server: FaultServer, lmstudio_v1: RuntimeState, how: str
) -> None:
    fault_server.route("POST", "/v1/chat/completions", slow_chat(fault_server, lmstudio_v1))
    chat = ChatLMStudio(model=GEMMA, base_url=fault_server.base_url, timeout=0.5, load_timeout=10)

    if how == "invoke":
        text = str(chat.invoke("hi").content)
    elif how == "stream":
        text = "".join(str(chunk.content) for chunk in chat.stream("hi"))
    elif how == "ainvoke":
        text = str((await chat.ainvoke("hi")).content)
    else:
        text = "".join([str(chunk.content) async for chunk in chat.astream("hi")])

    assert text == "Hi there"
    assert chat.load_timeout == 10
    chat.close()
    await chat.aclose()


def test_a_loaded_model_keeps_the_read_timeout(
    fault_server: FaultServer, lmstudio_v1: RuntimeState
) -> None:
    lmstudio_v1.add_instance(GEMMA)
    fault_server.route("POST", "/v1/chat/completions", slow_chat(fault_server, lmstudio_v1))
    chat = ChatLMStudio(
        model=GEMMA, base_url=fault_server.base_url, timeout=0.5, load_timeout=10, max_retries=0
    )

    with pytest.raises(LMStudioTimeoutError):
        chat.invoke("hi")
    chat.close()


def test_the_example_runs(
    fault_server: FaultServer, lmstudio_v1: RuntimeState, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LMSTUDIO_BASE_URL", fault_server.base_url)
    monkeypatch.setattr("sys.argv", [str(EXAMPLE)])
    printed = io.StringIO()

    with contextlib.redirect_stdout(printed):
        runpy.run_path(str(EXAMPLE), run_name="__main__")

    assert printed.getvalue().splitlines() == [
        f"loaded {QWEN}: context 8192 tokens",
        "Hi there",
        f"[{QWEN!r}]",
    ]
    assert lmstudio_v1.instance_ids() == []


def test_the_example_on_a_server_without_model_management(
    fault_server: FaultServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LMSTUDIO_BASE_URL", fault_server.base_url)  # LM Studio 0.3.x
    monkeypatch.setattr("sys.argv", [str(EXAMPLE)])
    printed = io.StringIO()

    with contextlib.redirect_stdout(printed):
        runpy.run_path(str(EXAMPLE), run_name="__main__")

    assert "LM Studio before 0.4" in printed.getvalue()


def test_the_readme_example_runs(
    fault_server: FaultServer, lmstudio_v1: RuntimeState, monkeypatch: pytest.MonkeyPatch
) -> None:
    [example] = [b.text for b in python_blocks() if "chat.client.load_model(" in b.text]
    monkeypatch.setenv("LMSTUDIO_BASE_URL", fault_server.base_url)
    printed = io.StringIO()

    with contextlib.redirect_stdout(printed):
        exec(compile(example, "README.md", "exec"), {})  # noqa: S102

    assert printed.getvalue() == "Hi there\n"
    assert lmstudio_v1.instance_ids() == []
