"""``llm lmstudio models | health | config``.

Through llm's own command line (click's ``CliRunner``), LM Studio mocked by respx: the
``lmstudio`` fixture (``tests/llm_fixtures.py``) lists ``qwen/qwen3-4b`` (loaded, trained
for tool use), ``google/gemma-3-4b`` (vision) and an embedding model, as LM Studio 0.4
does; each test adds the answers it needs.
"""

from __future__ import annotations

import json
from pathlib import Path

import httpx2
import pytest
import respx

from llm_fixtures import (
    GEMMA,
    NOMIC,
    QWEN,
    Invoke,
)

pytestmark = pytest.mark.usefixtures("llm_user_dir")


# -- llm lmstudio ... ---------------------------------------------------------------------------


def test_lmstudio_models_table_and_json(llm_cli: Invoke, lmstudio: respx.MockRouter) -> None:
    result = llm_cli("lmstudio", "models")
    assert result.exit_code == 0, result.output
    header, *rows = result.output.splitlines()
    assert header.split() == [
        "ID", "TYPE", "STATE", "QUANTIZATION", "CONTEXT", "CAPABILITIES", "INSTANCES"
    ]  # fmt: skip
    assert rows[0].split() == [QWEN, "llm", "loaded", "Q4_K_M", "4096/32768", "tool_use", QWEN]
    assert rows[1].split() == [GEMMA, "vlm", "not-loaded", "Q4_K_M", "32768", "vision", "-"]
    assert rows[2].split() == [NOMIC, "embeddings", "not-loaded", "Q4_K_M", "2048", "-", "-"]
    as_json = json.loads(llm_cli("lmstudio", "models", "--json").output)
    assert as_json[0]["llm_model_id"] == f"lmstudio/{QWEN}"
    assert as_json[0]["capabilities"] == ["tool_use"]


def test_lmstudio_health(llm_cli: Invoke, lmstudio: respx.MockRouter) -> None:
    lmstudio.get("/lmstudio-greeting").respond(json={"lmstudio": True})
    result = llm_cli("lmstudio", "health")
    assert result.exit_code == 0, result.output
    assert "Status:   ok" in result.output
    assert "Server:   http://localhost:1234 (lmstudio)" in result.output
    assert f"loaded: {QWEN}" in result.output
    assert "connect timeout 10.0 s" in result.output
    report = json.loads(llm_cli("lmstudio", "health", "--json").output)
    assert report["status"] == "ok"
    assert report["loaded_models"] == [QWEN]
    assert report["http"]["timeout_secs"] == 60.0


def test_lmstudio_health_exits_1_when_unhealthy(
    llm_cli: Invoke, lmstudio: respx.MockRouter
) -> None:
    lmstudio.get("/lmstudio-greeting").mock(side_effect=httpx2.ConnectError("refused"))
    result = llm_cli("lmstudio", "health")
    assert result.exit_code == 1
    assert "Status:   unreachable" in result.output
    assert "Hint:     start the server" in result.output
    assert json.loads(llm_cli("lmstudio", "health", "--json").output)["status"] == "unreachable"


def test_lmstudio_config_shows_sources_and_masks_secrets(
    llm_cli: Invoke, monkeypatch: pytest.MonkeyPatch, llm_user_dir: Path
) -> None:
    monkeypatch.setenv("LMSTUDIO_BASE_URL", "http://127.0.0.1:4321/v1")
    monkeypatch.setenv("LMSTUDIO_API_KEY", "sk-lm-SECRET")
    result = llm_cli("lmstudio", "config")
    assert result.exit_code == 0, result.output
    assert "sk-lm-SECRET" not in result.output
    rows = {line.split()[0]: line.split()[1:] for line in result.output.splitlines() if line}
    assert rows["base_url"] == ["http://127.0.0.1:4321", "environment", "LMSTUDIO_BASE_URL"]
    assert rows["api_key"] == ["********", "environment", "LMSTUDIO_API_KEY"]
    assert rows["max_retries"] == ["2", "default"]
    assert f"Models cache:  {llm_user_dir / 'lmstudio-models.json'}" in result.output
    monkeypatch.delenv("LMSTUDIO_API_KEY")
    assert llm_cli("keys", "set", "lmstudio", "--value", "sk-lm-STORED").exit_code == 0
    stored = json.loads(llm_cli("lmstudio", "config", "--json").output)
    assert stored["settings"]["api_key"] == {"value": "********", "source": "llm keys (lmstudio)"}
    assert "sk-lm-STORED" not in json.dumps(stored)


