"""The terminal's log file: where tracebacks go instead of the screen."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Literal

import platformdirs

LOG_NAME = "quantdesk.log"
MAX_BYTES = 5_000_000


def log_path() -> Path:
    """``QUANTDESK_LOG_DIR`` if set, else the user log directory."""
    override = os.environ.get("QUANTDESK_LOG_DIR")
    base = Path(override) if override else Path(platformdirs.user_log_dir("quantdesk"))
    return base / LOG_NAME


def setup_file_logging(
    level: int = logging.INFO, *, fmt: Literal["console", "json"] | None = None, secrets: Iterable[str] = ()
) -> Path | None:
    """Send the root logger to the log file (rotated at 5 MB, one backup kept):
    plain lines, or with ``fmt`` structured events (``--log-format``), secrets
    masked.

    Returns the path, or None when the directory cannot be written: the
    terminal still runs, it only loses its log."""
    from logging.handlers import RotatingFileHandler

    path = log_path()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handler = RotatingFileHandler(path, maxBytes=MAX_BYTES, backupCount=1, encoding="utf-8")
    except OSError:
        return None
    if fmt is not None:
        from quantdesk.wiring.logs import configure_logging

        configure_logging(fmt, secrets=secrets, handler=handler, level=level)
        return path
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(level)
    return path
