"""The model runtime's data (``_runtime``): result texts, download progress as text and
as ``key=value`` lines, and the check of instance ids before an unload."""

from __future__ import annotations

import pytest

from lmstudio_provider.transport import (
    DownloadProgress,
    LoadedInstance,
    LoadResult,
    ModelInfo,
    ModelNotFoundError,
)
from lmstudio_provider.transport._runtime import find_loaded_instances, human_bytes, human_secs

QWEN = "qwen/qwen3-4b-2507"


@pytest.mark.parametrize(
    ("result", "text"),
    [
        (
            LoadResult("my-qwen", QWEN, 2.46, 16384, requested_context_length=32768),
            f"Loaded {QWEN} as my-qwen in 2.5 s (context 16384 tokens; 32768 asked).",
        ),
        (
            LoadResult(QWEN, QWEN, 1.0, 8192, requested_context_length=8192),
            f"Loaded {QWEN} as {QWEN} in 1.0 s (context 8192 tokens).",
        ),
        (LoadResult(QWEN, QWEN, None, None), f"Loaded {QWEN} as {QWEN}."),
    ],
)
def test_a_load_result_says_what_was_loaded(result: LoadResult, text: str) -> None:
    assert result.summary() == text


def test_download_progress_for_people_and_for_scripts() -> None:
    moving = DownloadProgress("downloading", "job-1", 600_000, 1_200_000, 400_000.0, 1.5)
    starting = DownloadProgress("downloading", "job-1")

    assert moving.summary() == "600.0 kB/1.2 MB  400.0 kB/s  ETA 2s"
    assert moving.as_line() == (
        "status=downloading downloaded_bytes=600000 total_bytes=1200000 "
        "bytes_per_second=400000.0 eta_secs=1.5"
    )
    assert starting.summary() == "?/?"
    assert starting.as_line() == (
        "status=downloading downloaded_bytes=- total_bytes=- bytes_per_second=- eta_secs=-"
    )


@pytest.mark.parametrize(
    ("count", "text"),
    [
        (None, "?"),
        (0, "0 B"),
        (999, "999 B"),
        (1000, "1.0 kB"),
        (4.2e9, "4.2 GB"),
        (3e12, "3000.0 GB"),
    ],
)
def test_sizes_in_decimal_units(count: float | None, text: str) -> None:
    assert human_bytes(count) == text


@pytest.mark.parametrize(
    ("secs", "text"), [(0, "0s"), (59.4, "59s"), (127, "2m07s"), (3900, "1h05m")]
)
def test_durations(secs: float, text: str) -> None:
    assert human_secs(secs) == text


def test_every_instance_id_is_checked_and_every_missing_one_named() -> None:
    instance = LoadedInstance("my-qwen", QWEN, 8192)
    models = [ModelInfo(QWEN, state="loaded", instance_ids=("my-qwen",), instances=(instance,))]

    assert find_loaded_instances(["MY-QWEN"], models) == [instance]
    with pytest.raises(ModelNotFoundError) as caught:
        find_loaded_instances(["my-qwen", "gemma", "llama"], models)

    assert caught.value.message == (
        "No loaded instance 'gemma', 'llama' (loaded: my-qwen); nothing was sent."
    )
    assert caught.value.available == ["my-qwen"]
