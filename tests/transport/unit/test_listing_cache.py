"""``ModelListCache.quick_listing``: endpoint order, fallbacks, the saved list, reuse.

The quick listing is answered by a scripted server (respx) here; real loopback servers
are in ``tests/transport/faults/test_listing_cache_servers.py``, and the llm plugin's use of it
in every server state in ``tests/llm_plugin/faults/test_llm_server_states.py``.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx2
import pytest
import respx

from lmstudio_provider.transport import Connection, ModelListCache, QuickListing, _listing_cache
from lmstudio_provider.transport._errors import (
    AuthenticationError,
    LMStudioTimeoutError,
    ProtocolError,
    ServerError,
    ServerUnreachableError,
)
from lmstudio_provider.transport._models import LoadedInstance, ModelInfo, ModelList
from model_fakes import llm_entry

BASE = "http://localhost:1234"
UNEXPECTED = json.dumps({"error": "Unexpected endpoint or method. (GET /api/v1/models)"})
V0_LIST = {
    "data": [
        {"id": "granite-3.1-8b-instruct", "type": "llm", "state": "loaded"},
        {"id": "qwen2.5-vl-7b", "type": "vlm", "state": "not-loaded"},
        {"id": "text-embedding-nomic-embed-text-v1.5", "type": "embeddings"},
    ]
}
OPENAI_LIST = {"object": "list", "data": [{"id": "gemma-3-270m"}, {"id": "text-embedding-x"}]}

ENDPOINTS = ("/api/v1/models", "/api/v0/models", "/v1/models")

Answer = tuple[int, str] | httpx2.HTTPError
Listed = Callable[[], QuickListing]


class FakeServer:
    """Answers each listing path from a script; records every request."""

    def __init__(self, answers: dict[str, Answer]) -> None:
        self.answers = answers
        self.requests: list[tuple[str, httpx2.Headers]] = []

    def answer(self, request: Any) -> Any:  # httpx2 objects; respx is typed for httpx
        url = request.url
        base_url = f"{url.scheme}://{url.host}:{url.port}"
        self.requests.append((base_url + url.path, request.headers))
        answer = self.answers.get(url.path, (404, "{}")) if base_url == BASE else (404, "{}")
        if isinstance(answer, httpx2.HTTPError):
            raise answer
        return httpx2.Response(answer[0], content=answer[1].encode())

    @property
    def paths(self) -> list[str]:
        return [url.removeprefix(BASE) for url, _ in self.requests]


@pytest.fixture
def cache(tmp_path: Path) -> Iterator[ModelListCache]:
    """A saved list of this test's own; no listing carried over from another test."""
    ModelListCache.forget_recent()
    yield ModelListCache(tmp_path / "lmstudio-models.json")
    ModelListCache.forget_recent()


@pytest.fixture
def current_listing(cache: ModelListCache) -> Callable[[], QuickListing]:
    """The listing as a front end asks for it: settings loaded afresh on every call."""
    return lambda: cache.quick_listing(Connection.load())


@pytest.fixture
def serve(
    respx_mock: respx.MockRouter, cache: ModelListCache
) -> Callable[[dict[str, Answer]], FakeServer]:
    def install(answers: dict[str, Answer]) -> FakeServer:
        server = FakeServer(answers)
        respx_mock.routes.clear()
        respx_mock.route().mock(side_effect=server.answer)
        ModelListCache.forget_recent()
        return server

    return install


LMSTUDIO_03 = {"/api/v1/models": (200, UNEXPECTED), "/api/v0/models": (200, json.dumps(V0_LIST))}
LMSTUDIO_04 = {
    "/api/v1/models": (
        200,
        json.dumps({"models": [llm_entry("qwen/qwen3-4b", loaded=True)]}),
    )
}
LLAMA_CPP = {"/v1/models": (200, json.dumps(OPENAI_LIST))}
REFUSED = httpx2.ConnectError("[Errno 111] Connection refused")


def test_lm_studio_0_4_lists_with_one_request(
    serve: Callable[..., FakeServer], current_listing: Listed
) -> None:
    server = serve(LMSTUDIO_04)
    listing = current_listing()
    assert server.paths == ["/api/v1/models"]
    assert [m.id for m in listing.models] == ["qwen/qwen3-4b"]
    assert listing.from_server
    assert listing.error is None
    assert listing.reports_types
    assert listing.reports_tools
    assert listing.fresh_models == list(listing.models)


