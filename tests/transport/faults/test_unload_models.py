"""``unload_models``: several instances at once, every id checked before the first unload
(a loopback LM Studio 0.4, ``tests/lmstudio_v1.py``; both clients)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from lmstudio_provider import ModelNotFoundError

if TYPE_CHECKING:
    from fault_server import FaultClient, FaultServer, MakeClient
    from lmstudio_v1 import RuntimeState

QWEN = "qwen/qwen3-4b-2507"
GEMMA = "google/gemma-3-1b"
UNLOAD = "/api/v1/models/unload"


async def unload_models(client: FaultClient, instance_ids: list[str]) -> Any:
    if client.sync is not None:
        return client.sync.unload_models(instance_ids)
    assert client.async_ is not None
    return await client.async_.unload_models(instance_ids)


def posts(server: FaultServer) -> list[tuple[str, object]]:
    return [(r.path, r.json()) for r in server.requests if r.method == "POST"]


async def test_the_named_instances_are_unloaded_in_order(
    make_client: MakeClient, fault_server: FaultServer, lmstudio_v1: RuntimeState
) -> None:
    lmstudio_v1.add_instance(QWEN, "my-qwen")
    lmstudio_v1.add_instance(GEMMA)

    unloaded = await unload_models(make_client(), [GEMMA, "MY-QWEN"])

    assert unloaded == [GEMMA, "my-qwen"]
    assert posts(fault_server) == [
        (UNLOAD, {"instance_id": GEMMA}),
        (UNLOAD, {"instance_id": "my-qwen"}),
    ]
    assert lmstudio_v1.instance_ids() == []


async def test_one_id_that_is_not_loaded_unloads_nothing(
    make_client: MakeClient, fault_server: FaultServer, lmstudio_v1: RuntimeState
) -> None:
    lmstudio_v1.add_instance(GEMMA)

    with pytest.raises(ModelNotFoundError) as caught:
        await unload_models(make_client(), [GEMMA, "my-qwen", "llama"])

    assert caught.value.message == (
        f"No loaded instance 'my-qwen', 'llama' (loaded: {GEMMA}); nothing was sent."
    )
    assert posts(fault_server) == []
    assert lmstudio_v1.instance_ids() == [GEMMA]
