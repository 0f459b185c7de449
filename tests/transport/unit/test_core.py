"""``HealthReport.summary()`` (``_core``): the text ``llm lmstudio health`` prints."""

from __future__ import annotations

from lmstudio_provider.transport import HealthReport

HTTP = {
    "timeout_secs": 60.0,
    "connect_timeout_secs": 10.0,
    "keep_alive_secs": 30.0,
    "max_idle_connections": 10,
}


def test_a_healthy_server() -> None:
    report = HealthReport("ok", "lmstudio", "http://localhost:1234", 3.25, ["qwen"], 3, HTTP)

    assert report.summary().splitlines() == [
        "Status:   ok",
        "Server:   http://localhost:1234 (lmstudio)",
        "Latency:  3.25 ms",
        "Models:   3 listed; loaded: qwen",
        "HTTP:     timeout 60.0 s, connect timeout 10.0 s, keep-alive 30.0 s, "
        "max idle connections 10",
    ]


def test_an_unreachable_server_says_why_and_what_to_do() -> None:
    report = HealthReport(
        "unreachable", "unknown", "http://localhost:1234", None, http=HTTP,
        error="refused", hint="start the server",
    )  # fmt: skip

    lines = report.summary().splitlines()
    assert lines[2] == "Latency:  -"
    assert lines[3] == "Models:   0 listed; loaded: none"
    assert lines[-2:] == ["Error:    refused", "Hint:     start the server"]
