"""A real model server for the integration tiers, as a pytest plugin.

With ``LMSTUDIO_BASE_URL`` set, the tiers run unchanged against that server (a real
LM Studio). Otherwise the ``server`` fixture starts the stand-in (llama.cpp's server
with SmolLM2 135M Instruct, see ``lmstudio_provider.standin``) on a free port, once per
session, and stops it at the end. Tests of what only LM Studio does ask for the
``lmstudio_only`` fixture, which skips on other servers with the reason. Tests under
a ``REAL_SERVER_DIRS`` folder are marked ``integration``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from lmstudio_provider import LMStudioClient, LMStudioError
from lmstudio_provider.standin import StandInError, start_standin

TESTS = Path(__file__).parent
# Tiers that talk to the real server, and the files of the standard suites that do.
REAL_SERVER_DIRS = ("integration", "standin")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        path = Path(str(item.fspath))
        folders = path.relative_to(TESTS).parts[:-1] if path.is_relative_to(TESTS) else ()
        if any(folder in folders for folder in REAL_SERVER_DIRS) or (
            path.name.endswith("_integration.py")
        ):
            item.add_marker(pytest.mark.integration)


@dataclass(frozen=True)
class ServerUnderTest:
    """The model server the integration tier runs against."""

    base_url: str
    kind: str  # "lmstudio", or "llama.cpp stand-in", or "openai-compatible"
    chat_model: str
    embedding_model: str | None

    @property
    def is_lmstudio(self) -> bool:
        return self.kind == "lmstudio"


def describe(base_url: str, kind_if_not_lmstudio: str) -> ServerUnderTest:
    with LMStudioClient(base_url=base_url, max_retries=0) as client:
        health = client.health()
        if not health.ok:
            pytest.fail(
                f"The integration server at {base_url} is not healthy: {health.error}\n"
                f"Hint: {health.hint}",
                pytrace=False,
            )
        chat = client.resolve_model(None)
        embedding_ids = [m.id for m in client.list_models() if m.is_embedding]
    kind = "lmstudio" if health.server_kind == "lmstudio" else kind_if_not_lmstudio
    return ServerUnderTest(base_url, kind, chat.id, embedding_ids[0] if embedding_ids else None)


@pytest.fixture(scope="session")
def server() -> Iterator[ServerUnderTest]:
    """LM Studio at ``LMSTUDIO_BASE_URL``, or the stand-in started for this session."""
    external = os.environ.get("LMSTUDIO_BASE_URL")
    if external:
        try:
            described = describe(external, "openai-compatible")
        except LMStudioError as error:
            pytest.fail(f"LMSTUDIO_BASE_URL={external} cannot be used: {error}", pytrace=False)
        yield described
        return
    try:
        standin = start_standin()
    except StandInError as error:
        pytest.fail(f"The stand-in model server did not start: {error}", pytrace=False)
    with standin:
        yield describe(standin.base_url, "llama.cpp stand-in")


@pytest.fixture
def lmstudio_only(server: ServerUnderTest) -> None:
    """Skip, saying why, where the server is not LM Studio."""
    if not server.is_lmstudio:
        pytest.skip(
            f"needs LM Studio; the server under test is the {server.kind} "
            "(set LMSTUDIO_BASE_URL to run it against LM Studio)"
        )


@pytest.fixture
def client(server: ServerUnderTest) -> Iterator[LMStudioClient]:
    with LMStudioClient(base_url=server.base_url, timeout=120, max_retries=1) as lm:
        yield lm


@pytest.fixture
def embedding_model(server: ServerUnderTest) -> str:
    if server.embedding_model is None:
        pytest.skip(f"the server at {server.base_url} lists no embedding model")
    return server.embedding_model
