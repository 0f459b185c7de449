"""The transport: everything on the wire to LM Studio's server, sync and async.

This package's names are its public surface (the front ends import nothing else).
They are imported lazily, so importing a submodule (as the ``llm`` plugin does at
start-up) costs only what that submodule needs.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from lmstudio_provider.transport._async_client import (
        AsyncChatStream as AsyncChatStream,
        AsyncLMStudioClient as AsyncLMStudioClient,
    )
    from lmstudio_provider.transport._config import (
        HttpSettings as HttpSettings,
        SettingOrigin as SettingOrigin,
        Settings as Settings,
        closest_name as closest_name,
        load_settings as load_settings,
        looks_like_token as looks_like_token,
        resolve_settings as resolve_settings,
        setting_origins as setting_origins,
        settings_from_kwargs as settings_from_kwargs,
    )
    from lmstudio_provider.transport._connection import (
        Connection as Connection,
    )
    from lmstudio_provider.transport._core import (
        EMBED_BATCH_SIZE as EMBED_BATCH_SIZE,
        HealthReport as HealthReport,
    )
    from lmstudio_provider.transport._errors import (
        START_SERVER_HINT as START_SERVER_HINT,
        AmbiguousModelError as AmbiguousModelError,
        AuthenticationError as AuthenticationError,
        BadRequestError as BadRequestError,
        ConfigError as ConfigError,
        ContextLengthExceededError as ContextLengthExceededError,
        DownloadFailedError as DownloadFailedError,
        InvalidParameterError as InvalidParameterError,
        LMStudioError as LMStudioError,
        LMStudioTimeoutError as LMStudioTimeoutError,
        ModelLoadingError as ModelLoadingError,
        ModelManagementUnsupportedError as ModelManagementUnsupportedError,
        ModelMismatchError as ModelMismatchError,
        ModelNotAllowedError as ModelNotAllowedError,
        ModelNotFoundError as ModelNotFoundError,
        NoModelLoadedError as NoModelLoadedError,
        ProtocolError as ProtocolError,
        ServerError as ServerError,
        ServerUnreachableError as ServerUnreachableError,
        StreamInterruptedError as StreamInterruptedError,
        StructuredOutputTruncatedError as StructuredOutputTruncatedError,
        TooManyOpenFilesError as TooManyOpenFilesError,
    )
    from lmstudio_provider.transport._keywords import (
        collect_unknown_keywords as collect_unknown_keywords,
        config_error_from_validation as config_error_from_validation,
        field_keywords as field_keywords,
        refuse_credential_keywords as refuse_credential_keywords,
        split_call_options as split_call_options,
    )
    from lmstudio_provider.transport._listing_cache import (
        ModelListCache as ModelListCache,
        QuickListing as QuickListing,
    )
    from lmstudio_provider.transport._log import (
        logger as logger,
    )
    from lmstudio_provider.transport._models import (
        LoadedInstance as LoadedInstance,
        ModelInfo as ModelInfo,
        ModelKind as ModelKind,
        ModelList as ModelList,
        find_model as find_model,
        resolve_model_name as resolve_model_name,
    )
    from lmstudio_provider.transport._params import (
        ChatOptions as ChatOptions,
        ChatParamFields as ChatParamFields,
        ChatParams as ChatParams,
        ReasoningEffort as ReasoningEffort,
        SamplingOptions as SamplingOptions,
        allowed_range as allowed_range,
        validate_params as validate_params,
    )
    from lmstudio_provider.transport._parsing import (
        new_tool_call_id as new_tool_call_id,
    )
    from lmstudio_provider.transport._request_body import (
        RESERVED_BODY_KEYS as RESERVED_BODY_KEYS,
    )
    from lmstudio_provider.transport._results import (
        ChatChunk as ChatChunk,
        ChatResponse as ChatResponse,
        EmbeddingResult as EmbeddingResult,
        Metrics as Metrics,
        ToolCall as ToolCall,
        ToolCallDelta as ToolCallDelta,
        Usage as Usage,
    )
    from lmstudio_provider.transport._runtime import (
        DOWNLOAD_POLL_SECS as DOWNLOAD_POLL_SECS,
        DownloadProgress as DownloadProgress,
        LoadResult as LoadResult,
    )
    from lmstudio_provider.transport._settings_report import (
        SettingsReport as SettingsReport,
        settings_report as settings_report,
    )
    from lmstudio_provider.transport._sync_client import (
        ChatStream as ChatStream,
        LMStudioClient as LMStudioClient,
    )

_EXPORTS = {
    "AmbiguousModelError": "_errors",
    "AsyncChatStream": "_async_client",
    "AsyncLMStudioClient": "_async_client",
    "AuthenticationError": "_errors",
    "BadRequestError": "_errors",
    "ChatChunk": "_results",
    "ChatOptions": "_params",
    "ChatParamFields": "_params",
    "ChatParams": "_params",
    "allowed_range": "_params",
    "ChatResponse": "_results",
    "ChatStream": "_sync_client",
    "Connection": "_connection",
    "ConfigError": "_errors",
    "ContextLengthExceededError": "_errors",
    "DOWNLOAD_POLL_SECS": "_runtime",
    "DownloadFailedError": "_errors",
    "DownloadProgress": "_runtime",
    "EMBED_BATCH_SIZE": "_core",
    "EmbeddingResult": "_results",
    "HealthReport": "_core",
    "HttpSettings": "_config",
    "InvalidParameterError": "_errors",
    "LMStudioClient": "_sync_client",
    "LMStudioError": "_errors",
    "LMStudioTimeoutError": "_errors",
    "load_settings": "_config",
    "looks_like_token": "_config",
    "LoadedInstance": "_models",
    "LoadResult": "_runtime",
    "logger": "_log",
    "closest_name": "_config",
    "Metrics": "_results",
    "ModelInfo": "_models",
    "ModelKind": "_models",
    "ModelList": "_models",
    "ModelListCache": "_listing_cache",
    "ModelLoadingError": "_errors",
    "ModelManagementUnsupportedError": "_errors",
    "ModelMismatchError": "_errors",
    "ModelNotAllowedError": "_errors",
    "ModelNotFoundError": "_errors",
    "new_tool_call_id": "_parsing",
    "NoModelLoadedError": "_errors",
    "ProtocolError": "_errors",
    "QuickListing": "_listing_cache",
    "RESERVED_BODY_KEYS": "_request_body",
    "ReasoningEffort": "_params",
    "resolve_model_name": "_models",
    "find_model": "_models",
    "resolve_settings": "_config",
    "SamplingOptions": "_params",
    "ServerError": "_errors",
    "ServerUnreachableError": "_errors",
    "setting_origins": "_config",
    "SettingOrigin": "_config",
    "Settings": "_config",
    "settings_from_kwargs": "_config",
    "settings_report": "_settings_report",
    "SettingsReport": "_settings_report",
    "START_SERVER_HINT": "_errors",
    "StreamInterruptedError": "_errors",
    "StructuredOutputTruncatedError": "_errors",
    "collect_unknown_keywords": "_keywords",
    "config_error_from_validation": "_keywords",
    "field_keywords": "_keywords",
    "refuse_credential_keywords": "_keywords",
    "split_call_options": "_keywords",
    "TooManyOpenFilesError": "_errors",
    "ToolCall": "_results",
    "ToolCallDelta": "_results",
    "Usage": "_results",
    "validate_params": "_params",
}

__all__ = [
    "DOWNLOAD_POLL_SECS",
    "EMBED_BATCH_SIZE",
    "RESERVED_BODY_KEYS",
    "START_SERVER_HINT",
    "AmbiguousModelError",
    "AsyncChatStream",
    "AsyncLMStudioClient",
    "AuthenticationError",
    "BadRequestError",
    "ChatChunk",
    "ChatOptions",
    "ChatParamFields",
    "ChatParams",
    "ChatResponse",
    "ChatStream",
    "ConfigError",
    "Connection",
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
    "ModelKind",
    "ModelList",
    "ModelListCache",
    "ModelLoadingError",
    "ModelManagementUnsupportedError",
    "ModelMismatchError",
    "ModelNotAllowedError",
    "ModelNotFoundError",
    "NoModelLoadedError",
    "ProtocolError",
    "QuickListing",
    "ReasoningEffort",
    "SamplingOptions",
    "ServerError",
    "ServerUnreachableError",
    "SettingOrigin",
    "Settings",
    "SettingsReport",
    "StreamInterruptedError",
    "StructuredOutputTruncatedError",
    "TooManyOpenFilesError",
    "ToolCall",
    "ToolCallDelta",
    "Usage",
    "allowed_range",
    "closest_name",
    "collect_unknown_keywords",
    "config_error_from_validation",
    "field_keywords",
    "find_model",
    "load_settings",
    "logger",
    "looks_like_token",
    "new_tool_call_id",
    "refuse_credential_keywords",
    "resolve_model_name",
    "resolve_settings",
    "setting_origins",
    "settings_from_kwargs",
    "settings_report",
    "split_call_options",
    "validate_params",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'lmstudio_provider.transport' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"lmstudio_provider.transport.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__