def test_an_older_lm_studio_is_asked_once_more_then_remembered(
    serve: Callable[..., FakeServer],
    current_listing: Listed,
) -> None:
    server = serve(LMSTUDIO_03)
    listing = current_listing()
    assert server.paths == ["/api/v1/models", "/api/v0/models"]
    assert [m.type for m in listing.models] == ["llm", "vlm", "embeddings"]
    assert listing.reports_types
    assert not listing.reports_tools  # no `capabilities` in this /api/v0 list
    ModelListCache.forget_recent()
    current_listing()
    # The endpoint that answered is tried first from then on: one request per command.
    assert server.paths[2:] == ["/api/v0/models"]


def test_an_openai_compatible_server_reports_no_capabilities(
    serve: Callable[..., FakeServer],
    current_listing: Listed,
) -> None:
    server = serve(LLAMA_CPP)
    listing = current_listing()
    assert server.paths == ["/api/v1/models", "/api/v0/models", "/v1/models"]
    assert [(m.id, m.type) for m in listing.models] == [
        ("gemma-3-270m", "unknown"),
        ("text-embedding-x", "embeddings"),
    ]
    assert not listing.reports_types
    assert not listing.reports_tools


def test_a_v0_list_with_capabilities_reports_tool_use(
    serve: Callable[..., FakeServer], current_listing: Listed
) -> None:
    body = {"data": [{**V0_LIST["data"][0], "capabilities": ["tool_use"]}, V0_LIST["data"][1]]}
    serve({"/api/v0/models": (200, json.dumps(body)), "/api/v1/models": (200, UNEXPECTED)})
    listing = current_listing()
    assert listing.reports_tools
    assert [m.supports_tools for m in listing.models] == [True, False]


