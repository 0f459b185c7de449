"""Model information and model-name resolution (pure: no I/O).

LM Studio describes its models in three dialects: ``/api/v1/models`` (0.4+),
``/api/v0/models`` (0.3.6+) and the OpenAI-compatible ``/v1/models`` that every
server has. All three parse to ``ModelInfo``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from lmstudio_provider.transport._errors import (
    AmbiguousModelError,
    LMStudioError,
    ModelNotAllowedError,
    ModelNotFoundError,
    NoModelLoadedError,
    ProtocolError,
)

__all__ = [
    "LOADED_MODEL_ALIASES",
    "LoadedInstance",
    "ModelInfo",
    "ModelKind",
    "ModelList",
    "find_model",
    "is_loaded_model_alias",
    "parse_model_list",
    "parse_models",
    "resolve_model_name",
    "same_model",
]

ModelType = Literal["llm", "vlm", "embeddings", "unknown"]
ModelState = Literal["loaded", "not-loaded", "unknown"]
ModelKind = Literal["chat", "embeddings"]
Dialect = Literal["v1", "v0", "openai"]
LOADED_MODEL_ALIASES = frozenset({"", "local-model"})
SHOWN_LOAD_OPTIONS = (
    "flash_attention",
    "eval_batch_size",
    "num_experts",
    "offload_kv_cache_to_gpu",
)


@dataclass(frozen=True, slots=True)
class LoadedInstance:
    """One loaded instance of a model (LM Studio 0.4+ can load a model several times).

    ``id`` is what a request names to reach this instance: the model key, the key
    with ``:N``, or an identifier chosen at load time. ``config`` is LM Studio's
    load configuration as it reports it (``context_length``, ``flash_attention``, ...).
    """

    id: str
    model: str
    context_length: int | None = None
    config: dict[str, Any] = field(default_factory=dict)

    def config_summary(self) -> str:
        """The load options that tell instances apart, as ``flash_attention=False, ...``
        ("" when LM Studio reports none of them)."""
        shown = [
            f"{name}={self.config[name]}" for name in SHOWN_LOAD_OPTIONS if name in self.config
        ]
        return ", ".join(shown)

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "model": self.model,
            "context_length": self.context_length,
            "config": dict(self.config),
        }


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
    # Their load configs (dicts): left out of equality and hashing, ``instance_ids`` counts.
    instances: tuple[LoadedInstance, ...] = field(default=(), compare=False)
    instance_of: str | None = None  # set when ``id`` names a loaded instance of this key

    @property
    def is_loaded(self) -> bool:
        return self.state == "loaded"

    @property
    def key(self) -> str:
        """The model's own id, also when ``id`` names one of its loaded instances."""
        return self.instance_of or self.id

    @property
    def answering_ids(self) -> tuple[str, ...]:
        """Every id LM Studio may name in an answer for this model: its key and instances."""
        return (self.key, *self.instance_ids)

    @property
    def is_embedding(self) -> bool:
        return self.type == "embeddings"

    @property
    def supports_vision(self) -> bool:
        return self.type == "vlm" or "vision" in self.capabilities

    @property
    def supports_tools(self) -> bool:
        return "tool_use" in self.capabilities

    def context_summary(self) -> str:
        """The context length as ``loaded/maximum`` tokens when loaded, else the one known
        ("" when neither is)."""
        loaded, maximum = self.loaded_context_length, self.max_context_length
        if loaded and maximum:
            return f"{loaded}/{maximum}"
        return str(loaded or maximum or "")

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
            "instances": [instance.as_dict() for instance in self.instances],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ModelInfo:
        """The inverse of ``as_dict`` (a model list saved as JSON).

        Raises:
            ValueError, TypeError: when ``data`` has no id, or a field of the wrong shape.
        """
        values = {name: data[name] for name in cls.__dataclass_fields__ if name in data}
        if not isinstance(values.get("id"), str):
            raise ValueError("a saved model has no id")
        values["capabilities"] = frozenset(values.get("capabilities") or ())
        values["instance_ids"] = tuple(values.get("instance_ids") or ())
        values["instances"] = tuple(
            LoadedInstance(**instance) for instance in values.get("instances") or ()
        )
        return cls(**values)


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
    key = str(entry.get("key") or entry.get("id"))
    instances = _parse_instances(key, entry.get("loaded_instances"))
    loaded_context = instances[0].context_length if instances else None
    quant = entry.get("quantization")
    return ModelInfo(
        id=key,
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
        instance_ids=tuple(instance.id for instance in instances),
        instances=instances,
    )


