"""``AsyncLMStudioClient``: the asyncio transport.

It drives the same flows as ``LMStudioClient``; only the I/O is awaited.

A connection belongs to the event loop that opened it, and once that loop is closed
it cannot be closed any more. So the client keeps one pooled ``httpx2.AsyncClient``
per event loop, and each pool is closed by its loop as the loop shuts down: a
started async generator holds it, and ``loop.shutdown_asyncgens()`` (which
``asyncio.run``, ``asyncio.Runner`` and pytest-asyncio call before closing a loop)
finalises that generator on the loop, closing the pool there. A client used in
``asyncio.run`` after ``asyncio.run`` thus leaves no socket behind. (A loop closed
with a bare ``loop.close()`` finalises nothing: its pool is dropped, unclosed, when
the client next meets another loop.)
"""

from __future__ import annotations

import asyncio
import time
import weakref
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Mapping, Sequence
from types import TracebackType
from typing import Any, NamedTuple, Self, TypeAlias, Unpack

import httpx2
import tenacity

from lmstudio_provider.transport._config import Settings
from lmstudio_provider.transport._core import (
    EMBED_BATCH_SIZE,
    STREAM_HEADERS,
    Call,
    ClientBase,
    ClientCore,
    Flow,
    HealthReport,
    PreparedChat,
    Reply,
    Shared,
    StreamResult,
    stream_is_encoded,
)
from lmstudio_provider.transport._deadlines import (
    AsyncDeadlineBackend,
    Deadline,
    install,
    set_deadline,
)
from lmstudio_provider.transport._error_mapping import error_before_body, error_from_reply
from lmstudio_provider.transport._errors import LMStudioError
from lmstudio_provider.transport._models import (
    Dialect,
    LoadedInstance,
    ModelInfo,
    ModelKind,
    ModelList,
)
from lmstudio_provider.transport._params import ChatOptions
from lmstudio_provider.transport._results import ChatChunk, ChatResponse, EmbeddingResult
from lmstudio_provider.transport._runtime import (
    DOWNLOAD_POLL_SECS,
    DownloadProgress,
    LoadResult,
    build_download_body,
)

__all__ = ["AsyncChatStream", "AsyncLMStudioClient"]


