"""The sans-I/O core shared by ``LMStudioClient`` and ``AsyncLMStudioClient``.

Every operation is a *flow*: a generator that yields the ``Call`` it needs sent
and receives the ``Reply``. The sync and async clients only drive flows (and
pump stream bytes into ``StreamState``), so request building, fallbacks, model
resolution, error classification and metrics are written once. A transport
failure is thrown into the flow, which may handle it (a fallback) or let it rise.
"""

from __future__ import annotations

import functools
import json
import logging
import ssl
import threading
import time
import urllib.parse
from collections.abc import Callable, Generator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Literal

import httpx2
import tenacity

from lmstudio_provider import __version__
from lmstudio_provider.transport._config import Settings, resolve_settings
from lmstudio_provider.transport._deadlines import Deadline
from lmstudio_provider.transport._error_mapping import (
    RequestContext,
    body_too_large_error,
    deadline_error,
    error_from_reply,
    error_from_transport,
    is_retryable,
)
from lmstudio_provider.transport._errors import (
    BadRequestError,
    InvalidParameterError,
    LMStudioError,
    ModelNotAllowedError,
    ModelNotFoundError,
    ProtocolError,
)
from lmstudio_provider.transport._log import configure_from_env, logger
from lmstudio_provider.transport._messages import has_image_parts, refuse_images_without_vision
from lmstudio_provider.transport._models import (
    Dialect,
    ModelInfo,
    ModelKind,
    ModelList,
    check_allowed,
    find_instance,
    is_allowed,
    is_loaded_model_alias,
    not_an_embedding_model,
    parse_model_list,
    require_allowed,
    resolve_model_name,
)
from lmstudio_provider.transport._params import ChatOptions, ChatParams, validate_params
from lmstudio_provider.transport._parsing import (
    StreamState,
    check_model,
    parse_chat_response,
    unreadable_answer,
)
from lmstudio_provider.transport._request_body import build_chat_body, build_embeddings_body
from lmstudio_provider.transport._results import ChatResponse, EmbeddingResult, Metrics, Usage
from lmstudio_provider.transport._runtime import (
    DownloadWatch,
    LoadResult,
    build_load_body,
    find_loaded_instances,
    is_unknown_route,
    loaded_instances,
    parse_download_progress,
    parse_load_answer,
    positive_int,
    resolve_model_key,
    unsupported,
)

if TYPE_CHECKING:
    from httpx2._client import UseClientDefault

__all__ = [
    "Call",
    "ClientBase",
    "ClientCore",
    "Flow",
    "HealthReport",
    "PreparedChat",
    "Reply",
    "Shared",
    "StreamResult",
    "stream_is_encoded",
]

MODEL_CACHE_SECS = 30.0
EMBED_BATCH_SIZE = 64
QUICK_MAX_BODY_BYTES = 4 * 1024 * 1024  # a model list is a few kB; more is not one
# Streams are read raw (no decompression layer, for speed): ask for them uncompressed.
STREAM_HEADERS = {"Accept-Encoding": "identity", "Accept": "text/event-stream"}
MODEL_ENDPOINTS: tuple[tuple[str, Literal["v1", "v0", "openai"]], ...] = (
    ("/api/v1/models", "v1"),
    ("/api/v0/models", "v0"),
    ("/v1/models", "openai"),
)


@dataclass(frozen=True, slots=True)
class Call:
    """One HTTP request a flow needs sent.

    ``quick``: a quick call (a quick model listing, health): every wait, connecting
    included, is bounded by ``http.quick_timeout_secs``, nothing is retried and the
    answer may not exceed ``QUICK_MAX_BODY_BYTES``. ``deadline``: one that the calls
    of a flow share (the quick listing's endpoint fallbacks, health's two requests).
    """

    method: str
    path: str
    body: dict[str, Any] | None = None
    retry: bool = True
    model: str | None = None
    # The request may load its model first: the load timeout replaces the read timeout.
    loads_model: bool = False
    answering: tuple[str, ...] = ()  # other ids that may answer for ``model`` (instances)
    loaded: tuple[str, ...] | None = None  # what was loaded, for a mismatch message
    quick: bool = False
    deadline: Deadline | None = None


@dataclass(frozen=True, slots=True)
class Shared:
    """A flow's request for a result that concurrent callers share: the first to ask
    runs ``start()`` (a flow), the others wait for its outcome instead of sending the
    same requests (the drivers provide the waiting: a thread future or an asyncio one)."""

    key: str
    start: Callable[[], Flow]


