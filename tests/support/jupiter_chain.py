"""A local Solana node for Jupiter Perps tests: JSON-RPC over HTTP and websocket pubsub.

- ``SolanaHttp`` (a thread): ``POST /`` JSON-RPC ``getAccountInfo``,
  ``getMultipleAccounts``, ``getProgramAccounts`` (``memcmp`` with base58
  bytes and ``dataSize`` filters), ``getSlot``, ``getBalance``,
  ``getLatestBlockhash`` and ``sendTransaction``, answered with the
  ``{"context": {"slot"}, "value": ...}`` shapes a Solana node sends. A sent
  transaction runs in a ``solders.litesvm`` VM first, as a node's preflight
  does: a bad signature is refused with ``-32003``; the Jupiter program is not
  in that VM, so past the signature check ``on_send`` (a test's program
  double) decides what the transaction does to the chain. Also
  ``GET /price/v3?ids=`` as the Jupiter price API. Faults: ``down`` (503 to
  everything), ``price_api_down``.
- ``SolanaPubsub`` (websockets, on the test's loop): ``accountSubscribe``
  acked with ``{"id", "result": <subscription id>}``, ``accountNotification``
  pushed on every change, ``accountUnsubscribe``. Faults: ``drop_all``,
  ``drop_mid_notification`` (a frame cut off half way, then the TCP
  connection dies), ``refuse`` (handshakes fail).

Accounts live in ``Chain``: the real mainnet fixture accounts plus a Doves
price feed built here; ``set`` moves the slot and notifies subscribers;
``close`` deletes an account as the runtime does (reads give null, a
subscriber is sent the zero-lamport, empty account).
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import struct
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse

import base58
import pytest
from websockets.asyncio.server import ServerConnection, serve

from support.jupiter_fixtures import POOL, SOL_CUSTODY, lines
from support.solana_rpc import jsonrpc_reply, parse_calls

PROGRAM_ID = "PERPHjGBqRHArX4DySjwM6UJHiR3sWAatqfdBS2qQJu"
SOL_DOVES_ORACLE = "39cWjvHrpHNz2SbXv6ME4NPhqBDBd4KsjUYv5JkHEAJU"  # the SOL custody's doves_oracle
SOL_PYTH_ORACLE = "7UVimffxr9ow1uXYxsr4LHAcV58mLzhmwaeKvJ1pjLiE"  # the SOL custody's oracle.oracle_account
PYTH_RECEIVER = "rec5EKMGg6MxZYaMdyBfgwp4d5rB9T1VQH5pJv5LtFJ"
SOL_MINT = "So11111111111111111111111111111111111111112"
JLP_MINT = "27G8MtK7VtTcCHkpASjSDdkWWYfoqT6ggEuKidVJidD4"
TOKEN_PROGRAM = "TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA"
SYSTEM_PROGRAM = "11111111111111111111111111111111"
JLP_SUPPLY = 211_683_000_000_000  # 211.683M JLP, 6 decimals


def token_mint(supply: int, decimals: int) -> bytes:
    """An SPL token mint (82 bytes): authority option, supply u64, decimals u8, initialized, freeze authority option."""
    return struct.pack("<I", 0) + bytes(32) + struct.pack("<QBB", supply, decimals, 1) + struct.pack("<I", 0) + bytes(32)


def price_feed(price: int, expo: int, timestamp: int) -> bytes:
    """A Doves ``PriceFeed`` account: discriminator, pair [32], signer [33], price u64, expo i8, timestamp i64, bump."""
    disc = hashlib.sha256(b"account:PriceFeed").digest()[:8]
    return disc + b"SOL/USD".ljust(32, b"\0") + bytes(33) + struct.pack("<QbQ", price, expo, timestamp) + b"\xfe"


def pyth_price_update(price: int, conf: int, expo: int, publish_time: int, *, full: bool = True) -> bytes:
    """A Pyth receiver ``PriceUpdateV2``: discriminator, write authority, verification level
    (1 Full, or 0 Partial with a signature count), then the price message and the posted slot."""
    disc = hashlib.sha256(b"account:PriceUpdateV2").digest()[:8]
    level = b"\x01" if full else b"\x00\x05"
    message = bytes(32) + struct.pack("<qQiqqqQ", price, conf, expo, publish_time, publish_time - 1, price, conf)
    return disc + bytes(32) + level + message + struct.pack("<Q", 450101361)


class Chain:
    def __init__(self) -> None:
        self.accounts: dict[str, tuple[bytes, str]] = {}  # pubkey -> (data, owner)
        self.slot = 450101361
        self.lock = threading.Lock()
        self.listeners: list[Any] = []  # SolanaPubsub servers to notify
        for line in lines():
            self.accounts[line["pubkey"]] = (base64.b64decode(line["data_b64"]), PROGRAM_ID)
        self.accounts[JLP_MINT] = (token_mint(JLP_SUPPLY, 6), TOKEN_PROGRAM)

    def get(self, pubkey: str) -> tuple[bytes, str] | None:
        with self.lock:
            return self.accounts.get(pubkey)

    async def set(self, pubkey: str, data: bytes, owner: str = PROGRAM_ID) -> None:
        with self.lock:
            self.slot += 1
            self.accounts[pubkey] = (data, owner)
        for listener in self.listeners:
            await listener.notify(pubkey)

    def set_quietly(self, pubkey: str, data: bytes, owner: str = PROGRAM_ID) -> None:
        """Change an account without notifying subscribers (a change only polling sees)."""
        with self.lock:
            self.slot += 1
            self.accounts[pubkey] = (data, owner)

    async def close(self, pubkey: str) -> None:
        """Delete an account (its program closed it): gone from reads, pushed as empty to subscribers."""
        await self.set(pubkey, b"", SYSTEM_PROGRAM)

    def account_json(self, pubkey: str, *, closed_as_empty: bool = False) -> dict | None:
        got = self.get(pubkey)
        if got is None:
            return None
        data, owner = got
        if not data and owner == SYSTEM_PROGRAM:
            if not closed_as_empty:
                return None
            return {"data": ["", "base64"], "executable": False, "lamports": 0, "owner": SYSTEM_PROGRAM,
                    "rentEpoch": 18446744073709551615, "space": 0}
        return {
            "data": [base64.b64encode(data).decode(), "base64"],
            "executable": False,
            "lamports": 2_000_000,
            "owner": owner,
            "rentEpoch": 18446744073709551615,
            "space": len(data),
        }


def patch_u64(data: bytes, old: int, new: int) -> bytes:
    """``data`` with the one u64 field holding ``old`` set to ``new`` (found by value, so no offsets here)."""
    needle = struct.pack("<Q", old)
    at = data.index(needle)
    assert data.find(needle, at + 1) == -1, "value is not unique in the account"
    return data[:at] + struct.pack("<Q", new) + data[at + 8 :]


class SolanaHttp:
    def __init__(self, chain: Chain) -> None:
        self.chain = chain
        self.balances: dict[str, int] = {}  # pubkey -> lamports (getBalance)
        self.sent: list[bytes] = []  # raw transactions that passed the preflight
        self.preflight: list[str] = []  # what the VM said of each sent transaction
        self.on_send: Any = None  # (VersionedTransaction) -> None: the test's program double
        self.send_fault: tuple[int, str] | None = None  # answer sendTransaction with this JSON-RPC error
        self._svm: Any = None
        self.down = False
        self.price_api_down = False
        self.api_prices: dict[str, float] = {}
        self.calls: list[str] = []
        self._server: ThreadingHTTPServer | None = None

    def start(self) -> None:
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *a: Any) -> None:
                pass

            def _reply(self, status: int, body: Any) -> None:
                raw = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            def do_GET(self) -> None:
                url = urlparse(self.path)
                if url.path != "/price/v3" or outer.price_api_down:
                    return self._reply(503 if outer.price_api_down else 404, {"error": "unavailable"})
                ids = parse_qs(url.query).get("ids", [""])[0].split(",")
                self._reply(200, {m: {"usdPrice": outer.api_prices[m], "decimals": 9} for m in ids if m in outer.api_prices})

            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("content-length", 0)))
                if outer.down:
                    return self._reply(503, {"error": "node unavailable"})
                outer.calls.extend(c.get("method", "") for c in parse_calls(raw))
                data = jsonrpc_reply(raw, outer.answer)
                self.send_response(200)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    @property
    def svm(self) -> Any:
        from solders.litesvm import LiteSVM

        if self._svm is None:
            self._svm = LiteSVM()
        return self._svm

    def fund(self, pubkey: Any, lamports: int) -> None:
        """Give a wallet SOL: on this node's balance and in the preflight VM (it pays the fee there)."""
        self.balances[str(pubkey)] = lamports
        self.svm.airdrop(pubkey, lamports)

    def _send(self, wire: str) -> str:
        from solders.transaction import VersionedTransaction

        from support.solana_rpc import RpcFault

        if self.send_fault is not None:
            raise RpcFault(*self.send_fault)
        raw = base64.b64decode(wire)
        tx = VersionedTransaction.from_bytes(raw)
        result = self.svm.send_transaction(tx)
        said = str(result.err()) if hasattr(result, "err") else "ok"
        self.preflight.append(said)
        if "SignatureFailure" in said:
            raise RpcFault(-32003, "Transaction signature verification failure")
        if "BlockhashNotFound" in said:
            raise RpcFault(-32002, "Transaction simulation failed: Blockhash not found")
        self.sent.append(raw)
        if self.on_send is not None:
            self.on_send(tx)
        return str(tx.signatures[0])

    def answer(self, method: str, params: list) -> Any:
        ctx = {"slot": self.chain.slot, "apiVersion": "2.1.0"}
        if method == "getSlot":
            return self.chain.slot
        if method == "getBalance":
            return {"context": ctx, "value": self.balances.get(params[0], 0)}
        if method == "getLatestBlockhash":
            return {"context": ctx, "value": {"blockhash": str(self.svm.latest_blockhash()),
                                              "lastValidBlockHeight": self.chain.slot + 150}}
        if method == "sendTransaction":
            return self._send(params[0])
        if method == "getAccountInfo":
            return {"context": ctx, "value": self.chain.account_json(params[0])}
        if method == "getMultipleAccounts":
            return {"context": ctx, "value": [self.chain.account_json(k) for k in params[0]]}
        if method == "getProgramAccounts":
            program, opts = params[0], params[1] if len(params) > 1 else {}
            out = []
            with self.chain.lock:
                items = list(self.chain.accounts.items())
            for key, (data, owner) in items:
                if data and owner == program and all(_matches(f, data) for f in opts.get("filters", [])):
                    out.append({"pubkey": key, "account": self.chain.account_json(key)})
            return out
        raise KeyError(f"method {method} not served here")

    @property
    def url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()


