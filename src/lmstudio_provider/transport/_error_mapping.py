"""Turn what LM Studio answers, or how the connection failed, into typed errors.

LM Studio's ``error`` is sometimes a string, sometimes an object
``{"message", "type", "param", "code"}``, and sometimes arrives with status 200.
Every function here is pure.
"""

from __future__ import annotations

import errno
import json
from dataclasses import dataclass
from typing import Any

import httpx2

from lmstudio_provider.transport._errors import (
    START_SERVER_HINT,
    AuthenticationError,
    BadRequestError,
    ContextLengthExceededError,
    LMStudioError,
    LMStudioTimeoutError,
    ModelLoadingError,
    ModelNotFoundError,
    NoModelLoadedError,
    ProtocolError,
    ServerError,
    ServerUnreachableError,
    StreamInterruptedError,
    TooManyOpenFilesError,
)
from lmstudio_provider.transport._results import ChatResponse

__all__ = [
    "RETRYABLE_STATUSES",
    "RequestContext",
    "body_too_large_error",
    "deadline_error",
    "error_before_body",
    "error_from_body",
    "error_from_reply",
    "error_from_transport",
    "extract_error",
    "is_retryable",
]

RETRYABLE_STATUSES = frozenset({502, 503, 504})
AUTH_HINT = (
    "Pass the server's API token: set LMSTUDIO_API_KEY (or LM_API_TOKEN), "
    "`inference.api_key` in the config file, or api_key=...; "
    "create one under LM Studio's Developer tab > Server Settings."
)
MEMORY_HINT = (
    "The model may not fit in memory: unload other models (`lms unload --all`), "
    "load it with a smaller context length, or pick a smaller quantization."
)


@dataclass(frozen=True, slots=True)
class RequestContext:
    """What was asked, for error messages."""

    base_url: str
    method: str
    path: str
    model: str | None = None
    timeouts: tuple[float, float] = (60.0, 10.0)  # read, connect
    answering_ids: tuple[str, ...] = ()  # other ids that may answer for ``model``
    loaded_ids: tuple[str, ...] | None = None  # what was loaded when it was resolved
    loads_model: bool = False  # the read timeout is the load timeout
    deadline_secs: float = 60.0  # for the whole answer, or each event of a stream
    quick: bool = False  # a quick call: the quick deadline, named in hints
    max_connections: int = 8
    sent_images: bool = False  # the request carried image parts

    @property
    def target(self) -> str:
        suffix = f" (model {self.model!r})" if self.model else ""
        return f"{self.method} {self.base_url}{self.path}{suffix}"

    @property
    def deadline_setting(self) -> str:
        """The setting (and its variable) that bounds this request's answer."""
        if self.quick:
            return "http.quick_timeout_secs (LMSTUDIO_HTTP_QUICK_TIMEOUT_SECS)"
        return "http.timeout_secs (LMSTUDIO_HTTP_TIMEOUT_SECS)"


IMAGES_HINT = (
    "Use a vision model (LM Studio lists which models have vision), or send no image; "
    "the server's log says more."
)


def extract_error(body: Any) -> tuple[str, str | None] | None:
    """LM Studio's error message and code from a decoded body, if it carries one."""
    if not isinstance(body, dict) or "error" not in body:
        return None
    error = body["error"]
    if isinstance(error, str):
        return error, None
    if isinstance(error, dict):
        message = error.get("message") or error.get("error") or json.dumps(error)
        code = error.get("code")
        return str(message), None if code is None else str(code)
    return str(error), None


def _decode(body: bytes) -> Any:
    try:
        return json.loads(body)
    except ValueError:
        return None


