"""The model runtime (load, unload, download, loaded instances) against loopback servers
shaped like LM Studio 0.4's ``/api/v1`` (``tests/lmstudio_v1.py``), and against servers
without it (LM Studio 0.3.x, another OpenAI-compatible server). Both clients."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import pytest

from lmstudio_provider import (
    BadRequestError,
    DownloadFailedError,
    DownloadProgress,
    InvalidParameterError,
    LMStudioClient,
    LoadResult,
    ModelManagementUnsupportedError,
    ModelNotFoundError,
)

if TYPE_CHECKING:
    from fault_server import FaultClient, FaultServer, MakeClient
    from lmstudio_v1 import RuntimeState

QWEN = "qwen/qwen3-4b-2507"
GEMMA = "google/gemma-3-1b"
LOAD = "/api/v1/models/load"
UNLOAD = "/api/v1/models/unload"
DOWNLOAD = "/api/v1/models/download"
STATUS = "/api/v1/models/download/status/job-7"


async def run(client: FaultClient, method: str, *args: Any, **kwargs: Any) -> Any:
    """Call ``method`` on whichever client this run uses."""
    if client.sync is not None:
        return getattr(client.sync, method)(*args, **kwargs)
    assert client.async_ is not None
    return await getattr(client.async_, method)(*args, **kwargs)


async def download(client: FaultClient, *args: Any, limit: int = 100, **kwargs: Any) -> list[Any]:
    """Progress reports of a download, up to ``limit`` of them (then the iteration stops)."""
    reports: list[DownloadProgress] = []
    if client.sync is not None:
        for report in client.sync.download_model(*args, poll_secs=0, **kwargs):
            reports.append(report)
            if len(reports) == limit:
                break
        return reports
    assert client.async_ is not None
    progress = client.async_.download_model(*args, poll_secs=0, **kwargs)
    async for report in progress:
        reports.append(report)
        if len(reports) == limit:
            break
    await progress.aclose()  # type: ignore[attr-defined]
    return reports


def posts(server: FaultServer) -> list[tuple[str, Any]]:
    return [(r.path, r.json()) for r in server.requests if r.method == "POST"]


# -- load ------------------------------------------------------------------------------


async def test_load_sends_only_the_options_given_and_reads_back_the_context_length(
    make_client: MakeClient, fault_server: FaultServer, lmstudio_v1: RuntimeState
) -> None:
    client = make_client()

    result = await run(client, "load_model", "qwen3-4b", context_length=32768, flash_attention=True)

    assert result == LoadResult(
        instance_id=QWEN,
        model=QWEN,
        load_time_secs=2.5,
        context_length=16384,  # LM Studio lowered it to fit
        requested_context_length=32768,
        config={"context_length": 16384, "eval_batch_size": 512, "flash_attention": False},
    )
    assert posts(fault_server) == [
        (LOAD, {"model": QWEN, "context_length": 32768, "flash_attention": True})
    ]


async def test_a_second_load_of_a_key_is_a_new_instance(
    make_client: MakeClient, lmstudio_v1: RuntimeState
) -> None:
    client = make_client()
    lmstudio_v1.load_key = "model_instance_id"  # the other spelling of the answer
    lmstudio_v1.add_instance(QWEN)

    result = await run(client, "load_model", QWEN, eval_batch_size=256, num_experts=4)

    assert (result.instance_id, result.context_length) == (f"{QWEN}:2", 4096)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"context_length": -1}, "context_length must be a positive whole number, got -1"),
        ({"context_length": "4096"}, "context_length must be a positive whole number, got '4096'"),
        ({"context_length": 4096.0}, "context_length must be a positive whole number, got 4096.0"),
        ({"eval_batch_size": True}, "eval_batch_size must be a positive whole number, got True"),
        ({"num_experts": 0}, "num_experts must be a positive whole number, got 0"),
        ({"flash_attention": "yes"}, "flash_attention must be true or false, got 'yes'"),
        ({"offload_kv_cache_to_gpu": 1}, "offload_kv_cache_to_gpu must be true or false, got 1"),
    ],
)
async def test_bad_load_options_fail_before_anything_is_sent(
    make_client: MakeClient,
    fault_server: FaultServer,
    lmstudio_v1: RuntimeState,
    options: dict[str, Any],
    message: str,
) -> None:
    client = make_client()

    with pytest.raises(InvalidParameterError) as caught:
        await run(client, "load_model", QWEN, **options)

    assert caught.value.message == f"{message}; nothing was sent."
    assert fault_server.requests == []


async def test_loading_an_unknown_model_lists_the_downloaded_ones(
    make_client: MakeClient, fault_server: FaultServer, lmstudio_v1: RuntimeState
) -> None:
    client = make_client()

    with pytest.raises(ModelNotFoundError) as caught:
        await run(client, "load_model", "llama-3-70b")

    assert caught.value.message == (
        "LM Studio has no downloaded model 'llama-3-70b' (downloaded: "
        f"{QWEN}, {GEMMA}, text-embedding-nomic-embed-text-v1.5); nothing was sent."
    )
    assert posts(fault_server) == []


async def test_lm_studio_rejecting_a_load_field_is_a_bad_request_with_its_message(
    make_client: MakeClient, fault_server: FaultServer, lmstudio_v1: RuntimeState
) -> None:
    rejection = "Unrecognized key(s) in object: 'num_experts'"
    fault_server.route("POST", LOAD, fault_server.reply(400, {"error": rejection}))
    client = make_client()

    with pytest.raises(BadRequestError) as caught:
        await run(client, "load_model", QWEN, num_experts=2)

    assert caught.value.server_message == rejection
    assert len(posts(fault_server)) == 1  # not resent


async def test_a_load_waits_under_the_load_timeout_not_the_read_timeout(
    make_client: MakeClient, fault_server: FaultServer, lmstudio_v1: RuntimeState
) -> None:
    def slow_load(exchange: Any) -> None:
        fault_server.stopping.wait(1.0)  # twice the read timeout
        lmstudio_v1.load(exchange)

    fault_server.route("POST", LOAD, slow_load)
    client = make_client(timeout=0.5, load_timeout=10)

    result = await run(client, "load_model", GEMMA)

    assert result.instance_id == GEMMA


# -- loaded instances, unload ----------------------------------------------------------


async def test_loaded_models_lists_every_instance_with_its_config(
    make_client: MakeClient, lmstudio_v1: RuntimeState
) -> None:
    lmstudio_v1.add_instance(QWEN)
    lmstudio_v1.add_instance(QWEN, "my-qwen", context=8192)
    client = make_client()

    instances = await run(client, "loaded_models")

    assert [(i.id, i.model, i.context_length) for i in instances] == [
        (QWEN, QWEN, 4096),
        ("my-qwen", QWEN, 8192),
    ]
    assert instances[1].config["flash_attention"] is False


async def test_unload_sends_the_instance_id(
    make_client: MakeClient, fault_server: FaultServer, lmstudio_v1: RuntimeState
) -> None:
    lmstudio_v1.add_instance(QWEN, "my-qwen")
    client = make_client()

    unloaded = await run(client, "unload_model", "MY-QWEN")

    assert unloaded == "my-qwen"
    assert posts(fault_server) == [(UNLOAD, {"instance_id": "my-qwen"})]
    assert lmstudio_v1.instance_ids() == []


async def test_unloading_an_instance_that_is_not_loaded_sends_nothing(
    make_client: MakeClient, fault_server: FaultServer, lmstudio_v1: RuntimeState
) -> None:
    lmstudio_v1.add_instance(GEMMA)
    client = make_client()

    with pytest.raises(ModelNotFoundError) as caught:
        await run(client, "unload_model", QWEN)

    assert caught.value.message == (
        f"No loaded instance {QWEN!r} (loaded: {GEMMA}); nothing was sent."
    )
    assert posts(fault_server) == []


async def test_unload_all_unloads_every_instance(
    make_client: MakeClient, fault_server: FaultServer, lmstudio_v1: RuntimeState
) -> None:
    lmstudio_v1.add_instance(QWEN)
    lmstudio_v1.add_instance(QWEN)
    lmstudio_v1.add_instance(GEMMA)
    client = make_client()

    unloaded = await run(client, "unload_all")

    assert unloaded == [QWEN, f"{QWEN}:2", GEMMA]
    assert lmstudio_v1.instance_ids() == []
    assert await run(client, "loaded_models") == []


# -- download --------------------------------------------------------------------------


def status(state: str, done: int | None = None, speed: float | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"job_id": "job-7", "status": state, "total_size_bytes": 1000}
    if done is not None:
        body["downloaded_bytes"] = done
    if speed is not None:
        body["bytes_per_second"] = speed
    return body


async def test_download_polls_until_completed(
    make_client: MakeClient, fault_server: FaultServer, lmstudio_v1: RuntimeState
) -> None:
    fault_server.route("POST", DOWNLOAD, fault_server.reply(200, status("downloading")))
    fault_server.route(
        "GET",
        STATUS,
        fault_server.reply(200, status("downloading", 250, 100.0)),
        fault_server.reply(200, status("downloading", 750, 125.0)),
        fault_server.reply(200, status("completed", 1000)),
    )
    client = make_client()

    reports = await download(client, QWEN)

    assert [(r.status, r.downloaded_bytes, r.eta_secs) for r in reports] == [
        ("downloading", None, None),
        ("downloading", 250, 7.5),
        ("downloading", 750, 2.0),
        ("completed", 1000, None),
    ]
    assert reports[-1].done
    assert reports[1].fraction == 0.25
    assert posts(fault_server) == [(DOWNLOAD, {"model": QWEN})]
    assert fault_server.count("GET", STATUS) == 3


async def test_a_failed_download_is_a_typed_error(
    make_client: MakeClient, fault_server: FaultServer, lmstudio_v1: RuntimeState
) -> None:
    fault_server.route("POST", DOWNLOAD, fault_server.reply(200, status("downloading")))
    fault_server.route(
        "GET",
        STATUS,
        fault_server.reply(200, status("downloading", 100, 50.0)),
        fault_server.reply(200, status("failed", 100)),
    )
    client = make_client()

    with pytest.raises(DownloadFailedError) as caught:
        await download(client, QWEN)

    assert caught.value.job_id == "job-7"
    assert "failed" in caught.value.message
    assert caught.value.hint is not None


async def test_already_downloaded_is_done_at_once(
    make_client: MakeClient, fault_server: FaultServer, lmstudio_v1: RuntimeState
) -> None:
    fault_server.route("POST", DOWNLOAD, fault_server.reply(200, {"status": "already_downloaded"}))
    client = make_client()

    reports = await download(client, QWEN)

    assert [(r.status, r.done, r.job_id) for r in reports] == [("already_downloaded", True, None)]
    assert fault_server.count("GET", STATUS) == 0


async def test_stopping_the_iteration_stops_the_polling(
    make_client: MakeClient, fault_server: FaultServer, lmstudio_v1: RuntimeState
) -> None:
    fault_server.route("POST", DOWNLOAD, fault_server.reply(200, status("downloading")))
    fault_server.route("GET", STATUS, fault_server.reply(200, status("downloading", 1, 1.0)))
    client = make_client()

    reports = await download(client, QWEN, limit=3)

    assert len(reports) == 3
    assert fault_server.count("GET", STATUS) == 2


async def test_a_url_download_sends_its_quantization(
    make_client: MakeClient, fault_server: FaultServer, lmstudio_v1: RuntimeState
) -> None:
    fault_server.route("POST", DOWNLOAD, fault_server.reply(200, {"status": "already_downloaded"}))
    url = "https://huggingface.co/Qwen/Qwen3-4B-GGUF"
    client = make_client()

    await download(client, url, "Q4_K_M")

    assert posts(fault_server) == [(DOWNLOAD, {"model": url, "quantization": "Q4_K_M"})]


def test_quantization_without_a_url_fails_before_anything_is_sent(
    fault_server: FaultServer,
) -> None:
    with (
        LMStudioClient(base_url=fault_server.base_url) as client,
        pytest.raises(InvalidParameterError) as caught,
    ):
        client.download_model(QWEN, "Q4_K_M")

    assert caught.value.message == (
        f"The quantization 'Q4_K_M' only applies to a Hugging Face URL, and {QWEN!r} is a "
        "catalog key; nothing was sent."
    )
    assert fault_server.requests == []


# -- servers without /api/v1 -----------------------------------------------------------


@pytest.mark.parametrize(
    ("operation", "args", "command"),
    [
        ("load_model", ("granite-3.1-8b-instruct",), "lms load <model>"),
        ("unload_model", ("granite-3.1-8b-instruct",), "lms unload <instance>"),
        ("unload_all", (), "lms unload <instance>"),
    ],
)
async def test_lm_studio_0_3_gets_nothing_it_could_misread(
    make_client: MakeClient,
    fault_server: FaultServer,
    operation: str,
    args: tuple[str, ...],
    command: str,
) -> None:
    client = make_client()  # the fault server's default: LM Studio 0.3.x

    with pytest.raises(ModelManagementUnsupportedError) as caught:
        await run(client, operation, *args)

    assert "LM Studio before 0.4 (it has /api/v0 only)" in caught.value.message
    assert caught.value.message.endswith("nothing was sent.")
    assert caught.value.hint == (
        f"Update LM Studio to 0.4 or later, or run `{command}` on the machine running it."
    )
    assert posts(fault_server) == []


async def test_download_on_lm_studio_0_3_is_refused(
    make_client: MakeClient, fault_server: FaultServer
) -> None:
    client = make_client()

    with pytest.raises(ModelManagementUnsupportedError) as caught:
        await download(client, QWEN)

    assert "`lms get <model>`" in str(caught.value.hint)
    assert posts(fault_server) == []


async def test_loaded_models_on_lm_studio_0_3_come_from_api_v0(make_client: MakeClient) -> None:
    client = make_client()

    instances = await run(client, "loaded_models")

    assert [(i.id, i.model) for i in instances] == [
        ("granite-3.1-8b-instruct", "granite-3.1-8b-instruct")
    ]


async def test_an_openai_compatible_server_is_named_as_such(
    make_client: MakeClient, fault_server: FaultServer
) -> None:
    unknown = {"error": "Unexpected endpoint or method. (GET /api/v0/models)"}
    fault_server.route("GET", "/api/v0/models", fault_server.reply(200, unknown))
    models = {"object": "list", "data": [{"id": "llama", "object": "model"}]}
    fault_server.route("GET", "/v1/models", fault_server.reply(200, models))
    client = make_client()

    with pytest.raises(ModelManagementUnsupportedError) as caught:
        await run(client, "loaded_models")
    with pytest.raises(ModelManagementUnsupportedError) as load_caught:
        await run(client, "load_model", "llama")

    assert "it lists models the OpenAI way only" in caught.value.message
    assert "`lms ps`" in str(caught.value.hint)
    assert "`lms load <model>`" in str(load_caught.value.hint)
    assert posts(fault_server) == []


async def test_a_load_route_the_server_does_not_know_is_refused(
    make_client: MakeClient, fault_server: FaultServer, lmstudio_v1: RuntimeState
) -> None:
    unknown = {"error": f"Unexpected endpoint or method. (POST {LOAD})"}
    fault_server.route("POST", LOAD, fault_server.reply(200, unknown))
    client = make_client()

    with pytest.raises(ModelManagementUnsupportedError):
        await run(client, "load_model", QWEN)


def test_progress_reports_as_plain_data() -> None:
    report = DownloadProgress("downloading", "job-7", 10, 40, 5.0, 6.0)

    assert json.loads(json.dumps(report.as_dict())) == {
        "status": "downloading",
        "job_id": "job-7",
        "downloaded_bytes": 10,
        "total_bytes": 40,
        "bytes_per_second": 5.0,
        "eta_secs": 6.0,
    }
    assert not report.done
    assert report.fraction == 0.25
