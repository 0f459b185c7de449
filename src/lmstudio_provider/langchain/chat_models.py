"""``ChatLMStudio``: LM Studio's local models as a LangChain chat model."""

from __future__ import annotations

import asyncio
import os
import sys
import warnings
from collections.abc import AsyncIterator, Collection, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Self

import langchain_core
import pydantic
from langchain_core.callbacks import AsyncCallbackManagerForLLMRun, CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel, LangSmithParams, LanguageModelInput
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.outputs import (
    ChatGeneration,
    ChatGenerationChunk,
    ChatResult as LangChainResult,
)
from langchain_core.runnables import Runnable, RunnableConfig
from pydantic import Field, field_validator, model_validator

import lmstudio_provider
from lmstudio_provider import __version__
from lmstudio_provider.langchain._clients import LMStudioConnection
from lmstudio_provider.langchain._messages import to_lmstudio_messages
from lmstudio_provider.langchain._outputs import (
    PROVIDER,
    ai_message,
    chunk_message,
    last_chunk,
)
from lmstudio_provider.langchain._streaming import LEAN_STREAMING, astream_lean, stream_lean
from lmstudio_provider.langchain._structured import (
    StructuredOutputMethod,
    ToolChoice,
    ToolLike,
    format_tools,
    normalise_tool_choice,
    structured_output_plan,
    with_raw,
)
from lmstudio_provider.langchain._truncation import refuse_truncated
from lmstudio_provider.transport import (
    ChatOptions,
    ChatParamFields,
    ChatResponse,
    ConfigError,
    closest_name,
    looks_like_token,
    looks_secret,
)

__all__ = ["ChatLMStudio"]

# What LangSmith shows as the model when none is named: LM Studio's own alias for
# "whatever model is loaded".
LOADED_MODEL = "local-model"
_REQUEST_FIELDS = ("tools", "tool_choice", "response_format")
SAMPLING_PARAMETERS = tuple(ChatParamFields.model_fields)
# What a call (``invoke``, ``stream``, ``bind``...) may pass, besides ``stream``.
_CALL_PARAMETERS = frozenset(
    ("model", "stop", "stream_usage", "extra_body", *_REQUEST_FIELDS, *SAMPLING_PARAMETERS)
)


# Frames a warning skips to point at the user's line: pydantic's, LangChain's, ours and
# asyncio's (an ``ainvoke`` runs in a task of its own, away from the caller's frame).
_LIBRARY_DIRS = tuple(
    os.path.join(Path(module.__file__ or "").parent, "")
    for module in (pydantic, langchain_core, lmstudio_provider, asyncio)
)


def _user_stacklevel() -> int:
    """The ``stacklevel`` that points ``warnings.warn`` (called by this function's caller)
    at the first frame outside the libraries; none there: at the caller's caller."""
    level, frame = 1, sys._getframe(1)
    while frame.f_code.co_filename.startswith(_LIBRARY_DIRS):
        if frame.f_back is None:
            return 2
        level, frame = level + 1, frame.f_back
    return level


def _did_you_mean(key: str, known: Collection[str]) -> str:
    close = closest_name(key, sorted(known))
    return f" (did you mean {close}?)" if close else ""


def _warn_unknown_call_keyword(key: str) -> None:
    """Say that a call's unknown keyword goes to LM Studio as it is, like the constructor."""
    warnings.warn(
        f"{key} is not a ChatLMStudio parameter{_did_you_mean(key, _CALL_PARAMETERS)}: "
        "it is sent in the request body as it is. Per-call parameters: "
        f"{', '.join(sorted(_CALL_PARAMETERS))}. Pass deliberate extras in extra_body "
        f"(extra_body={{{key!r}: ...}}) to silence this warning.",
        UserWarning,
        stacklevel=_user_stacklevel(),
    )


