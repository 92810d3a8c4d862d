"""Structured logs: ``--log-format json|console``, one event per line.

structlog renders both QuantDesk's own events (``get_logger().info("feed.status",
venue=..., events=...)``) and every standard-library ``logging`` record of the
venues and libraries, so a JSON log is JSON on every line. Before rendering,
:func:`redact` masks secrets: values of secret-named fields (token, password,
jwt_secret, ...), passwords inside URLs, bearer tokens and JWTs anywhere in a
message, and the configured secret values themselves.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Iterable, MutableMapping
from typing import Any, Literal, TextIO

import structlog
from structlog.typing import EventDict, Processor, WrappedLogger

__all__ = ["LOG_FORMATS", "MASK", "Redactor", "configure_logging", "get_logger"]

LOG_FORMATS = ("console", "json")
MASK = "***"

_SECRET_KEY = re.compile(r"secret|token|password|passwd|authorization|api_?key|private_?key|keypair|credential|dsn_password", re.I)
_URL_PASSWORD = re.compile(r"(?P<head>[a-z][a-z0-9+.-]*://[^:/@\s]*:)[^@\s/]+@", re.I)
_QUERY_PASSWORD = re.compile(r"(?P<head>[?&](?:password|token|secret)=)[^&\s]+", re.I)
_BEARER = re.compile(r"(?P<head>bearer\s+)[A-Za-z0-9._~+/=-]+", re.I)
_JWT = re.compile(r"eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]+")


class Redactor:
    """A structlog processor masking secrets in every field of an event."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        # longest first, so a secret containing another is masked whole; short strings would mask noise
        self.secrets = sorted({s for s in secrets if s and len(s) >= 6}, key=len, reverse=True)

    def text(self, value: str) -> str:
        for secret in self.secrets:
            value = value.replace(secret, MASK)
        value = _URL_PASSWORD.sub(rf"\g<head>{MASK}@", value)
        value = _QUERY_PASSWORD.sub(rf"\g<head>{MASK}", value)
        value = _BEARER.sub(rf"\g<head>{MASK}", value)
        return _JWT.sub(MASK, value)

    def value(self, key: str, value: Any) -> Any:
        if _SECRET_KEY.search(key) and value not in (None, "", False):
            return MASK
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, MutableMapping):
            return {k: self.value(str(k), v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [self.value(key, v) for v in value]
        if isinstance(value, (int, float, bool)) or value is None:
            return value
        return self.text(str(value))  # objects are rendered by str(): scrub what they say

    def __call__(self, logger: WrappedLogger, name: str, event: EventDict) -> EventDict:
        return {k: self.value(k, v) if k != "event" else self.text(str(v)) for k, v in event.items()}


def configure_logging(
    fmt: Literal["console", "json"] = "console",
    *,
    secrets: Iterable[str] = (),
    stream: TextIO | None = None,
    handler: logging.Handler | None = None,
    level: int = logging.INFO,
) -> None:
    """Route structlog and the standard ``logging`` to ``stream`` (stderr), or
    to ``handler`` (the terminal's log file), as one redacted event per line,
    JSON or human-readable."""
    if fmt not in LOG_FORMATS:
        raise ValueError(f"--log-format {fmt!r}: use json or console")
    redactor = Redactor(secrets)
    shared: list[Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.format_exc_info,
        redactor,
    ]
    renderer: Processor = (
        structlog.processors.JSONRenderer() if fmt == "json" else structlog.dev.ConsoleRenderer(colors=False)
    )
    structlog.configure(
        processors=[structlog.stdlib.filter_by_level, *shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=False,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
    )
    if handler is None:
        handler = logging.StreamHandler(stream if stream is not None else sys.stderr)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    for old in list(root.handlers):
        if getattr(old, "_quantdesk_structured", False):
            root.removeHandler(old)
    handler._quantdesk_structured = True  # type: ignore[attr-defined]  # marks our handler so a second call replaces it
    root.addHandler(handler)
    root.setLevel(level)


def get_logger(name: str = "quantdesk") -> Any:
    return structlog.stdlib.get_logger(name)