def test_lmstudio_config_reports_a_bad_setting(
    llm_cli: Invoke, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LMSTUDIO_MAX_RETRIES", "many")
    result = llm_cli("lmstudio", "config")
    assert result.exit_code == 1
    assert "Error: Invalid configuration: max_retries='many'" in result.output
    assert "from environment variable LMSTUDIO_MAX_RETRIES" in result.output


def test_lmstudio_config_with_bad_settings_still_shows_each_setting_as_given(
    llm_cli: Invoke, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, llm_user_dir: Path
) -> None:
    """The error's hint sends the user here: the table is shown, then what is wrong."""
    config = tmp_path / "config.yaml"
    config.write_text(
        "inference:\n  base_url: localhost:1234\n  api_key: sk-lm-FILE\n"
        "  http:\n    timeout_secs: 5\n"
    )
    monkeypatch.setenv("LMSTUDIO_CONFIG", str(config))
    monkeypatch.setenv("LMSTUDIO_MAX_RETRIES", "many")
    result = llm_cli("lmstudio", "config")
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    assert "sk-lm-FILE" not in result.output
    rows = {
        line.split()[0]: line.split()[1:]
        for line in result.stdout.splitlines()
        if line and not line.startswith(("Config file:", "Models cache:"))
    }
    assert rows["SETTING"] == ["VALUE", "SOURCE"]
    assert rows["base_url"] == ["localhost:1234", "file", f"{config}", "(inference.base_url)"]
    assert rows["api_key"] == ["********", "file", f"{config}", "(inference.api_key)"]
    assert rows["http.timeout_secs"][:2] == ["5", "file"]
    assert rows["max_retries"] == ["many", "environment", "LMSTUDIO_MAX_RETRIES"]
    assert rows["http.connect_timeout_secs"] == ["10", "default"]
    assert f"Config file:   {config} (LMSTUDIO_CONFIG)" in result.stdout
    assert f"Models cache:  {llm_user_dir / 'lmstudio-models.json'}" in result.stdout
    error = result.stderr
    assert error.startswith("Error: Invalid configuration: ")
    assert f"base_url='localhost:1234' from config file {config}" in error
    assert "max_retries='many' from environment variable LMSTUDIO_MAX_RETRIES" in error
    assert "\nHint: " in error
    as_json = llm_cli("lmstudio", "config", "--json")
    assert as_json.exit_code == 1
    report = json.loads(as_json.stdout)
    assert report["settings"]["max_retries"] == {
        "value": "many",
        "source": "environment LMSTUDIO_MAX_RETRIES",
    }
    assert report["settings"]["api_key"]["value"] == "********"
    assert report["error"]["message"].startswith("Invalid configuration: ")
    assert report["error"]["hint"]
    assert "sk-lm-FILE" not in as_json.output


def test_lmstudio_config_with_a_bad_setting_names_the_key_llm_holds(
    llm_cli: Invoke, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert llm_cli("keys", "set", "lmstudio", "--value", "sk-lm-STORED").exit_code == 0
    monkeypatch.setenv("LMSTUDIO_HTTP_TIMEOUT_SECS", "-1")
    result = llm_cli("lmstudio", "config")
    assert result.exit_code == 1
    assert "sk-lm-STORED" not in result.output
    rows = {line.split()[0]: line.split()[1:] for line in result.stdout.splitlines() if line}
    assert rows["api_key"] == ["********", "llm", "keys", "(lmstudio)"]
    assert rows["http.timeout_secs"] == ["-1", "environment", "LMSTUDIO_HTTP_TIMEOUT_SECS"]
    assert "http.timeout_secs='-1'" in result.stderr
