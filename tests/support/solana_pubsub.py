"""A local Solana websocket pubsub node for account subscriptions, as the
Solana JSON-RPC websocket API documents it: ``accountSubscribe`` (params
``[pubkey, {"encoding": "base64", "commitment": ...}]``) is acked with
``{"jsonrpc": "2.0", "result": <subscription id>, "id": <request id>}``;
each change is pushed as ``{"jsonrpc": "2.0", "method": "accountNotification",
"params": {"result": {"context": {"slot": S}, "value": {"data": [b64,
"base64"], "executable", "lamports", "owner", "rentEpoch", "space"}},
"subscription": <id>}}``. ``programSubscribe`` (params ``[program, {"encoding",
"commitment", "filters"}]``) pushes ``programNotification`` with ``result.value
= {"pubkey", "account": {...}}``; ``slotSubscribe`` pushes ``slotNotification``
with ``result = {"parent", "root", "slot"}``. Faults: ``drop_all``."""

from __future__ import annotations

import base64
import json
from typing import Any

from websockets.asyncio.server import ServerConnection, serve


class AccountPubsubServer:
    def __init__(self, owner: str) -> None:
        self.owner = owner
        self.subs: dict[int, tuple[ServerConnection, str]] = {}
        self.subscribed: list[str] = []
        self.streams: dict[int, tuple[ServerConnection, str, str]] = {}  # program and slot subscriptions
        self._next = 0
        self._server: Any = None
        self.port = 0

    async def start(self) -> None:
        self._server = await serve(self._handler, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    async def stop(self) -> None:
        self._server.close()
        await self._server.wait_closed()

    async def _handler(self, ws: ServerConnection) -> None:
        try:
            async for raw in ws:
                msg = json.loads(raw)
                if msg.get("method") in ("programSubscribe", "slotSubscribe"):
                    self._next += 1
                    key = msg["params"][0] if msg["method"] == "programSubscribe" else "slot"
                    self.streams[self._next] = (ws, msg["method"], key)
                    self.subscribed.append(f"{msg['method']}:{key}")
                    await ws.send(json.dumps({"jsonrpc": "2.0", "result": self._next, "id": msg["id"]}))
                elif msg.get("method") == "accountSubscribe":
                    self._next += 1
                    self.subs[self._next] = (ws, msg["params"][0])
                    self.subscribed.append(msg["params"][0])
                    await ws.send(json.dumps({"jsonrpc": "2.0", "result": self._next, "id": msg["id"]}))
        except Exception:
            pass
        finally:
            for sub in [s for s, (c, _) in self.subs.items() if c is ws]:
                del self.subs[sub]
            for sub in [s for s, (c, _, _) in self.streams.items() if c is ws]:
                del self.streams[sub]

    async def notify(self, pubkey: str, data: bytes, slot: int) -> int:
        """Push ``data`` as the new state of ``pubkey`` to its subscribers; how many got it."""
        sent = 0
        for sub, (ws, key) in list(self.subs.items()):
            if key != pubkey:
                continue
            value = {"data": [base64.b64encode(data).decode(), "base64"], "executable": False,
                     "lamports": 35_000_000, "owner": self.owner, "rentEpoch": 18446744073709551615,
                     "space": len(data)}
            await ws.send(json.dumps({"jsonrpc": "2.0", "method": "accountNotification",
                                      "params": {"result": {"context": {"slot": slot}, "value": value},
                                                 "subscription": sub}}))
            sent += 1
        return sent

    def _value(self, data: bytes) -> dict:
        return {"data": [base64.b64encode(data).decode(), "base64"], "executable": False, "lamports": 35_000_000,
                "owner": self.owner, "rentEpoch": 18446744073709551615, "space": len(data)}

    async def notify_program(self, program: str, pubkey: str, data: bytes, slot: int) -> None:
        for sub, (ws, method, key) in list(self.streams.items()):
            if method == "programSubscribe" and key == program:
                await ws.send(json.dumps({"jsonrpc": "2.0", "method": "programNotification", "params": {
                    "result": {"context": {"slot": slot}, "value": {"pubkey": pubkey, "account": self._value(data)}},
                    "subscription": sub}}))

    async def notify_slot(self, slot: int) -> None:
        for sub, (ws, method, _) in list(self.streams.items()):
            if method == "slotSubscribe":
                await ws.send(json.dumps({"jsonrpc": "2.0", "method": "slotNotification", "params": {
                    "result": {"parent": slot - 1, "root": slot - 32, "slot": slot}, "subscription": sub}}))

    async def drop_all(self) -> None:
        conns = {ws for ws, _ in self.subs.values()} | {ws for ws, _, _ in self.streams.values()}
        for ws in conns:
            await ws.close(1011, "node restarting")