def error_from_body(
    message: str,
    code: str | None,
    status: int,
    context: RequestContext,
    *,
    partial: ChatResponse | None = None,
) -> LMStudioError:
    """Classify LM Studio's error message (with its status and code) into a typed error."""
    lowered = message.lower()
    asked = context.target
    if status in (401, 403) or code == "invalid_api_key" or "api token" in lowered:
        return AuthenticationError(
            f"LM Studio refused the request {asked}: {message}",
            hint=AUTH_HINT,
            server_message=message,
        )
    wrong_base = wrong_base_url_error(status, message, context)
    if wrong_base is not None:
        return wrong_base
    if "unexpected endpoint or method" in lowered:
        return BadRequestError(
            f"LM Studio does not know the endpoint {asked}: {message}",
            hint=f"The base URL is probably wrong: it is {context.base_url}; use the server's "
            "root, e.g. http://localhost:1234 (LMSTUDIO_BASE_URL), or update LM Studio.",
            server_message=message,
        )
    if "no models loaded" in lowered:
        return NoModelLoadedError(
            f"LM Studio has no model loaded ({asked}): {message}",
            hint="Load one with `lms load <model>` or in the Developer tab, "
            "or turn on just-in-time loading in the server settings.",
            server_message=message,
        )
    if "failed to load model" in lowered or "model is not embedding" in lowered:
        hint = MEMORY_HINT
        if "not embedding" in lowered:
            hint = "Use an embedding model (ids usually start with `text-embedding-`)."
        return BadRequestError(
            f"LM Studio could not load the model for {asked}: {message}",
            hint=hint,
            server_message=message,
        )
    if code == "model_not_found" or status == 404:
        return ModelNotFoundError(
            f"LM Studio has no such model ({asked}): {message}",
            hint="List models with `lms ls` or `llm lmstudio models`; "
            "download with `lms get <model>`.",
            server_message=message,
        )
    if "context" in lowered and any(
        word in lowered for word in ("length", "overflow", "window", "exceed", "n_ctx")
    ):
        return ContextLengthExceededError(
            f"The prompt does not fit the model's context ({asked}): {message}",
            hint="Shorten the conversation, or reload the model with a larger context "
            "(`lms load <model> --context-length 16384`).",
            server_message=message,
            partial=partial,
        )
    if "crashed" in lowered:
        return ServerError(
            f"The model crashed while answering {asked}: {message}",
            hint="Reload it (`lms unload --all` then `lms load <model>`). " + MEMORY_HINT,
            server_message=message,
            partial=partial,
        )
    if status == 503 or "loading model" in lowered or "model is loading" in lowered:
        return ModelLoadingError(
            f"The server is still loading the model for {asked}: {message}",
            hint="Wait until it has loaded, or raise max_retries (LMSTUDIO_MAX_RETRIES).",
            server_message=message,
            partial=partial,
        )
    # A model (or a server) that cannot read images fails in its own words, often
    # cryptic ones (llama.cpp: "can only concatenate str (not "list") to str").
    images = (
        " (the request carried an image, which this model may not accept)"
        if context.sent_images
        else ""
    )
    if 400 <= status < 500 or status == 200:
        return BadRequestError(
            f"LM Studio rejected the request {asked}: {message}{images}",
            hint=IMAGES_HINT
            if images
            else "Check the request's parameters; LM Studio's own words are above.",
            server_message=message,
            partial=partial,
        )
    return ServerError(
        f"LM Studio failed (HTTP {status}) on {asked}: {message}{images}",
        hint=IMAGES_HINT
        if images
        else "See LM Studio's server log (Developer tab, or `lms log stream`).",
        server_message=message,
        partial=partial,
    )


def error_before_body(
    status: int, location: str | None, body: bytes, context: RequestContext
) -> LMStudioError | None:
    """The error a reply's status alone settles (a redirect, 502/503/504), else None.

    The drivers raise it at once, so that retries happen there and a redirect is not
    taken for LM Studio's answer."""
    if 300 <= status < 400 or status in RETRYABLE_STATUSES:
        return error_from_reply(status, body, context, location=location)
    return None


def error_from_redirect(
    status: int, location: str | None, context: RequestContext
) -> ProtocolError:
    target = f" to {location}" if location else " (no Location given)"
    return ProtocolError(
        f"The server at {context.base_url} answered {context.target} with a redirect "
        f"(HTTP {status}){target}; LM Studio never redirects.",
        hint=f"Check the base URL (LMSTUDIO_BASE_URL): it is {context.base_url}; use the "
        "address LM Studio's server listens at, e.g. http://localhost:1234"
        + (", or the redirect's target if that is LM Studio." if location else "."),
    )


def error_from_reply(
    status: int, body: bytes, context: RequestContext, *, location: str | None = None
) -> LMStudioError:
    """A typed error for an HTTP reply that is a failure (any status, or 200 with ``error``)."""
    if 300 <= status < 400:
        return error_from_redirect(status, location, context)
    decoded = _decode(body)
    found = extract_error(decoded)
    if found is None:
        text = body.decode("utf-8", "replace").strip()[:500] or "(empty body)"
        if status < 300:
            what = "a body that is not valid JSON" if decoded is None else "an unexpected body"
            return ProtocolError(
                f"LM Studio answered {context.target} with {what}: {text!r}",
                hint="The server at the base URL may not be LM Studio; check LMSTUDIO_BASE_URL.",
            )
        found = (f"HTTP {status}: {text}", None)
    error = error_from_body(found[0], found[1], status, context)
    error.retryable = status in RETRYABLE_STATUSES or isinstance(error, ModelLoadingError)
    return error