def test_the_listing_is_reused_for_a_few_seconds(
    serve: Callable[..., FakeServer], current_listing: Listed, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = serve(LMSTUDIO_04)
    first = current_listing()
    assert current_listing() is first
    assert len(server.requests) == 1
    assert first.fresh_models == list(first.models)
    later = time.monotonic() + _listing_cache.REUSE_SECS + 1
    monkeypatch.setattr(_listing_cache, "time", SimpleNamespace(monotonic=lambda: later))
    # A model kept that long (in `llm chat`) lets its client list anew: no stale list.
    assert first.fresh_models is None
    assert current_listing() is not first
    assert len(server.requests) == 2


def test_another_base_url_is_listed_anew(
    serve: Callable[..., FakeServer],
    current_listing: Listed,
    cache: ModelListCache,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    server = serve(LMSTUDIO_04)
    current_listing()
    monkeypatch.setenv("LMSTUDIO_BASE_URL", "http://127.0.0.1:9/")
    other = current_listing()
    assert server.requests[1][0] == "http://127.0.0.1:9/api/v1/models"
    assert other.error is not None  # the script answers 404 everywhere but at BASE
    assert cache.saved_models(BASE)  # the other server's failure left BASE's list alone


@pytest.mark.parametrize(
    ("failure", "error_type"),
    [
        (REFUSED, ServerUnreachableError),
        ((500, '{"error": "boom"}'), ServerError),
        ((200, "<html>not json"), ProtocolError),
        ((200, '{"data": 3}'), ProtocolError),
        ((401, '{"error": {"code": "invalid_api_key", "message": "no"}}'), AuthenticationError),
    ],
    ids=["refused", "500", "malformed", "wrong-shape", "401"],
)
def test_a_failing_server_ends_the_listing_and_the_saved_list_is_used(
    serve: Callable[..., FakeServer],
    current_listing: Listed,
    failure: Answer,
    error_type: type[Exception],
) -> None:
    serve(LMSTUDIO_03)
    good = current_listing()
    server = serve(dict.fromkeys(ENDPOINTS, failure))
    listing = current_listing()
    assert server.paths == ["/api/v0/models"]  # the endpoint that answered last time; no other
    assert isinstance(listing.error, error_type)
    assert not listing.from_server
    assert listing.fresh_models is None
    assert listing.models == good.models  # the last good list, from disk
    assert (listing.reports_types, listing.reports_tools) == (True, False)


def test_a_connect_timeout_fails_prompts_at_once(
    serve: Callable[..., FakeServer], current_listing: Listed
) -> None:
    """No TCP handshake (a busy LM Studio still accepts at once): the server is not there."""
    serve({"/api/v1/models": httpx2.ConnectTimeout("timed out")})
    listing = current_listing()
    assert listing.server_down
    with pytest.raises(LMStudioTimeoutError):
        listing.raise_if_down()


def test_a_refused_connection_fails_prompts_at_once(
    serve: Callable[..., FakeServer], current_listing: Listed, monkeypatch: pytest.MonkeyPatch
) -> None:
    serve({"/api/v1/models": REFUSED})
    listing = current_listing()
    assert listing.server_down
    with pytest.raises(ServerUnreachableError):
        listing.raise_if_down()
    later = time.monotonic() + _listing_cache.REUSE_SECS + 1
    monkeypatch.setattr(_listing_cache, "time", SimpleNamespace(monotonic=lambda: later))
    listing.raise_if_down()  # too old to say anything: a prompt tries for itself


SLOW = httpx2.ReadTimeout("timed out")


@pytest.mark.parametrize(
    "failure",
    [
        SLOW,
        (200, "<html>not json"),
        (500, '{"error": "boom"}'),
        (401, '{"error": {"code": "invalid_api_key", "message": "no"}}'),
    ],
    ids=["read-timeout", "malformed", "500", "401"],
)
def test_a_listing_that_failed_otherwise_lets_prompts_through(
    serve: Callable[..., FakeServer], current_listing: Listed, failure: Answer
) -> None:
    """A busy server lists slowly, and the listing's timeouts are far shorter than the user's.

    Nor do garbage, a failure or a refused key say what the transport would meet (it lists
    again with the configured timeouts and retries, and `--key` may hold the right key).
    """
    serve({"/api/v1/models": failure})
    listing = current_listing()
    assert listing.error is not None
    assert not listing.server_down
    listing.raise_if_down()


def test_nothing_saved_and_nothing_answering(
    serve: Callable[..., FakeServer], current_listing: Listed
) -> None:
    serve({"/api/v1/models": REFUSED})
    listing = current_listing()
    assert listing.models == ()
    assert isinstance(listing.error, ServerUnreachableError)


def test_a_server_that_lists_nowhere_is_not_lm_studio(
    serve: Callable[..., FakeServer], current_listing: Listed
) -> None:
    serve({})
    listing = current_listing()
    assert isinstance(listing.error, ProtocolError)
    assert "lists no models at /api/v1/models, /api/v0/models, /v1/models" in str(listing.error)


def test_the_quick_deadline_bounds_the_whole_listing(
    serve: Callable[..., FakeServer], current_listing: Listed, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = serve(LMSTUDIO_03)
    monkeypatch.setenv("LMSTUDIO_HTTP_QUICK_TIMEOUT_SECS", "0.000001")
    listing = current_listing()
    assert len(server.requests) == 1  # answered too late: no other endpoint is tried
    assert isinstance(listing.error, LMStudioTimeoutError)
    assert "within 1e-06 s" in listing.error.message
    assert not listing.server_down


def test_the_saved_list_round_trips_and_is_written_only_when_it_changes(
    serve: Callable[..., FakeServer], current_listing: Listed, cache: ModelListCache
) -> None:
    serve(LMSTUDIO_03)
    listing = current_listing()
    path = cache.path
    saved = json.loads(path.read_text())
    assert saved["version"] == 1
    assert saved["servers"][BASE]["dialect"] == "v0"
    assert cache.saved_models(BASE) == list(listing.models)
    written = path.stat().st_mtime_ns
    time.sleep(0.01)
    ModelListCache.forget_recent()
    current_listing()
    assert path.stat().st_mtime_ns == written


def test_a_damaged_saved_list_is_ignored(
    serve: Callable[..., FakeServer], current_listing: Listed, cache: ModelListCache
) -> None:
    cache.path.write_text("{not json")
    serve({"/api/v1/models": REFUSED})
    assert current_listing().models == ()
    cache.path.write_text(
        json.dumps({"version": 1, "servers": {BASE: {"models": [{"id": 5}, {"id": "ok"}]}}})
    )
    ModelListCache.forget_recent()
    assert [m.id for m in current_listing().models] == ["ok"]


def test_a_saved_model_round_trips() -> None:
    instance = LoadedInstance("qwen/qwen3-4b:2", "qwen/qwen3-4b", 4096, {"flash_attention": True})
    model = ModelInfo(
        "qwen/qwen3-4b",
        type="vlm",
        state="loaded",
        quantization="Q4_K_M",
        max_context_length=32768,
        loaded_context_length=4096,
        capabilities=frozenset({"vision", "tool_use"}),
        instance_ids=("qwen/qwen3-4b:2",),
        instances=(instance,),
    )
    saved = json.loads(json.dumps(model.as_dict()))  # as the saved list holds it
    restored = ModelInfo.from_dict(saved)
    assert restored == model
    assert restored.instances == (instance,)


def test_bad_settings_are_kept_as_the_listing_error(
    serve: Callable[..., FakeServer], current_listing: Listed, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = serve(LMSTUDIO_04)
    monkeypatch.setenv("LMSTUDIO_BASE_URL", "localhost:1234")
    listing = current_listing()
    assert server.requests == []
    assert listing.error is not None
    assert "base_url='localhost:1234'" in listing.error.message
    assert listing.models == ()
    assert not listing.server_down
    listing.raise_if_down()  # the request itself says what is wrong with the settings


def test_the_api_key_given_is_sent_and_keys_are_listed_apart(
    serve: Callable[..., FakeServer], cache: ModelListCache
) -> None:
    server = serve(LMSTUDIO_04)
    connection = Connection.load()
    plain = cache.quick_listing(connection)
    assert "Authorization" not in server.requests[-1][1]
    assert server.requests[-1][1]["User-Agent"].startswith("lmstudio-provider/")
    keyed = cache.quick_listing(connection, "sk-lm-given")
    assert server.requests[-1][1]["Authorization"] == "Bearer sk-lm-given"
    assert keyed is not plain
    assert cache.quick_listing(connection, "sk-lm-given") is keyed  # reused for that key
    assert len(server.requests) == 2


def test_every_servers_saved_models_are_read_once_each(cache: ModelListCache) -> None:
    """With an invalid configuration the server is not known: every saved model is shown."""
    other = "http://127.0.0.1:9"
    cache.path.write_text(
        json.dumps(
            {
                "version": 1,
                "servers": {
                    BASE: {"models": [{"id": "a"}, {"id": "b"}]},
                    other: {"models": [{"id": "b", "type": "vlm"}, {"id": "c"}]},
                    "http://broken": "not an entry",
                },
            }
        )
    )
    assert [m.id for m in cache.saved_models()] == ["a", "b", "c"]
    assert cache.saved_models()[1].type != "vlm"  # the first server's entry wins
    assert [m.id for m in cache.saved_models(other)] == ["b", "c"]
    assert cache.saved_models("http://nowhere") == []
    cache.path.write_text(json.dumps({"version": 2, "servers": {BASE: {"models": [{"id": "a"}]}}}))
    assert cache.saved_models() == []  # another version's file is not read


def test_saving_keeps_the_other_servers_lists(
    serve: Callable[..., FakeServer], current_listing: Listed, cache: ModelListCache
) -> None:
    serve(LMSTUDIO_04)
    current_listing()
    other = "http://127.0.0.1:9"
    cache.save(other, ModelList([ModelInfo("gemma-3-270m")], dialect="openai"))
    saved = json.loads(cache.path.read_text())
    assert list(saved["servers"]) == [BASE, other]
    assert saved["servers"][other] == {
        "dialect": "openai",
        "reports_types": False,
        "reports_tools": False,
        "models": [ModelInfo("gemma-3-270m").as_dict()],
    }
    assert not list(cache.path.parent.glob(".*.tmp"))  # the temporary file was renamed


def test_an_unwritable_saved_list_is_skipped(
    serve: Callable[..., FakeServer], tmp_path: Path
) -> None:
    serve(LMSTUDIO_04)
    cache = ModelListCache(tmp_path / "missing-folder" / "lmstudio-models.json")
    listing = cache.quick_listing(Connection.load())
    assert listing.from_server  # the listing itself is not hurt
    assert not cache.path.exists()


@pytest.mark.parametrize(
    ("allowed", "permitted"),
    [(None, ["qwen/qwen3-4b", "google/gemma-3-4b"]), ("QWEN/qwen3-4b:2", ["qwen/qwen3-4b"])],
)
def test_permitted_models_follow_allowed_models(
    serve: Callable[..., FakeServer],
    current_listing: Listed,
    monkeypatch: pytest.MonkeyPatch,
    allowed: str | None,
    permitted: list[str],
) -> None:
    body = {
        "models": [llm_entry(key, loaded=False) for key in ("qwen/qwen3-4b", "google/gemma-3-4b")]
    }
    serve({"/api/v1/models": (200, json.dumps(body))})
    if allowed:
        monkeypatch.setenv("LMSTUDIO_ALLOWED_MODELS", allowed)
    listing = current_listing()
    assert len(listing.models) == 2
    assert [m.id for m in listing.permitted_models] == permitted
