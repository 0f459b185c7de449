"""What the llm plugin shows on stderr while LM Studio loads or downloads a model.

On a terminal: a spinner with the elapsed time for loads, click's progress bar with
bytes, speed and ETA for downloads. Elsewhere (a pipe, a file): plain ``key=value``
lines, one per report, that a script can parse. Nothing here talks to LM Studio.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self, TextIO

import click

if TYPE_CHECKING:
    from lmstudio_provider.transport import DownloadProgress

__all__ = ["DownloadDisplay", "Spinner", "human_bytes", "loading_notice", "stderr_is_terminal"]

FRAMES = "|/-\\"
TICK_SECS = 0.1


def stderr_is_terminal() -> bool:
    return sys.stderr.isatty()


def human_bytes(count: float | None) -> str:
    """``1.2 GB``-style sizes (decimal units, as LM Studio shows them)."""
    if count is None:
        return "?"
    size = float(count)
    for unit in ("B", "kB", "MB", "GB"):
        if abs(size) < 1000 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1000
    return f"{size:.1f} TB"  # pragma: no cover


def human_secs(secs: float | None) -> str:
    if secs is None:
        return "?"
    whole = round(secs)
    minutes, seconds = divmod(whole, 60)
    hours, minutes = divmod(minutes, 60)
    if hours:
        return f"{hours}h{minutes:02d}m"
    return f"{minutes}m{seconds:02d}s" if minutes else f"{seconds}s"


class Spinner:
    """``| Loading <model>... 3s`` on a terminal's stderr, redrawn until stopped.

    ``model`` is asked on every tick: nothing is shown while it returns None (a
    stream knows only once it is under way whether it loads its model).
    """

    def __init__(self, model: Callable[[], str | None], *, file: TextIO | None = None) -> None:
        self.model = model
        self.file = file or sys.stderr
        self.started = time.monotonic()
        self._stop = threading.Event()
        self._shown = False
        self._thread = threading.Thread(target=self._run, name="lmstudio-spinner", daemon=True)

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def stop(self) -> None:
        """Stop and erase the line (idempotent)."""
        if self._stop.is_set():
            return
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()
        if self._shown:
            self.file.write("\r\x1b[K")
            self.file.flush()

    def _run(self) -> None:
        frame = 0
        while not self._stop.wait(TICK_SECS):
            model = self.model()
            if model is None:
                continue
            self._shown = True
            elapsed = time.monotonic() - self.started
            self.file.write(f"\r{FRAMES[frame % 4]} Loading {model}... {elapsed:.0f}s")
            self.file.flush()
            frame += 1


@contextmanager
def loading_notice(model: Callable[[], str | None]) -> Iterator[Spinner | None]:
    """A spinner on a terminal's stderr while ``model()`` names a model; else nothing."""
    if not stderr_is_terminal():
        yield None
        return
    with Spinner(model) as spinner:
        yield spinner


class DownloadDisplay:
    """Shows download progress: click's bar on a terminal, ``key=value`` lines elsewhere."""

    def __init__(self, model: str) -> None:
        self.model = model
        self.terminal = stderr_is_terminal()
        self.file = sys.stderr
        self._bar: Any = None
        self._shown_bytes = 0
        self._last: DownloadProgress | None = None

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._bar is not None:
            self._bar.render_finish()

    def show(self, progress: DownloadProgress) -> None:
        self._last = progress
        if not self.terminal:
            self.file.write(self._line(progress) + "\n")
            self.file.flush()
            return
        if progress.total_bytes is None:
            return
        if self._bar is None:
            self._bar = click.progressbar(
                length=progress.total_bytes,
                label=f"Downloading {self.model}",
                show_eta=False,
                show_percent=True,
                item_show_func=self._info,
                file=self.file,
            )
            self._bar.render_progress()
        done = progress.total_bytes if progress.done else progress.downloaded_bytes or 0
        self._bar.update(max(0, done - self._shown_bytes), progress)
        self._shown_bytes = max(self._shown_bytes, done)

    @staticmethod
    def _info(progress: DownloadProgress | None) -> str | None:
        if progress is None:
            return None
        speed = f"{human_bytes(progress.bytes_per_second)}/s" if progress.bytes_per_second else ""
        eta = f"ETA {human_secs(progress.eta_secs)}" if progress.eta_secs is not None else ""
        sizes = f"{human_bytes(progress.downloaded_bytes)}/{human_bytes(progress.total_bytes)}"
        return "  ".join(part for part in (sizes, speed, eta) if part)

    @staticmethod
    def _line(progress: DownloadProgress) -> str:
        fields = {
            "status": progress.status,
            "downloaded_bytes": progress.downloaded_bytes,
            "total_bytes": progress.total_bytes,
            "bytes_per_second": progress.bytes_per_second,
            "eta_secs": None if progress.eta_secs is None else round(progress.eta_secs, 1),
        }
        return " ".join(
            f"{name}={'-' if value is None else value}" for name, value in fields.items()
        )
