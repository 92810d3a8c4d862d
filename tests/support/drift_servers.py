"""Local stand-ins for a Drift-v2 deployment's public servers, for tests.

- ``DlobWsServer``: the DLOB WebSocket (``/ws``), framed as drift-labs/dlob-server
  ``src/wsConnectionManager.ts`` (commit 4113523) frames it: an ``orderbook``
  subscription maps to channel ``orderbook_perp_N_grouped_1`` (lines 262-272),
  ``trades`` to ``trades_perp_N`` (line 264); the ack is ``{"message":
  "Subscribe received for channel: C, market: M, marketType: T"}`` (line 483);
  a subscription the server cannot map (unknown market) gets ``{"channel": C,
  "error": "Error subscribing to channel"}`` with the request's channel only
  (lines 419-428); pushes are ``{"channel": ..., "data": "<JSON string>"}``
  (lines 380-384) and ``{"channel": "heartbeat"}`` (line 552). Faults: drop
  every connection, go silent, send only heartbeats, send raw frames, refuse
  handshakes with 429.
- ``HttpServer``: DLOB REST (``GET /l2``), data API (``GET /fundingRates``)
  and Solana JSON-RPC (``POST /``: getSlot, getAccountInfo,
  getMultipleAccounts, getProgramAccounts, getLatestBlockhash, sendTransaction;
  single calls and batch arrays, enveloped by ``solana_rpc.jsonrpc_reply``).
  Faults: the next N responses are 429 with ``Retry-After``, or 500.

Data comes from the JSON fixtures in tests/fixtures/drift; each push moves
the slot and timestamp forward so the adapter sees a live book. The
``servers`` fixture runs both; ``local`` points a deployment at them.
"""

from __future__ import annotations

import asyncio
import base64
import copy
import json
import threading
import time
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest
from websockets.asyncio.server import ServerConnection, serve

from quantdesk.venues.drift.config import DriftDeployment, MarketSpec, default_deployment
from support.solana_rpc import jsonrpc_reply, parse_calls

FIXTURES = Path(__file__).parent.parent / "fixtures" / "drift"
SOL = "SOL-PERP"
MARKET_INDEX = {"SOL-PERP": 0, "BTC-PERP": 1, "ETH-PERP": 2}
WS_LEVELS = 20  # levels a side the WebSocket pushes


def load_fixture(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text())


def book_channel(index: int) -> str:
    """The channel a plain ``orderbook`` subscription is pushed on (no ``grouping``)."""
    return f"orderbook_perp_{index}_grouped_1"


def fill_record(fill_id: int, *, taker: bool = True, maker: bool = True, direction: str = "long",
                base: float = 0.5, quote: float = 88.2716, ts: int = 1732400001, market_index: int = 0) -> dict:
    """A fill as the trades publisher builds it (drift-labs/dlob-server
    ``src/publishers/tradesPublisher.ts`` lines 291-355): JS numbers in human
    units, ``undefined`` fields absent from the JSON. ``taker=False`` is a
    post-only maker filled by the AMM: no ``taker``, no ``takerOrderDirection``."""
    other = "short" if direction == "long" else "long"
    rec: dict[str, Any] = {
        "ts": ts, "marketIndex": market_index, "marketType": "perp",
        "filler": "FiLLeR1111111111111111111111111111111111111",
        "takerFee": 0.0441 if taker else 0, "makerFee": -0.0044 if maker else 0, "quoteAssetAmountSurplus": 0,
        "baseAssetAmountFilled": base, "quoteAssetAmountFilled": quote,
        "takerOrderBaseAssetAmount": base if taker else 0,
        "takerOrderCumulativeBaseAssetAmountFilled": base if taker else 0,
        "takerOrderCumulativeQuoteAssetAmountFilled": quote if taker else 0,
        "makerOrderBaseAssetAmount": base if maker else 0,
        "makerOrderCumulativeBaseAssetAmountFilled": base if maker else 0,
        "makerOrderCumulativeQuoteAssetAmountFilled": quote if maker else 0,
        "oraclePrice": 176.548, "txSig": f"5tx{fill_id}", "slot": 300000000 + fill_id,
        "fillRecordId": fill_id, "action": "fill",
        "actionExplanation": "orderFilledWithMatch" if taker and maker else "orderFilledWithAmm",
        "referrerReward": 0, "bitFlags": 0,
    }
    if taker:
        rec.update(taker="TaKer111111111111111111111111111111111111111", takerOrderId=101, takerOrderDirection=direction)
    else:
        rec["takerOrderId"] = None
    if maker:
        rec.update(maker="MaKer111111111111111111111111111111111111111", makerOrderId=55,
                   makerOrderDirection=other if taker else direction)
    else:
        rec["makerOrderId"] = None
    return rec


