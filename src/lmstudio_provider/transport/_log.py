"""The package logger; ``LMSTUDIO_LOG=debug`` turns on request/response summaries.

Summaries never contain the API key, headers or message bodies.
"""

from __future__ import annotations

import logging
import os

__all__ = ["configure_from_env", "logger"]

logger = logging.getLogger("lmstudio_provider")
_LEVELS = {"debug": logging.DEBUG, "info": logging.INFO, "warning": logging.WARNING}
_configured = False


def configure_from_env() -> None:
    """Honour ``LMSTUDIO_LOG`` (debug, info, warning) once per process."""
    global _configured
    if _configured:
        return
    _configured = True
    level = _LEVELS.get(os.environ.get("LMSTUDIO_LOG", "").strip().lower())
    if level is None:
        return
    logger.setLevel(level)
    if not logger.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(asctime)s lmstudio_provider %(message)s"))
        logger.addHandler(handler)