def _matches(f: dict, data: bytes) -> bool:
    if "dataSize" in f:
        return len(data) == f["dataSize"]
    m = f["memcmp"]
    want = base58.b58decode(m["bytes"]) if m.get("encoding", "base58") == "base58" else base64.b64decode(m["bytes"])
    return data[m["offset"] : m["offset"] + len(want)] == want


class SolanaPubsub:
    def __init__(self, chain: Chain) -> None:
        self.chain = chain
        self.refuse = False
        self.subscribes = 0
        self.unsubscribes = 0
        self._subs: dict[int, tuple[ServerConnection, str]] = {}
        self._next_sub = 1000
        self._conns: set[ServerConnection] = set()
        self._server: Any = None
        chain.listeners.append(self)

    async def start(self) -> None:
        self._server = await serve(self._handler, "127.0.0.1", 0, process_request=self._process_request)

    def _process_request(self, connection: ServerConnection, request: Any) -> Any:
        if self.refuse:
            return connection.respond(503, "unavailable\n")
        return None

    @property
    def url(self) -> str:
        port = next(iter(self._server.sockets)).getsockname()[1]
        return f"ws://127.0.0.1:{port}"

    @property
    def active(self) -> int:
        return len(self._subs)

    @property
    def connections(self) -> int:
        """Websockets open to this node now."""
        return len(self._conns)

    async def _handler(self, ws: ServerConnection) -> None:
        self._conns.add(ws)
        try:
            async for raw in ws:
                msg = json.loads(raw)
                if msg.get("method") == "accountSubscribe":
                    self.subscribes += 1
                    self._next_sub += 1
                    self._subs[self._next_sub] = (ws, msg["params"][0])
                    await ws.send(json.dumps({"jsonrpc": "2.0", "result": self._next_sub, "id": msg["id"]}))
                elif msg.get("method") == "accountUnsubscribe":
                    self.unsubscribes += 1
                    ok = self._subs.pop(msg["params"][0], None) is not None
                    await ws.send(json.dumps({"jsonrpc": "2.0", "result": ok, "id": msg["id"]}))
        except Exception:
            pass
        finally:
            self._conns.discard(ws)
            for sub in [s for s, (c, _) in self._subs.items() if c is ws]:
                del self._subs[sub]

    def _notification(self, sub: int, pubkey: str) -> str:
        return json.dumps(
            {
                "jsonrpc": "2.0",
                "method": "accountNotification",
                "params": {
                    "result": {"context": {"slot": self.chain.slot},
                               "value": self.chain.account_json(pubkey, closed_as_empty=True)},
                    "subscription": sub,
                },
            }
        )

    async def notify(self, pubkey: str) -> None:
        for sub, (ws, key) in list(self._subs.items()):
            if key == pubkey:
                try:
                    await ws.send(self._notification(sub, pubkey))
                except Exception:
                    pass

    async def drop_all(self) -> None:
        for ws in list(self._conns):
            await ws.close(1011, "node restarting")

    async def drop_mid_notification(self, pubkey: str) -> None:
        """Start a notification frame for ``pubkey`` and kill the connection half way through it."""
        for sub, (ws, key) in list(self._subs.items()):
            if key == pubkey:
                payload = self._notification(sub, pubkey).encode()
                header = b"\x81\x7e" + struct.pack(">H", len(payload)) if len(payload) < 65536 else b""
                ws.transport.write(header + payload[: len(payload) // 2])
                ws.transport.abort()

    async def stop(self) -> None:
        self._server.close()
        await self._server.wait_closed()


class JupiterNode:
    """Chain, HTTP and pubsub together, for one test."""

    def __init__(self) -> None:
        self.chain = Chain()
        self.http = SolanaHttp(self.chain)
        self.pubsub = SolanaPubsub(self.chain)

    async def start(self) -> None:
        self.http.start()
        await self.pubsub.start()

    async def stop(self) -> None:
        await self.pubsub.stop()
        self.http.stop()


__all__ = [
    "JLP_SUPPLY", "JupiterNode", "Chain", "patch_u64", "price_feed", "pyth_price_update", "token_mint",
    "POOL", "PYTH_RECEIVER", "SOL_CUSTODY", "SOL_DOVES_ORACLE", "SOL_MINT", "SOL_PYTH_ORACLE",
]


@pytest.fixture
async def jupiter_node():
    """A started node whose SOL oracle reads 118 now."""
    import time

    n = JupiterNode()
    n.chain.set_quietly(SOL_DOVES_ORACLE, price_feed(11_800_000_000, -8, int(time.time())))
    await n.start()
    yield n
    await n.stop()
