"""A server that is not running: the refused connection recorded by cs3b/ace.

Captures ``cs3b__ace__spec_cassettes_llm_query_integration_lmstudio_server_unavailable``
(``.yml__b5a04c94.yml`` and ``.json__bb95ad97.json``): ``GET http://localhost:1234/v1/models``
failed with ``Errno::ECONNREFUSED: Connection refused - connect(2) for "localhost" port 1234``.

vcrpy cannot replay an exception, so ``cassettes/test_unreachable/server_unavailable.yaml``
holds no interaction: vcrpy lets the request through (``ignore_localhost``) to the real
transport, whose TCP connect is made to fail exactly as recorded (``ConnectionRefusedError``,
errno 111). Everything above the socket (httpcore2's error mapping, the retries, the error
classification) is the real code path.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import vcr

from lmstudio_provider import AsyncLMStudioClient, LMStudioClient, ServerUnreachableError
from lmstudio_provider.transport._errors import START_SERVER_HINT

BASE_URL = "http://localhost:1234"
replay = vcr.VCR(
    cassette_library_dir=str(
        Path(__file__).resolve().parents[3] / "cassettes" / "test_unreachable"
    ),
    record_mode="none",
    match_on=["method", "uri", "body"],
    filter_headers=["authorization"],
    ignore_localhost=True,
)
HINT = f"{START_SERVER_HINT}; if it listens elsewhere, set LMSTUDIO_BASE_URL."


def test_refused_connection_is_server_unreachable(refused: list[tuple[str, int]]) -> None:
    """The capture's refusal on the first request; retried once (max_retries=1), then raised."""
    with replay.use_cassette("server_unavailable.yaml", record_mode="none") as cassette:
        with (
            LMStudioClient(base_url=BASE_URL, max_retries=1) as lm,
            pytest.raises(ServerUnreachableError) as caught,
        ):
            lm.list_models()
        assert cassette.play_count == 0
    assert refused == [("localhost", 1234), ("localhost", 1234)]
    error = caught.value
    assert error.hint == HINT
    assert error.message == (
        "LM Studio is not reachable at http://localhost:1234 "
        "(GET http://localhost:1234/api/v1/models): [Errno 111] Connection refused"
    )
    assert error.status_code == 502
    assert error.retryable
    assert str(error).endswith(f"\nHint: {HINT}")


async def test_refused_connection_async_chat(refused: list[tuple[str, int]]) -> None:
    """The same refusal through AsyncLMStudioClient.chat (it lists models first)."""
    with replay.use_cassette("server_unavailable.yaml", record_mode="none"):
        async with AsyncLMStudioClient(base_url=BASE_URL, max_retries=0) as lm:
            with pytest.raises(ServerUnreachableError) as caught:
                await lm.chat([{"role": "user", "content": "Hi"}], model="qwen2.5-7b-instruct")
    assert refused == [("localhost", 1234)]
    assert caught.value.hint == HINT
    assert "[Errno 111] Connection refused" in caught.value.message


def test_refused_connection_health(refused: list[tuple[str, int]]) -> None:
    """health() never raises: it reports the refusal as 'unreachable' with the hint."""
    with (
        replay.use_cassette("server_unavailable.yaml", record_mode="none"),
        LMStudioClient(base_url=BASE_URL, max_retries=3) as lm,
    ):
        report = lm.health()
    assert refused == [("localhost", 1234)]  # health checks are not retried
    assert report.status == "unreachable"
    assert not report.ok
    assert report.server_kind == "unknown"
    assert report.hint == HINT
    assert report.error is not None
    assert "GET http://localhost:1234/lmstudio-greeting" in report.error
