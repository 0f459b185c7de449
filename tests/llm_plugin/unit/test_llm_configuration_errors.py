"""The llm plugin with a bad configuration: said once, no secret in any output, no
traceback, and ``llm models`` still lists the saved models."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
import respx

from llm_fixtures import QWEN, Invoke, completion

pytestmark = pytest.mark.usefixtures("llm_user_dir")

SECRET = "sk-PLANTED-7f3a9c"


def assert_clean(*texts: str) -> None:
    for text in texts:
        assert SECRET not in text


@pytest.fixture(params=["yaml", "variable"])
def mistyped_secret(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> str:
    """A secret under a mistyped setting name; returns the name as the error gives it."""
    if request.param == "yaml":
        path = tmp_path / "config.yaml"
        path.write_text(f"inference:\n  api_kye: {SECRET}\n", encoding="utf-8")
        monkeypatch.setenv("LMSTUDIO_CONFIG", str(path))
        return "api_kye"
    monkeypatch.setenv("LMSTUDIO_HTTP_API_KYE", SECRET)
    return "http.api_kye"


def test_a_mistyped_secret_is_named_never_shown(
    llm_cli: Invoke, mistyped_secret: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="lmstudio_provider")
    prompt = llm_cli("-m", "lmstudio", "hi")
    assert prompt.exit_code == 1
    assert f"{mistyped_secret} " in prompt.output
    assert "did you mean api_key" in prompt.output
    assert "Traceback" not in prompt.output
    config = llm_cli("lmstudio", "config")
    config_json = llm_cli("lmstudio", "config", "--json")
    assert config_json.exit_code == 1
    assert "did you mean api_key" in json.loads(config_json.stdout)["error"]["message"]
    models = llm_cli("models")
    logs = llm_cli("logs", "-n", "0", "--json")
    assert_clean(
        prompt.output, config.output, config_json.output, models.output, logs.output, caplog.text
    )


def test_a_secret_in_a_request_body_goes_only_where_it_was_put(
    llm_cli: Invoke, lmstudio: respx.MockRouter, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The real key travels in the Authorization header, never in a body or the logs."""
    monkeypatch.setenv("LMSTUDIO_API_KEY", SECRET)
    route = lmstudio.post("/v1/chat/completions").respond(json=completion("Hello.", model=QWEN))
    result = llm_cli("-m", "lmstudio", "hi", "--no-stream")
    assert result.exit_code == 0, result.output
    assert route.calls[-1].request.headers["Authorization"] == f"Bearer {SECRET}"
    assert_clean(route.calls[-1].request.content.decode(), llm_cli("logs", "--json").output)


def test_an_invalid_port_is_said_once(llm_cli: Invoke, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LMSTUDIO_BASE_URL", "http://127.0.0.1:99999")
    result = llm_cli("-m", "lmstudio", "hi")
    assert result.exit_code == 1
    assert result.output.count("the port must be a number from 1 to 65535") == 1
    assert "Unknown model" not in result.output
    assert "could not register" not in result.output


def test_llm_models_with_a_bad_configuration_says_so_and_lists_the_saved_models(
    llm_cli: Invoke, lmstudio: respx.MockRouter, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert f"lmstudio/{QWEN}" in llm_cli("models").output  # saved while the config was good
    monkeypatch.setenv("LMSTUDIO_BASE_URL", "http://127.0.0.1:99999")
    result = llm_cli("models")
    assert result.exit_code == 0
    assert result.stderr.count("Error: Invalid configuration: base_url=") == 1
    assert f"lmstudio/{QWEN}" in result.stdout
    assert "lmstudio/default" in result.stdout
    prompt = llm_cli("-m", f"lmstudio/{QWEN}", "hi")  # the saved model, the same error
    assert prompt.exit_code == 1
    assert "the port must be a number from 1 to 65535" in prompt.output


@pytest.mark.parametrize("value", ["inf", "nan", "1e300", "-1"])
def test_health_with_an_absurd_timeout_prints_no_traceback(
    llm_cli: Invoke, monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv("LMSTUDIO_HTTP_TIMEOUT_SECS", value)
    result = llm_cli("lmstudio", "health")
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    assert "http.timeout_secs=" in result.output
    assert "LMSTUDIO_HTTP_TIMEOUT_SECS" in result.output