class AsyncChatStream(StreamResult):
    """A streamed answer: ``async for`` it for ``ChatChunk``s, then read ``result``.

    Nothing is sent until iteration starts. Use ``async with`` (or ``aclose()``)
    to release the connection when you stop early.
    """

    def __init__(self, open_chunks: Callable[[AsyncChatStream], AsyncIterator[ChatChunk]]) -> None:
        self._open_chunks = open_chunks
        self._chunks: AsyncIterator[ChatChunk] | None = None

    def __aiter__(self) -> AsyncIterator[ChatChunk]:
        if self._chunks is None:
            self._chunks = self._open_chunks(self)
        return self._chunks

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Stop reading and release the connection."""
        if self._chunks is not None and hasattr(self._chunks, "aclose"):
            await self._chunks.aclose()


class _LoopPool(NamedTuple):
    """The connection pool of one event loop, and the generator that closes it with the loop."""

    http: httpx2.AsyncClient
    closer: AsyncGenerator[None, None]


_LoopPools: TypeAlias = weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _LoopPool]


async def _close_with_loop(
    http: httpx2.AsyncClient, registry: weakref.ref[_LoopPools]
) -> AsyncGenerator[None, None]:
    """Started on a loop, it waits; the loop's ``shutdown_asyncgens()`` closes ``http``.

    The event loop finalises every async generator still suspended when it shuts down
    (or when the generator is garbage-collected while the loop runs), on that loop:
    the one place ``http``'s connections can still be closed cleanly.
    """
    try:
        yield
    finally:
        pools = registry()
        if pools is not None:
            loop = asyncio.get_running_loop()
            entry = pools.get(loop)
            if entry is not None and entry.http is http:
                del pools[loop]
        await http.aclose()


class AsyncLMStudioClient(ClientBase):
    """Asynchronous client for LM Studio's server; the twin of ``LMStudioClient``.

    Args:
        settings: complete settings to start from; when omitted they come from the
            environment, the YAML file and the defaults. ``kwargs`` override either.
        http_client: an ``httpx2.AsyncClient`` to use, on every event loop, instead of
            a pool per loop (it is not closed by ``aclose()``).
        **kwargs: any setting, as for ``LMStudioClient``.

    Example:
        .. code-block:: python

            async with AsyncLMStudioClient() as client:
                async with client.stream_chat([{"role": "user", "content": "Hi"}]) as s:
                    async for chunk in s:
                        print(chunk.text, end="")
    """

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        http_client: httpx2.AsyncClient | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(settings, kwargs)
        self._given_http = http_client
        self._pools: _LoopPools = weakref.WeakKeyDictionary()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the running loop's pooled connections; a later call opens new ones.

        Pools of other loops are closed by their loops as they shut down; a given
        ``http_client`` stays open.
        """
        entry = self._pools.pop(asyncio.get_running_loop(), None)
        if entry is not None:
            await entry.closer.aclose()  # its ``finally`` closes the pool

    async def _http(self) -> httpx2.AsyncClient:
        """The running loop's connection pool, opened on first use (see the module's doc)."""
        if self._given_http is not None:
            return self._given_http
        loop = asyncio.get_running_loop()
        entry = self._pools.get(loop)
        if entry is not None:
            return entry.http
        # A loop closed without shutting down its async generators (``loop.close()``
        # alone) never closed its pool, and no longer can: forget it.
        for ref in self._pools.keyrefs():  # a copy: another thread's loop may add a pool
            if (other := ref()) is not None and other.is_closed():
                self._pools.pop(other, None)
        transport = httpx2.AsyncHTTPTransport(**self._core.http_transport_options())
        http = httpx2.AsyncClient(
            **self._core.http_client_options(), transport=install(transport, AsyncDeadlineBackend)
        )
        closer = _close_with_loop(http, weakref.ref(self._pools))
        self._pools[loop] = _LoopPool(http, closer)
        await anext(closer)  # its first step registers it with the loop's hooks
        return http

    # -- I/O ------------------------------------------------------------------

    async def _send_once(self, call: Call) -> tuple[int, bytes]:
        core = self._core
        core.log_call(call)
        started = time.perf_counter()
        deadline = core.reply_deadline(call)
        http = await self._http()
        request = http.build_request(
            call.method, call.path, json=call.body, timeout=core.timeout(call)
        )
        set_deadline(deadline)
        try:
            response = await http.send(request, stream=True)
            try:
                chunks: list[bytes] = []
                received = 0
                async for data in response.aiter_bytes():
                    received += len(data)
                    core.check_body(call, received, deadline)
                    chunks.append(data)
            finally:
                await response.aclose()
        except httpx2.HTTPError as error:
            raise core.transport_error(error, call, deadline) from error
        finally:
            set_deadline(None)
        body = b"".join(chunks)
        core.log_reply(call, response.status_code, started)
        location = response.headers.get("location")
        failure = error_before_body(response.status_code, location, body, core.context(call))
        if failure is not None:
            raise failure
        return response.status_code, body

    async def _send(self, call: Call) -> Reply:
        in_flight = self._core.begin()
        try:
            async for attempt in tenacity.AsyncRetrying(**self._core.retry_options(call)):
                with attempt:
                    status, body = await self._send_once(call)
                    retries = attempt.retry_state.attempt_number - 1
                    return Reply(status, body, retries, in_flight)
        finally:
            self._core.end()
        raise AssertionError("unreachable")  # pragma: no cover

    async def _run(self, flow: Flow) -> Any:
        """Drive a flow: send each call it yields, throw transport errors into it."""
        try:
            call = next(flow)
            while True:
                try:
                    if isinstance(call, Shared):
                        outcome = await self._shared(call)
                    else:
                        outcome = await self._send(call)
                except LMStudioError as error:
                    call = flow.throw(error)
                else:
                    call = flow.send(outcome)
        except StopIteration as stop:
            return stop.value

    async def _shared(self, shared: Shared) -> Any:
        """Run ``shared.start()`` once for every task that asks at the same time."""
        loop = asyncio.get_running_loop()
        key = f"{shared.key}@{id(loop)}"  # a future belongs to its loop (pools are per loop)
        while True:
            future, leader = self._core.join_flight(key, loop.create_future())
            if leader:
                break
            try:
                return await asyncio.shield(future)
            except asyncio.CancelledError:
                task = asyncio.current_task()
                if future.cancelled() and task is not None and not task.cancelling():
                    continue  # the leader was cancelled, not this task: lead a new run
                raise
        try:
            value = await self._run(shared.start())
        except asyncio.CancelledError:
            future.cancel()
            raise
        except BaseException as error:
            future.set_exception(error)
            future.exception()  # retrieved: no task may be waiting for it
            raise
        else:
            future.set_result(value)
            return value
        finally:
            self._core.end_flight(key)

    # -- API ------------------------------------------------------------------

    async def list_models(self, *, refresh: bool = False, quick: bool = False) -> list[ModelInfo]:
        """Every model the server offers (downloaded and loaded), cached briefly.

        ``quick``: ask now, as a quick call (``http.quick_timeout_secs`` in all, no retries).
        """
        if quick:
            return (await self.model_list(quick=True)).models
        models: list[ModelInfo] = await self._run(self._core.list_models_flow(refresh=refresh))
        return models

    async def model_list(self, *, quick: bool = False, first: Dialect | None = None) -> ModelList:
        """Ask the server for its models now: the list, its endpoint and what it can tell.

        ``quick``: as a quick call (``http.quick_timeout_secs`` in all, no retries);
        ``first``: the endpoint (``v1``, ``v0``, ``openai``) to try first.
        """
        listing: ModelList = await self._run(self._core.model_list_flow(quick=quick, first=first))
        return listing

    async def resolve_model(
        self, name: str | None = None, *, kind: ModelKind = "chat"
    ) -> ModelInfo:
        """The model ``name`` stands for: exact id, unique substring, or the loaded one."""
        info: ModelInfo = await self._run(self._core.resolve_flow(name, kind))
        return info

    async def chat(
        self,
        messages: Sequence[Mapping[str, Any]],
        *,
        model: str | ModelInfo | None = None,
        **options: Unpack[ChatOptions],
    ) -> ChatResponse:
        """Send a chat and wait for the whole answer.

        ``model``: a name to resolve (see ``resolve_model``), or the ``ModelInfo`` it
        returned, which is not resolved again.

        Raises:
            LMStudioError: a typed subclass saying what failed and what to do.
        """
        prepared = ClientCore.prepare_chat(messages, model, options)
        result: ChatResponse = await self._run(self._core.chat_flow(prepared))
        return result

    def stream_chat(
        self,
        messages: Sequence[Mapping[str, Any]],
        *,
        model: str | ModelInfo | None = None,
        **options: Unpack[ChatOptions],
    ) -> AsyncChatStream:
        """Send a chat and stream the answer; parameters are checked right away.

        ``model``: as for ``chat``.
        """
        prepared = ClientCore.prepare_chat(messages, model, options)
        # A weak reference: the generator must not keep its AsyncChatStream alive (a cycle would
        # delay closing the connection, when the loop over an unnamed stream ends early,
        # until the garbage collector runs).
        return AsyncChatStream(lambda stream: self._stream_chunks(prepared, weakref.ref(stream)))

    async def _open_stream(self, call: Call) -> tuple[httpx2.Response, int, int]:
        """Open the stream, retrying until the status line; returns (response, retries, n)."""
        core = self._core
        in_flight = core.begin()
        try:
            async for attempt in tenacity.AsyncRetrying(**core.retry_options(call)):
                with attempt:
                    core.log_call(call)
                    started = time.perf_counter()
                    http = await self._http()
                    request = http.build_request(
                        call.method,
                        call.path,
                        json=call.body,
                        headers=STREAM_HEADERS,
                        timeout=self._core.timeout(call),
                    )
                    deadline = Deadline.after(core.event_timeout(call))
                    set_deadline(deadline)
                    try:
                        response = await http.send(request, stream=True)
                        core.log_reply(call, response.status_code, started)
                        # LM Studio may answer a stream with a JSON error and status 200.
                        content_type = response.headers.get("content-type", "")
                        if response.status_code != 200 or content_type.startswith(
                            "application/json"
                        ):
                            try:
                                body = await response.aread()
                            finally:
                                await response.aclose()
                            location = response.headers.get("location")
                            raise error_from_reply(
                                response.status_code, body, core.context(call), location=location
                            )
                    except httpx2.HTTPError as error:
                        raise core.transport_error(error, call, deadline) from error
                    finally:
                        set_deadline(None)
                    return response, attempt.retry_state.attempt_number - 1, in_flight
        except BaseException:
            core.end()
            raise
        raise AssertionError("unreachable")  # pragma: no cover

    async def _stream_chunks(
        self, prepared: PreparedChat, stream: weakref.ref[AsyncChatStream]
    ) -> AsyncIterator[ChatChunk]:
        started_at = time.perf_counter()
        core = self._core
        call: Call = await self._run(core.chat_call_flow(prepared, stream=True))
        if call.loads_model and (owner := stream()) is not None:
            owner.loading_model = call.model
        response, retries, in_flight = await self._open_stream(call)
        state = core.stream_state(call, retries, in_flight, started_at)
        # Each complete event restarts the deadline: a stream may be long, not stalled.
        wait = core.event_timeout(call)
        deadline = Deadline.after(wait)
        monotonic = time.monotonic
        events = 0
        encoded = stream_is_encoded(response.headers)  # compressed although not asked
        reads = (response.aiter_bytes() if encoded else response.aiter_raw()).__aiter__()
        try:
            while True:
                set_deadline(deadline)
                try:
                    data = await reads.__anext__()
                except StopAsyncIteration:
                    break
                except httpx2.HTTPError as error:
                    raise core.transport_error(
                        error, call, deadline, partial=state.result()
                    ) from error
                finally:
                    set_deadline(None)
                for chunk in state.feed(data):
                    yield chunk
                if state.events != events:
                    events = state.events
                    deadline.at = monotonic() + wait
                elif deadline.passed:  # an injected client reads without one
                    raise core.stalled_stream_error(call, state.result())
            for chunk in state.close():
                yield chunk
            owner = stream()
            if owner is not None:
                owner._set_result(state.result())
        finally:
            await response.aclose()
            core.end()

    async def embed(
        self,
        texts: Sequence[str],
        *,
        model: str | None = None,
        batch_size: int = EMBED_BATCH_SIZE,
    ) -> EmbeddingResult:
        """Embed ``texts`` (batched); vectors come back in input order."""
        result: EmbeddingResult = await self._run(self._core.embed_flow(texts, model, batch_size))
        return result

    async def health(self) -> HealthReport:
        """Whether the server answers, what it is, what is loaded; never raises."""
        try:
            report: HealthReport = await self._run(self._core.health_flow())
        except Exception as error:  # documented never to raise
            return self._core.health_failure(error)
        return report

    # -- Model runtime (LM Studio 0.4+) -------------------------------------------

    async def load_model(
        self,
        model: str,
        *,
        context_length: int | None = None,
        flash_attention: bool | None = None,
        eval_batch_size: int | None = None,
        num_experts: int | None = None,
        offload_kv_cache_to_gpu: bool | None = None,
    ) -> LoadResult:
        """Load a downloaded model and wait until it is loaded; see ``LMStudioClient.load_model``.

        The model is pinned (no idle TTL); ``warm_model(model, ttl=...)`` loads one
        that expires.
        """
        options = {
            "context_length": context_length,
            "flash_attention": flash_attention,
            "eval_batch_size": eval_batch_size,
            "num_experts": num_experts,
            "offload_kv_cache_to_gpu": offload_kv_cache_to_gpu,
        }
        result: LoadResult = await self._run(self._core.load_flow(model, options))
        return result

    async def warm_model(self, model: str, *, ttl: int) -> LoadResult:
        """Load ``model`` just in time with an idle ``ttl``; see ``LMStudioClient.warm_model``."""
        result: LoadResult = await self._run(self._core.warm_flow(model, ttl))
        return result

    async def loaded_models(self) -> list[LoadedInstance]:
        """The loaded model instances: id, model key, context length, load config."""
        instances: list[LoadedInstance] = await self._run(self._core.loaded_flow())
        return instances

    async def unload_model(self, instance_id: str) -> str:
        """Unload one loaded instance (as ``loaded_models()`` names it); returns its id."""
        unloaded: list[str] = await self._run(self._core.unload_flow([instance_id]))
        return unloaded[0]

    async def unload_models(self, instance_ids: Sequence[str]) -> list[str]:
        """Unload several loaded instances; returns their ids.

        Every id is checked against the loaded instances before the first is unloaded.

        Raises:
            ModelNotFoundError: naming each id that is not loaded (nothing is unloaded).
        """
        unloaded: list[str] = await self._run(self._core.unload_flow(list(instance_ids)))
        return unloaded

    async def unload_all(self) -> list[str]:
        """Unload every loaded instance; returns their ids."""
        unloaded: list[str] = await self._run(self._core.unload_flow(None))
        return unloaded

    def download_model(
        self, model: str, quantization: str | None = None, *, poll_secs: float | None = None
    ) -> AsyncIterator[DownloadProgress]:
        """Start downloading ``model``; ``async for`` its progress until it is complete.

        See ``LMStudioClient.download_model``. Bad arguments raise right away;
        stopping the iteration stops the polling, not LM Studio's download.
        """
        body = build_download_body(model, quantization)
        return self._download(body, DOWNLOAD_POLL_SECS if poll_secs is None else poll_secs)

    async def _download(
        self, body: dict[str, Any], poll_secs: float
    ) -> AsyncIterator[DownloadProgress]:
        progress: DownloadProgress = await self._run(self._core.download_start_flow(body))
        yield progress
        watch = self._core.download_watch()
        while not progress.done:
            assert progress.job_id is not None
            await asyncio.sleep(poll_secs)
            progress = await self._run(self._core.download_status_flow(progress.job_id, watch))
            yield progress
