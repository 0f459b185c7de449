"""What the plugin shows on stderr while LM Studio loads or downloads a model: on a
terminal a spinner or click's progress bar, elsewhere one ``key=value`` line per report."""

from __future__ import annotations

import itertools
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from lmstudio_provider.transport import DownloadProgress


class Spinner(threading.Thread):
    """``| Loading <model>... 3s`` on stderr, from now until ``stop()`` erases it.

    ``model`` is asked on every tick: nothing is shown while it returns None (a
    stream knows only once it is under way whether it loads its model).
    """

    def __init__(self, model: Callable[[], str | None]) -> None:
        super().__init__(name="lmstudio-spinner", daemon=True)
        self.model = model
        self.stopped = threading.Event()
        self.shown = False
        self.start()

    def run(self) -> None:
        started = time.monotonic()
        for frame in itertools.cycle("|/-\\"):
            if self.stopped.wait(0.1):
                return
            if (model := self.model()) is not None:
                self.shown = True
                elapsed = time.monotonic() - started
                click.echo(f"\r{frame} Loading {model}... {elapsed:.0f}s", err=True, nl=False)

    def stop(self) -> None:
        """Stop and erase the line (idempotent)."""
        if not self.stopped.is_set():
            self.stopped.set()
            self.join()
            if self.shown:
                click.echo("\r\x1b[K", err=True, nl=False)


@contextmanager
def loading_notice(model: Callable[[], str | None]) -> Iterator[Spinner | None]:
    """A spinner on a terminal's stderr while ``model()`` names a model; else nothing."""
    spinner = Spinner(model) if sys.stderr.isatty() else None
    try:
        yield spinner
    finally:
        if spinner is not None:
            spinner.stop()


def show_download(model: str, reports: Iterable[DownloadProgress]) -> DownloadProgress | None:
    """Show each report on stderr as it comes; returns the last one."""
    last = None
    bar: Any = None
    try:
        for last in reports:
            if not sys.stderr.isatty():
                click.echo(last.as_line(), err=True)
            elif last.total_bytes is not None:
                bar = bar or click.progressbar(
                    length=last.total_bytes,
                    label=f"Downloading {model}",
                    show_eta=False,  # the report's own ETA, from LM Studio's speed
                    item_show_func=lambda report: report and report.summary(),
                    file=sys.stderr,
                )
                done = last.total_bytes if last.done else last.downloaded_bytes or 0
                bar.update(max(0, done - bar.pos), last)
    finally:
        if bar is not None:
            bar.render_finish()
    return last
