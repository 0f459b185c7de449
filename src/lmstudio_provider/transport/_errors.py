"""The errors a user of lmstudio-provider can meet.

Every error says what happened, what was asked and what to do next. Each carries
the HTTP status it corresponds to (``status_code``), LM Studio's own message when
there was one (``server_message``) and a ``hint`` for the user. An error raised
while a stream was under way also carries ``partial``: everything received
before it (text, reasoning, tool calls, usage), so nothing is lost.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:
    from lmstudio_provider.transport._results import ChatResponse

__all__ = [
    "AmbiguousModelError",
    "AuthenticationError",
    "BadRequestError",
    "ConfigError",
    "ContextLengthExceededError",
    "DownloadFailedError",
    "InvalidParameterError",
    "LMStudioError",
    "LMStudioTimeoutError",
    "ModelLoadingError",
    "ModelManagementUnsupportedError",
    "ModelMismatchError",
    "ModelNotAllowedError",
    "ModelNotFoundError",
    "NoModelLoadedError",
    "ProtocolError",
    "ServerError",
    "ServerUnreachableError",
    "StreamInterruptedError",
    "StructuredOutputTruncatedError",
    "TooManyOpenFilesError",
]

START_SERVER_HINT = "start the server in LM Studio's Developer tab or run `lms server start`"


class LMStudioError(Exception):
    """Base class of every error raised by lmstudio-provider."""

    status_code: ClassVar[int] = 500
    # Whether nothing answers at the server's address (refused, or no TCP handshake):
    # only then would the same request, sent again now, fail the same way at once.
    server_down: bool = False

    def __init__(
        self,
        message: str,
        *,
        hint: str | None = None,
        server_message: str | None = None,
        partial: ChatResponse | None = None,
        retryable: bool = False,
    ) -> None:
        self.message = message
        self.retryable = retryable
        self.hint = hint
        self.server_message = server_message
        self.partial = partial
        super().__init__(message)

    def __str__(self) -> str:
        hint = " ".join(filter(None, (self.hint, self._partial_note())))
        return f"{self.message}\nHint: {hint}" if hint else self.message

    def _partial_note(self) -> str:
        """Where a Python caller finds what arrived (the hint itself names no attribute,
        so that a front end can show it in its own words)."""
        partial = self.partial
        if partial is None or not (partial.text or partial.reasoning or partial.tool_calls):
            return ""
        return "What arrived before the error is kept in the error's `partial`."

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.message!r})"


class ConfigError(LMStudioError, ValueError):
    """The configuration (arguments, environment or YAML file) is invalid."""

    status_code = 400


class BadRequestError(LMStudioError):
    """LM Studio rejected the request (HTTP 400)."""

    status_code = 400


class InvalidParameterError(BadRequestError, ValueError):
    """A request parameter is out of range or of the wrong type; nothing was sent."""


class ContextLengthExceededError(BadRequestError):
    """The prompt does not fit in the model's loaded context window."""


class AmbiguousModelError(BadRequestError):
    """A model name matched more than one model."""

    def __init__(self, message: str, *, candidates: Sequence[str], hint: str | None = None) -> None:
        self.candidates = list(candidates)
        super().__init__(message, hint=hint)


class AuthenticationError(LMStudioError):
    """The server requires an API token, or refused the one sent (HTTP 401)."""

    status_code = 401


class ModelNotAllowedError(LMStudioError):
    """The model is not in the configured ``allowed_models``; nothing was sent."""

    status_code = 403

    def __init__(self, message: str, *, allowed: Sequence[str], hint: str | None = None) -> None:
        self.allowed = list(allowed)
        super().__init__(message, hint=hint)


class ModelNotFoundError(LMStudioError):
    """The model asked for is not available on the server (HTTP 404)."""

    status_code = 404

    def __init__(
        self,
        message: str,
        *,
        available: Sequence[str] = (),
        hint: str | None = None,
        server_message: str | None = None,
    ) -> None:
        self.available = list(available)
        super().__init__(message, hint=hint, server_message=server_message)


class NoModelLoadedError(ModelNotFoundError):
    """No model was named and LM Studio has no model loaded."""


class ModelMismatchError(ModelNotFoundError):
    """LM Studio answered with another model than the one asked for.

    LM Studio answers an unknown model id with its single loaded model and status
    200; this error stops that answer from passing as the requested model's.
    """

    def __init__(self, message: str, *, requested: str, answered: str, hint: str | None = None):
        self.requested = requested
        self.answered = answered
        super().__init__(message, hint=hint)


class ServerError(LMStudioError):
    """LM Studio failed while handling the request (HTTP 500), e.g. the model crashed."""

    status_code = 500


class ModelLoadingError(ServerError):
    """The server kept answering that the model is still loading (HTTP 503)."""

    status_code = 503


class ModelManagementUnsupportedError(LMStudioError):
    """The server has no model-management API (``/api/v1``: LM Studio 0.4.0 or later);
    nothing was sent that it could misread (HTTP 501)."""

    status_code = 501


class DownloadFailedError(ServerError):
    """LM Studio reported a model download as failed; ``job_id`` names the download."""

    def __init__(self, message: str, *, job_id: str | None, hint: str | None = None) -> None:
        self.job_id = job_id
        super().__init__(message, hint=hint)


class ServerUnreachableError(LMStudioError):
    """No server answered at the configured base URL (HTTP 502).

    Also a connection that broke before any answer; ``server_down`` is then False: the
    server took the connection, it is there.
    """

    status_code = 502
    server_down = True


class ProtocolError(LMStudioError):
    """The server sent a body or a stream line that is not what the API defines (HTTP 502)."""

    status_code = 502


class StreamInterruptedError(ProtocolError):
    """The stream ended before a finish reason or ``[DONE]``; ``partial`` holds what arrived."""


class StructuredOutputTruncatedError(LMStudioError):
    """A structured answer was cut off by ``max_tokens`` (finish reason ``length``) before
    its JSON closed: there is nothing to parse. ``raw`` is the answer as it arrived, as the
    front end shows answers (a LangChain ``AIMessage``, say)."""

    status_code = 400

    def __init__(self, raw: Any, *, output_tokens: int | None, hint: str) -> None:
        after = f" after {output_tokens} tokens" if output_tokens else ""
        super().__init__(
            f"The structured answer was cut off{after}: the model reached max_tokens "
            "(finish_reason 'length') before closing its JSON, so there is nothing to parse.",
            hint=hint,
        )
        self.raw = raw


class LMStudioTimeoutError(LMStudioError, TimeoutError):
    """A connect, read, write or pool timeout expired (HTTP 504)."""

    status_code = 504

    def __init__(
        self,
        message: str,
        *,
        which: str,
        hint: str | None = None,
        partial: ChatResponse | None = None,
        retryable: bool = False,
    ) -> None:
        self.which = which
        # A busy server still accepts connections at once (the kernel does it): a connect
        # timeout means a dead or black-holed address, a read timeout says less.
        self.server_down = which == "connect"
        super().__init__(message, hint=hint, partial=partial, retryable=retryable)


class TooManyOpenFilesError(LMStudioError):
    """This process ran out of file descriptors (EMFILE): no connection could be opened."""

    status_code = 503
