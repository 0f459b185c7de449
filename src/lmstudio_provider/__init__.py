"""LM Studio for the ``llm`` CLI and LangChain: one fast, typed transport over its server.

The public names are imported lazily, so importing a submodule (as the ``llm``
plugin does at start-up) costs only what that submodule needs.
"""

from __future__ import annotations

import importlib
from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING, Any

try:
    __version__ = version("lmstudio-provider")
except PackageNotFoundError:  # running from a source tree
    __version__ = "0.0.0"

if TYPE_CHECKING:
    from lmstudio_provider.async_client import (
        AsyncChatStream as AsyncChatStream,
        AsyncLMStudioClient as AsyncLMStudioClient,
    )
    from lmstudio_provider.client import (
        ChatStream as ChatStream,
        LMStudioClient as LMStudioClient,
    )
    from lmstudio_provider.config import (
        HttpSettings as HttpSettings,
        Settings as Settings,
        load_settings as load_settings,
    )
    from lmstudio_provider.core import (
        HealthReport as HealthReport,
    )
    from lmstudio_provider.errors import (
        AmbiguousModelError as AmbiguousModelError,
        AuthenticationError as AuthenticationError,
        BadRequestError as BadRequestError,
        ConfigError as ConfigError,
        ContextLengthExceededError as ContextLengthExceededError,
        InvalidParameterError as InvalidParameterError,
        LMStudioError as LMStudioError,
        LMStudioTimeoutError as LMStudioTimeoutError,
        ModelLoadingError as ModelLoadingError,
        ModelMismatchError as ModelMismatchError,
        ModelNotAllowedError as ModelNotAllowedError,
        ModelNotFoundError as ModelNotFoundError,
        NoModelLoadedError as NoModelLoadedError,
        ProtocolError as ProtocolError,
        ServerError as ServerError,
        ServerUnreachableError as ServerUnreachableError,
        StreamInterruptedError as StreamInterruptedError,
    )
    from lmstudio_provider.models import (
        ModelInfo as ModelInfo,
    )
    from lmstudio_provider.params import (
        ChatParams as ChatParams,
    )
    from lmstudio_provider.results import (
        ChatChunk as ChatChunk,
        ChatResult as ChatResult,
        EmbeddingResult as EmbeddingResult,
        Metrics as Metrics,
        ToolCall as ToolCall,
        ToolCallDelta as ToolCallDelta,
        Usage as Usage,
    )

_EXPORTS = {
    "AmbiguousModelError": "errors",
    "AsyncChatStream": "async_client",
    "AsyncLMStudioClient": "async_client",
    "AuthenticationError": "errors",
    "BadRequestError": "errors",
    "ChatChunk": "results",
    "ChatParams": "params",
    "ChatResult": "results",
    "ChatStream": "client",
    "ConfigError": "errors",
    "ContextLengthExceededError": "errors",
    "EmbeddingResult": "results",
    "HealthReport": "core",
    "HttpSettings": "config",
    "InvalidParameterError": "errors",
    "LMStudioClient": "client",
    "LMStudioError": "errors",
    "LMStudioTimeoutError": "errors",
    "Metrics": "results",
    "ModelInfo": "models",
    "ModelLoadingError": "errors",
    "ModelMismatchError": "errors",
    "ModelNotAllowedError": "errors",
    "ModelNotFoundError": "errors",
    "NoModelLoadedError": "errors",
    "ProtocolError": "errors",
    "ServerError": "errors",
    "ServerUnreachableError": "errors",
    "Settings": "config",
    "StreamInterruptedError": "errors",
    "ToolCall": "results",
    "ToolCallDelta": "results",
    "Usage": "results",
    "load_settings": "config",
}

__all__ = [
    "AmbiguousModelError",
    "AsyncChatStream",
    "AsyncLMStudioClient",
    "AuthenticationError",
    "BadRequestError",
    "ChatChunk",
    "ChatParams",
    "ChatResult",
    "ChatStream",
    "ConfigError",
    "ContextLengthExceededError",
    "EmbeddingResult",
    "HealthReport",
    "HttpSettings",
    "InvalidParameterError",
    "LMStudioClient",
    "LMStudioError",
    "LMStudioTimeoutError",
    "Metrics",
    "ModelInfo",
    "ModelLoadingError",
    "ModelMismatchError",
    "ModelNotAllowedError",
    "ModelNotFoundError",
    "NoModelLoadedError",
    "ProtocolError",
    "ServerError",
    "ServerUnreachableError",
    "Settings",
    "StreamInterruptedError",
    "ToolCall",
    "ToolCallDelta",
    "Usage",
    "__version__",
    "load_settings",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'lmstudio_provider' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"lmstudio_provider.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__