def _parse_instances(key: str, raw: Any) -> tuple[LoadedInstance, ...]:
    """``loaded_instances`` of an ``/api/v1/models`` entry; entries without an id are skipped."""
    instances = []
    for item in raw if isinstance(raw, list) else []:
        if not isinstance(item, dict) or not item.get("id"):
            continue
        raw_config = item.get("config")
        config: dict[str, Any] = raw_config if isinstance(raw_config, dict) else {}
        instances.append(
            LoadedInstance(
                id=str(item["id"]),
                model=key,
                context_length=_int_or_none(config.get("context_length")),
                config=dict(config),
            )
        )
    return tuple(instances)


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


def parse_models(dialect: Dialect, body: Any) -> list[ModelInfo]:
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
        earlier = seen.get(info.id)
        if earlier is None:
            seen[info.id] = info
        else:
            seen[info.id] = _merge_repeated(earlier, info)
    return list(seen.values())


def _merge_repeated(earlier: ModelInfo, later: ModelInfo) -> ModelInfo:
    """One entry for an id listed twice (a loaded instance listed apart; LM Link's remote
    copies, which no field tells apart): the first loaded entry, holding every instance
    of both in list order, so that resolution never depends on which copy came first."""
    kept = later if later.is_loaded and not earlier.is_loaded else earlier
    instances = earlier.instances + tuple(
        i for i in later.instances if i.id not in earlier.instance_ids
    )
    known = earlier.instance_ids
    ids = known + tuple(i for i in later.instance_ids if i not in known)
    if ids == kept.instance_ids and instances == kept.instances:
        return kept
    return replace(kept, instance_ids=ids, instances=instances)


@dataclass(frozen=True, slots=True)
class ModelList:
    """A model list and what its endpoint can tell.

    ``dialect``: the endpoint that answered (``v1``: ``/api/v1/models``, ``v0``:
    ``/api/v0/models``, ``openai``: ``/v1/models``). ``reports_types``: the models' types
    (and so vision) are known; ``reports_tools``: their tool use is known.
    """

    models: list[ModelInfo]
    dialect: Dialect
    reports_tools: bool = False

    @property
    def reports_types(self) -> bool:
        return self.dialect != "openai"

    @property
    def served_models(self) -> list[ModelInfo]:
        """The models with the state they are served in, as ``health()`` reports them.

        An OpenAI-style list (``/v1/models``: llama.cpp, vLLM, ...) does not say; its
        server serves every model it lists, so each one is ``"loaded"``. LM Studio's own
        lists say, and are kept as they are.
        """
        if self.reports_types:
            return list(self.models)
        return [
            model if model.is_loaded else replace(model, state="loaded") for model in self.models
        ]


def parse_model_list(dialect: Dialect, body: Any) -> ModelList:
    """``parse_models``, with what the list can tell about its models.

    Raises:
        ProtocolError: if the body is not the shape the endpoint defines.
    """
    models = parse_models(dialect, body)
    # /api/v1 always says which models use tools; /api/v0 since LM Studio 0.3.16.
    entries = body.get("data") if dialect == "v0" else None
    reports_tools = dialect == "v1" or (
        isinstance(entries, list)
        and any(isinstance(entry, dict) and "capabilities" in entry for entry in entries)
    )
    return ModelList(models, dialect, reports_tools)


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


def match_name(name: str, candidates: Sequence[str]) -> tuple[str | None, list[str]]:
    """Exact (case-insensitive) match, else unique substring; returns (match, ambiguous)."""
    return _match(name, candidates)


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
    if _instance_suffix(name) and any(
        _strip_instance(name).lower() == entry.lower() for entry in allowed
    ):
        return name  # the :N instance of an allowed model
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


