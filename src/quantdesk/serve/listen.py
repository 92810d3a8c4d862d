"""``--listen HOST:PORT``, read the same way by every server."""

from __future__ import annotations


def parse_listen(text: str) -> tuple[str, int]:
    """``HOST:PORT`` (``[::1]:8710`` for IPv6) as (host, port)."""
    host, sep, port = text.strip().rpartition(":")
    host = host.strip("[]")
    if not sep or not host or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise ValueError(f"listen address {text!r} is not HOST:PORT, e.g. 127.0.0.1:8710")
    return host, int(port)