def l2_cache_miss(market_index: int, slot: int) -> dict:
    """The ``/l2`` reply of a server with no cached book (drift-labs/dlob-server
    ``src/index.ts`` lines 596-616, commit 4113523): no levels, ``marketType``
    as the SDK enum object, ``marketName`` undefined (absent), oracle figures
    as JS numbers, no mark or best prices."""
    return {
        "bids": [], "asks": [], "marketType": {"perp": {}}, "marketIndex": market_index, "slot": slot,
        "oracle": 176548000,
        "oracleData": {"price": 176548000, "slot": slot - 1, "confidence": 12000,
                       "hasSufficientNumberOfDataPoints": True, "twap": 176500000, "twapConfidence": 9000},
        "ts": int(time.time() * 1000), "marketSlot": slot,
    }


class BookSource:
    """The fixture SOL-PERP book, moved forward one slot per snapshot."""

    def __init__(self, levels: int = 0) -> None:
        self.base = load_fixture("dlob_l2_sol_perp.json")
        if levels:  # extend the fixture's levels a cent apart, beyond its worst, to ``levels`` a side
            for side, step in (("bids", -10_000), ("asks", 10_000)):
                rows = self.base[side]
                while len(rows) < levels:
                    price = int(rows[-1]["price"]) + step
                    rows.append({"price": str(price), "size": "1000000000", "sources": {"dlob": "1000000000"}})
        self.slot = int(self.base["slot"])
        self.lock = threading.Lock()
        # The markets the servers list, by name: the DLOB server knows every listed
        # market; tests add discovered ones (``markets["JUP-PERP"] = 24``).
        self.markets: dict[str, int] = dict(MARKET_INDEX)

    def next(self, market: str) -> dict:
        with self.lock:
            self.slot += 1
            book = copy.deepcopy(self.base)
            book["marketName"] = market
            book["marketIndex"] = self.markets[market]
            book["slot"] = self.slot
            book["ts"] = int(time.time() * 1000)
            return book