def deadline_error(
    context: RequestContext, *, stream: bool = False, partial: ChatResponse | None = None
) -> LMStudioTimeoutError:
    """The server kept a request waiting past its deadline, however it trickled its answer."""
    secs = context.deadline_secs
    if stream:
        message = (
            f"LM Studio sent no complete event for {secs:g} s on {context.target}: "
            "the stream stalled, or trickles too slowly."
        )
    else:
        message = (
            f"LM Studio did not finish answering {context.target} within {secs:g} s: "
            "it sent nothing, or too slowly."
        )
    if context.quick:
        hint = (
            f"Quick calls (a quick model listing, health) wait at most {secs:g} s: raise "
            f"{context.deadline_setting} for a slow or distant server; if it never "
            "answers, check LM Studio's server log."
        )
    else:
        hint = (
            f"Loading a model or reading a long prompt can take longer: raise "
            f"{context.deadline_setting}; if it never answers, check LM Studio's server log."
        )
    return LMStudioTimeoutError(message, which="read", hint=hint, partial=partial)


def body_too_large_error(context: RequestContext, limit: int) -> ProtocolError:
    """A quick call's answer is small (a model list is a few kB): more is no such answer."""
    return ProtocolError(
        f"LM Studio at {context.base_url} sent more than {limit // 1024 // 1024} MiB for "
        f"{context.target}, which is no answer to it.",
        hint="Is it LM Studio? Set LMSTUDIO_BASE_URL to the server's root, "
        "e.g. http://localhost:1234.",
    )


def error_from_transport(
    error: httpx2.HTTPError,
    context: RequestContext,
    *,
    partial: ChatResponse | None = None,
    deadline_passed: bool = False,
) -> LMStudioError:
    """A typed error for a failed connection, timeout or cut stream.

    ``deadline_passed``: the request's deadline had passed when it failed, so a read or
    write timeout is that deadline's (see ``deadline_error``).
    """
    read_timeout, connect_timeout = context.timeouts
    if isinstance(error, httpx2.ConnectTimeout):
        wait_longer = (
            context.deadline_setting
            if context.quick
            else "http.connect_timeout_secs (LMSTUDIO_HTTP_CONNECT_TIMEOUT_SECS)"
        )
        return LMStudioTimeoutError(
            f"Connecting to LM Studio at {context.base_url} took longer than "
            f"{connect_timeout:g} s ({context.target}).",
            which="connect",
            hint=f"Nothing at that address completes a connection: is the server running and "
            f"the address right? {START_SERVER_HINT}; if it listens elsewhere, set "
            f"LMSTUDIO_BASE_URL. To wait longer, raise {wait_longer}.",
            retryable=True,
        )
    if deadline_passed and isinstance(error, httpx2.ReadTimeout | httpx2.WriteTimeout):
        return deadline_error(context, stream=partial is not None, partial=partial)
    if isinstance(error, httpx2.TimeoutException):
        which = {
            httpx2.ReadTimeout: "read",
            httpx2.WriteTimeout: "write",
            httpx2.PoolTimeout: "pool",
        }.get(type(error), "read")
        if which == "pool":
            message = (
                f"No free connection to LM Studio within {read_timeout:g} s "
                f"({context.target}): all {context.max_connections} connections of this "
                "client (http.max_connections) stayed busy with other requests."
            )
            hint = (
                "Send fewer requests at once on one client (LM Studio only generates for a "
                "few at a time anyway), or let them wait longer: raise http.timeout_secs "
                "(LMSTUDIO_HTTP_TIMEOUT_SECS), or http.max_connections "
                "(LMSTUDIO_HTTP_MAX_CONNECTIONS)."
            )
        elif which == "write":
            message = (
                f"Sending the request to LM Studio stalled for {read_timeout:g} s "
                f"(write timeout) on {context.target}."
            )
            hint = (
                "The server stopped reading: it may be overloaded or frozen; check LM Studio's "
                "server log, or raise http.timeout_secs (LMSTUDIO_HTTP_TIMEOUT_SECS) for "
                "very large requests (images)."
            )
        elif context.loads_model:
            message = (
                f"LM Studio sent nothing for {read_timeout:g} s (load timeout) on "
                f"{context.target} while the model loads."
            )
            hint = (
                "A large model can take longer to load: raise http.load_timeout_secs "
                "(LMSTUDIO_HTTP_LOAD_TIMEOUT_SECS), or load it beforehand (`lms load`); "
                "LM Studio's server log shows the load."
            )
        else:
            message = (
                f"LM Studio sent nothing for {read_timeout:g} s ({which} timeout) on "
                f"{context.target}."
            )
            hint = (
                "Loading a model or reading a long prompt can take longer: raise "
                f"{context.deadline_setting}; if it never answers, "
                "check LM Studio's server log."
            )
        return LMStudioTimeoutError(message, which=which, hint=hint, partial=partial)
    if out_of_descriptors(error):
        return TooManyOpenFilesError(
            f"This process has run out of file descriptors (too many open files) while "
            f"connecting to LM Studio ({context.target}): {error}",
            hint="The server is not at fault. Send fewer requests at once, close clients "
            "you no longer use, lower http.max_connections (LMSTUDIO_HTTP_MAX_CONNECTIONS), "
            "or raise the process's limit (`ulimit -n`).",
        )
    if context.base_url.lower().startswith("https://") and _is_tls_mismatch(error):
        plain = "http://" + context.base_url[len("https://") :]
        return ServerUnreachableError(
            f"The server at {context.base_url} does not speak HTTPS ({context.target}): "
            f"the TLS handshake failed ({error}).",
            hint=f"LM Studio's server speaks plain HTTP: use {plain} (LMSTUDIO_BASE_URL).",
        )
    if isinstance(error, httpx2.ConnectError | httpx2.UnsupportedProtocol):
        return ServerUnreachableError(
            f"LM Studio is not reachable at {context.base_url} ({context.target}): {error}",
            hint=f"{START_SERVER_HINT}; if it listens elsewhere, set LMSTUDIO_BASE_URL.",
            retryable=True,
        )
    if partial is not None:
        return StreamInterruptedError(
            f"The stream from LM Studio broke off ({context.target}): {error}. "
            f"{len(partial.text)} characters had arrived.",
            hint="LM Studio's server log may say why (a crash or an unload).",
            partial=partial,
        )
    if context.method != "GET" and not isinstance(error, httpx2.WriteError):
        # The whole request went out: LM Studio may be generating its answer already, and
        # sending it again would have a local model generate it twice.
        return ServerError(
            f"LM Studio closed the connection after receiving the request {context.target}, "
            f"without answering ({error or type(error).__name__}); it was not resent, since "
            "LM Studio may already have started on it.",
            hint="See LM Studio's server log (Developer tab, or `lms log stream`): the model "
            "may have crashed or been unloaded. Send the request again if you want its answer.",
        )
    failed = ServerUnreachableError(
        f"The connection to LM Studio at {context.base_url} failed ({context.target}): "
        f"{error or type(error).__name__}",
        hint=f"{START_SERVER_HINT}; if it keeps failing, check LM Studio's server log.",
        retryable=True,
    )
    failed.server_down = False  # it took the connection: something is there
    return failed