def _refuse_credential_keyword(key: str, value: Any) -> None:
    """A call's unknown keyword that looks like a credential is refused, never sent."""
    if looks_secret(key) or looks_like_token(value):
        raise ConfigError(
            f"{key} is not a ChatLMStudio parameter{_did_you_mean(key, _CALL_PARAMETERS)} and "
            "looks like a credential, so it is refused: nothing was sent (its value is not "
            "shown).",
            hint="Pass the server's token as api_key=... when constructing ChatLMStudio (or "
            "set LMSTUDIO_API_KEY); put a deliberate extra request field in extra_body.",
        )


@dataclass(frozen=True, slots=True)
class _Request:
    """One call's request: the instance's settings with the call's overrides."""

    model: str | None
    messages: list[dict[str, Any]]
    options: ChatOptions
    stream_usage: bool


class ChatLMStudio(LMStudioConnection, ChatParamFields, BaseChatModel):
    """LM Studio chat model integration: any model LM Studio serves, through its local server.

    Setup:
        Install ``lmstudio-provider`` with its LangChain extra, start LM Studio's server
        (Developer tab > Start Server, or ``lms server start``) and load a model
        (``lms load qwen2.5-7b-instruct``).

        .. code-block:: bash

            pip install "lmstudio-provider[langchain]"
            export LMSTUDIO_BASE_URL="http://localhost:1234"  # the default
            export LMSTUDIO_API_KEY="sk-lm-..."               # only if the server requires it

    Key init args — completion params:
        model: str | None
            LM Studio model id, or a unique part of one (``"qwen"``). Unset: the
            configured default model, else the model LM Studio has loaded.
        temperature: float | None
            Sampling temperature, 0 to 2.
        max_tokens: int | None
            Maximum number of tokens to generate (-1: no limit).
        stop, top_p, frequency_penalty, presence_penalty, seed:
            The OpenAI-standard sampling parameters.
        top_k, min_p, repeat_penalty, ttl, draft_model, logit_bias, mirostat_mode,
        mirostat_tau, mirostat_eta, cache_prompt, reasoning_effort:
            LM Studio's extensions (see "LM Studio extensions" below).
        stream_usage: bool
            Report token usage on the last chunk of a stream (default ``True``).

        These fields, their ranges and descriptions are ``ChatParamFields``'s (in
        ``lmstudio_provider.transport``), shared with the transport and the ``llm``
        plugin; a value out of range fails at construction, and per call before
        anything is sent.

    Key init args — client params:
        base_url: str | None
            The server, e.g. ``http://localhost:1234`` (``/v1`` may follow).
        api_key: SecretStr | None
            API token (``LMSTUDIO_API_KEY``), when the server requires authentication.
        timeout: float | None
            Read timeout in seconds (default 60).
        max_retries: int | None
            Retries of failed connections, 502/503/504 and model-loading answers (default 2).
        settings: Settings | None
            The shared settings of ``lmstudio-provider``; by default they are read from
            the environment and the YAML file (``~/.config/lmstudio-provider/config.yaml``),
            so ``llm`` and LangChain are configured alike.
        http_client, http_async_client:
            ``httpx2`` clients to use instead of the model's own.

    Instantiate:
        .. code-block:: python

            from lmstudio_provider.langchain import ChatLMStudio

            llm = ChatLMStudio(
                model="qwen2.5-7b-instruct",
                temperature=0.2,
                max_tokens=512,
                # top_k=40, min_p=0.05, repeat_penalty=1.1, ttl=600, ...
            )

        Constructing it makes no network call; the model is resolved on first use.

    Invoke:
        .. code-block:: python

            messages = [
                ("system", "You translate English to French."),
                ("human", "I love programming."),
            ]
            llm.invoke(messages)

        .. code-block:: python

            AIMessage(
                content="J'adore la programmation.",
                response_metadata={
                    "model_name": "qwen2.5-7b-instruct",
                    "model_provider": "lmstudio",
                    "finish_reason": "stop",
                    ...
                },
                usage_metadata={"input_tokens": 28, "output_tokens": 8, "total_tokens": 36},
            )

    Stream:
        .. code-block:: python

            for chunk in llm.stream(messages):
                print(chunk.text, end="", flush=True)

        .. code-block:: python

            stream = llm.stream(messages)
            full = next(stream)
            for chunk in stream:
                full += chunk
            full.usage_metadata  # on the last chunk, exactly once

    Async:
        .. code-block:: python

            await llm.ainvoke(messages)

            async for chunk in llm.astream(messages):
                print(chunk.text, end="")

            await llm.abatch([messages, messages])

        The async methods are truly asynchronous (``httpx2.AsyncClient``), with no
        thread hops.

    Tool calling:
        .. code-block:: python

            from pydantic import BaseModel, Field


            class GetWeather(BaseModel):
                '''Get the current weather in a given location.'''

                location: str = Field(..., description="The city, e.g. Paris")


            llm_with_tools = llm.bind_tools([GetWeather], tool_choice="auto")
            ai_msg = llm_with_tools.invoke("What is the weather like in Paris?")
            ai_msg.tool_calls

        .. code-block:: python

            [{"name": "GetWeather", "args": {"location": "Paris"}, "id": "call_...",
              "type": "tool_call"}]

        ``tool_choice`` takes ``"auto"``, ``"none"``, ``"any"``/``"required"``/``True``
        (some tool must be called) or a tool name. LM Studio itself accepts only
        ``auto | none | required``: a tool name is sent as ``"required"`` with only that
        tool. Tool calls stream as ``tool_call_chunks``; ids missing from the server
        are generated. Histories with tool calls and ``ToolMessage``s (string or list
        content, ``status="error"``) are sent in the form LM Studio accepts.

    Structured output:
        .. code-block:: python

            from typing import Optional


            class Joke(BaseModel):
                '''Joke to tell user.'''

                setup: str = Field(description="The setup of the joke")
                punchline: str = Field(description="The punchline to the joke")
                rating: Optional[int] = Field(description="How funny, from 1 to 10")


            structured_llm = llm.with_structured_output(Joke)
            structured_llm.invoke("Tell me a joke about cats")

        .. code-block:: python

            Joke(setup="Why was the cat sitting on the computer?",
                 punchline="To keep an eye on the mouse!", rating=None)

        ``method="json_schema"`` (the default) uses LM Studio's constrained decoding;
        ``"function_calling"`` forces a tool call; ``"json_mode"`` asks for any JSON
        object (sent as a ``json_schema`` of ``{"type": "object"}``, since LM Studio
        rejects ``json_object``). Schemas may be pydantic (v2 or v1) classes,
        ``TypedDict``s or JSON schemas; ``include_raw=True`` returns the raw message too.

    Image input:
        .. code-block:: python

            import base64

            image_data = base64.b64encode(open("cat.png", "rb").read()).decode()
            message = HumanMessage(
                content=[
                    {"type": "text", "text": "Describe this image."},
                    {"type": "image", "base64": image_data, "mime_type": "image/png"},
                ]
            )
            ChatLMStudio(model="qwen2.5-vl-7b-instruct").invoke([message])

        LangChain image blocks (base64 or URL) and OpenAI ``image_url`` blocks (data
        URIs and URLs) are sent to vision models as ``image_url`` parts.

    Token usage:
        .. code-block:: python

            ai_msg = llm.invoke(messages)
            ai_msg.usage_metadata

        .. code-block:: python

            {"input_tokens": 28, "output_tokens": 8, "total_tokens": 36}

        Reasoning models add ``output_token_details={"reasoning": ...}`` when LM Studio
        reports reasoning tokens. Streams carry usage on their last chunk unless
        ``stream_usage=False``.

    Response metadata:
        .. code-block:: python

            ai_msg.response_metadata

        .. code-block:: python

            {
                "model_name": "qwen2.5-7b-instruct",  # the model that really answered
                "model_provider": "lmstudio",
                "finish_reason": "stop",
                "system_fingerprint": "qwen2.5-7b-instruct",
                "id": "chatcmpl-...",
                "stats": {"tokens_per_second": 33.0, "time_to_first_token": 0.39,
                          "stop_reason": "eosFound"},  # when LM Studio sends them
                "metrics": {"wall_duration_secs": 1.2, "time_to_first_token_secs": 0.4,
                            "tokens_per_second": 33.0, "retries": 0,
                            "in_flight_at_start": 0},
            }

    LM Studio extensions:
        .. code-block:: python

            llm = ChatLMStudio(
                model="qwen3-8b",
                top_k=40,               # sample from the 40 likeliest tokens
                min_p=0.05,             # drop tokens under 5% of the top token's probability
                repeat_penalty=1.1,     # discourage repetition
                ttl=600,                # unload a just-in-time loaded model after 10 idle min
                draft_model="qwen3-0.6b",  # speculative decoding
                reasoning_effort="low",    # for reasoning models
            )
            llm.invoke("Hi", top_k=20)  # any parameter can be overridden per call

        Reasoning (``reasoning_content``, gpt-oss ``reasoning`` or inline
        ``<think>...</think>``) lands in ``additional_kwargs["reasoning_content"]`` and
        as a reasoning block in ``content_blocks``, never in the text. ``extra_body``
        and ``model_kwargs`` forward anything else verbatim; an unknown keyword, to the
        constructor or to a call, is forwarded too, with a warning. Errors are the
        transport's typed ``LMStudioError`` subclasses, with LM Studio's message and a
        ``hint`` on what to do.
    """

    model: str | None = None
    """LM Studio model id or a unique part of one; unset: the configured default model,
    else the loaded model."""

    extra_body: dict[str, Any] | None = None
    """Fields sent verbatim in every request body (they cannot set ``model``,
    ``messages`` or ``stream``)."""

    model_kwargs: dict[str, Any] = Field(default_factory=dict)
    """Further request fields, like ``extra_body``; unknown constructor arguments are
    collected here (with a warning)."""

    streaming: bool = False
    """Stream the answer even from ``invoke`` (callbacks then see every token)."""

    stream_usage: bool = True
    """Report token usage on the last chunk of a stream."""

    @model_validator(mode="before")
    @classmethod
    def _collect_model_kwargs(cls, values: Any) -> Any:
        """Move unknown constructor arguments into ``model_kwargs``, saying so."""
        if not isinstance(values, dict):
            return values
        known = {name for name, field in cls.model_fields.items()}
        known |= {field.alias for field in cls.model_fields.values() if field.alias}
        unknown = [key for key in values if key not in known]
        if not unknown:
            return values
        values = dict(values)
        extra = dict(values.get("model_kwargs") or {})
        for key in unknown:
            warnings.warn(
                f"{key} is not a ChatLMStudio field{_did_you_mean(key, known)}: it is sent "
                "in the request body (model_kwargs). Pass it in model_kwargs to silence "
                "this warning.",
                stacklevel=_user_stacklevel(),
            )
            extra[key] = values.pop(key)
        values["model_kwargs"] = extra
        return values

    @field_validator("stop", mode="before")
    @classmethod
    def _no_stop_means_none(cls, value: Any) -> Any:
        return None if value == [] else value  # LangChain's "no stop sequences"

    @model_validator(mode="after")
    def _set_lmstudio_version(self) -> Self:
        self._add_version("lmstudio-provider", __version__)
        return self

    # -- LangChain identity -----------------------------------------------------

    @property
    def _llm_type(self) -> str:
        return "lmstudio-chat"

    @property
    def lc_secrets(self) -> dict[str, str]:
        return {"api_key": "LMSTUDIO_API_KEY"}

    @classmethod
    def is_lc_serializable(cls) -> bool:
        return True

    @property
    def _identifying_params(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "base_url": self.base_url,
            **self._sampling_params(),
            "extra_body": self.extra_body,
            "model_kwargs": self.model_kwargs,
            "stream_usage": self.stream_usage,
        }

    def _get_ls_params(self, stop: list[str] | None = None, **kwargs: Any) -> LangSmithParams:
        params = self._get_invocation_params(stop=stop, **kwargs)
        ls_params = LangSmithParams(
            ls_provider=PROVIDER,
            ls_model_name=self._model_name(kwargs.get("model")),
            ls_model_type="chat",
            ls_temperature=params.get("temperature", self.temperature),
        )
        if max_tokens := params.get("max_tokens", self.max_tokens):
            ls_params["ls_max_tokens"] = max_tokens
        if ls_stop := stop or params.get("stop") or self.stop:
            ls_params["ls_stop"] = [ls_stop] if isinstance(ls_stop, str) else list(ls_stop)
        return ls_params

    def _model_name(self, override: str | None = None) -> str:
        """The model as named (the server resolves it); no name: the loaded model."""
        return override or self.model or self.lmstudio_settings.default_model or LOADED_MODEL

    def _sampling_params(self) -> dict[str, Any]:
        return {
            name: value
            for name in SAMPLING_PARAMETERS
            if (value := getattr(self, name)) is not None
        }

    # -- Requests ---------------------------------------------------------------

    def _request(
        self, messages: list[BaseMessage], stop: list[str] | None, kwargs: dict[str, Any]
    ) -> _Request:
        call = dict(kwargs)
        call.pop("stream", None)
        model = call.pop("model", None) or self.model
        stream_usage = call.pop("stream_usage", None)
        options: dict[str, Any] = self._sampling_params()
        for name in SAMPLING_PARAMETERS:
            if (value := call.pop(name, None)) is not None:
                options[name] = value
        if stop:
            options["stop"] = stop
        for name in _REQUEST_FIELDS:
            if (value := call.pop(name, None)) is not None:
                options[name] = value
        extra = {**self.model_kwargs, **(self.extra_body or {})}
        extra.update(call.pop("extra_body", None) or {})
        for key, value in call.items():  # any other keyword goes to LM Studio, with a warning
            _refuse_credential_keyword(key, value)
            _warn_unknown_call_keyword(key)
        extra.update(call)
        if extra:
            options["extra_body"] = extra
        return _Request(
            model,
            to_lmstudio_messages(messages),
            options,  # type: ignore[arg-type]
            self.stream_usage if stream_usage is None else bool(stream_usage),
        )

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> LangChainResult:
        request = self._request(messages, stop, kwargs)
        result = self._transport().chat(request.messages, model=request.model, **request.options)
        return _chat_result(result)

    async def _agenerate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> LangChainResult:
        request = self._request(messages, stop, kwargs)
        client = self._atransport()
        result = await client.chat(request.messages, model=request.model, **request.options)
        return _chat_result(result)

    # -- Streaming ----------------------------------------------------------------

    def _chunks(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None,
        message_id: str | None,
        results: list[ChatResponse],
        kwargs: dict[str, Any],
    ) -> Iterator[ChatGenerationChunk]:
        """The answer's chunks, then the closing one; the whole result goes to ``results``."""
        request = self._request(messages, stop, kwargs)
        stream = self._transport().stream_chat(
            request.messages, model=request.model, **request.options
        )
        with stream:
            for chunk in stream:
                if (generation := chunk_message(chunk, message_id)) is not None:
                    yield generation
        results.append(stream.result)
        yield last_chunk(stream.result, message_id, stream_usage=request.stream_usage)

    async def _achunks(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None,
        message_id: str | None,
        results: list[ChatResponse],
        kwargs: dict[str, Any],
    ) -> AsyncIterator[ChatGenerationChunk]:
        request = self._request(messages, stop, kwargs)
        client = self._atransport()
        stream = client.stream_chat(request.messages, model=request.model, **request.options)
        async with stream:
            async for chunk in stream:
                if (generation := chunk_message(chunk, message_id)) is not None:
                    yield generation
        results.append(stream.result)
        yield last_chunk(stream.result, message_id, stream_usage=request.stream_usage)

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        for generation in self._chunks(messages, stop, None, [], kwargs):
            if run_manager:
                run_manager.on_llm_new_token(generation.text, chunk=generation)
            yield generation

    async def _astream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> AsyncIterator[ChatGenerationChunk]:
        async for generation in self._achunks(messages, stop, None, [], kwargs):
            if run_manager:
                await run_manager.on_llm_new_token(generation.text, chunk=generation)
            yield generation

    def _lean_stream_applies(self, async_api: bool, kwargs: dict[str, Any]) -> bool:
        """Whether ``stream`` may skip core's chunk list (v1 output needs core's blocks)."""
        return (
            LEAN_STREAMING
            and self.output_version != "v1"
            and self._should_stream(async_api=async_api, **{**kwargs, "stream": True})
        )

    def stream(
        self,
        input: LanguageModelInput,
        config: RunnableConfig | None = None,
        *,
        stop: list[str] | None = None,
        **kwargs: Any,
    ) -> Iterator[AIMessageChunk]:
        """Stream the answer's chunks; the last one carries usage and metadata."""
        if not self._lean_stream_applies(False, kwargs):
            return super().stream(input, config, stop=stop, **kwargs)
        return stream_lean(self, self._chunks, input, config, stop, kwargs)

    def astream(
        self,
        input: LanguageModelInput,
        config: RunnableConfig | None = None,
        *,
        stop: list[str] | None = None,
        **kwargs: Any,
    ) -> AsyncIterator[AIMessageChunk]:
        """Stream the answer's chunks asynchronously; the last one carries usage."""
        if not self._lean_stream_applies(True, kwargs):
            return super().astream(input, config, stop=stop, **kwargs)
        return astream_lean(self, self._achunks, input, config, stop, kwargs)

    # -- Tools and structured output ----------------------------------------------

    def bind_tools(
        self,
        tools: Sequence[ToolLike],
        *,
        tool_choice: ToolChoice = None,
        strict: bool | None = None,
        **kwargs: Any,
    ) -> Runnable[LanguageModelInput, AIMessage]:
        """Bind tools (pydantic classes, functions, ``BaseTool``s or OpenAI tool dicts).

        Args:
            tools: The tools the model may call.
            tool_choice: ``"auto"``, ``"none"``, ``"any"``/``"required"``/``True`` (call
                some tool), a tool name (call that tool), or ``None``/``False`` (the
                server's default). LM Studio accepts only ``auto | none | required``;
                a tool name is sent as ``"required"`` with only that tool.
            strict: Ask for arguments that match each tool's schema exactly.
            kwargs: Passed on to ``bind``.
        """
        formatted = format_tools(tools, strict=strict)
        choice = normalise_tool_choice(tool_choice, formatted)
        if choice is not None:
            kwargs["tool_choice"] = choice
        return super().bind(tools=formatted, **kwargs)

    def with_structured_output(
        self,
        schema: dict[str, Any] | type,
        *,
        method: StructuredOutputMethod = "json_schema",
        include_raw: bool = False,
        strict: bool | None = None,
        **kwargs: Any,
    ) -> Runnable[LanguageModelInput, dict[str, Any] | Any]:
        """A runnable whose output follows ``schema``.

        Args:
            schema: A pydantic class (v2 or v1), a ``TypedDict`` or a JSON schema.
                Pydantic classes come back as instances, the others as dicts.
            method: ``"json_schema"`` (LM Studio's constrained output, the default),
                ``"function_calling"`` (a forced tool call) or ``"json_mode"`` (any JSON
                object: say in the prompt which keys you want).
            include_raw: Return ``{"raw", "parsed", "parsing_error"}`` instead of
                raising when the answer does not parse. An answer cut off by
                ``max_tokens`` raises ``StructuredOutputTruncatedError`` either way.
            strict: Ask the server to follow the schema exactly (not for ``json_mode``).
            kwargs: Not supported; passing any raises ``ValueError``.
        """
        if kwargs:
            raise ValueError(f"Received unsupported arguments {kwargs}")
        bound, parser = structured_output_plan(schema, method, strict)
        llm = (
            self.bind(
                **bound,
                ls_structured_output_format={
                    "kwargs": {"method": method, "strict": strict},
                    "schema": schema,
                },
            )
            | refuse_truncated  # an answer cut by max_tokens is reported as cut, not parsed
        )
        if include_raw:
            return with_raw(llm, parser)
        return llm | parser


def _chat_result(result: ChatResponse) -> LangChainResult:
    generation = ChatGeneration(
        message=ai_message(result), generation_info={"finish_reason": result.finish_reason}
    )
    return LangChainResult(generations=[generation], llm_output={"model_name": result.model})
