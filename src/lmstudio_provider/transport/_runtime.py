"""LM Studio's model runtime (load, unload, download) as data: requests and answers (pure).

LM Studio 0.4+ manages models over ``/api/v1/models/load``, ``/unload`` and
``/download``. Those routes reject unknown keys with 400, so requests carry only the
fields below; servers without ``/api/v1`` get nothing at all (``unsupported``).
The flows that send them live in ``_core``.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, cast, get_args

from lmstudio_provider.transport._errors import (
    DownloadFailedError,
    InvalidParameterError,
    LMStudioTimeoutError,
    ModelManagementUnsupportedError,
    ModelNotFoundError,
    ProtocolError,
)
from lmstudio_provider.transport._models import Dialect, LoadedInstance, ModelInfo, match_name

__all__ = [
    "DOWNLOAD_POLL_SECS",
    "DownloadProgress",
    "DownloadWatch",
    "LoadResult",
    "build_download_body",
    "build_load_body",
    "find_loaded_instances",
    "human_bytes",
    "human_secs",
    "is_unknown_route",
    "loaded_instances",
    "parse_download_progress",
    "parse_load_answer",
    "positive_int",
    "resolve_model_key",
    "unsupported",
]

# How often download progress is asked for; the clients sleep between polls.
DOWNLOAD_POLL_SECS = 1.0
DownloadStatus = Literal["downloading", "paused", "completed", "failed", "already_downloaded"]
DOWNLOAD_STATUSES = get_args(DownloadStatus)
LMS_COMMANDS = {
    "load": "lms load <model>",
    "unload": "lms unload <instance>",
    "download": "lms get <model>",
    "list loaded models": "lms ps",
}


@dataclass(frozen=True, slots=True)
class LoadResult:
    """What ``load_model`` loaded.

    ``context_length`` is read back from LM Studio's model list after the load: LM
    Studio may lower the length asked for (``requested_context_length``) to fit memory.
    """

    instance_id: str
    model: str
    load_time_secs: float | None
    context_length: int | None
    requested_context_length: int | None = None
    config: dict[str, Any] = field(default_factory=dict)

    def summary(self) -> str:
        """``Loaded <model> as <instance> in 2.5 s (context 16384 tokens; 32768 asked).``"""
        text = f"Loaded {self.model} as {self.instance_id}"
        if self.load_time_secs is not None:
            text += f" in {self.load_time_secs:.1f} s"
        if self.context_length is not None:
            asked = self.requested_context_length
            lowered = f"; {asked} asked" if asked and asked != self.context_length else ""
            text += f" (context {self.context_length} tokens{lowered})"
        return text + "."

    def as_dict(self) -> dict[str, Any]:
        return {
            "instance_id": self.instance_id,
            "model": self.model,
            "load_time_secs": self.load_time_secs,
            "context_length": self.context_length,
            "requested_context_length": self.requested_context_length,
            "config": dict(self.config),
        }


@dataclass(frozen=True, slots=True)
class DownloadProgress:
    """One report on a download. ``done`` once ``completed`` or ``already_downloaded``."""

    status: DownloadStatus
    job_id: str | None = None
    downloaded_bytes: int | None = None
    total_bytes: int | None = None
    bytes_per_second: float | None = None
    eta_secs: float | None = None
    estimated_completion: str | None = None

    @property
    def done(self) -> bool:
        return self.status in ("completed", "already_downloaded")

    @property
    def fraction(self) -> float | None:
        """Downloaded share (0 to 1), when both sizes are known."""
        if self.downloaded_bytes is None or not self.total_bytes:
            return None
        return min(1.0, self.downloaded_bytes / self.total_bytes)

    def summary(self) -> str:
        """Sizes, speed and time left for people: ``600.0 kB/1.2 MB  400.0 kB/s  ETA 2s``."""
        parts = [f"{human_bytes(self.downloaded_bytes)}/{human_bytes(self.total_bytes)}"]
        if self.bytes_per_second:
            parts.append(f"{human_bytes(self.bytes_per_second)}/s")
        if self.eta_secs is not None:
            parts.append(f"ETA {human_secs(self.eta_secs)}")
        return "  ".join(parts)

    def as_line(self) -> str:
        """One ``key=value`` line for scripts (``-`` for what is unknown): ``status=...
        downloaded_bytes=... total_bytes=... bytes_per_second=... eta_secs=...``."""
        eta = None if self.eta_secs is None else round(self.eta_secs, 1)
        fields = (self.status, self.downloaded_bytes, self.total_bytes, self.bytes_per_second, eta)
        names = ("status", "downloaded_bytes", "total_bytes", "bytes_per_second", "eta_secs")
        return " ".join(
            f"{n}={'-' if v is None else v}" for n, v in zip(names, fields, strict=True)
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "job_id": self.job_id,
            "downloaded_bytes": self.downloaded_bytes,
            "total_bytes": self.total_bytes,
            "bytes_per_second": self.bytes_per_second,
            "eta_secs": self.eta_secs,
        }


def human_bytes(count: float | None) -> str:
    """``1.2 GB``-style sizes (decimal units, as LM Studio shows them); ``?`` when unknown."""
    if count is None:
        return "?"
    size = float(count)
    for unit in ("B", "kB", "MB"):
        if abs(size) < 1000:
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1000
    return f"{size:.1f} GB"


def human_secs(secs: float) -> str:
    """``1h05m``, ``2m07s`` or ``7s``."""
    minutes, seconds = divmod(round(secs), 60)
    hours, minutes = divmod(minutes, 60)
    if hours:
        return f"{hours}h{minutes:02d}m"
    return f"{minutes}m{seconds:02d}s" if minutes else f"{seconds}s"


def unsupported(
    what: str, model: str | None, dialect: Dialect | None, base_url: str
) -> ModelManagementUnsupportedError:
    """The error for model management on a server without ``/api/v1`` (``dialect``: how
    it lists models; None when the route itself was unknown)."""
    server = {
        "v0": "LM Studio before 0.4 (it has /api/v0 only)",
        "openai": "not LM Studio 0.4 or later (it lists models the OpenAI way only)",
    }.get(dialect or "", "a server without this route (LM Studio before 0.4?)")
    target = f" {model!r}" if model else ""
    command = LMS_COMMANDS.get(what, "lms --help")
    return ModelManagementUnsupportedError(
        f"Cannot {what}{target}: the server at {base_url} is {server}, and model management "
        "needs LM Studio's /api/v1 (LM Studio 0.4.0 or later); nothing was sent.",
        hint=f"Update LM Studio to 0.4 or later, or run `{command}` on the machine running it.",
    )


def positive_int(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise InvalidParameterError(
            f"{name} must be a positive whole number, got {value!r}; nothing was sent.",
            hint=f"Pass {name} as an integer above 0, or leave it out for LM Studio's default.",
        )
    return value


def _bool(name: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise InvalidParameterError(
            f"{name} must be true or false, got {value!r}; nothing was sent.",
            hint=f"Pass {name}=True or {name}=False, or leave it out for LM Studio's default.",
        )
    return value


def build_load_body(
    model: str,
    *,
    context_length: int | None = None,
    flash_attention: bool | None = None,
    eval_batch_size: int | None = None,
    num_experts: int | None = None,
    offload_kv_cache_to_gpu: bool | None = None,
) -> dict[str, Any]:
    """The body of ``POST /api/v1/models/load``: only what LM Studio accepts, checked.

    Raises:
        InvalidParameterError: for a value of the wrong type or range (nothing is sent).
    """
    body: dict[str, Any] = {"model": model}
    for name, value in (
        ("context_length", context_length),
        ("eval_batch_size", eval_batch_size),
        ("num_experts", num_experts),
    ):
        if value is not None:
            body[name] = positive_int(name, value)
    for name, flag in (
        ("flash_attention", flash_attention),
        ("offload_kv_cache_to_gpu", offload_kv_cache_to_gpu),
    ):
        if flag is not None:
            body[name] = _bool(name, flag)
    return body


def build_download_body(model: str, quantization: str | None) -> dict[str, Any]:
    """The body of ``POST /api/v1/models/download``.

    Raises:
        InvalidParameterError: an empty model, or ``quantization`` without a Hugging
            Face URL (LM Studio only takes it with one).
    """
    model = model.strip() if isinstance(model, str) else ""
    if not model:
        raise InvalidParameterError(
            "download_model needs a model: a catalog key or a Hugging Face URL; nothing was sent.",
            hint="For example qwen/qwen3-4b-2507, or https://huggingface.co/<user>/<repo>.",
        )
    body: dict[str, Any] = {"model": model}
    if quantization is not None:
        if not model.lower().startswith(("https://", "http://")):
            raise InvalidParameterError(  # worded for the CLI's --quantization too
                f"The quantization {quantization!r} only applies to a Hugging Face URL, and "
                f"{model!r} is a catalog key; nothing was sent.",
                hint="Name the model by its URL (https://huggingface.co/<user>/<repo>) to pick "
                "a quantization, or leave the quantization out.",
            )
        body["quantization"] = quantization
    return body


def resolve_model_key(name: str, models: Sequence[ModelInfo]) -> ModelInfo:
    """The downloaded model ``name`` names, for a load: exact key, else a unique part.

    Raises:
        ModelNotFoundError: listing the downloaded models.
    """
    keys = [m.id for m in models]
    match, ambiguous = match_name(name, keys)
    if match is not None:
        return next(m for m in models if m.id == match)
    shown = ", ".join((ambiguous or keys)[:20]) or "none"
    if ambiguous:
        message = f"Model name {name!r} matches {len(ambiguous)} models: {shown}; nothing was sent."
        hint = "Use more of the key, or the full key."
    else:
        message = (
            f"LM Studio has no downloaded model {name!r} (downloaded: {shown}); nothing was sent."
        )
        hint = "Download it first (download_model, or `lms get <model>`), or use a key above."
    raise ModelNotFoundError(message, available=ambiguous or keys, hint=hint)


def loaded_instances(models: Sequence[ModelInfo]) -> list[LoadedInstance]:
    """Every loaded instance, in list order (a v0 list: one per loaded model, its own id)."""
    instances: list[LoadedInstance] = []
    for model in models:
        if model.instances:
            instances.extend(model.instances)
        elif model.is_loaded:
            context = model.loaded_context_length
            config = {"context_length": context} if context is not None else {}
            instances.append(LoadedInstance(model.id, model.id, context, config))
    return instances


def find_loaded_instances(
    instance_ids: Sequence[str], models: Sequence[ModelInfo]
) -> list[LoadedInstance]:
    """The loaded instances named ``instance_ids`` (case-insensitive), every one checked.

    Raises:
        ModelNotFoundError: naming every id that is not loaded and listing the loaded
            instances (nothing is sent).
    """
    by_id = {instance.id.lower(): instance for instance in loaded_instances(models)}
    missing = [name for name in instance_ids if name.strip().lower() not in by_id]
    if not missing:
        return [by_id[name.strip().lower()] for name in instance_ids]
    ids = [instance.id for instance in by_id.values()]
    raise ModelNotFoundError(
        f"No loaded instance {', '.join(map(repr, missing))} (loaded: {', '.join(ids) or 'none'}); "
        "nothing was sent.",
        available=ids,
        hint="Name a loaded instance id (loaded_models() lists them; `lms ps` too).",
    )


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def _count(value: Any) -> int | None:
    number = _number(value)
    return None if number is None else int(number)


def parse_load_answer(body: Any, target: str) -> tuple[str, float | None]:
    """(instance id, load seconds) from the answer to a load.

    Raises:
        ProtocolError: when the answer names no instance.
    """
    instance = None
    if isinstance(body, dict):
        instance = body.get("instance_id") or body.get("model_instance_id")
    if not isinstance(instance, str) or not instance:
        raise ProtocolError(
            f"LM Studio's answer to {target} names no loaded instance: {str(body)[:300]!r}",
            hint="Check LM Studio's server log; `lms ps` shows what is loaded.",
        )
    assert isinstance(body, dict)
    return instance, _number(body.get("load_time_seconds"))


def parse_download_progress(
    body: Any, target: str, *, job_id: str | None = None
) -> DownloadProgress:
    """A download answer (start or status) as ``DownloadProgress``.

    Raises:
        ProtocolError: for an answer without a known status.
        DownloadFailedError: when LM Studio reports the download failed.
    """
    status = body.get("status") if isinstance(body, dict) else None
    if status not in DOWNLOAD_STATUSES:
        raise ProtocolError(
            f"LM Studio's answer to {target} has no download status: {str(body)[:300]!r}",
            hint="Check LM Studio's server log and its Downloads panel.",
        )
    assert isinstance(body, dict)
    found_job = body.get("job_id")
    job = str(found_job) if found_job else job_id
    if status == "failed":
        raise DownloadFailedError(
            f"LM Studio's download{f' {job!r}' if job else ''} failed ({target}).",
            job_id=job,
            hint="See LM Studio's Downloads panel or server log for the reason (disk space, "
            "network, a model name the catalog does not know), then try again.",
        )
    downloaded = _count(body.get("downloaded_bytes"))
    total = _count(body.get("total_size_bytes"))
    speed = _number(body.get("bytes_per_second"))
    eta = None
    if speed and downloaded is not None and total is not None and total >= downloaded:
        eta = (total - downloaded) / speed
    completion = body.get("estimated_completion")
    return DownloadProgress(
        status=cast(DownloadStatus, status),  # one of DOWNLOAD_STATUSES, checked above
        job_id=job,
        downloaded_bytes=downloaded,
        total_bytes=total,
        bytes_per_second=speed,
        eta_secs=eta,
        estimated_completion=completion if isinstance(completion, str) else None,
    )


def is_unknown_route(status: int, body: Any) -> bool:
    """A 404, or LM Studio's 200 "Unexpected endpoint or method" for a route it lacks."""
    if status == 404:
        return True
    error = body.get("error") if isinstance(body, dict) else None
    return status == 200 and isinstance(error, str) and error.startswith("Unexpected endpoint")


class DownloadWatch:
    """Notices a download that stopped moving: no new bytes for ``stall_secs``.

    LM Studio keeps a paused or stuck download alive forever; polling it must not be.
    """

    def __init__(self, stall_secs: float) -> None:
        self.stall_secs = stall_secs
        self._bytes: int | None = None
        self._since = time.monotonic()

    def observe(self, progress: DownloadProgress, target: str) -> None:
        """Raises ``LMStudioTimeoutError`` when nothing moved for too long."""
        now = time.monotonic()
        if progress.downloaded_bytes != self._bytes:
            self._bytes, self._since = progress.downloaded_bytes, now
            return
        if now - self._since > self.stall_secs:
            raise LMStudioTimeoutError(
                f"LM Studio's download {progress.job_id!r} has not moved for "
                f"{self.stall_secs:g} s (status {progress.status}, {target}); stopped "
                "watching it (LM Studio may still be downloading).",
                which="download",
                hint="See LM Studio's Downloads panel; to wait longer, raise "
                "http.load_timeout_secs (LMSTUDIO_HTTP_LOAD_TIMEOUT_SECS).",
            )
