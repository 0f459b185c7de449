"""LM Studio for the ``llm`` CLI and LangChain: one fast, typed transport over its server.

Three rooms: ``lmstudio_provider.transport`` (everything on the wire, sync and async),
``lmstudio_provider.langchain`` and ``lmstudio_provider.llm_plugin`` (thin front ends);
``lmstudio_provider.standin`` is the test server, apart from the runtime code. The
transport's public names are re-exported here, lazily, so that importing a submodule
(as the ``llm`` plugin does at start-up) costs only what that submodule needs.
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
    from lmstudio_provider.transport import (
        AmbiguousModelError as AmbiguousModelError,
        AsyncChatStream as AsyncChatStream,
        AsyncLMStudioClient as AsyncLMStudioClient,
        AuthenticationError as AuthenticationError,
        BadRequestError as BadRequestError,
        ChatChunk as ChatChunk,
        ChatParams as ChatParams,
        ChatResponse as ChatResponse,
        ChatStream as ChatStream,
        ConfigError as ConfigError,
        ContextLengthExceededError as ContextLengthExceededError,
        DownloadFailedError as DownloadFailedError,
        DownloadProgress as DownloadProgress,
        EmbeddingResult as EmbeddingResult,
        HealthReport as HealthReport,
        HttpSettings as HttpSettings,
        InvalidParameterError as InvalidParameterError,
        LMStudioClient as LMStudioClient,
        LMStudioError as LMStudioError,
        LMStudioTimeoutError as LMStudioTimeoutError,
        LoadedInstance as LoadedInstance,
        LoadResult as LoadResult,
        Metrics as Metrics,
        ModelInfo as ModelInfo,
        ModelLoadingError as ModelLoadingError,
        ModelManagementUnsupportedError as ModelManagementUnsupportedError,
        ModelMismatchError as ModelMismatchError,
        ModelNotAllowedError as ModelNotAllowedError,
        ModelNotFoundError as ModelNotFoundError,
        NoModelLoadedError as NoModelLoadedError,
        ProtocolError as ProtocolError,
        ServerError as ServerError,
        ServerUnreachableError as ServerUnreachableError,
        Settings as Settings,
        StreamInterruptedError as StreamInterruptedError,
        ToolCall as ToolCall,
        ToolCallDelta as ToolCallDelta,
        TooManyOpenFilesError as TooManyOpenFilesError,
        Usage as Usage,
        load_settings as load_settings,
    )

__all__ = [
    "AmbiguousModelError",
    "AsyncChatStream",
    "AsyncLMStudioClient",
    "AuthenticationError",
    "BadRequestError",
    "ChatChunk",
    "ChatParams",
    "ChatResponse",
    "ChatStream",
    "ConfigError",
    "ContextLengthExceededError",
    "DownloadFailedError",
    "DownloadProgress",
    "EmbeddingResult",
    "HealthReport",
    "HttpSettings",
    "InvalidParameterError",
    "LMStudioClient",
    "LMStudioError",
    "LMStudioTimeoutError",
    "LoadResult",
    "LoadedInstance",
    "Metrics",
    "ModelInfo",
    "ModelLoadingError",
    "ModelManagementUnsupportedError",
    "ModelMismatchError",
    "ModelNotAllowedError",
    "ModelNotFoundError",
    "NoModelLoadedError",
    "ProtocolError",
    "ServerError",
    "ServerUnreachableError",
    "Settings",
    "StreamInterruptedError",
    "TooManyOpenFilesError",
    "ToolCall",
    "ToolCallDelta",
    "Usage",
    "__version__",
    "load_settings",
]


def __getattr__(name: str) -> Any:
    if name not in __all__:
        raise AttributeError(f"module 'lmstudio_provider' has no attribute {name!r}")
    value = getattr(importlib.import_module("lmstudio_provider.transport"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__