class DlobWsServer:
    def __init__(self, books: BookSource, push_interval: float = 0.05, heartbeat_interval: float = 0.1) -> None:
        self.books = books
        self.push_interval = push_interval
        self.heartbeat_interval = heartbeat_interval
        self.silent = False
        self.heartbeats_only = False  # heartbeats keep coming, the book stops
        self.reject_429 = 0  # refuse this many handshakes with HTTP 429 + Retry-After
        self.retry_after = "1"
        self.connections: set[ServerConnection] = set()
        self.connects = 0
        self.subscribes: list[dict] = []
        self._server: Any = None
        self.port = 0

    async def start(self) -> None:
        self._server = await serve(self._handler, "127.0.0.1", 0, process_request=self._process_request)
        self.port = self._server.sockets[0].getsockname()[1]

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ws"

    async def stop(self) -> None:
        self._server.close()
        await self._server.wait_closed()

    def _process_request(self, connection: ServerConnection, request: Any) -> Any:
        if self.reject_429 > 0:
            self.reject_429 -= 1
            response = connection.respond(HTTPStatus.TOO_MANY_REQUESTS, "rate limited\n")
            response.headers["Retry-After"] = self.retry_after
            return response
        return None

    async def drop_all(self) -> None:
        for ws in list(self.connections):
            await ws.close(code=1011, reason="test drop")

    async def send_raw(self, frame: str) -> None:
        for ws in list(self.connections):
            await ws.send(frame)

    async def push_book(self, book: dict) -> None:
        await self.send_raw(json.dumps({"channel": book_channel(book["marketIndex"]), "data": json.dumps(book)}))

    async def push_fill(self, record: dict) -> None:
        """One fill record on ``trades_perp_N``: the trades publisher sends each
        ``OrderActionRecord`` fill as its own message."""
        channel = f"trades_{record.get('marketType', 'perp')}_{record['marketIndex']}"
        await self.send_raw(json.dumps({"channel": channel, "data": json.dumps(record)}))

    async def _handler(self, ws: ServerConnection) -> None:
        self.connects += 1
        self.connections.add(ws)
        subs: set[tuple[str, str]] = set()
        pusher = asyncio.create_task(self._push(ws, subs))
        try:
            async for raw in ws:
                try:
                    msg = json.loads(raw)
                except json.JSONDecodeError:
                    await ws.send(json.dumps({"error": "invalid JSON"}))
                    continue
                self.subscribes.append(msg)
                if not isinstance(msg, dict) or str(msg.get("type", "")).lower() != "subscribe":
                    continue
                market = str(msg.get("market", "")).upper()
                if market not in self.books.markets or msg.get("marketType") not in ("perp", "spot") or \
                        str(msg.get("channel", "")).lower() not in ("orderbook", "trades"):
                    if msg.get("channel"):
                        await ws.send(json.dumps({"channel": msg["channel"], "error": "Error subscribing to channel"}))
                    else:
                        await ws.close(1003, json.dumps({"error": "Error subscribing to channel"}))
                    continue
                subs.add((msg["channel"], market))
                await ws.send(json.dumps({
                    "message": f"Subscribe received for channel: {msg['channel']}, market: {msg['market']}, "
                    f"marketType: {msg.get('marketType')}"
                }))
        except Exception:
            pass
        finally:
            pusher.cancel()
            self.connections.discard(ws)

    async def _push(self, ws: ServerConnection, subs: set[tuple[str, str]]) -> None:
        last_hb = time.monotonic()
        try:
            while True:
                await asyncio.sleep(self.push_interval)
                if self.silent:
                    continue
                for channel, market in list(subs):
                    if channel == "orderbook" and not self.heartbeats_only:
                        book = self.books.next(market)
                        book["bids"], book["asks"] = book["bids"][:WS_LEVELS], book["asks"][:WS_LEVELS]
                        await ws.send(json.dumps({"channel": book_channel(self.books.markets[market]),
                                                  "data": json.dumps(book)}))
                if time.monotonic() - last_hb >= self.heartbeat_interval:
                    last_hb = time.monotonic()
                    await ws.send(json.dumps({"channel": "heartbeat"}))
        except Exception:
            return


