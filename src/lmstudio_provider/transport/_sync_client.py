"""``LMStudioClient``: the synchronous transport (one pooled ``httpx2.Client``)."""

from __future__ import annotations

import concurrent.futures
import time
import weakref
from collections.abc import Callable, Iterator, Mapping, Sequence
from types import TracebackType
from typing import Any, Self, Unpack

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
    Deadline,
    DeadlineBackend,
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
from lmstudio_provider.transport._parsing import StreamState
from lmstudio_provider.transport._results import ChatChunk, ChatResponse, EmbeddingResult
from lmstudio_provider.transport._runtime import (
    DOWNLOAD_POLL_SECS,
    DownloadProgress,
    LoadResult,
    build_download_body,
)

__all__ = ["ChatStream", "LMStudioClient"]


class ChatStream(StreamResult):
    """A streamed answer: iterate it for ``ChatChunk``s, then read ``result``.

    Nothing is sent until iteration starts. Leaving a ``with`` block (or breaking
    out of the loop) closes the connection.
    """

    def __init__(self, open_chunks: Callable[[ChatStream], Iterator[ChatChunk]]) -> None:
        self._open_chunks = open_chunks
        self._chunks: Iterator[ChatChunk] | None = None

    def __iter__(self) -> Iterator[ChatChunk]:
        if self._chunks is None:
            self._chunks = self._open_chunks(self)
        return self._chunks

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Stop reading and release the connection."""
        if self._chunks is not None and hasattr(self._chunks, "close"):
            self._chunks.close()


class LMStudioClient(ClientBase):
    """Synchronous client for LM Studio's server.

    Args:
        settings: complete settings to start from; when omitted they come from the
            environment, the YAML file and the defaults. ``kwargs`` override either.
        http_client: an ``httpx2.Client`` to use instead of creating one (it is not
            closed by ``close()``).
        **kwargs: any setting: ``base_url``, ``api_key``, ``default_model``,
            ``allowed_models``, ``timeout``, ``connect_timeout``, ``load_timeout``,
            ``keep_alive``, ``max_idle_connections``, ``max_retries``, ``defaults``.

    Example:
        .. code-block:: python

            with LMStudioClient(timeout=30) as client:
                for chunk in client.stream_chat([{"role": "user", "content": "Hi"}]):
                    print(chunk.text, end="")
    """

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        http_client: httpx2.Client | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(settings, kwargs)
        if http_client is None:
            transport = httpx2.HTTPTransport(**self._core.http_transport_options())
            http_client = httpx2.Client(
                **self._core.http_client_options(), transport=install(transport, DeadlineBackend)
            )
            # Its own pool is closed by ``close()`` or, at the latest, when the client is
            # collected (open sockets would warn); a given ``http_client`` is the caller's.
            self._closer: weakref.finalize[Any, Any] | None = weakref.finalize(
                self, http_client.close
            )
        else:
            self._closer = None
        self._http = http_client

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Close the pooled connections (a given ``http_client`` stays open)."""
        if self._closer is not None:
            self._closer()

    # -- I/O ------------------------------------------------------------------

    def _send_once(self, call: Call) -> tuple[int, bytes]:
        core = self._core
        core.log_call(call)
        started = time.perf_counter()
        deadline = core.reply_deadline(call)
        request = self._http.build_request(
            call.method, call.path, json=call.body, timeout=core.timeout(call)
        )
        set_deadline(deadline)
        try:
            response = self._http.send(request, stream=True)
            try:
                chunks: list[bytes] = []
                received = 0
                for data in response.iter_bytes():
                    received += len(data)
                    core.check_body(call, received, deadline)
                    chunks.append(data)
            finally:
                response.close()
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

    def _send(self, call: Call) -> Reply:
        in_flight = self._core.begin()
        try:
            retrying = tenacity.Retrying(**self._core.retry_options(call))
            for attempt in retrying:
                with attempt:
                    status, body = self._send_once(call)
                    retries = attempt.retry_state.attempt_number - 1
                    return Reply(status, body, retries, in_flight)
        finally:
            self._core.end()
        raise AssertionError("unreachable")  # pragma: no cover

    def _run(self, flow: Flow) -> Any:
        """Drive a flow: send each call it yields, throw transport errors into it."""
        try:
            call = next(flow)
            while True:
                try:
                    outcome = self._shared(call) if isinstance(call, Shared) else self._send(call)
                except LMStudioError as error:
                    call = flow.throw(error)
                else:
                    call = flow.send(outcome)
        except StopIteration as stop:
            return stop.value

    def _shared(self, shared: Shared) -> Any:
        """Run ``shared.start()`` once for every thread that asks at the same time."""
        future, leader = self._core.join_flight(shared.key, concurrent.futures.Future())
        if not leader:
            return future.result()
        try:
            value = self._run(shared.start())
        except BaseException as error:
            future.set_exception(error)
            raise
        else:
            future.set_result(value)
            return value
        finally:
            self._core.end_flight(shared.key)

    # -- API ------------------------------------------------------------------

    def list_models(self, *, refresh: bool = False, quick: bool = False) -> list[ModelInfo]:
        """Every model the server offers (downloaded and loaded), cached briefly.

        ``quick``: ask now, as a quick call (``http.quick_timeout_secs`` in all, no retries).
        """
        if quick:
            return self.model_list(quick=True).models
        models: list[ModelInfo] = self._run(self._core.list_models_flow(refresh=refresh))
        return models

    def model_list(self, *, quick: bool = False, first: Dialect | None = None) -> ModelList:
        """Ask the server for its models now: the list, its endpoint and what it can tell.

        ``quick``: as a quick call (``http.quick_timeout_secs`` in all, no retries);
        ``first``: the endpoint (``v1``, ``v0``, ``openai``) to try first.
        """
        listing: ModelList = self._run(self._core.model_list_flow(quick=quick, first=first))
        return listing

    def resolve_model(self, name: str | None = None, *, kind: ModelKind = "chat") -> ModelInfo:
        """The model ``name`` stands for: exact id, unique substring, or the loaded one."""
        info: ModelInfo = self._run(self._core.resolve_flow(name, kind))
        return info

    def chat(
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
        result: ChatResponse = self._run(self._core.chat_flow(prepared))
        return result

    def stream_chat(
        self,
        messages: Sequence[Mapping[str, Any]],
        *,
        model: str | ModelInfo | None = None,
        **options: Unpack[ChatOptions],
    ) -> ChatStream:
        """Send a chat and stream the answer; parameters are checked right away.

        ``model``: as for ``chat``.
        """
        prepared = ClientCore.prepare_chat(messages, model, options)
        # A weak reference: the generator must not keep its ChatStream alive (a cycle would
        # delay closing the connection, when the loop over an unnamed stream ends early,
        # until the garbage collector runs).
        return ChatStream(lambda stream: self._stream_chunks(prepared, weakref.ref(stream)))

    def _open_stream(self, call: Call) -> tuple[httpx2.Response, int, int]:
        """Open the stream, retrying until the status line; returns (response, retries, n)."""
        core = self._core
        in_flight = core.begin()
        try:
            for attempt in tenacity.Retrying(**core.retry_options(call)):
                with attempt:
                    core.log_call(call)
                    started = time.perf_counter()
                    request = self._http.build_request(
                        call.method,
                        call.path,
                        json=call.body,
                        headers=STREAM_HEADERS,
                        timeout=self._core.timeout(call),
                    )
                    deadline = Deadline.after(core.event_timeout(call))
                    set_deadline(deadline)
                    try:
                        response = self._http.send(request, stream=True)
                        core.log_reply(call, response.status_code, started)
                        # LM Studio may answer a stream with a JSON error and status 200.
                        content_type = response.headers.get("content-type", "")
                        if response.status_code != 200 or content_type.startswith(
                            "application/json"
                        ):
                            try:
                                body = response.read()
                            finally:
                                response.close()
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

    def _stream_chunks(
        self, prepared: PreparedChat, stream: weakref.ref[ChatStream]
    ) -> Iterator[ChatChunk]:
        started_at = time.perf_counter()
        core = self._core
        call: Call = self._run(core.chat_call_flow(prepared, stream=True))
        if call.loads_model and (owner := stream()) is not None:
            owner.loading_model = call.model
        response, retries, in_flight = self._open_stream(call)
        state: StreamState = core.stream_state(call, retries, in_flight, started_at)
        # Each complete event restarts the deadline: a stream may be long, not stalled.
        wait = core.event_timeout(call)
        deadline = Deadline.after(wait)
        monotonic = time.monotonic
        events = 0
        encoded = stream_is_encoded(response.headers)  # compressed although not asked
        reads = response.iter_bytes() if encoded else response.iter_raw()
        try:
            while True:
                set_deadline(deadline)
                try:
                    data = next(reads)
                except StopIteration:
                    break
                except httpx2.HTTPError as error:
                    raise core.transport_error(
                        error, call, deadline, partial=state.result()
                    ) from error
                finally:
                    set_deadline(None)
                yield from state.feed(data)
                if state.events != events:
                    events = state.events
                    deadline.at = monotonic() + wait
                elif deadline.passed:  # an injected client reads without one
                    raise core.stalled_stream_error(call, state.result())
            yield from state.close()
            owner = stream()
            if owner is not None:
                owner._set_result(state.result())
        finally:
            response.close()
            core.end()

    def embed(
        self,
        texts: Sequence[str],
        *,
        model: str | None = None,
        batch_size: int = EMBED_BATCH_SIZE,
    ) -> EmbeddingResult:
        """Embed ``texts`` (batched); vectors come back in input order."""
        result: EmbeddingResult = self._run(self._core.embed_flow(texts, model, batch_size))
        return result

    def health(self) -> HealthReport:
        """Whether the server answers, what it is, what is loaded; never raises."""
        try:
            report: HealthReport = self._run(self._core.health_flow())
        except Exception as error:  # documented never to raise
            return self._core.health_failure(error)
        return report

    # -- Model runtime (LM Studio 0.4+) -------------------------------------------

    def load_model(
        self,
        model: str,
        *,
        context_length: int | None = None,
        flash_attention: bool | None = None,
        eval_batch_size: int | None = None,
        num_experts: int | None = None,
        offload_kv_cache_to_gpu: bool | None = None,
    ) -> LoadResult:
        """Load a downloaded model (``POST /api/v1/models/load``) and wait until it is loaded.

        A model loaded this way is pinned: LM Studio's idle TTL and auto-evict never
        unload it (``unload_model`` does). For a load that does expire, use
        ``warm_model(model, ttl=...)``. Waits up to ``http.load_timeout_secs``.

        Args:
            model: a downloaded model's key, or a unique part of one.
            context_length: tokens of context; LM Studio may lower it to fit memory
                (the result's ``context_length`` says what was loaded).
            flash_attention, eval_batch_size, num_experts, offload_kv_cache_to_gpu:
                LM Studio's load options; left out, LM Studio's defaults apply.

        Raises:
            InvalidParameterError: a value of the wrong type or range (nothing sent).
            ModelNotFoundError: no downloaded model of that name (nothing sent).
            ModelManagementUnsupportedError: the server has no ``/api/v1`` (LM Studio
                before 0.4, or another server); nothing sent.
        """
        options = {
            "context_length": context_length,
            "flash_attention": flash_attention,
            "eval_batch_size": eval_batch_size,
            "num_experts": num_experts,
            "offload_kv_cache_to_gpu": offload_kv_cache_to_gpu,
        }
        result: LoadResult = self._run(self._core.load_flow(model, options))
        return result

    def warm_model(self, model: str, *, ttl: int) -> LoadResult:
        """Load ``model`` just in time, to be unloaded after ``ttl`` idle seconds.

        Sends a one-token chat (or a one-text embedding) naming the model with ``ttl``,
        as LM Studio only takes a TTL on just-in-time loads; already loaded, the model
        keeps its current TTL. Works on any LM Studio with JIT loading on (the default).
        """
        result: LoadResult = self._run(self._core.warm_flow(model, ttl))
        return result

    def loaded_models(self) -> list[LoadedInstance]:
        """The loaded model instances: id, model key, context length, load config."""
        instances: list[LoadedInstance] = self._run(self._core.loaded_flow())
        return instances

    def unload_model(self, instance_id: str) -> str:
        """Unload one loaded instance (as ``loaded_models()`` names it); returns its id."""
        unloaded: list[str] = self._run(self._core.unload_flow([instance_id]))
        return unloaded[0]

    def unload_models(self, instance_ids: Sequence[str]) -> list[str]:
        """Unload several loaded instances; returns their ids.

        Every id is checked against the loaded instances before the first is unloaded.

        Raises:
            ModelNotFoundError: naming each id that is not loaded (nothing is unloaded).
        """
        unloaded: list[str] = self._run(self._core.unload_flow(list(instance_ids)))
        return unloaded

    def unload_all(self) -> list[str]:
        """Unload every loaded instance; returns their ids."""
        unloaded: list[str] = self._run(self._core.unload_flow(None))
        return unloaded

    def download_model(
        self, model: str, quantization: str | None = None, *, poll_secs: float | None = None
    ) -> Iterator[DownloadProgress]:
        """Start downloading ``model`` and yield its progress until it is complete.

        ``model`` is a catalog key (``qwen/qwen3-4b-2507``) or a Hugging Face URL;
        ``quantization`` (e.g. ``Q4_K_M``) only goes with a URL. The first progress
        comes from the start itself (``already_downloaded`` ends it at once); then LM
        Studio is asked every ``poll_secs`` (default ``DOWNLOAD_POLL_SECS``, 1 s).
        Stopping the iteration stops the polling only: LM Studio keeps downloading (see
        its Downloads panel). A download that stops moving for ``http.load_timeout_secs``
        raises ``LMStudioTimeoutError``.

        Raises:
            InvalidParameterError: right away, for a bad argument (nothing sent).
            DownloadFailedError: when LM Studio reports the download failed.
            ModelManagementUnsupportedError: the server has no ``/api/v1``.
        """
        body = build_download_body(model, quantization)
        return self._download(body, DOWNLOAD_POLL_SECS if poll_secs is None else poll_secs)

    def _download(self, body: dict[str, Any], poll_secs: float) -> Iterator[DownloadProgress]:
        progress: DownloadProgress = self._run(self._core.download_start_flow(body))
        yield progress
        watch = self._core.download_watch()
        while not progress.done:
            assert progress.job_id is not None
            time.sleep(poll_secs)
            progress = self._run(self._core.download_status_flow(progress.job_id, watch))
            yield progress
