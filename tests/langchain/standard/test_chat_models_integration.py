"""langchain-tests' standard integration suite for ``ChatLMStudio``, on the server under test.

The feature flags follow what the server really does. Real LM Studio: tools, a forced
``tool_choice``, ``json_schema`` structured output, JSON mode and usage in streams. The
llama.cpp stand-in (Gemma 3 270M): plain chat, tool-call histories and usage on
``invoke`` only. Every test the server cannot pass is skipped with the reason.
"""

from __future__ import annotations

import os
from typing import Any

import pytest
from langchain_tests.integration_tests import ChatModelIntegrationTests

from lmstudio_provider import LMStudioClient
from lmstudio_provider.langchain import ChatLMStudio
from lmstudio_provider.transport._models import ModelInfo
from realserver import ServerUnderTest

NO_FORCED_TOOLS = (
    "the llama.cpp stand-in forces a tool call only with the object-form tool_choice, "
    'which LM Studio rejects (so ChatLMStudio sends "required"), and its 270M model '
    "does not call tools unforced"
)
# What the stand-in cannot do, test by test (LM Studio runs them all).
STANDIN_CANNOT = {
    "test_tool_calling": NO_FORCED_TOOLS,
    "test_tool_calling_async": NO_FORCED_TOOLS,
    "test_tool_calling_with_no_arguments": NO_FORCED_TOOLS,
    "test_bind_runnables_as_tools": NO_FORCED_TOOLS,
    "test_agent_loop": NO_FORCED_TOOLS,
    "test_unicode_tool_call_integration": NO_FORCED_TOOLS,
    "test_usage_metadata_streaming": "llama.cpp's server sends no usage in streamed answers",
    "test_tool_choice": NO_FORCED_TOOLS,
    **dict.fromkeys(
        (
            "test_structured_output",
            "test_structured_output_async",
            "test_structured_output_pydantic_2_v1",
            "test_structured_output_optional_param",
            "test_json_mode",
        ),
        "llama.cpp's server rejects response_format json_schema (it knows only "
        f"json_object), which LM Studio needs; and function calling: {NO_FORCED_TOOLS}",
    ),
}

MODEL_OVERRIDE_TESTS = {
    "test_invoke_with_model_override",
    "test_ainvoke_with_model_override",
    "test_stream_with_model_override",
    "test_astream_with_model_override",
}


@pytest.fixture(scope="session")
def server_models(server: ServerUnderTest) -> list[ModelInfo]:
    """The server's models, read once (before any test's own HTTP recording starts)."""
    with LMStudioClient(base_url=server.base_url, max_retries=0) as client:
        return client.list_models()


class TestChatLMStudioIntegration(ChatModelIntegrationTests):
    server: ServerUnderTest
    other_chat_model: str | None = None
    vision: bool = False

    @pytest.fixture(autouse=True)
    def _server_under_test(
        self,
        request: pytest.FixtureRequest,
        server: ServerUnderTest,
        server_models: list[ModelInfo],
    ) -> None:
        """Note what the server offers; skip, with the reason, what it cannot do."""
        self.server = server
        chat = [m for m in server_models if not m.is_embedding and m.id != server.chat_model]
        loaded = [m.id for m in chat if m.is_loaded]
        self.other_chat_model = loaded[0] if loaded else None
        self.vision = any(m.id == server.chat_model and m.supports_vision for m in server_models)
        name = request.node.originalname
        if not server.is_lmstudio and name in STANDIN_CANNOT:
            pytest.skip(f"{STANDIN_CANNOT[name]} (server: {server.kind})")
        if name in MODEL_OVERRIDE_TESTS and self.other_chat_model is None:
            pytest.skip(f"the {server.kind} has no second chat model loaded to switch to")
        if name == "test_image_inputs" and not self.supports_image_inputs:
            pytest.skip(
                "needs a vision model under test and LMSTUDIO_TEST_IMAGES=1 "
                "(the test downloads its images from the internet)"
            )

    @property
    def chat_model_class(self) -> type[ChatLMStudio]:
        return ChatLMStudio

    @property
    def chat_model_params(self) -> dict[str, Any]:
        return {
            "model": self.server.chat_model,
            "base_url": self.server.base_url,
            "temperature": 0,
            "max_tokens": 96,  # the 270M stand-in rambles; LM Studio models stop earlier
            "timeout": 120,
            "max_retries": 1,
        }

    @property
    def has_tool_calling(self) -> bool:
        return True

    @property
    def has_tool_choice(self) -> bool:
        return self.server.is_lmstudio

    @property
    def has_structured_output(self) -> bool:
        # llama.cpp's server rejects json_schema and forces no tool through "required".
        return self.server.is_lmstudio

    @property
    def supports_json_mode(self) -> bool:
        return self.server.is_lmstudio

    @property
    def supports_anthropic_inputs(self) -> bool:
        return True

    @property
    def supports_image_inputs(self) -> bool:
        # These tests download images: only with a vision model and LMSTUDIO_TEST_IMAGES=1.
        return self.vision and os.environ.get("LMSTUDIO_TEST_IMAGES") == "1"

    @property
    def model_override_value(self) -> str | None:
        return self.other_chat_model
