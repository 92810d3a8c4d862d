"""Backoff, Retry-After parsing and host failover rules of the Drift adapter."""

from __future__ import annotations

import asyncio
import email.utils
import random
import socket
import time

import pytest

from quantdesk.venues.drift.backoff import backoff_s
from quantdesk.venues.drift.config import DriftDeployment, default_deployment
from quantdesk.venues.drift.health import FeedHealth
from quantdesk.venues.drift.market_data import DlobFeed
from quantdesk.venues.drift.rest import MAX_RETRY_AFTER_S, HostsUnavailable, HttpHosts, retry_after_s


def closed_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def test_backoff_doubles_with_jitter_and_caps():
    rand = random.Random(1)
    for attempt in range(12):
        base = min(8.0, 0.25 * 2**attempt)
        d = backoff_s(attempt, 0.25, 8.0, rand)
        assert 0.5 * base <= d <= base
    assert backoff_s(10_000, 0.25, 8.0, rand) <= 8.0  # no overflow on long outages


def test_retry_after_seconds_dates_and_garbage():
    assert retry_after_s("3") == 3.0
    assert retry_after_s(" 0 ") == 0.0
    assert retry_after_s("-5") == 0.0
    assert retry_after_s("99999999") == MAX_RETRY_AFTER_S
    now = time.time()
    date = email.utils.formatdate(now + 20, usegmt=True)
    assert 18 <= retry_after_s(date, now=now) <= 21
    for bad in (None, "", "soon", "nan"):
        assert retry_after_s(bad) is None


async def test_websocket_reconnects_back_off_exponentially():
    port = closed_port()
    d = DriftDeployment(**{
        **default_deployment("drift").model_dump(),
        "dlob_ws_url": f"ws://127.0.0.1:{port}/ws",
        "dlob_url": f"http://127.0.0.1:{port}",
        "watchlist": ["SOL-PERP"],
        "backoff_initial_s": 0.1,
        "backoff_max_s": 1.6,
        "http_timeout_s": 1.0,
    })
    delays: list[float] = []

    async def record(delay: float) -> None:
        delays.append(delay)
        if len(delays) >= 7:
            raise asyncio.CancelledError
        await asyncio.sleep(0)

    health = FeedHealth()
    feed = DlobFeed(d, health, sleep=record)
    with pytest.raises(asyncio.CancelledError):
        await feed._ws_loop()
    for n, delay in enumerate(delays):
        base = min(1.6, 0.1 * 2**n)
        assert 0.5 * base <= delay <= base, (n, delay)
    assert health.errors == 7 and health.reconnects == 6
    assert feed.state == "down" and "unreachable" in feed.status_message and "reconnecting" in feed.status_message


async def test_all_hosts_down_gives_a_clear_error_after_bounded_attempts():
    health = FeedHealth()
    waits: list[float] = []

    async def record(delay: float) -> None:
        waits.append(delay)

    hosts = HttpHosts(
        [f"http://127.0.0.1:{closed_port()}", f"http://127.0.0.1:{closed_port()}"],
        health, name="RPC", backoff_initial_s=0.05, backoff_max_s=0.1, max_attempts=4, sleep=record,
    )
    with pytest.raises(HostsUnavailable, match="RPC unavailable after 4 attempts"):
        await hosts.get("/")
    await hosts.aclose()
    assert health.errors == 4 and health.failovers >= 1
    assert all(w <= 0.1 for w in waits)


def test_velocity_with_an_idl_is_not_read_only():
    v = default_deployment("velocity")
    assert v.read_only_reason() is not None and "idl_path" in v.read_only_reason()
    v2 = DriftDeployment(**{**v.model_dump(), "idl_path": "/opt/velocity/idl.json"})
    assert v2.read_only_reason() is None and v2.has_idl
