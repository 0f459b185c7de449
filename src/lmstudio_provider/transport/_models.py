"""Model information and model-name resolution (pure: no I/O).

LM Studio describes its models in three dialects: ``/api/v1/models`` (0.4+),
``/api/v0/models`` (0.3.6+) and the OpenAI-compatible ``/v1/models`` that every
server has. All three parse to ``ModelInfo``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from lmstudio_provider.transport._errors import (
    AmbiguousModelError,
    ModelNotAllowedError,
    ModelNotFoundError,
    NoModelLoadedError,
    ProtocolError,
)

__all__ = [
    "LOADED_MODEL_ALIASES",
    "ModelInfo",
    "ModelKind",
    "is_loaded_model_alias",
    "parse_models",
    "resolve_model_name",
    "same_model",
]

ModelType = Literal["llm", "vlm", "embeddings", "unknown"]
ModelState = Literal["loaded", "not-loaded", "unknown"]
ModelKind = Literal["chat", "embeddings"]
LOADED_MODEL_ALIASES = frozenset({"", "local-model"})


@dataclass(frozen=True, slots=True)
class ModelInfo:
    """One model the server offers.

    ``state`` and ``type`` are ``"unknown"`` when the server only speaks the
    OpenAI dialect (``/v1/models``), which lists ids and nothing else.
    """

    id: str
    type: ModelType = "unknown"
    state: ModelState = "unknown"
    architecture: str | None = None
    quantization: str | None = None
    max_context_length: int | None = None
    loaded_context_length: int | None = None
    capabilities: frozenset[str] = field(default_factory=frozenset)
    publisher: str | None = None
    format: str | None = None
    display_name: str | None = None
    size_bytes: int | None = None
    instance_ids: tuple[str, ...] = ()

    @property
    def is_loaded(self) -> bool:
        return self.state == "loaded"

    @property
    def is_embedding(self) -> bool:
        return self.type == "embeddings"

    @property
    def supports_vision(self) -> bool:
        return self.type == "vlm" or "vision" in self.capabilities

    @property
    def supports_tools(self) -> bool:
        return "tool_use" in self.capabilities

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "type": self.type,
            "state": self.state,
            "architecture": self.architecture,
            "quantization": self.quantization,
            "max_context_length": self.max_context_length,
            "loaded_context_length": self.loaded_context_length,
            "capabilities": sorted(self.capabilities),
            "publisher": self.publisher,
            "format": self.format,
            "display_name": self.display_name,
            "size_bytes": self.size_bytes,
            "instance_ids": list(self.instance_ids),
        }


def is_loaded_model_alias(name: str) -> bool:
    """Whether ``name`` means "whatever model LM Studio has loaded" (blank, local-model)."""
    return name.strip().lower() in LOADED_MODEL_ALIASES


def _int_or_none(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _str_or_none(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _parse_v1_entry(entry: dict[str, Any]) -> ModelInfo:
    """An ``/api/v1/models`` entry (LM Studio 0.4+)."""
    caps_raw = entry.get("capabilities") or {}
    capabilities = set()
    if isinstance(caps_raw, dict):
        if caps_raw.get("vision"):
            capabilities.add("vision")
        if caps_raw.get("trained_for_tool_use"):
            capabilities.add("tool_use")
        if caps_raw.get("reasoning"):
            capabilities.add("reasoning")
    raw_type = entry.get("type")
    model_type: ModelType = "unknown"
    if raw_type in ("embedding", "embeddings"):
        model_type = "embeddings"
    elif raw_type in ("llm", "vlm"):
        model_type = "vlm" if raw_type == "vlm" or "vision" in capabilities else "llm"
    instances = [i for i in entry.get("loaded_instances") or [] if isinstance(i, dict)]
    loaded_context = None
    if instances:
        config = instances[0].get("config") or {}
        loaded_context = _int_or_none(config.get("context_length"))
    quant = entry.get("quantization")
    return ModelInfo(
        id=str(entry.get("key") or entry.get("id")),
        type=model_type,
        state="loaded" if instances else "not-loaded",
        architecture=_str_or_none(entry.get("architecture")),
        quantization=_str_or_none(quant.get("name") if isinstance(quant, dict) else quant),
        max_context_length=_int_or_none(entry.get("max_context_length")),
        loaded_context_length=loaded_context,
        capabilities=frozenset(capabilities),
        publisher=_str_or_none(entry.get("publisher")),
        format=_str_or_none(entry.get("format")),
        display_name=_str_or_none(entry.get("display_name")),
        size_bytes=_int_or_none(entry.get("size_bytes")),
        instance_ids=tuple(str(i["id"]) for i in instances if i.get("id")),
    )


def _parse_v0_entry(entry: dict[str, Any]) -> ModelInfo:
    """An ``/api/v0/models`` entry (LM Studio 0.3.6+)."""
    raw_type = entry.get("type")
    model_type: ModelType = raw_type if raw_type in ("llm", "vlm", "embeddings") else "unknown"
    capabilities = {c for c in entry.get("capabilities") or [] if isinstance(c, str)}
    if model_type == "vlm":
        capabilities.add("vision")
    raw_state = entry.get("state")
    state: ModelState = raw_state if raw_state in ("loaded", "not-loaded") else "unknown"
    return ModelInfo(
        id=str(entry["id"]),
        type=model_type,
        state=state,
        architecture=_str_or_none(entry.get("arch")),
        quantization=_str_or_none(entry.get("quantization")),
        max_context_length=_int_or_none(entry.get("max_context_length")),
        loaded_context_length=_int_or_none(entry.get("loaded_context_length")),
        capabilities=frozenset(capabilities),
        publisher=_str_or_none(entry.get("publisher")),
        format=_str_or_none(entry.get("compatibility_type")),
    )


def _parse_openai_entry(entry: dict[str, Any]) -> ModelInfo:
    """A ``/v1/models`` entry: an id and nothing more (embedding ids are guessed by name)."""
    model_id = str(entry["id"])
    guessed: ModelType = "embeddings" if "embed" in model_id.lower() else "unknown"
    return ModelInfo(id=model_id, type=guessed)


def parse_models(dialect: Literal["v1", "v0", "openai"], body: Any) -> list[ModelInfo]:
    """Parse a model list; duplicates (LM Studio repeats ids) are dropped, order kept.

    Raises:
        ProtocolError: if the body is not the shape the endpoint defines.
    """
    key = "models" if dialect == "v1" else "data"
    entries = body.get(key) if isinstance(body, dict) else None
    if not isinstance(entries, list):
        raise ProtocolError(
            f"The model list has no `{key}` array: {str(body)[:200]!r}",
            hint="The server at the base URL may not be LM Studio or an OpenAI-compatible server.",
        )
    parser = {"v1": _parse_v1_entry, "v0": _parse_v0_entry, "openai": _parse_openai_entry}[dialect]
    seen: dict[str, ModelInfo] = {}
    for entry in entries:
        if not isinstance(entry, dict) or not (entry.get("id") or entry.get("key")):
            continue
        info = parser(entry)
        # A repeated id may be a loaded instance of a model listed before: keep the loaded one.
        if info.id not in seen or (info.is_loaded and not seen[info.id].is_loaded):
            seen[info.id] = info
    return list(seen.values())


def _normalise(model_id: str) -> str:
    """Lower-case, without an ``@variant`` or a ``:N`` instance suffix."""
    base = model_id.strip().lower()
    base = base.split("@", 1)[0]
    head, sep, tail = base.rpartition(":")
    if sep and tail.isdigit():
        base = head
    return base


def same_model(requested: str, answered: str) -> bool:
    """Whether the server's ``model`` field names the model asked for.

    They may differ by case, by an ``@variant`` or ``:N`` instance suffix, or by a
    publisher prefix that one side leaves out (``qwen/qwen3-4b`` answered as
    ``qwen3-4b``); two different publishers are two different models.
    """
    a, b = _normalise(requested), _normalise(answered)
    if a == b:
        return True
    if "/" in a and "/" in b:
        return False
    return a.rsplit("/", 1)[-1] == b.rsplit("/", 1)[-1]


def _names(models: Iterable[ModelInfo]) -> list[str]:
    return [m.id for m in models]


def _list_text(names: Sequence[str], limit: int = 20) -> str:
    if not names:
        return "none"
    shown = ", ".join(names[:limit])
    return shown + (f", ... ({len(names) - limit} more)" if len(names) > limit else "")


def _kind_matches(model: ModelInfo, kind: ModelKind) -> bool:
    if kind == "embeddings":
        return model.type in ("embeddings", "unknown")
    return model.type != "embeddings"


def _match(name: str, candidates: Sequence[str]) -> tuple[str | None, list[str]]:
    """Exact (case-insensitive) match, else unique substring; returns (match, ambiguous)."""
    lowered = name.lower()
    exact = [c for c in candidates if c.lower() == lowered]
    if exact:
        return exact[0], []
    partial = [c for c in candidates if lowered in c.lower()]
    # "x" and its loaded instance "x:2" are one model: the name picks the model itself.
    bases = {c for c in partial if not _instance_suffix(c)}
    partial = [c for c in partial if not (_instance_suffix(c) and _strip_instance(c) in bases)]
    if len(partial) == 1:
        return partial[0], []
    return None, partial


def _instance_suffix(model_id: str) -> bool:
    head, sep, tail = model_id.rpartition(":")
    return bool(sep and head and tail.isdigit())


def _strip_instance(model_id: str) -> str:
    return model_id.rpartition(":")[0] if _instance_suffix(model_id) else model_id


def check_allowed(name: str, allowed: Sequence[str]) -> str:
    """Resolve ``name`` within ``allowed_models`` without asking the server.

    Raises:
        ModelNotAllowedError: listing the allowed models.
    """
    match, ambiguous = _match(name, allowed)
    if match is not None:
        return match
    if ambiguous:
        raise AmbiguousModelError(
            f"Model {name!r} matches several allowed models: {', '.join(ambiguous)}.",
            candidates=ambiguous,
            hint="Use the full id of one of them.",
        )
    raise ModelNotAllowedError(
        f"Model {name!r} is not in allowed_models ({_list_text(list(allowed))}); nothing was sent.",
        allowed=allowed,
        hint="Pick an allowed model, or extend allowed_models "
        "(LMSTUDIO_ALLOWED_MODELS or inference.allowed_models).",
    )


def require_allowed(model_id: str, allowed: Sequence[str]) -> None:
    """Refuse a resolved model id that is not one of ``allowed_models``.

    Unlike ``check_allowed`` (for what the user typed), no substring matching: the
    id must be an allowed one, up to case and a ``:N`` instance suffix.

    Raises:
        ModelNotAllowedError: listing the allowed models.
    """
    wanted = _strip_instance(model_id).lower()
    if any(_strip_instance(entry).lower() == wanted for entry in allowed):
        return
    raise ModelNotAllowedError(
        f"Model {model_id!r} is not in allowed_models ({_list_text(list(allowed))}); "
        "nothing was sent.",
        allowed=allowed,
        hint="Name an allowed model, or extend allowed_models "
        "(LMSTUDIO_ALLOWED_MODELS or inference.allowed_models).",
    )


def _names_to_models(models: Sequence[ModelInfo]) -> dict[str, ModelInfo]:
    """Every id and loaded instance id of ``models``, with the model it names."""
    by_name: dict[str, ModelInfo] = {}
    for model in models:
        by_name.setdefault(model.id, model)
        for instance in model.instance_ids:
            by_name.setdefault(instance, model)
    return by_name


def _loaded_default(models: Sequence[ModelInfo], kind: ModelKind) -> ModelInfo | None:
    fitting = [m for m in models if _kind_matches(m, kind)]
    loaded = [m for m in fitting if m.state != "not-loaded"]
    if kind == "embeddings":
        # Embedding models load just in time: a downloaded one will do.
        preferred = [m for m in loaded if m.is_embedding] or loaded
        preferred = preferred or [m for m in fitting if m.is_embedding]
        return preferred[0] if preferred else None
    return loaded[0] if loaded else None


def resolve_model_name(
    name: str | None,
    models: Sequence[ModelInfo],
    *,
    kind: ModelKind = "chat",
    allowed: Sequence[str] | None = None,
) -> ModelInfo:
    """Turn what the user typed into one of the server's models.

    No name (or ``local-model``) means the loaded model; otherwise an exact id
    (case-insensitive) or loaded instance id, else a unique substring.

    Raises:
        NoModelLoadedError, ModelNotFoundError, AmbiguousModelError,
        ModelNotAllowedError: each listing what is available.
    """
    available = [m for m in models if _kind_matches(m, kind)]
    noun = "embedding model" if kind == "embeddings" else "model"
    if name is None or is_loaded_model_alias(name):
        chosen = _loaded_default(models, kind)
        if chosen is None:
            downloaded = _names(available)
            raise NoModelLoadedError(
                f"No {noun} is loaded in LM Studio, and none was named "
                f"(downloaded: {_list_text(downloaded)}).",
                available=downloaded,
                hint="Load one with `lms load <model>` (or in LM Studio's Developer tab), "
                "or name one, e.g. -m lmstudio/<model> or model=...",
            )
    else:
        # Models of the kind asked for come first: "gemma" names the chat model, not
        # text-embedding-gemma. The others still match, for a clear "wrong kind" error.
        match: str | None = None
        ambiguous: list[str] = []
        by_name: dict[str, ModelInfo] = {}
        for pool in (available, models):
            by_name = _names_to_models(pool)
            match, ambiguous = _match(name, list(by_name))
            if match is not None or ambiguous:
                break
        if match is None:
            if ambiguous:
                raise AmbiguousModelError(
                    f"Model name {name!r} matches {len(ambiguous)} models: "
                    f"{_list_text(ambiguous)}.",
                    candidates=ambiguous,
                    hint="Use more of the id, or the full id.",
                )
            raise ModelNotFoundError(
                f"LM Studio has no {noun} {name!r}. Available: {_list_text(_names(available))}.",
                available=_names(available),
                hint="Download it with `lms get <model>`, list models with `lms ls`, "
                "or use one of the ids above.",
            )
        chosen = by_name[match]
        if match != chosen.id:
            # A loaded instance id names that instance: keep it.
            chosen = replace(chosen, id=match)
    if allowed:
        require_allowed(chosen.id, allowed)
    if kind == "embeddings" and chosen.type not in ("embeddings", "unknown"):
        embedding_ids = [m.id for m in models if m.is_embedding]
        raise ModelNotFoundError(
            f"{chosen.id!r} is a {chosen.type} model, not an embedding model "
            f"(embedding models: {_list_text(embedding_ids)}).",
            available=embedding_ids,
            hint="Use an embedding model, e.g. text-embedding-nomic-embed-text-v1.5 "
            "(`lms get nomic-embed-text`).",
        )
    if kind == "chat" and chosen.is_embedding:
        chat_ids = [m.id for m in models if not m.is_embedding]
        raise ModelNotFoundError(
            f"{chosen.id!r} is an embedding model: it cannot chat "
            f"(chat models: {_list_text(chat_ids)}).",
            available=chat_ids,
            hint="Use a chat model for prompts, and this one for embeddings.",
        )
    return chosen
