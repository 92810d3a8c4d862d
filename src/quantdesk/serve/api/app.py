"""The data API as a Starlette app over one session's cache and bus.

Every route is read-only. A request without a valid bearer token gets 401 with
an empty body, a token without the route's scope 403, and a token over its
rate limit 429 with ``Retry-After``; only then is the cache read. Nothing here
awaits while reading the cache, so each answer is one consistent moment.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import msgspec
from starlette.applications import Starlette
from starlette.requests import HTTPConnection, Request
from starlette.responses import Response
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

from quantdesk.core.insights import InsightsEngine
from quantdesk.core.insights.view import insights_view
from quantdesk.core.cache import MarketCache
from quantdesk.core.bus import Bus
from quantdesk.serve.api import auth, openapi, views
from quantdesk.serve.api.metrics import CONTENT_TYPE_LATEST, ApiMetrics
from quantdesk.serve.api.stream import DEFAULT_MAX_PENDING, PatternError, StreamHub

_encode = msgspec.json.Encoder().encode
CLOSE_IDLE = 4000  # WebSocket close code: no message from the client within the idle timeout
CLOSE_TOO_BIG = 1009


@dataclass(frozen=True)
class ApiOptions:
    rate_per_s: float = 20.0
    burst: int = 40
    idle_s: float = 60.0  # close a stream that sent nothing (not even a ping) this long
    max_pending: int = DEFAULT_MAX_PENDING
    max_request_bytes: int = 64 * 1024


class JSONResponse(Response):
    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return _encode(content)


def _error(status: int, message: str) -> Response:
    return JSONResponse({"error": message}, status_code=status)


class DataApi:
    """Routes, auth and the stream hub for one cache."""

    def __init__(
        self,
        cache: MarketCache,
        bus: Bus,
        secret: str,
        options: ApiOptions = ApiOptions(),
        wall_clock: Callable[[], float] = time.time,
        mono_clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not secret:
            raise ValueError("the data API needs a JWT secret: set [api] jwt_secret or QUANTDESK_API__JWT_SECRET")
        self.cache = cache
        self.bus = bus
        self._secret = secret
        self.options = options
        self.wall_clock = wall_clock
        self.limiter = auth.RateLimiter(options.rate_per_s, options.burst, mono_clock)
        self.hub = StreamHub(cache, options.max_pending)
        self._openapi = json.dumps(openapi.document()).encode()
        self.insights = InsightsEngine()  # keeps figures between requests; recomputes what changed
        self.metrics = ApiMetrics(cache, bus, self.hub, lambda: int(wall_clock() * 1e9))

    def __repr__(self) -> str:  # never the secret
        return f"DataApi(markets={len(self.cache.markets)}, clients={len(self.hub.clients)})"

    # -- auth ------------------------------------------------------------
    def check(self, conn: HTTPConnection, scope: str) -> Response | None:
        """None when the request may go on, else the response refusing it."""
        header = conn.headers.get("authorization", "")
        kind, _, token = header.partition(" ")
        if kind.lower() != "bearer" or not token.strip():
            return Response(status_code=401, headers={"WWW-Authenticate": "Bearer"})
        try:
            grant = auth.verify(token.strip(), self._secret, self.wall_clock())
        except auth.TokenError:
            return Response(status_code=401, headers={"WWW-Authenticate": "Bearer"})
        wait = self.limiter.take(grant.key)
        if wait > 0:
            return Response(status_code=429, headers={"Retry-After": auth.retry_after(wait)})
        if scope not in grant.scopes:
            return Response(status_code=403)
        conn.state.scopes = grant.scopes  # a view may show more to a wider grant (/v1/insights)
        return None

    def _market(self, request: Request) -> Any:
        venue, symbol = request.path_params["venue"], request.path_params["market"]
        m = self.cache.markets.get((venue, symbol))
        if m is None:
            listed = ", ".join(f"{v}/{s}" for v, s in self.cache.markets) or "none yet"
            return _error(404, f"no market {venue}/{symbol}; listed: {listed}")
        return m

    # -- REST ------------------------------------------------------------
    def _read(self, route: str, scope: str, view: Callable[[Request], Any]) -> Route:
        async def endpoint(request: Request) -> Response:
            refused = self.check(request, scope)
            if refused is not None:
                self.metrics.count(route, refused.status_code)
                return refused
            out = view(request)
            resp = out if isinstance(out, Response) else JSONResponse(out)
            self.metrics.count(route, resp.status_code)
            return resp

        return Route(route, endpoint)

    def _book(self, request: Request) -> Any:
        m = self._market(request)
        if isinstance(m, Response):
            return m
        depth = _int_param(request, "depth", views.DEFAULT_DEPTH, views.MAX_DEPTH)
        return depth if isinstance(depth, Response) else views.book_view(self.cache, m, depth)

    def _trades(self, request: Request) -> Any:
        m = self._market(request)
        if isinstance(m, Response):
            return m
        limit = _int_param(request, "limit", 100, 200)
        return limit if isinstance(limit, Response) else views.trades_view(self.cache, m, limit)

    async def _metrics(self, request: Request) -> Response:
        # Unauthenticated like any Prometheus target: counts and ages, no data or secrets.
        return Response(self.metrics.render(), media_type=CONTENT_TYPE_LATEST)

    async def _openapi_doc(self, request: Request) -> Response:
        return Response(self._openapi, media_type="application/json")

    # -- stream ----------------------------------------------------------
    async def _stream(self, ws: WebSocket) -> None:
        refused = self.check(ws, auth.MARKET_READ)
        self.metrics.count("/v1/stream", 101 if refused is None else refused.status_code)
        if refused is not None:
            await ws.send_denial_response(refused)
            return
        await ws.accept()
        client = self.hub.connect()
        writer = asyncio.create_task(self._write(ws, client), name="api-stream-writer")
        try:
            await self._read_ops(ws, client)
        finally:
            writer.cancel()
            await asyncio.gather(writer, return_exceptions=True)
            self.hub.disconnect(client)

    async def _read_ops(self, ws: WebSocket, client: Any) -> None:
        while True:
            try:
                text = await asyncio.wait_for(ws.receive_text(), self.options.idle_s)
            except asyncio.TimeoutError:
                await ws.close(CLOSE_IDLE, f"idle for {self.options.idle_s:g} s: send {{\"op\":\"ping\"}} more often")
                return
            except (WebSocketDisconnect, RuntimeError, KeyError):
                return  # gone, or a binary frame (KeyError) after which we stop
            if len(text) > self.options.max_request_bytes:
                await ws.close(CLOSE_TOO_BIG, "request too large")
                return
            client.push(_encode(self._op(client, text)))

    def _op(self, client: Any, text: str) -> dict[str, Any]:
        try:
            req = json.loads(text)
        except ValueError:
            return {"type": "error", "message": 'not JSON: send e.g. {"op":"subscribe","topics":["book.*.SOL-PERP"]}'}
        op = req.get("op") if isinstance(req, dict) else None
        if op == "ping":
            return {"type": "pong", "ts": time.time_ns()}
        if op in ("subscribe", "unsubscribe"):
            topics = req.get("topics")
            if not isinstance(topics, list) or not topics:
                return {"type": "error", "message": f'{op} needs "topics": a list such as ["book.drift.SOL-PERP", "funding"]'}
            try:
                if op == "subscribe":
                    return {"type": "subscribed", "topics": self.hub.subscribe(client, topics)}
                return {"type": "unsubscribed", "topics": self.hub.unsubscribe(client, topics)}
            except PatternError as exc:
                return {"type": "error", "message": str(exc)}
        return {"type": "error", "message": f"unknown op {op!r}: use subscribe, unsubscribe or ping (the API is read-only)"}

    async def _write(self, ws: WebSocket, client: Any) -> None:
        try:
            while True:
                await client.wake.wait()
                client.wake.clear()
                while client.pending or client.lagging:
                    if client.lagging:
                        for msg in self.hub.resync(client):
                            await ws.send_text(msg.decode())
                        continue
                    await ws.send_text(client.pending.popleft().decode())
        except (WebSocketDisconnect, RuntimeError, OSError):
            return

    def _insights(self, request: Request) -> Any:
        """The Insights pane's report; its position figures only for a token
        that may read positions."""
        symbol = request.query_params.get("market")
        if symbol is not None and not any(s == symbol for _, s in self.cache.markets):
            return _error(404, f"no market {symbol}; listed: {', '.join(sorted({s for _, s in self.cache.markets}))}")
        report = self.insights.report(self.cache, int(self.wall_clock() * 1e9))
        positions = auth.POSITIONS_READ in getattr(request.state, "scopes", ())
        view = insights_view(self.cache, report, symbol, positions=positions)
        return Response(msgspec.json.encode(view), media_type="application/json")  # Decimals as decimal strings

    # -- the app ---------------------------------------------------------
    def routes(self) -> list[Any]:
        c = self.cache
        r, p = auth.MARKET_READ, auth.POSITIONS_READ
        return [
            Route("/v1/openapi.json", self._openapi_doc),
            Route("/metrics", self._metrics),
            self._read("/v1/markets", r, lambda q: views.markets_view(c)),
            self._read("/v1/book/{venue}/{market}", r, self._book),
            self._read("/v1/trades/{venue}/{market}", r, self._trades),
            self._read("/v1/funding", r, lambda q: views.funding_view(c)),
            self._read("/v1/spreads", r, lambda q: views.spreads_view(c)),
            self._read("/v1/insights", r, self._insights),
            self._read("/v1/positions", p, lambda q: views.positions_view(c)),
            self._read("/v1/orders", p, lambda q: views.orders_view(c)),
            WebSocketRoute("/v1/stream", self._stream),
        ]

    def app(self) -> Starlette:
        @contextlib.asynccontextmanager
        async def lifespan(app: Starlette) -> AsyncIterator[None]:
            self.hub.attach(self.bus)
            try:
                yield
            finally:
                self.hub.detach()

        return Starlette(routes=self.routes(), lifespan=lifespan)


def _int_param(request: Request, name: str, default: int, most: int) -> int | Response:
    raw = request.query_params.get(name)
    if raw is None:
        return default
    try:
        n = int(raw)
    except ValueError:
        n = 0
    if not 1 <= n <= most:
        return _error(400, f"{name} must be a whole number from 1 to {most}, not {raw!r}")
    return n