def is_allowed(model_id: str, allowed: Sequence[str]) -> bool:
    """Whether ``model_id`` is one of ``allowed``, up to case and a ``:N`` instance suffix."""
    wanted = _strip_instance(model_id).lower()
    return any(_strip_instance(entry).lower() == wanted for entry in allowed)


def require_allowed(model_id: str, allowed: Sequence[str], *, key: str | None = None) -> None:
    """Refuse a resolved model id that is not one of ``allowed_models``.

    Unlike ``check_allowed`` (for what the user typed), no substring matching: the
    id must be an allowed one, up to case and a ``:N`` instance suffix. ``key``: the
    model whose loaded instance ``model_id`` names (an instance of an allowed model is
    allowed).

    Raises:
        ModelNotAllowedError: listing the allowed models.
    """
    if any(is_allowed(name, allowed) for name in (model_id, key) if name):
        return
    raise ModelNotAllowedError(
        f"Model {model_id!r} is not in allowed_models ({_list_text(list(allowed))}); "
        "nothing was sent.",
        allowed=allowed,
        hint="Name an allowed model, or extend allowed_models "
        "(LMSTUDIO_ALLOWED_MODELS or inference.allowed_models).",
    )


def find_instance(name: str, models: Sequence[ModelInfo]) -> ModelInfo | None:
    """The model one of whose loaded instances is named ``name`` exactly (up to case)."""
    lowered = name.strip().lower()
    for model in models:
        if any(instance.lower() == lowered for instance in model.instance_ids):
            return model
    return None


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


# What LM Studio and llama.cpp's server answer when asked to embed with a chat model.
NOT_EMBEDDING_SIGNS = ("model is not embedding", "embedding=true")


def _not_for_embeddings(
    model_id: str, what: str, models: Sequence[ModelInfo], server_message: str | None = None
) -> ModelNotFoundError:
    embedding_ids = [m.id for m in models if m.is_embedding]
    return ModelNotFoundError(
        f"{model_id!r} is {what}, not an embedding model "
        f"(embedding models: {_list_text(embedding_ids)}).",
        available=embedding_ids,
        hint="Use an embedding model, e.g. text-embedding-nomic-embed-text-v1.5 "
        "(`lms get nomic-embed-text`).",
        server_message=server_message,
    )


def not_an_embedding_model(
    model: ModelInfo, models: Sequence[ModelInfo], server_message: str | None
) -> ModelNotFoundError | None:
    """The server refused to embed with ``model`` because it is a chat model (its type was
    not listed, so resolution could not tell): the same error as a listed chat model.

    A model listed as an embedding model keeps the server's own error.
    """
    if model.is_embedding or server_message is None:
        return None
    if not any(sign in server_message.lower() for sign in NOT_EMBEDDING_SIGNS):
        return None
    return _not_for_embeddings(model.id, "a chat model", models, server_message)


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
            chosen = replace(chosen, id=match, instance_of=chosen.id)
    if allowed:
        require_allowed(chosen.id, allowed, key=chosen.key)
    if kind == "embeddings" and chosen.type not in ("embeddings", "unknown"):
        raise _not_for_embeddings(chosen.id, f"a {chosen.type} model", models)
    if kind == "chat" and chosen.is_embedding:
        chat_ids = [m.id for m in models if not m.is_embedding]
        raise ModelNotFoundError(
            f"{chosen.id!r} is an embedding model: it cannot chat "
            f"(chat models: {_list_text(chat_ids)}).",
            available=chat_ids,
            hint="Use a chat model for prompts, and this one for embeddings.",
        )
    return chosen


def find_model(name: str, models: Sequence[ModelInfo]) -> ModelInfo | None:
    """The model ``name`` names among ``models`` (all of one kind), else None.

    ``resolve_model_name``'s rules (exact id, loaded instance id, unique part; no name or
    ``local-model``: the loaded one), for a caller that only wants to know.
    """
    embeddings = bool(models) and all(model.is_embedding for model in models)
    try:
        return resolve_model_name(name, models, kind="embeddings" if embeddings else "chat")
    except LMStudioError:
        return None