@dataclass(slots=True)
class Reply:
    """The server's answer to a ``Call`` (any status)."""

    status: int
    body: bytes
    retries: int = 0
    in_flight_at_start: int = 0

    def json(self) -> Any:
        try:
            return json.loads(self.body)
        except ValueError:
            return None


@dataclass(frozen=True, slots=True)
class PreparedChat:
    """A validated chat request, waiting for its model to be resolved (unless it is)."""

    model: str | ModelInfo | None
    messages: Sequence[Mapping[str, Any]]
    params: ChatParams
    tools: Sequence[Mapping[str, Any]] | None
    tool_choice: str | Mapping[str, Any] | None
    response_format: Mapping[str, Any] | None
    extra_body: Mapping[str, Any] | None


@dataclass(slots=True)
class HealthReport:
    """What ``health()`` found out about the server."""

    status: Literal["ok", "unreachable", "error"]
    server_kind: Literal["lmstudio", "openai-compatible", "unknown"]
    base_url: str
    latency_ms: float | None
    loaded_models: list[str] = field(default_factory=list)
    model_count: int = 0
    http: dict[str, Any] = field(default_factory=dict)
    error: str | None = None
    hint: str | None = None

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    def summary(self) -> str:
        """The report as aligned ``Label:  value`` lines, as ``llm lmstudio health`` prints it."""
        http = self.http
        latency = "-" if self.latency_ms is None else f"{self.latency_ms:g} ms"
        loaded = ", ".join(self.loaded_models) or "none"
        lines = [
            f"Status:   {self.status}",
            f"Server:   {self.base_url} ({self.server_kind})",
            f"Latency:  {latency}",
            f"Models:   {self.model_count} listed; loaded: {loaded}",
            f"HTTP:     timeout {http.get('timeout_secs')} s, "
            f"connect timeout {http.get('connect_timeout_secs')} s, "
            f"keep-alive {http.get('keep_alive_secs')} s, "
            f"max idle connections {http.get('max_idle_connections')}",
        ]
        lines += [f"Error:    {self.error}"] if self.error else []
        lines += [f"Hint:     {self.hint}"] if self.hint else []
        return "\n".join(lines)

    def as_dict(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "server_kind": self.server_kind,
            "base_url": self.base_url,
            "latency_ms": self.latency_ms,
            "loaded_models": self.loaded_models,
            "model_count": self.model_count,
            "http": self.http,
            "error": self.error,
            "hint": self.hint,
        }


Flow = Generator["Call | Shared", Any, Any]


def endpoint_unknown(status: int, body: Any) -> bool:
    """Whether a model-list endpoint is unknown to the server, so that the next is tried.

    404 or 405, or LM Studio's 200 with an error ("Unexpected endpoint or method"). Any
    other failure (a refused key, a server error, garbage) would meet the next endpoint too.
    """
    return status in (404, 405) or (status == 200 and isinstance(body, dict) and "error" in body)


@functools.cache
def shared_ssl_context() -> ssl.SSLContext:
    """One TLS context for every client in the process (httpx2's default, certificates
    verified): building one reads the CA bundle, about 15 ms, and front ends create
    clients often (the llm plugin one per async prompt)."""
    return httpx2.create_ssl_context()


