"""What the transport offers front ends that create clients often: a model list handed in,
and one TLS context for every client."""

from __future__ import annotations

import ssl

import respx

from lmstudio_provider import AsyncLMStudioClient, LMStudioClient
from lmstudio_provider.transport._config import load_settings
from lmstudio_provider.transport._core import ClientCore, shared_ssl_context
from lmstudio_provider.transport._models import ModelInfo

MODELS = [ModelInfo("qwen/qwen3-4b", type="llm", state="loaded")]


def test_a_remembered_model_list_spares_the_listing_request() -> None:
    with respx.mock(assert_all_called=False) as router, LMStudioClient(max_retries=0) as client:
        client.remember_models(MODELS)
        assert client.resolve_model(None) == MODELS[0]
        assert client.resolve_model("qwen") == MODELS[0]
        assert router.calls.call_count == 0


async def test_a_remembered_model_list_spares_the_listing_request_async() -> None:
    with respx.mock(assert_all_called=False) as router:
        async with AsyncLMStudioClient(max_retries=0) as client:
            client.remember_models(MODELS)
            assert await client.resolve_model(None) == MODELS[0]
        assert router.calls.call_count == 0


def test_every_client_shares_one_tls_context() -> None:
    first = ClientCore(load_settings()).http_transport_options()["verify"]
    second = ClientCore(load_settings(base_url="https://example.invalid")).http_transport_options()
    assert first is second["verify"] is shared_ssl_context()


def test_the_shared_context_verifies_certificates() -> None:
    context = shared_ssl_context()
    assert context.verify_mode == ssl.CERT_REQUIRED
    assert context.check_hostname
