"""The integration tier: a real model server on loopback.

With ``LMSTUDIO_BASE_URL`` set, the tier runs unchanged against that server (a real
LM Studio). Otherwise it starts the stand-in (llama.cpp's server with Gemma 3 270M,
see ``lmstudio_provider.standin``) on a free port for the session and stops it at
the end. Tests of what only LM Studio does ask for the ``lmstudio_only`` fixture,
which skips on other servers with the reason.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from realserver import ServerUnderTest, describe

from lmstudio_provider import LMStudioClient, LMStudioError
from lmstudio_provider.standin import StandInError, start_standin

INTEGRATION_DIR = os.path.dirname(__file__)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if str(item.fspath).startswith(INTEGRATION_DIR):
            item.add_marker(pytest.mark.integration)


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