class ClientCore:
    """State and logic shared by both clients: settings, model cache, flows."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._models: tuple[float, list[ModelInfo]] | None = None
        self._dialect: Dialect | None = None  # how the server last listed its models
        self._in_flight = 0
        self._lock = threading.Lock()
        self._flights: dict[str, Any] = {}

    # -- HTTP configuration -------------------------------------------------

    def http_client_options(self) -> dict[str, Any]:
        """Keyword arguments for ``httpx2.Client``/``AsyncClient`` (with the transport's)."""
        http = self.settings.http
        headers = {"User-Agent": f"lmstudio-provider/{__version__}"}
        if self.settings.api_key is not None:
            headers["Authorization"] = f"Bearer {self.settings.api_key.get_secret_value()}"
        return {
            "base_url": self.settings.base_url,
            # A request waiting for a free connection waits for other answers to finish:
            # as long as the wait for an answer's next bytes, not a connect's.
            "timeout": httpx2.Timeout(
                http.timeout_secs, connect=http.connect_timeout_secs, pool=http.timeout_secs
            ),
            "headers": headers,
        }

    def http_transport_options(self) -> dict[str, Any]:
        """Keyword arguments for ``httpx2.HTTPTransport``/``AsyncHTTPTransport``."""
        http = self.settings.http
        return {
            "limits": httpx2.Limits(
                max_connections=http.max_connections,
                max_keepalive_connections=min(http.max_idle_connections, http.max_connections),
                keepalive_expiry=http.keep_alive_secs,
            ),
            "verify": shared_ssl_context(),
        }

    # -- Deadlines ------------------------------------------------------------
    # The read timeout bounds the whole of a non-streamed answer (status line, headers
    # and body) and each complete event of a stream, however the server trickles; a
    # quick call is bounded by the quick timeout, connecting included. The drivers
    # enforce these instants around their reads (``_deadlines``) and between them.

    def _timeouts(self, call: Call) -> tuple[float, float, float]:
        """(read, connect, deadline) seconds for ``call``."""
        http = self.settings.http
        if call.quick:
            quick = http.quick_timeout_secs
            return min(http.timeout_secs, quick), min(http.connect_timeout_secs, quick), quick
        read = http.load_timeout_secs if call.loads_model else http.timeout_secs
        return read, http.connect_timeout_secs, read

    def timeout(self, call: Call) -> httpx2.Timeout | UseClientDefault:
        """The client's timeouts; for a quick call, the quick timeout bounds each wait; when
        ``call`` loads a model (LM Studio sends nothing until the load is done), the load
        timeout bounds reads."""
        if not (call.quick or call.loads_model):
            return httpx2.USE_CLIENT_DEFAULT
        read, connect, _ = self._timeouts(call)
        write = min(self.settings.http.timeout_secs, read)
        pool = connect if call.quick else self.settings.http.timeout_secs  # as the client's
        return httpx2.Timeout(write, read=read, connect=connect, pool=pool)

    def reply_deadline(self, call: Call) -> Deadline:
        """When the whole answer to ``call`` must have arrived."""
        if call.deadline is not None:
            return call.deadline
        return Deadline.after(self._timeouts(call)[2])

    def event_timeout(self, call: Call) -> float:
        """Seconds a stream may take for its head, then for each complete event (a stream
        that loads its model first may take the load timeout)."""
        return self._timeouts(call)[2]

    def check_body(self, call: Call, received: int, deadline: Deadline) -> None:
        """Between two reads of an answer: stop it past its deadline or its size cap.

        Raises:
            LMStudioTimeoutError, ProtocolError: the deadline's, or the cap's error.
        """
        if call.quick and received > QUICK_MAX_BODY_BYTES:
            raise body_too_large_error(self.context(call), QUICK_MAX_BODY_BYTES)
        if deadline.passed:
            raise deadline_error(self.context(call))

    def stalled_stream_error(self, call: Call, partial: ChatResponse) -> LMStudioError:
        """A stream whose next event did not complete in time."""
        return deadline_error(self.context(call), stream=True, partial=partial)

    def transport_error(
        self,
        error: httpx2.HTTPError,
        call: Call,
        deadline: Deadline,
        partial: ChatResponse | None = None,
    ) -> LMStudioError:
        """The typed error for a failed connection or read of ``call``.

        A timeout at the deadline after some bytes came is the deadline's (the server
        trickled); with nothing received, it is a plain "sent nothing" read timeout.
        """
        passed = deadline.passed and (deadline.received > 0 or partial is not None)
        return error_from_transport(
            error, self.context(call), partial=partial, deadline_passed=passed
        )

    def context(self, call: Call) -> RequestContext:
        read, connect, deadline = self._timeouts(call)
        return RequestContext(
            base_url=self.settings.base_url,
            method=call.method,
            path=call.path,
            model=call.model,
            timeouts=(read, connect),
            max_connections=self.settings.http.max_connections,
            answering_ids=call.answering,
            loaded_ids=call.loaded,
            loads_model=call.loads_model,
            deadline_secs=deadline,
            quick=call.quick,
            sent_images=call.body is not None and has_image_parts(call.body.get("messages") or ()),
        )

    def retry_options(self, call: Call) -> dict[str, Any]:
        """tenacity options: exponential backoff with jitter, retryable errors only."""
        attempts = self.settings.max_retries + 1 if call.retry and not call.quick else 1
        return {
            "stop": tenacity.stop_after_attempt(attempts),
            "wait": tenacity.wait_exponential_jitter(multiplier=0.25, max=8.0, jitter=0.25),
            "retry": tenacity.retry_if_exception(is_retryable),
            "before_sleep": self._log_retry,
            "reraise": True,
        }

    @staticmethod
    def _log_retry(state: tenacity.RetryCallState) -> None:
        error = state.outcome.exception() if state.outcome else None
        wait = state.next_action.sleep if state.next_action else 0.0
        logger.debug("retry %d in %.2f s after: %s", state.attempt_number, wait, error)

    def begin(self) -> int:
        """Count a request in flight; returns the count before it started."""
        with self._lock:
            before = self._in_flight
            self._in_flight += 1
        return before

    def end(self) -> None:
        with self._lock:
            self._in_flight -= 1

    @property
    def in_flight(self) -> int:
        return self._in_flight

    def join_flight(self, key: str, new: Any) -> tuple[Any, bool]:
        """The future of the ``key`` run under way, or ``new`` (registered) and True: the
        caller then leads the run and must call ``end_flight`` once it is settled."""
        with self._lock:
            current = self._flights.get(key)
            if current is not None:
                return current, False
            self._flights[key] = new
            return new, True

    def end_flight(self, key: str) -> None:
        with self._lock:
            self._flights.pop(key, None)

    def log_call(self, call: Call) -> None:
        if logger.isEnabledFor(logging.DEBUG):
            summary = ""
            if call.body is not None:
                keys = sorted(k for k in call.body if k not in ("messages", "input", "tools"))
                summary = f" model={call.model!r} fields={keys}"
                if "messages" in call.body:
                    summary += f" messages={len(call.body['messages'])}"
            logger.debug("-> %s %s%s", call.method, call.path, summary)

    @staticmethod
    def log_reply(call: Call, status: int, started: float) -> None:
        if logger.isEnabledFor(logging.DEBUG):
            elapsed = (time.perf_counter() - started) * 1000
            logger.debug("<- %s %s: %d in %.1f ms", call.method, call.path, status, elapsed)

    # -- Models ---------------------------------------------------------------

    def cached_models(self) -> list[ModelInfo] | None:
        if self._models is None:
            return None
        fetched_at, models = self._models
        if time.monotonic() - fetched_at > MODEL_CACHE_SECS:
            return None
        return models

    def remember_models(self, models: Sequence[ModelInfo]) -> None:
        """Cache a model list fetched elsewhere as if this client had just fetched it."""
        self._models = (time.monotonic(), list(models))

    def list_models_flow(self, *, refresh: bool = False) -> Flow:
        """Models from ``/api/v1/models``, else ``/api/v0/models``, else ``/v1/models``.

        Without ``refresh``, callers that find the cache empty at the same time share one
        listing (200 cold requests at once cost one, not 200)."""
        if refresh:
            fresh: ModelList = yield from self.model_list_flow()
            return fresh.models
        if (cached := self.cached_models()) is not None:
            return cached
        listing: ModelList = yield Shared("models", self.model_list_flow)
        return listing.models

    def model_list_flow(
        self, *, quick: bool = False, first: Dialect | None = None, deadline: Deadline | None = None
    ) -> Flow:
        """The server's model list, from the first of its endpoints that it knows.

        ``quick``: a quick call, the endpoints all within one quick deadline (see ``Call``),
        or within ``deadline``. ``first``: the endpoint to try first (the one that answered
        last time).
        """
        if quick and deadline is None:
            deadline = Deadline.after(self.settings.http.quick_timeout_secs)
        endpoints = sorted(MODEL_ENDPOINTS, key=lambda endpoint: endpoint[1] != first)
        last_error: LMStudioError | None = None
        for path, dialect in endpoints:
            call = Call("GET", path, quick=quick, deadline=deadline)
            reply = yield call
            body = reply.json()
            if reply.status == 200 and isinstance(body, dict) and "error" not in body:
                listing = parse_model_list(dialect, body)
                self._models = (time.monotonic(), listing.models)
                self._dialect = dialect
                return listing
            last_error = error_from_reply(reply.status, reply.body, self.context(call))
            if not endpoint_unknown(reply.status, body):
                raise last_error  # auth, a failure, garbage: another endpoint would not help
        if isinstance(last_error, BadRequestError):
            raise last_error  # LM Studio's "Unexpected endpoint": a wrong base URL
        paths = ", ".join(path for path, _ in MODEL_ENDPOINTS)
        raise ProtocolError(
            f"The server at {self.settings.base_url} lists no models at {paths}: "
            f"{last_error.message if last_error else 'no answer'}",
            hint="Is it LM Studio? Set LMSTUDIO_BASE_URL to the server's root, "
            "e.g. http://localhost:1234.",
        )

    def resolve_flow(self, name: str | None, kind: ModelKind = "chat") -> Flow:
        """Resolve a model name against the server's list (cached briefly)."""
        allowed = self.settings.allowed_models
        if name is None or is_loaded_model_alias(name):
            name = self.settings.default_model
        refused: ModelNotAllowedError | None = None
        if name is not None and allowed:
            try:
                name = check_allowed(name, allowed)  # enforced before any chat is sent
            except ModelNotAllowedError as error:
                refused = error  # unless the list shows an instance of an allowed model
        models: list[ModelInfo] = yield from self.list_models_flow()
        if refused is not None:
            assert name is not None
            assert allowed
            owner = find_instance(name, models)
            if owner is None or not is_allowed(owner.id, allowed):
                raise refused
        try:
            return resolve_model_name(name, models, kind=kind, allowed=allowed)
        except ModelNotFoundError:
            if self._models is not None and time.monotonic() - self._models[0] < 0.5:
                raise
        # The cached list may predate a download or a load: look once more.
        models = yield from self.list_models_flow(refresh=True)
        return resolve_model_name(name, models, kind=kind, allowed=allowed)

    # -- Chat -----------------------------------------------------------------

    @staticmethod
    def prepare_chat(
        messages: Sequence[Mapping[str, Any]], model: str | ModelInfo | None, options: ChatOptions
    ) -> PreparedChat:
        """Validate everything that can be checked without the server."""
        request_fields = ("tools", "tool_choice", "response_format", "extra_body")
        sampling = {k: v for k, v in options.items() if k not in request_fields and v is not None}
        prepared = PreparedChat(
            model,
            messages,
            validate_params(sampling),
            options.get("tools"),
            options.get("tool_choice"),
            options.get("response_format"),
            options.get("extra_body"),
        )
        # Build once with a placeholder model so bad input fails before any I/O.
        ClientCore._body(prepared, "-", {}, stream=False)
        return prepared

    @staticmethod
    def _body(
        prepared: PreparedChat, model: str, defaults: Mapping[str, Any], *, stream: bool
    ) -> dict[str, Any]:
        return build_chat_body(
            model,
            prepared.messages,
            prepared.params,
            defaults=defaults,
            tools=prepared.tools,
            tool_choice=prepared.tool_choice,
            response_format=prepared.response_format,
            extra_body=prepared.extra_body,
            stream=stream,
        )

    def chat_call_flow(self, prepared: PreparedChat, *, stream: bool) -> Flow:
        """Resolve the model (unless it came resolved), then return the ``Call`` that sends
        the chat."""
        info: ModelInfo
        if isinstance(prepared.model, ModelInfo):
            info = prepared.model  # resolved already (``resolve_model``): not looked up again
            if self.settings.allowed_models:
                require_allowed(info.id, self.settings.allowed_models, key=info.key)
        else:
            info = yield from self.resolve_flow(prepared.model)
        refuse_images_without_vision(info, prepared.messages)
        body = self._body(prepared, info.id, self.settings.defaults, stream=stream)
        return self.model_call("/v1/chat/completions", body, info)

    def model_call(self, path: str, body: dict[str, Any], info: ModelInfo) -> Call:
        """A call to ``info``'s model: any of its instances may answer; a model that is
        not loaded is loaded just in time, under the load timeout."""
        return Call(
            "POST",
            path,
            body,
            model=info.id,
            loads_model=info.state == "not-loaded",
            answering=info.answering_ids,
            loaded=self.loaded_ids(),
        )

    def loaded_ids(self) -> tuple[str, ...] | None:
        """The loaded instances in the cached list; None when the server cannot say."""
        models = self._models[1] if self._models is not None else None
        if models is None or self._dialect not in ("v1", "v0"):
            return None
        return tuple(instance.id for instance in loaded_instances(models))

    def chat_flow(self, prepared: PreparedChat) -> Flow:
        call: Call = yield from self.chat_call_flow(prepared, stream=False)
        started = time.perf_counter()
        reply = yield call
        metrics = Metrics(
            wall_duration_secs=time.perf_counter() - started,
            retries=reply.retries,
            in_flight_at_start=reply.in_flight_at_start,
        )
        context = self.context(call)
        if reply.status != 200:
            raise error_from_reply(reply.status, reply.body, context)
        body = reply.json()
        if body is None:
            raise unreadable_answer(reply.body, call.model, context, metrics)
        return parse_chat_response(body, call.model, context, metrics)

    def stream_state(
        self, call: Call, reply_retries: int, in_flight: int, started_at: float
    ) -> StreamState:
        """The state of a stream whose request was started at ``started_at`` (perf_counter)."""
        metrics = Metrics(retries=reply_retries, in_flight_at_start=in_flight)
        return StreamState(
            call.model,
            self.context(call),
            metrics,
            started_at,
            max_event_bytes=self.settings.http.max_event_bytes,
        )

    # -- Embeddings -----------------------------------------------------------

    def embed_flow(
        self, texts: Sequence[str], model: str | None, batch_size: int = EMBED_BATCH_SIZE
    ) -> Flow:
        """Embed ``texts`` in batches; vectors come back in input order."""
        if isinstance(texts, str):
            # The caller's mistake, not the server's: nothing is sent.
            raise InvalidParameterError(
                "embed() takes a list of texts, got a single string.",
                hint="Wrap it in a list: embed([text]).",
            )
        info: ModelInfo = yield from self.resolve_flow(model, kind="embeddings")
        started = time.perf_counter()
        vectors: list[list[float]] = []
        usage = Usage()
        retries = 0
        in_flight: int | None = None  # at the start of the first batch
        size = max(1, batch_size)  # batch_size <= 0 sent empty batches and lost every text
        for offset in range(0, len(texts), size):
            batch = list(texts[offset : offset + size])
            call = self.model_call("/v1/embeddings", build_embeddings_body(info.id, batch), info)
            reply = yield call
            retries += reply.retries
            if in_flight is None:
                in_flight = reply.in_flight_at_start
            context = self.context(call)
            body = reply.json()
            if reply.status != 200 or not isinstance(body, dict) or "error" in body:
                error = error_from_reply(reply.status, reply.body, context)
                listed = self._models[1] if self._models is not None else []
                raise not_an_embedding_model(info, listed, error.server_message) or error
            check_model(info.id, body.get("model"), context)
            data = body.get("data")
            if not isinstance(data, list) or len(data) != len(batch):
                raise ProtocolError(
                    f"LM Studio returned {len(data) if isinstance(data, list) else 'no'} "
                    f"embeddings for {len(batch)} texts on {context.target}.",
                    hint="Check LM Studio's server log; the model may have failed.",
                )
            if not all(
                isinstance(item, dict) and isinstance(item.get("embedding"), list) for item in data
            ):
                raise ProtocolError(
                    f"LM Studio's embeddings from {context.target} are not lists of numbers: "
                    f"{str(data)[:300]!r}",
                    hint="Check that the model is an embedding model and see LM Studio's log.",
                )
            ordered = sorted(data, key=lambda item: item.get("index", 0))
            vectors.extend(item["embedding"] for item in ordered)
            if isinstance(body.get("usage"), dict):
                batch_usage = Usage.from_wire(body["usage"])
                usage.prompt_tokens += batch_usage.prompt_tokens
                usage.total_tokens += batch_usage.total_tokens
        metrics = Metrics(
            wall_duration_secs=time.perf_counter() - started,
            retries=retries,
            in_flight_at_start=in_flight or 0,
        )
        return EmbeddingResult(vectors=vectors, model=info.id, usage=usage, metrics=metrics)

    # -- Model runtime (LM Studio 0.4+: /api/v1/models/...) ----------------------

    def _runtime_models_flow(self, what: str, model: str | None) -> Flow:
        """The fresh model list; a server without ``/api/v1`` is refused before anything
        it could misread is sent."""
        models: list[ModelInfo] = yield from self.list_models_flow(refresh=True)
        if self._dialect != "v1":
            raise unsupported(what, model, self._dialect, self.settings.base_url)
        return models

    def _runtime_answer(self, call: Call, reply: Reply, what: str) -> dict[str, Any]:
        body = reply.json()
        if is_unknown_route(reply.status, body):
            raise unsupported(what, call.model, None, self.settings.base_url)
        if reply.status != 200 or not isinstance(body, dict) or "error" in body:
            raise error_from_reply(reply.status, reply.body, self.context(call))
        return body

    def load_flow(self, model: str, options: Mapping[str, Any]) -> Flow:
        """Load ``model`` (a downloaded key, or a unique part of one) with ``options``."""
        build_load_body(model, **options)  # bad values fail before any I/O
        models: list[ModelInfo] = yield from self._runtime_models_flow("load", model)
        info = resolve_model_key(model, models)
        body = build_load_body(info.id, **options)
        path = "/api/v1/models/load"
        call = Call("POST", path, body, retry=False, model=info.id, loads_model=True)
        answer = self._runtime_answer(call, (yield call), "load")
        instance_id, load_secs = parse_load_answer(answer, self.context(call).target)
        # LM Studio may have lowered the context length asked for: read back what it loaded.
        models = yield from self.list_models_flow(refresh=True)
        instance = next((i for i in loaded_instances(models) if i.id == instance_id), None)
        config = answer.get("load_config")
        return LoadResult(
            instance_id=instance_id,
            model=info.id,
            load_time_secs=load_secs,
            context_length=instance.context_length if instance else None,
            requested_context_length=options.get("context_length"),
            config=instance.config if instance else config if isinstance(config, dict) else {},
        )

    def warm_flow(self, model: str, ttl: int) -> Flow:
        """Load ``model`` just in time with an idle ``ttl`` (a one-token request)."""
        seconds = positive_int("ttl", ttl)
        models: list[ModelInfo] = yield from self.list_models_flow(refresh=True)
        info = resolve_model_key(model, models)
        if info.is_embedding:
            body: dict[str, Any] = {"model": info.id, "input": ["."], "ttl": seconds}
            path = "/v1/embeddings"
        else:
            messages = [{"role": "user", "content": "."}]
            body = {"model": info.id, "messages": messages, "max_tokens": 1, "ttl": seconds}
            path = "/v1/chat/completions"
        call = replace(self.model_call(path, body, info), retry=False, loads_model=True)
        started = time.perf_counter()
        reply = yield call
        if reply.status != 200 or not isinstance(reply.json(), dict) or "error" in reply.json():
            raise error_from_reply(reply.status, reply.body, self.context(call))
        elapsed = time.perf_counter() - started
        models = yield from self.list_models_flow(refresh=True)
        loaded = next((m for m in models if m.id == info.id), info)
        instance = loaded.instances[0] if loaded.instances else None
        return LoadResult(
            instance_id=instance.id if instance else info.id,
            model=info.id,
            load_time_secs=elapsed,
            context_length=instance.context_length if instance else loaded.loaded_context_length,
            config=instance.config if instance else {},
        )

    def loaded_flow(self) -> Flow:
        """Every loaded instance (an ``/api/v0`` server: one per loaded model)."""
        models: list[ModelInfo] = yield from self.list_models_flow(refresh=True)
        if self._dialect == "openai":
            raise unsupported("list loaded models", None, "openai", self.settings.base_url)
        return loaded_instances(models)

    def unload_flow(self, instance_ids: Sequence[str] | None) -> Flow:
        """Unload the named instances (None: every loaded one); returns their ids."""
        what = "unload"
        models: list[ModelInfo] = yield from self._runtime_models_flow(
            what, ", ".join(instance_ids) if instance_ids else None
        )
        if instance_ids is None:
            instances = loaded_instances(models)
        else:  # every id is checked before the first is unloaded
            instances = find_loaded_instances(instance_ids, models)
        unloaded: list[str] = []
        for instance in instances:
            call = Call(
                "POST",
                "/api/v1/models/unload",
                {"instance_id": instance.id},
                retry=False,
                model=instance.id,
            )
            self._runtime_answer(call, (yield call), what)
            unloaded.append(instance.id)
        self._models = None  # the list has changed
        return unloaded

    def download_start_flow(self, body: dict[str, Any]) -> Flow:
        """Start a download (``body`` from ``build_download_body``); its first progress."""
        yield from self._runtime_models_flow("download", body["model"])
        call = Call("POST", "/api/v1/models/download", body, retry=False, model=body["model"])
        answer = self._runtime_answer(call, (yield call), "download")
        progress = parse_download_progress(answer, self.context(call).target)
        if not progress.done and not progress.job_id:
            raise ProtocolError(
                f"LM Studio started a download without a job id ({self.context(call).target}): "
                f"{str(answer)[:300]!r}",
                hint="Follow it in LM Studio's Downloads panel.",
            )
        if progress.done:
            self._models = None
        return progress

    def download_status_flow(self, job_id: str, watch: DownloadWatch) -> Flow:
        """The download's progress now; raises once it failed or stopped moving."""
        path = f"/api/v1/models/download/status/{urllib.parse.quote(job_id, safe='')}"
        call = Call("GET", path)
        answer = self._runtime_answer(call, (yield call), "download")
        progress = parse_download_progress(answer, self.context(call).target, job_id=job_id)
        if progress.done:
            self._models = None  # a new model to list
        else:
            watch.observe(progress, self.context(call).target)
        return progress

    def download_watch(self) -> DownloadWatch:
        return DownloadWatch(self.settings.http.load_timeout_secs)

    # -- Health ---------------------------------------------------------------

    def health_failure(self, error: Exception) -> HealthReport:
        """The report for a failure no flow foresaw: ``health()`` never raises."""
        return HealthReport(
            status="error",
            server_kind="unknown",
            base_url=self.settings.base_url,
            latency_ms=None,
            http=self.settings.masked()["http"],
            error=f"The health check failed unexpectedly: {type(error).__name__}: {error}",
            hint="Run `llm lmstudio config` to check the settings; if they are right, "
            "please report this.",
        )

    def health_flow(self) -> Flow:
        """Status, server kind, loaded models and latency; never raises."""
        started = time.perf_counter()
        base = {"base_url": self.settings.base_url, "http": self.settings.masked()["http"]}
        kind: Literal["lmstudio", "openai-compatible", "unknown"] = "unknown"
        deadline = Deadline.after(self.settings.http.quick_timeout_secs)
        try:
            greeting = yield Call("GET", "/lmstudio-greeting", quick=True, deadline=deadline)
            latency = (time.perf_counter() - started) * 1000
            body = greeting.json()
            is_lmstudio = isinstance(body, dict) and body.get("lmstudio") is True
            kind = "lmstudio" if is_lmstudio else "openai-compatible"
            listing: ModelList = yield from self.model_list_flow(quick=True, deadline=deadline)
            models = listing.served_models
        except LMStudioError as error:
            # Only a server that could not be reached is "unreachable"; one that answered
            # badly (garbage, 500, a timeout mid-answer) is an "error".
            status: Literal["unreachable", "error"] = (
                "unreachable" if error.server_down else "error"
            )
            return HealthReport(
                status=status,
                server_kind=kind,
                latency_ms=None,
                error=error.message,
                hint=error.hint,
                **base,
            )
        loaded = [m.id for m in models if m.is_loaded]
        return HealthReport(
            status="ok",
            server_kind=kind,
            latency_ms=round(latency, 2),
            loaded_models=loaded,
            model_count=len(models),
            **base,
        )


def stream_is_encoded(headers: Mapping[str, str]) -> bool:
    """Whether a stream's body is compressed although identity was asked for (it must then
    be read through httpx2's decoder, not raw)."""
    return headers.get("content-encoding", "identity").strip().lower() not in ("", "identity")


class ClientBase:
    """What ``LMStudioClient`` and ``AsyncLMStudioClient`` share besides their I/O."""

    def __init__(self, settings: Settings | None, overrides: dict[str, Any]) -> None:
        configure_from_env()
        self._core = ClientCore(resolve_settings(settings, **overrides))

    @property
    def settings(self) -> Settings:
        """The effective settings (secrets masked in their repr)."""
        return self._core.settings

    @property
    def in_flight(self) -> int:
        """Requests under way on this client right now."""
        return self._core.in_flight

    def remember_models(self, models: Sequence[ModelInfo]) -> None:
        """Take ``models`` as the server's list (cached as usual): a front end that has
        just listed them spares the transport a second request."""
        self._core.remember_models(models)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(base_url={self.settings.base_url!r})"


class StreamResult:
    """The final ``ChatResponse`` of a stream, available once it has been read to its end."""

    _result: ChatResponse | None = None
    #: The model this stream's request loads just in time (it was not loaded when the
    #: request was sent; LM Studio sends nothing until it is), else None. Set before the
    #: request goes out: a front end can show "Loading ..." until the first chunk.
    loading_model: str | None = None

    @property
    def result(self) -> ChatResponse:
        """The whole answer, once the stream has been read to its end."""
        if self._result is None:
            raise RuntimeError("The stream has not been read to its end yet.")
        return self._result

    def _set_result(self, result: ChatResponse) -> None:
        self._result = result
