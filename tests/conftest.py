"""Shared test set-up.

``httpx2.alias_httpx()`` must run before anything imports ``httpx`` so that respx
(which patches ``httpx``) patches the ``httpx2`` our transport uses.
"""

from __future__ import annotations

import httpx2

httpx2.alias_httpx()

from collections.abc import Iterator  # noqa: E402
from pathlib import Path  # noqa: E402

import pytest  # noqa: E402
import pytest_socket  # noqa: E402

pytest_plugins = [
    "respx.plugin",
    "realserver",
    "llm_fixtures",
    "fault_server",
    "cassette_support",
    "lmstudio_v1",
]

CAPTURES = Path(__file__).resolve().parents[2] / "shared" / "lmstudio-captures"
# Tiers that only talk to servers of their own on loopback, or to nothing at all.
NETWORK_FREE_TIERS = ("unit", "cassette")

# Settings come from the environment and a YAML file: keep the developer's own out.
SETTINGS_VARIABLES = [
    "LMSTUDIO_BASE_URL",
    "LMSTUDIO_API_KEY",
    "LM_API_TOKEN",
    "LMSTUDIO_DEFAULT_MODEL",
    "LMSTUDIO_ALLOWED_MODELS",
    "LMSTUDIO_MAX_RETRIES",
    "LMSTUDIO_CONFIG",
    "LMSTUDIO_LOG",
]


@pytest.fixture(autouse=True)
def isolated_settings(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Unit-level tests see no LMSTUDIO_* variables and no user config file."""
    if request.node.get_closest_marker("integration") is None:
        import os

        for name in list(os.environ):
            upper = name.upper()
            if (
                upper.startswith(("LMSTUDIO_", "INFERENCE_INFERENCE_"))
                or upper in SETTINGS_VARIABLES
            ):
                monkeypatch.delenv(name, raising=False)
        monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg-config"))


@pytest.fixture(autouse=True)
def no_network_in_offline_tiers(request: pytest.FixtureRequest) -> Iterator[None]:
    """Unit and cassette tests run with sockets disabled (Unix sockets stay, for asyncio)."""
    folders = Path(str(request.node.fspath)).relative_to(Path(__file__).parent).parts[:-1]
    if any(tier in folders for tier in NETWORK_FREE_TIERS):
        pytest_socket.disable_socket(allow_unix_socket=True)
        try:
            yield
        finally:
            pytest_socket.enable_socket()
    else:
        yield


def read_capture(name: str) -> str:
    """A capture's text without its ``# SOURCE`` first line."""
    text = (CAPTURES / name).read_text(encoding="utf-8")
    first, _, rest = text.partition("\n")
    assert first.startswith("# SOURCE"), f"{name} has no SOURCE line"
    return rest
