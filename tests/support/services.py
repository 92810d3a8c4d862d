"""What a test does when a server it needs is missing, and free local ports."""

from __future__ import annotations

import os
import socket

import pytest


def unavailable(why: str) -> None:
    """Skip on a developer machine; fail when CI is set, where every server is required."""
    if os.environ.get("CI"):
        pytest.fail(f"CI is set, so this server is required: {why}")
    pytest.skip(why)


def free_port() -> int:
    """A local TCP port nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def closed_port() -> int:
    """A local port with nothing listening on it."""
    return free_port()
