"""A source's URL with its API key: sent to the server, shown to nobody.

The key comes from the environment variable the config names. It goes into
the request (``{api_key}`` in the URL, else a query parameter) and nowhere
else: ``shown`` is the URL without it, ``scrub`` takes it out of any text (an
error from the HTTP client quotes the URL), and the HTTP client's own log
lines are scrubbed too (httpx logs every request line at INFO).
"""

from __future__ import annotations

import logging
from urllib.parse import urlencode, urlsplit, urlunsplit

MASK = "***"
PLACEHOLDER = "{api_key}"


class _ScrubKeys(logging.Filter):
    """Masks every registered key in a library's log records."""

    def __init__(self) -> None:
        super().__init__()
        self.keys: set[str] = set()

    def filter(self, record: logging.LogRecord) -> bool:
        if not self.keys:
            return True
        text = record.getMessage()
        clean = text
        for key in self.keys:
            clean = clean.replace(key, MASK)
        if clean != text:
            record.msg, record.args = clean, None
        return True


_SCRUB = _ScrubKeys()
_LIBRARY_LOGGERS = ("httpx", "httpcore")


def _register(key: str) -> None:
    _SCRUB.keys.add(key)
    for name in _LIBRARY_LOGGERS:
        logger = logging.getLogger(name)
        if _SCRUB not in logger.filters:
            logger.addFilter(_SCRUB)


class SourceAddress:
    __slots__ = ("_template", "_key", "_param")

    def __init__(self, url: str, key: str | None = None, param: str = "auth_token") -> None:
        self._template = url
        self._key = key or None
        self._param = param
        if self._key:
            _register(self._key)

    @property
    def has_key(self) -> bool:
        return self._key is not None

    def request_url(self) -> str:
        """The URL to send, key included."""
        if self._key is None:
            return self._template.replace(PLACEHOLDER, "")
        if PLACEHOLDER in self._template:
            return self._template.replace(PLACEHOLDER, self._key)
        parts = urlsplit(self._template)
        query = parts.query + ("&" if parts.query else "") + urlencode({self._param: self._key})
        return urlunsplit(parts._replace(query=query))

    @property
    def shown(self) -> str:
        """The URL as a trader may see it: the key's place says ``***``."""
        return self._template.replace(PLACEHOLDER, MASK) if self._key else self._template.replace(PLACEHOLDER, "")

    def scrub(self, text: str) -> str:
        return text.replace(self._key, MASK) if self._key else text

    def __repr__(self) -> str:
        return f"SourceAddress({self.shown!r}, key={'set' if self._key else 'none'})"

    __str__ = __repr__
