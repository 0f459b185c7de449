"""A lean ``stream``/``astream``: core's callbacks, step for step, without core's list
of every chunk (thousands of retained pydantic objects made the garbage collector most
of a chunk's CPU); ``on_llm_end`` gets the transport's aggregated result instead. Core's
helpers are private: without them ``LEAN_STREAMING`` is false and core's ``stream`` runs.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from typing import TYPE_CHECKING, Any

from langchain_core.callbacks import AsyncCallbackManager, CallbackManager
from langchain_core.messages import AIMessageChunk, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, LLMResult
from langchain_core.runnables.config import RunnableConfig, ensure_config

from lmstudio_provider.langchain._outputs import ai_message
from lmstudio_provider.transport import ChatResponse, LMStudioError

if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel, LanguageModelInput

try:
    from langchain_core.language_models._utils import (
        _filter_invocation_params_for_tracing,
        _normalize_messages,
    )
    from langchain_core.language_models.chat_models import (
        _format_for_tracing,
        _format_ls_structured_output,
        _generate_response_from_error,
    )
    from langchain_core.utils.utils import LC_ID_PREFIX

    LEAN_STREAMING = True
except ImportError:  # pragma: no cover - another langchain-core: core's stream is used
    LEAN_STREAMING = False

ChunkSource = Callable[
    [list[BaseMessage], list[str] | None, str, list[ChatResponse], dict[str, Any]],
    Iterator[ChatGenerationChunk],
]
"""(messages, stop, message id, result sink, call kwargs) -> chunks, the last one closing."""
AsyncChunkSource = Callable[
    [list[BaseMessage], list[str] | None, str, list[ChatResponse], dict[str, Any]],
    AsyncIterator[ChatGenerationChunk],
]


def _start(
    model: BaseChatModel,
    manager_class: type[CallbackManager] | type[AsyncCallbackManager],
    input: LanguageModelInput,
    config: RunnableConfig | None,
    stop: list[str] | None,
    kwargs: dict[str, Any],
) -> tuple[Any, list[BaseMessage]]:
    """What core's ``stream`` does before the first chunk: the start callbacks (their run
    managers, awaitable from an ``AsyncCallbackManager``) and the input as messages."""
    config = ensure_config(config)
    messages = model._convert_input(input).to_messages()
    structured = kwargs.pop("ls_structured_output_format", None) or kwargs.pop(
        "structured_output_format", None
    )
    params = model._get_invocation_params(stop=stop, **kwargs)
    options = {
        "stop": stop,
        **{key: params[key] for key in kwargs if key in params},
        **_format_ls_structured_output(structured),
    }
    inheritable_metadata = {
        **(config.get("metadata") or {}),
        **model._get_ls_params_with_defaults(stop=stop, **kwargs),
    }
    manager = manager_class.configure(
        config.get("callbacks"),
        model.callbacks,
        model.verbose,
        config.get("tags"),
        model.tags,
        inheritable_metadata,
        model.metadata,
        langsmith_inheritable_metadata=_filter_invocation_params_for_tracing(params),
    )
    started = manager.on_chat_model_start(
        model._serialized,
        [_format_for_tracing(messages)],
        invocation_params=params,
        options=options,
        name=config.get("run_name"),
        run_id=config.pop("run_id", None),
        batch_size=1,
    )
    return started, messages


def _error_response(error: BaseException, message_id: str) -> LLMResult:
    generations: list[list[ChatGeneration]] = []
    partial = error.partial if isinstance(error, LMStudioError) else None
    if partial is not None:
        message = ai_message(partial)
        message.id = message_id
        generations.append([ChatGeneration(message=message)])
    generations.append(_generate_response_from_error(error))
    return LLMResult(generations=generations)


def _end_response(
    results: list[ChatResponse], message_id: str, last: ChatGenerationChunk | None
) -> LLMResult:
    message = ai_message(results[-1])
    message.id = message_id
    # Core's merged chunks carry usage only if the stream did (``stream_usage``): on
    # its last chunk.
    last_message = last.message if last is not None else None
    if isinstance(last_message, AIMessageChunk):
        message.usage_metadata = last_message.usage_metadata
    return LLMResult(generations=[[ChatGeneration(message=message)]])


def stream_lean(
    model: BaseChatModel,
    source: ChunkSource,
    input: LanguageModelInput,
    config: RunnableConfig | None,
    stop: list[str] | None,
    kwargs: dict[str, Any],
) -> Iterator[AIMessageChunk]:
    """Core's ``BaseChatModel.stream``, fed by ``source``, keeping no chunk."""
    started, messages = _start(model, CallbackManager, input, config, stop, kwargs)
    (run_manager,) = started
    if model.rate_limiter:
        model.rate_limiter.acquire(blocking=True)
    message_id = f"{LC_ID_PREFIX}-{run_manager.run_id}"
    results: list[ChatResponse] = []
    chunk: ChatGenerationChunk | None = None
    try:
        messages = _normalize_messages(messages)
        on_token = run_manager.on_llm_new_token
        for chunk in source(messages, stop, message_id, results, kwargs):
            on_token(chunk.text, chunk=chunk)
            yield chunk.message  # type: ignore[misc]
    except BaseException as error:
        run_manager.on_llm_error(error, response=_error_response(error, message_id))
        raise
    run_manager.on_llm_end(_end_response(results, message_id, chunk))


async def astream_lean(
    model: BaseChatModel,
    source: AsyncChunkSource,
    input: LanguageModelInput,
    config: RunnableConfig | None,
    stop: list[str] | None,
    kwargs: dict[str, Any],
) -> AsyncIterator[AIMessageChunk]:
    """Core's ``BaseChatModel.astream``, fed by ``source``, keeping no chunk."""
    started, messages = _start(model, AsyncCallbackManager, input, config, stop, kwargs)
    (run_manager,) = await started
    if model.rate_limiter:
        await model.rate_limiter.aacquire(blocking=True)
    message_id = f"{LC_ID_PREFIX}-{run_manager.run_id}"
    results: list[ChatResponse] = []
    chunk: ChatGenerationChunk | None = None
    try:
        messages = _normalize_messages(messages)
        on_token = run_manager.on_llm_new_token
        async for chunk in source(messages, stop, message_id, results, kwargs):
            await on_token(chunk.text, chunk=chunk)
            yield chunk.message  # type: ignore[misc]
    except BaseException as error:
        await run_manager.on_llm_error(error, response=_error_response(error, message_id))
        raise
    await run_manager.on_llm_end(_end_response(results, message_id, chunk))