class HttpServer:
    def __init__(self, books: BookSource) -> None:
        self.books = books
        self.funding = load_fixture("data_api_funding_sol_perp.json")
        self.accounts: dict[str, str] = {}  # pubkey -> base64 data for getAccountInfo
        self.slot = 300_000_100
        self.fail_429: int = 0
        self.retry_after: str | None = "1"
        self.fail_500: int = 0
        self.l2_cache_miss = False  # answer /l2 as the server does with no book cached
        self.requests: list[tuple[str, str, dict]] = []
        self.sent: list[bytes] = []  # raw transactions received by sendTransaction
        self.lock = threading.Lock()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *a: Any) -> None:
                pass

            def _reply(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
                data = body if isinstance(body, bytes) else json.dumps(body).encode()
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(data)

            def _fault(self) -> bool:
                with outer.lock:
                    if outer.fail_429 > 0:
                        outer.fail_429 -= 1
                        hdr = {"retry-after": outer.retry_after} if outer.retry_after is not None else {}
                        self._reply(429, {"error": "Too Many Requests"}, hdr)
                        return True
                    if outer.fail_500 > 0:
                        outer.fail_500 -= 1
                        self._reply(500, {"error": "internal"})
                        return True
                return False

            def do_GET(self) -> None:
                url = urlparse(self.path)
                q = {k: v[0] for k, v in parse_qs(url.query).items()}
                outer.requests.append(("GET", url.path, q))
                if self._fault():
                    return
                if url.path == "/l2":
                    market = q.get("marketName", "")
                    if market not in outer.books.markets:
                        self._reply(400, {"error": "unknown market"})
                        return
                    if outer.l2_cache_miss:
                        self._reply(200, l2_cache_miss(outer.books.markets[market], outer.slot))
                        return
                    book = outer.books.next(market)
                    depth = min(int(q.get("depth", "100")), 100)  # src/index.ts: depth defaults to 100, capped at 100
                    book["bids"], book["asks"] = book["bids"][:depth], book["asks"][:depth]
                    self._reply(200, book)
                elif url.path == "/fundingRates":
                    market = q.get("marketName", "")
                    recs = [dict(r, marketIndex=outer.books.markets.get(market, -1)) for r in outer.funding["fundingRates"]]
                    self._reply(200, {"fundingRates": recs})
                else:
                    self._reply(404, {"error": "not found"})

            def do_POST(self) -> None:
                length = int(self.headers.get("content-length", "0"))
                raw = self.rfile.read(length) or b"{}"
                for call in parse_calls(raw):  # a batch array logs each of its calls
                    outer.requests.append(("POST", self.path, call))
                if self._fault():
                    return
                self._reply(200, jsonrpc_reply(raw, outer.answer))

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()

    def answer(self, method: str, params: list) -> Any:
        """One Solana JSON-RPC call's result (KeyError: a method not served here)."""
        ctx = {"slot": self.slot, "apiVersion": "2.0.15"}
        if method == "getSlot":
            return self.slot
        if method == "getAccountInfo":
            return {"context": ctx, "value": self._account(params[0])}
        if method == "getMultipleAccounts":
            return {"context": ctx, "value": [self._account(k) for k in params[0]]}
        if method == "sendTransaction":
            from solders.transaction import VersionedTransaction

            raw = base64.b64decode(params[0])
            self.sent.append(raw)
            return str(VersionedTransaction.from_bytes(raw).signatures[0])
        if method == "getProgramAccounts":
            # filters as the JSON-RPC API documents them: memcmp (base58 bytes at an offset), dataSize
            import base58

            def keep(data: bytes) -> bool:
                for f in params[1].get("filters", []):
                    if "dataSize" in f and len(data) != f["dataSize"]:
                        return False
                    if "memcmp" in f:
                        want = base58.b58decode(f["memcmp"]["bytes"])
                        at = f["memcmp"]["offset"]
                        if data[at:at + len(want)] != want:
                            return False
                return True

            return [{"pubkey": k, "account": self._account(k)} for k, v in self.accounts.items()
                    if keep(base64.b64decode(v))]
        if method == "getLatestBlockhash":
            return {"context": ctx, "value": {"blockhash": "EkSnNWid2cvwEVnVx9aBqawnmiCNiDgp3gUdkDPTKN1N",
                                              "lastValidBlockHeight": 290_000_150}}
        raise KeyError(method)

    def _account(self, pubkey: str) -> dict | None:
        data = self.accounts.get(pubkey)
        if data is None:
            return None
        return {"data": [data, "base64"], "executable": False, "lamports": 1_000_000,
                "owner": "dRiftyHA39MWEi3m9aunc5MzRF1JYuBsbn6VPcn33UH", "rentEpoch": 0, "space": 0}

    @property
    def url(self) -> str:
        assert self._httpd is not None
        return f"http://127.0.0.1:{self._httpd.server_address[1]}"

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()

    def count(self, method: str, path: str) -> int:
        return sum(1 for m, p, _ in self.requests if m == method and p == path)


@pytest.fixture
async def servers():
    """The DLOB WebSocket and the HTTP server, sharing one moving book."""
    books = BookSource()
    ws = DlobWsServer(books)
    await ws.start()
    http = HttpServer(books)
    http.start()
    yield ws, http
    http.stop()
    await ws.stop()


def local(ws: DlobWsServer, http: HttpServer, name: str = "drift", **over) -> DriftDeployment:
    """A deployment of SOL-PERP on the local servers, with short timers."""
    base = default_deployment(name).model_dump()
    base.update(
        dlob_url=http.url,
        dlob_ws_url=ws.url,
        data_api_url=http.url,
        rpc_urls=[http.url],
        ws_rpc_url=ws.url,
        watchlist=[SOL],
        discover_markets=False,  # the tests that read the listing on chain say so
        heartbeat_s=0.1,  # the local server's heartbeat period
        silence_s=0.6,
        backoff_initial_s=0.05,
        backoff_max_s=0.2,
        slot_poll_s=0.2,
        funding_poll_s=0.5,
        http_timeout_s=2.0,
    )
    base.update(over)
    return DriftDeployment(**base)
