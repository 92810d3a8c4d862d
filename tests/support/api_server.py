"""The data API under test: a real Uvicorn server on a free port over the
paused simulated session, with tokens minted for it and manual clocks for
token expiry and rate limits."""

from __future__ import annotations

import asyncio
import json
from decimal import Decimal
import socket
from dataclasses import dataclass, field

import httpx
import pytest
import uvicorn

from quantdesk.serve.api.app import ApiOptions, DataApi
from quantdesk.serve.api.auth import mint_token
from quantdesk.serve.api.server import uvicorn_server
from quantdesk.venues.session import Session
from support.app import START_NS, paused_session

SECRET = "test-secret-for-the-data-api-0123456789"
NOW_S = START_NS // 1_000_000_000
WARMUP = 2_000


class Clock:
    """Seconds that move only when told."""

    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@dataclass
class ApiRig:
    session: Session
    api: DataApi
    server: uvicorn.Server
    base: str
    wall: Clock
    mono: Clock
    http: httpx.AsyncClient = field(repr=False)

    @property
    def ws_url(self) -> str:
        return self.base.replace("http://", "ws://") + "/v1/stream"

    def token(self, *scopes: str, ttl: int = 3600) -> str:
        return mint_token(SECRET, list(scopes) or ["market:read"], ttl, int(self.wall.now))

    def bearer(self, *scopes: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(*scopes)}"}

    async def get(self, path: str, *scopes: str, **kw):
        return await self.http.get(path, headers=self.bearer(*scopes), **kw)


async def start_rig(options: ApiOptions, sndbuf: int | None = None) -> ApiRig:
    """``sndbuf``: a small kernel send buffer for every accepted connection (they
    inherit the listener's), so a client that stops reading is felt at once."""
    session = paused_session()
    await session.start()
    session.advance(WARMUP)
    wall, mono = Clock(float(NOW_S)), Clock(0.0)
    api = DataApi(session.cache, session.bus, SECRET, options, wall_clock=wall, mono_clock=mono)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if sndbuf is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, sndbuf)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn_server(api, "127.0.0.1", port)
    server.config.ws_ping_interval = None  # protocol pings would be wall-clock noise in tests
    task = asyncio.create_task(server.serve(sockets=[sock]))
    server._task = task  # type: ignore[attr-defined]
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 10
    while not server.started:
        if task.done() or loop.time() > deadline:
            raise RuntimeError(f"the API server did not start: {task.exception() if task.done() else 'timeout'}")
        await asyncio.sleep(0.01)
    base = f"http://127.0.0.1:{port}"
    return ApiRig(session, api, server, base, wall, mono, httpx.AsyncClient(base_url=base, timeout=10))


async def stop_rig(rig: ApiRig) -> None:
    await rig.http.aclose()
    rig.server.should_exit = True
    await asyncio.wait_for(rig.server._task, 10)  # type: ignore[attr-defined]
    await rig.session.stop()


@pytest.fixture
async def api_rig():
    rig = await start_rig(ApiOptions(rate_per_s=1000.0, burst=1000))
    yield rig
    await stop_rig(rig)


class StreamReader:
    """A WebSocket client that checks, per topic, that every delta follows the
    snapshot or delta before it (``seq == last + 1``) and keeps the book it
    builds from them."""

    def __init__(self, ws) -> None:
        self.ws = ws
        self.seq: dict[str, int] = {}
        self.snapshots: dict[str, int] = {}
        self.deltas: dict[str, int] = {}
        self.gaps = 0
        self.replies: list[dict] = []
        self.books: dict[str, dict[str, dict[str, str]]] = {}

    async def send(self, msg: dict) -> None:
        await self.ws.send(json.dumps(msg))

    async def next(self, timeout: float = 10.0) -> dict:
        msg = json.loads(await asyncio.wait_for(self.ws.recv(), timeout))
        t = msg.get("type")
        topic = msg.get("topic")
        if t == "snapshot":
            self.seq[topic] = msg["seq"]
            self.snapshots[topic] = self.snapshots.get(topic, 0) + 1
            if topic.startswith("book.") and msg["data"] is not None:
                self.books[topic] = {"bids": dict(msg["data"]["bids"]), "asks": dict(msg["data"]["asks"])}
        elif t == "delta":
            assert topic in self.seq, f"delta before a snapshot on {topic}"
            assert msg["seq"] == self.seq[topic] + 1, f"{topic}: seq {msg['seq']} after {self.seq[topic]}"
            self.seq[topic] = msg["seq"]
            self.deltas[topic] = self.deltas.get(topic, 0) + 1
            if topic.startswith("book."):
                book = self.books[topic]
                for side in ("bids", "asks"):
                    for price, size in msg["data"][side]:
                        if Decimal(size) == 0:
                            book[side].pop(price, None)
                        else:
                            book[side][price] = size
        elif t == "gap":
            self.gaps += 1
        else:
            self.replies.append(msg)
        return msg

    async def until(self, cond, timeout: float = 10.0) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not cond():
            left = deadline - loop.time()
            if left <= 0:
                raise AssertionError("stream condition not reached in time")
            await self.next(left)

    async def caught_up(self, hub, topics) -> None:
        """Read until this client has seen every topic's current sequence."""
        await self.until(lambda: all(self.seq.get(t) == hub.seq.get(t, 0) for t in topics))
