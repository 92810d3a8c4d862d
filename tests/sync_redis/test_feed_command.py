"""``quantdesk feed`` as an operator runs it."""

from __future__ import annotations

import subprocess
import sys

import msgspec
import redis

from quantdesk.core.model import Market


def _quantdesk(*args: str, timeout: float = 30) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "quantdesk.cli", *args], capture_output=True, text=True, timeout=timeout
    )


def test_feed_publishes_markets_state_and_streams(redis_url, ns):
    proc = _quantdesk("feed", "--redis", redis_url, "--namespace", ns, "--rate", "3000", "--duration", "1.5", "--quiet")
    assert proc.returncode == 0, proc.stderr
    r = redis.Redis.from_url(redis_url)
    markets = msgspec.msgpack.decode(r.get(f"qd:{{{ns}}}:markets"), type=list[Market])
    assert {m.venue for m in markets} == {"sim-drift", "sim-jup"}
    assert r.xlen(f"qd:{{{ns}}}:stream:book") > 500
    for m in markets:
        state = r.hgetall(f"qd:{{{ns}}}:state:{m.venue}:{m.symbol}")
        assert {b"book", b"funding", b"oracle"} <= set(state), m.key
    assert r.get(f"qd:{{{ns}}}:heartbeat")
    r.close()


def test_feed_bad_input_is_a_message_not_a_traceback():
    proc = _quantdesk("feed", "--redis", "http://desk:hunter2@h:6379")
    assert proc.returncode == 2
    assert "use redis://, rediss:// (TLS) or unix://" in proc.stderr
    assert "Traceback" not in proc.stderr and "hunter2" not in proc.stderr
    proc = _quantdesk("feed", "--redis", "redis://127.0.0.1:6379/0", "--namespace", "no spaces")
    assert proc.returncode == 2 and "namespace" in proc.stderr and "Traceback" not in proc.stderr


def test_feed_without_redis_keeps_running_and_says_why():
    proc = _quantdesk("feed", "--redis", "redis://desk:hunter2@127.0.0.1:1/0", "--rate", "100", "--duration", "1.2")
    assert proc.returncode == 0
    assert "unreachable" in proc.stderr
    assert "hunter2" not in proc.stderr and "Traceback" not in proc.stderr
