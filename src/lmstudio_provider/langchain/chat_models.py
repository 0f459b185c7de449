"""``ChatLMStudio``: LM Studio's local models as a LangChain chat model."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Self

from langchain_core.callbacks import AsyncCallbackManagerForLLMRun, CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel, LangSmithParams, LanguageModelInput
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.outputs import (
    ChatGeneration,
    ChatGenerationChunk,
    ChatResult as LangChainResult,
)
from langchain_core.runnables import Runnable, RunnableConfig
from langchain_core.utils.function_calling import convert_to_openai_tool
from pydantic import Field, field_validator, model_validator

from lmstudio_provider import __version__
from lmstudio_provider.langchain._clients import LMStudioConnection
from lmstudio_provider.langchain._messages import to_lmstudio_message
from lmstudio_provider.langchain._outputs import PROVIDER, ai_message, chunk_message, last_chunk
from lmstudio_provider.langchain._streaming import LEAN_STREAMING, astream_lean, stream_lean
from lmstudio_provider.langchain._structured import (
    StructuredOutputMethod,
    ToolChoice,
    ToolLike,
    normalise_tool_choice,
    refuse_truncated,
    structured_output_plan,
    with_raw,
)
from lmstudio_provider.transport import (
    ChatOptions,
    ChatParamFields,
    ChatResponse,
    collect_unknown_keywords,
    field_keywords,
    split_call_options,
)

__all__ = ["ChatLMStudio"]

LOADED_MODEL = "local-model"  # LM Studio's name for the loaded model, shown to LangSmith
# Keyword rules are the transport's; these say whose words the messages use.
_OWNER = "ChatLMStudio"
_LIBRARY = ("langchain_core",)  # a warning points past its frames, at the user's line


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
        Install the LangChain extra, start LM Studio's server (Developer tab > Start
        Server, or ``lms server start``) and load a model (``lms load qwen3-8b``).

        .. code-block:: bash

            pip install "lmstudio-provider[langchain]"
            export LMSTUDIO_BASE_URL="http://localhost:1234"  # the default
            export LMSTUDIO_API_KEY="sk-lm-..."               # only if the server requires it

    Key init args — completion params:
        model: str | None
            A model id or a unique part of one; unset: the configured default model,
            else the loaded one.
        temperature, max_tokens, stop, top_p, frequency_penalty, presence_penalty, seed:
            The OpenAI-standard parameters.
        top_k, min_p, repeat_penalty, ttl, draft_model, logit_bias, mirostat_mode,
        mirostat_tau, mirostat_eta, cache_prompt, reasoning_effort:
            LM Studio's extensions.

        The parameters are ``ChatParamFields``'s, shared with the transport and the
        ``llm`` plugin, checked at construction and before a call sends anything; any of
        them can be overridden per call (``llm.invoke(msgs, top_k=20)``).

    Key init args — client params:
        base_url, api_key, timeout, max_retries, load_timeout, settings:
            Unset: the shared settings (environment, then
            ``~/.config/lmstudio-provider/config.yaml``), as for ``llm``.
        http_client, http_async_client:
            ``httpx2`` clients to use instead of the model's own.

    Instantiate:
        .. code-block:: python

            from lmstudio_provider.langchain import ChatLMStudio

            llm = ChatLMStudio(model="qwen3-8b", temperature=0.2, top_k=40)

        Constructing it makes no network call. Errors are ``LMStudioError`` subclasses
        with LM Studio's message and a ``hint``.

    Invoke:
        .. code-block:: python

            messages = [("system", "Translate to French."), ("human", "I love programming.")]
            llm.invoke(messages)
            # AIMessage(content="J'adore la programmation.", response_metadata={...}, ...)

        Reasoning, in any of LM Studio's three forms, lands in
        ``additional_kwargs["reasoning_content"]`` and ``content_blocks``, not the text.

    Stream:
        .. code-block:: python

            for chunk in llm.stream(messages):
                print(chunk.text, end="", flush=True)

    Async:
        .. code-block:: python

            await llm.ainvoke(messages)
            async for chunk in llm.astream(messages):
                print(chunk.text, end="")

    Tool calling:
        .. code-block:: python

            class GetWeather(BaseModel):
                '''Get the current weather in a given city.'''

                city: str


            llm.bind_tools([GetWeather]).invoke("Weather in Paris?").tool_calls
            # [{"name": "GetWeather", "args": {"city": "Paris"}, "id": "call_...", ...}]

    Structured output:
        .. code-block:: python

            class Joke(BaseModel):
                setup: str
                punchline: str


            llm.with_structured_output(Joke).invoke("Tell me a joke about cats")
            # Joke(setup="Why was the cat on the computer?", punchline="To watch the mouse!")

    Image input:
        .. code-block:: python

            image = {"type": "image", "base64": image_data, "mime_type": "image/png"}
            message = HumanMessage(content=[{"type": "text", "text": "Describe it."}, image])
            ChatLMStudio(model="qwen2.5-vl-7b-instruct").invoke([message])

    Token usage:
        .. code-block:: python

            llm.invoke(messages).usage_metadata
            # {"input_tokens": 28, "output_tokens": 8, "total_tokens": 36}

    Response metadata:
        .. code-block:: python

            llm.invoke(messages).response_metadata

        .. code-block:: python

            {
                "model_name": "qwen3-8b",  # the model that really answered
                "model_provider": "lmstudio",
                "finish_reason": "stop",
                "stats": {"tokens_per_second": 33.0, ...},  # when LM Studio sends them
                "metrics": {"wall_duration_secs": 1.2, "time_to_first_token_secs": 0.4, ...},
                ...
            }
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
        known = field_keywords(cls)
        return collect_unknown_keywords(values, known, owner=_OWNER, skip_packages=_LIBRARY)

    @field_validator("stop", mode="before")
    @classmethod
    def _no_stop_means_none(cls, value: Any) -> Any:
        return None if value == [] else value  # LangChain's "no stop sequences"

    @model_validator(mode="after")
    def _set_lmstudio_version(self) -> Self:
        self._add_version("lmstudio-provider", __version__)
        return self

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
        return self.model_dump(include=set(ChatParamFields.model_fields), exclude_none=True)

    def _request(
        self, messages: list[BaseMessage], stop: list[str] | None, kwargs: dict[str, Any]
    ) -> _Request:
        call = dict(kwargs)
        call.pop("stream", None)
        model = call.pop("model", None) or self.model
        stream_usage = call.pop("stream_usage", None)
        if stop:
            call["stop"] = stop
        defaults = {
            **self._sampling_params(),
            "extra_body": {**self.model_kwargs, **(self.extra_body or {})},
        }
        options = split_call_options(
            defaults, call, owner=_OWNER, also=("model", "stream_usage"), skip_packages=_LIBRARY
        )
        return _Request(
            model,
            [to_lmstudio_message(message) for message in messages],
            options,
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
        result = self.client.chat(request.messages, model=request.model, **request.options)
        return _chat_result(result)

    async def _agenerate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> LangChainResult:
        request = self._request(messages, stop, kwargs)
        client = self.async_client
        result = await client.chat(request.messages, model=request.model, **request.options)
        return _chat_result(result)

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
        stream = self.client.stream_chat(request.messages, model=request.model, **request.options)
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
        client = self.async_client
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
        formatted = [convert_to_openai_tool(tool, strict=strict) for tool in tools]
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
            raise ValueError(f"Received unsupported arguments {sorted(kwargs)}")  # no values
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
