"""``health()`` reports what no flow foresaw instead of raising it."""

from __future__ import annotations

import httpx2

from lmstudio_provider import AsyncLMStudioClient, LMStudioClient

BASE_URL = "http://127.0.0.1:1234"


def explode(request: httpx2.Request) -> httpx2.Response:
    raise OverflowError("timestamp out of range for platform time_t")


def test_sync_health_reports_an_unexpected_failure() -> None:
    http = httpx2.Client(base_url=BASE_URL, transport=httpx2.MockTransport(explode))
    with LMStudioClient(base_url=BASE_URL, http_client=http) as client:
        report = client.health()
    http.close()
    assert report.status == "error"
    assert not report.ok
    assert "OverflowError: timestamp out of range" in str(report.error)
    assert report.hint is not None
    assert report.as_dict()["http"]["timeout_secs"] == 60.0


async def test_async_health_reports_an_unexpected_failure() -> None:
    http = httpx2.AsyncClient(base_url=BASE_URL, transport=httpx2.MockTransport(explode))
    async with AsyncLMStudioClient(base_url=BASE_URL, http_client=http) as client:
        report = await client.health()
    await http.aclose()
    assert report.status == "error"
    assert "OverflowError: timestamp out of range" in str(report.error)
