"""Keyword rules of the Python front ends, written once.

Which keywords a chat call takes (``ChatParamFields`` and the request fields), where
an unknown one goes (on to LM Studio, with a warning at the user's line), which are
refused as credentials, and pydantic's findings as one ``ConfigError`` that shows no
secret. Messages name the front end's class (``owner``) and its Python keywords.
"""

from __future__ import annotations

import os
import sys
import warnings
from collections.abc import Collection, Mapping, Sequence
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from lmstudio_provider.transport._config import closest_name, looks_like_token, looks_secret
from lmstudio_provider.transport._errors import ConfigError, LMStudioError
from lmstudio_provider.transport._params import ChatOptions, ChatParamFields

REQUEST_FIELDS = ("tools", "tool_choice", "response_format")
# What ``chat``/``stream_chat`` take besides ``extra_body``: the parameters and the fields.
OPTION_NAMES = frozenset((*ChatParamFields.model_fields, *REQUEST_FIELDS))
# Frames a warning skips besides the caller's own packages: ours, pydantic's, and
# asyncio's (an ``ainvoke`` runs in a task of its own, away from the caller's frame).
_PACKAGE_DIR = os.path.join(Path(__file__).parents[1], "")
_ALWAYS_SKIPPED = ("pydantic", "asyncio")


def _user_stacklevel(skip_packages: Sequence[str]) -> int:
    """The ``stacklevel`` for a ``warnings.warn`` in this function's caller that points at
    the first frame outside the libraries; none there: at the caller's caller."""
    dirs = [_PACKAGE_DIR]
    for name in (*_ALWAYS_SKIPPED, *skip_packages):
        if (module := sys.modules.get(name)) is not None and module.__file__:
            dirs.append(os.path.join(Path(module.__file__).parent, ""))
    prefixes = tuple(dirs)
    level, frame = 2, sys._getframe(2)
    while frame.f_code.co_filename.startswith(prefixes):
        if frame.f_back is None:
            return 2
        level, frame = level + 1, frame.f_back
    return level


def field_keywords(model: type[BaseModel]) -> frozenset[str]:
    """The keywords a pydantic model's constructor takes: its field names and aliases."""
    fields = model.model_fields
    return frozenset(fields) | {field.alias for field in fields.values() if field.alias}


def _did_you_mean(name: str, known: Collection[str]) -> str:
    close = closest_name(name, sorted(known))
    return f" (did you mean {close}?)" if close else ""


def refuse_credential_keywords(
    keywords: Mapping[str, Any], known: Collection[str], *, owner: str
) -> None:
    """Refuse an unknown keyword that looks like a credential (its name or its value): it
    would otherwise travel in request bodies and serialisations.

    Raises:
        ConfigError: naming the keyword and ``owner``, never its value.
    """
    for name, value in keywords.items():
        if name in known or not (looks_secret(name) or looks_like_token(value)):
            continue
        extra = (
            "; put a deliberate extra request field in extra_body" if "extra_body" in known else ""
        )
        raise ConfigError(
            f"{name} is not a {owner} parameter{_did_you_mean(name, known)} and looks like a "
            "credential, so it is refused: it is neither sent nor kept (its value is not "
            "shown).",
            hint=f"Pass the server's token as api_key=... when constructing {owner} (or set "
            f"LMSTUDIO_API_KEY){extra}.",
        )


def collect_unknown_keywords(
    values: dict[str, Any],
    known: Collection[str],
    *,
    owner: str,
    into: str = "model_kwargs",
    skip_packages: Sequence[str] = (),
) -> dict[str, Any]:
    """Constructor keywords with the unknown ones moved into ``values[into]`` (sent in the
    request body), each with a ``UserWarning`` at the user's line; ``values`` is kept."""
    unknown = [name for name in values if name not in known]
    if not unknown:
        return values
    values = dict(values)
    extra = dict(values.get(into) or {})
    for name in unknown:
        warnings.warn(
            f"{name} is not a {owner} field{_did_you_mean(name, known)}: it is sent in the "
            f"request body ({into}). Pass it in {into} to silence this warning.",
            UserWarning,
            stacklevel=_user_stacklevel(skip_packages),
        )
        extra[name] = values.pop(name)
    values[into] = extra
    return values


def split_call_options(
    defaults: Mapping[str, Any],
    call: Mapping[str, Any],
    *,
    owner: str,
    also: Collection[str] = (),
    skip_packages: Sequence[str] = (),
) -> ChatOptions:
    """One call's ``chat`` options: ``defaults`` (an instance's settings) overridden by the
    call's keywords that are set.

    Parameters and request fields override; ``extra_body`` is merged into the defaults'
    ``extra_body``; any other keyword is sent in the request body too, with a
    ``UserWarning`` at the user's line. ``also`` names the keywords the front end takes
    itself (listed in the warning as per-call parameters).

    Raises:
        ConfigError: for an unknown keyword that looks like a credential (nothing is sent).
    """
    options: dict[str, Any] = {k: v for k, v in defaults.items() if k != "extra_body"}
    extra = dict(defaults.get("extra_body") or {})
    unknown: dict[str, Any] = {}
    for name, value in call.items():
        if name in OPTION_NAMES:
            if value is not None:
                options[name] = value
        elif name == "extra_body":
            extra.update(value or {})
        else:
            unknown[name] = value
    known = OPTION_NAMES | {"extra_body", *also}
    for name, value in unknown.items():
        refuse_credential_keywords({name: value}, known, owner=owner)
        warnings.warn(
            f"{name} is not a {owner} parameter{_did_you_mean(name, known)}: it is sent in the "
            f"request body as it is. Per-call parameters: {', '.join(sorted(known))}. Pass "
            f"deliberate extras in extra_body (extra_body={{{name!r}: ...}}) to silence this "
            "warning.",
            UserWarning,
            stacklevel=_user_stacklevel(skip_packages),
        )
    extra.update(unknown)
    if extra:
        options["extra_body"] = extra
    return options  # type: ignore[return-value]


def config_error_from_validation(error: ValidationError, *, owner: str) -> LMStudioError:
    """The error a validator raised (``ConfigError``, ``InvalidParameterError``), else one
    ``ConfigError`` for pydantic's own findings; never a value that may be a secret."""
    problems = []
    for item in error.errors():
        cause = (item.get("ctx") or {}).get("error")
        if isinstance(cause, LMStudioError):
            return cause
        where = ".".join(str(part) for part in item["loc"]) or "value"
        given = item.get("input")
        shown = "" if looks_secret(where) or looks_like_token(given) else f"={given!r}"
        problems.append(f"{where}{shown}: {item['msg'].removeprefix('Value error, ')}")
    return ConfigError(
        f"Invalid {owner} arguments: " + "; ".join(problems),
        hint=f"Fix the arguments named above; see help({owner}) for each field.",
    )
