"""An llm ``Prompt`` as the transport's chat request: messages and keyword options."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import llm

from lmstudio_provider.llm_plugin._conversation import chat_messages
from lmstudio_provider.llm_plugin._options import request_options
from lmstudio_provider.transport import InvalidParameterError, ModelInfo, has_image_parts

__all__ = ["ChatRequest", "chat_request"]

SCHEMA_NAME = "llm_schema"


@dataclass(frozen=True, slots=True)
class ChatRequest:
    messages: list[dict[str, Any]]
    options: dict[str, Any]  # ``ChatOptions`` keywords: sampling, tools, response_format ...

    def check_images(self, model: ModelInfo, *, vision_known: bool) -> None:
        """Refuse images for a model LM Studio lists without vision, before sending.

        Raises:
            InvalidParameterError: naming the model and what to do.
        """
        blind = vision_known and model.type != "unknown" and not model.supports_vision
        if blind and has_image_parts(self.messages):
            raise InvalidParameterError(
                f"{model.id} cannot read images: LM Studio lists it without vision. "
                "Nothing was sent.",
                hint="Use a vision model (`llm lmstudio models` shows capabilities), "
                "or leave out the attachment.",
            )


def tool_spec(tool: llm.Tool) -> dict[str, Any]:
    function: dict[str, Any] = {
        "name": tool.name,
        "parameters": tool.input_schema or {"type": "object", "properties": {}},
    }
    if tool.description:
        function["description"] = tool.description
    return {"type": "function", "function": function}


def chat_request(prompt: llm.Prompt) -> ChatRequest:
    """Messages from ``prompt.messages``; options, tools and ``--schema`` as keywords."""
    options = request_options(prompt.options)
    tools = [tool for tool in prompt.tools if isinstance(tool, llm.Tool)]
    if tools:
        options["tools"] = [tool_spec(tool) for tool in tools]
    if prompt.schema:
        if not isinstance(prompt.schema, dict):  # llm turns pydantic classes into dicts
            raise InvalidParameterError(f"Unsupported schema: {prompt.schema!r}")
        options["response_format"] = {
            "type": "json_schema",
            "json_schema": {"name": SCHEMA_NAME, "strict": True, "schema": prompt.schema},
        }
    return ChatRequest(chat_messages(prompt.messages), options)
