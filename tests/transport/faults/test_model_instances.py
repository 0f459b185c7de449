"""Instance identity and just-in-time loads against LM Studio 0.4's shape (both clients).

Several instances of one model may be loaded (``key``, ``key:2``, or an identifier
chosen at load time such as ``my-qwen``); LM Studio's answer may name any of them.
A chat to a model that is not loaded waits for the whole load: under the load
timeout, with the stream saying so.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from lmstudio_provider import ModelMismatchError, ModelNotAllowedError

if TYPE_CHECKING:
    from fault_server import Exchange, FaultServer, MakeClient, Wire
    from lmstudio_v1 import RuntimeState

QWEN = "qwen/qwen3-4b-2507"
GEMMA = "google/gemma-3-1b"
CHAT = "/v1/chat/completions"


def answered_by(wire: type[Wire], model: str) -> Any:
    """Answer every chat (streamed or not) as ``model``."""

    def handler(exchange: Exchange) -> None:
        if exchange.request.json().get("stream"):
            exchange.open_events()
            exchange.send_event(wire.chunk("Hello.", model=model))
            exchange.send_event(wire.finish(model=model))
            exchange.send_event("[DONE]")
            exchange.end_chunks()
        else:
            exchange.respond(200, wire.completion("Hello.", model=model))

    return handler


def sent_models(server: FaultServer) -> list[str]:
    return [r.json()["model"] for r in server.requests if r.path == CHAT]


async def test_asking_by_key_accepts_an_answer_from_a_named_instance(
    make_client: MakeClient, fault_server: FaultServer, lmstudio_v1: RuntimeState, wire: type[Wire]
) -> None:
    lmstudio_v1.add_instance(QWEN, "my-qwen")
    lmstudio_v1.add_instance(GEMMA)
    fault_server.route("POST", CHAT, answered_by(wire, "my-qwen"))
    client = make_client()

    result = await client.chat(model=QWEN)

    assert result.model == "my-qwen"
    assert sent_models(fault_server) == [QWEN]


async def test_asking_by_identifier_sends_the_identifier(
    make_client: MakeClient, fault_server: FaultServer, lmstudio_v1: RuntimeState, wire: type[Wire]
) -> None:
    lmstudio_v1.add_instance(QWEN, "my-qwen")
    fault_server.route("POST", CHAT, answered_by(wire, QWEN))
    client = make_client()

    await client.chat(model="my-qwen")
    await client.stream(model="My-Qwen")

    assert sent_models(fault_server) == ["my-qwen", "my-qwen"]


async def test_an_identifier_of_an_allowed_model_is_allowed(
    make_client: MakeClient, fault_server: FaultServer, lmstudio_v1: RuntimeState, wire: type[Wire]
) -> None:
    lmstudio_v1.add_instance(QWEN, "my-qwen")
    lmstudio_v1.add_instance(QWEN)
    fault_server.route("POST", CHAT, answered_by(wire, "my-qwen"))
    client = make_client(allowed_models=[QWEN])

    await client.chat(model="my-qwen")
    await client.chat(model=f"{QWEN}:2")

    assert sent_models(fault_server) == ["my-qwen", f"{QWEN}:2"]


async def test_an_identifier_of_another_model_stays_refused(
    make_client: MakeClient, fault_server: FaultServer, lmstudio_v1: RuntimeState
) -> None:
    lmstudio_v1.add_instance(GEMMA, "my-gemma")
    client = make_client(allowed_models=[QWEN])

    with pytest.raises(ModelNotAllowedError):
        await client.chat(model="my-gemma")

    assert sent_models(fault_server) == []


async def test_a_mismatch_with_several_models_loaded_lists_them(
    make_client: MakeClient, fault_server: FaultServer, lmstudio_v1: RuntimeState, wire: type[Wire]
) -> None:
    lmstudio_v1.add_instance(QWEN, "my-qwen")
    lmstudio_v1.add_instance(GEMMA)
    fault_server.route("POST", CHAT, answered_by(wire, GEMMA))
    client = make_client()

    with pytest.raises(ModelMismatchError) as caught:
        await client.chat(model="my-qwen")

    assert caught.value.message == (
        f"Asked for model 'my-qwen', but LM Studio answered with {GEMMA!r}. "
        f"Loaded: 'my-qwen', {GEMMA!r}."
    )
    assert "only loaded model" not in str(caught.value)


async def test_a_mismatch_with_one_model_loaded_names_it(
    make_client: MakeClient, fault_server: FaultServer, lmstudio_v1: RuntimeState, wire: type[Wire]
) -> None:
    lmstudio_v1.add_instance(GEMMA)
    fault_server.route("POST", CHAT, answered_by(wire, GEMMA))
    client = make_client()

    with pytest.raises(ModelMismatchError) as caught:
        await client.stream(model=QWEN)

    assert caught.value.message == (
        f"Asked for model {QWEN!r}, but LM Studio answered with {GEMMA!r}. "
        f"LM Studio answers an unknown model with its only loaded model ({GEMMA!r})."
    )


async def test_a_key_listed_twice_resolves_to_one_model_with_every_instance(
    make_client: MakeClient, fault_server: FaultServer, lmstudio_v1: RuntimeState, wire: type[Wire]
) -> None:
    from lmstudio_v1 import model_entry

    remote = model_entry(QWEN)  # LM Link: the same key, from another machine
    remote["loaded_instances"] = [{"id": "remote-qwen", "config": {"context_length": 2048}}]
    lmstudio_v1.entries.append(remote)
    fault_server.route("POST", CHAT, answered_by(wire, "remote-qwen"))
    client = make_client()

    models = await client.list_models()
    await client.chat(model="qwen3-4b")

    qwens = [m for m in models if m.id == QWEN]
    assert [m.instance_ids for m in qwens] == [("remote-qwen",)]
    assert sent_models(fault_server) == [QWEN]


# -- just-in-time loads ----------------------------------------------------------------


def slow(wire: type[Wire], model: str, *, stream: bool, server: FaultServer) -> Any:
    """Answer after 1 s of silence, as LM Studio does while it loads the model."""

    def handler(exchange: Exchange) -> None:
        server.stopping.wait(1.0)
        if stream:
            wire_events = [wire.chunk("Hi", model=model)]
            server.events(wire_events)(exchange)
        else:
            exchange.respond(200, wire.completion("Hi", model=model))

    return handler


@pytest.mark.parametrize("stream", [False, True])
async def test_a_not_loaded_model_is_waited_for_under_the_load_timeout(
    make_client: MakeClient,
    fault_server: FaultServer,
    lmstudio_v1: RuntimeState,
    wire: type[Wire],
    stream: bool,
) -> None:
    fault_server.route("POST", CHAT, slow(wire, GEMMA, stream=stream, server=fault_server))
    client = make_client(timeout=0.5, load_timeout=10)

    result = await (client.stream(model=GEMMA) if stream else client.chat(model=GEMMA))

    assert result.text == "Hi"


async def test_a_loaded_model_keeps_the_read_timeout(
    make_client: MakeClient, fault_server: FaultServer, lmstudio_v1: RuntimeState, wire: type[Wire]
) -> None:
    from lmstudio_provider import LMStudioTimeoutError

    lmstudio_v1.add_instance(GEMMA)
    fault_server.route("POST", CHAT, slow(wire, GEMMA, stream=False, server=fault_server))
    client = make_client(timeout=0.5, load_timeout=10)

    with pytest.raises(LMStudioTimeoutError) as caught:
        await client.chat(model=GEMMA)

    assert "(read timeout)" in caught.value.message


async def test_the_stream_says_which_model_it_loads(
    make_client: MakeClient, fault_server: FaultServer, lmstudio_v1: RuntimeState, wire: type[Wire]
) -> None:
    lmstudio_v1.add_instance(QWEN)
    fault_server.route(
        "POST",
        CHAT,
        fault_server.events([wire.chunk("Hi", model=GEMMA), wire.chunk("!", model=GEMMA)]),
        fault_server.events([wire.chunk("Hi", model=QWEN)]),
    )
    client = make_client()
    messages = [{"role": "user", "content": "Hi"}]
    seen: list[set[str | None]] = []

    for model in (GEMMA, QWEN):
        if client.sync is not None:
            stream = client.sync.stream_chat(messages, model=model)
            assert stream.loading_model is None  # nothing sent yet
            with stream:
                seen.append({stream.loading_model for _ in stream})
        else:
            assert client.async_ is not None
            astream = client.async_.stream_chat(messages, model=model)
            async with astream:
                seen.append({astream.loading_model async for _ in astream})

    assert seen == [{GEMMA}, {None}]