# What a TLS client reports when the server answers the handshake in plain HTTP.
TLS_MISMATCH_SIGNS = (
    "wrong_version_number",
    "wrong version number",
    "record layer failure",
    "http_request",
    "unknown protocol",
    "packet length too long",
)
# Endpoints this transport appends to the base URL; a base URL ending in one is a mistake.
API_PATHS = ("/api/v1", "/api/v0", "/v1")


def server_root(base_url: str) -> str:
    """``http://host:1234/anything`` -> ``http://host:1234``."""
    scheme, _, rest = base_url.partition("://")
    return f"{scheme}://{rest.split('/', 1)[0]}"


def wrong_base_url_error(
    status: int, message: str, context: RequestContext
) -> LMStudioError | None:
    """A 404 (or LM Studio's "Unexpected endpoint") caused by a base URL with a path.

    LM Studio and llama.cpp serve at the server's root, so ``http://host:1234/wrong`` or
    ``.../api/v1`` or ``.../v1/chat/completions`` makes every endpoint unknown: say so and
    name the root, instead of "no such model".
    """
    root = server_root(context.base_url)
    if root == context.base_url:
        return None
    unknown_endpoint = "unexpected endpoint" in message.lower()
    not_found = status == 404 and "model" not in message.lower()
    if not (unknown_endpoint or not_found):
        return None
    path = context.base_url[len(root) :]
    said = " ".join(message.split())  # an HTML 404 page, say, on one line
    said = said if len(said) <= 200 else said[:200] + "..."
    return BadRequestError(
        f"The base URL {context.base_url} looks wrong: the server has no {context.path} under "
        f"{path} ({context.target}: {said}).",
        hint=f"The base URL is probably wrong: it is {context.base_url}; use the server's "
        f"root, {root} (LMSTUDIO_BASE_URL); the transport adds /v1 and /api/v1 itself.",
        server_message=message,
    )


def _is_tls_mismatch(error: httpx2.HTTPError) -> bool:
    text = f"{error!r} {error} {error.__cause__!r} {error.__context__!r}".lower()
    return "ssl" in text and any(sign in text for sign in TLS_MISMATCH_SIGNS)


def out_of_descriptors(error: BaseException) -> bool:
    """Whether ``error`` (or what caused it) is EMFILE/ENFILE: no socket could be opened."""
    seen: BaseException | None = error
    for _ in range(8):  # the cause chain of an httpx2 error is short
        if seen is None:
            break
        if isinstance(seen, OSError) and seen.errno in (errno.EMFILE, errno.ENFILE):
            return True
        if "too many open files" in str(seen).lower():
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def is_retryable(error: BaseException) -> bool:
    """Connection failures, connect timeouts, 502/503/504 and model-loading answers."""
    return isinstance(error, LMStudioError) and error.retryable
