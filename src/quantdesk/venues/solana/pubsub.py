"""Solana websocket pubsub: ``accountSubscribe`` for a set of accounts, kept alive.

Accounts can be added (``subscribe``) and dropped (``unsubscribe``) while it runs.

The protocol: each ``accountSubscribe`` request (id N) is acked with
``{"id": N, "result": <subscription id>}``; changes arrive as
``accountNotification`` with ``params.subscription`` and ``params.result``
(``context.slot``, ``value.data`` base64). ``accountUnsubscribe`` takes the
subscription id. The feed counts as connected once every subscription is acked (the
caller then re-reads everything once, so no change between its last read and
the subscriptions is lost). A dropped connection (even mid-notification) is reported,
retried with exponential backoff, and every account is subscribed again on
the new connection. Malformed messages are counted and dropped.

Beside accounts, the same connection can carry ``programSubscribe`` (every
change to a program's accounts matching ``memcmp``/``dataSize`` filters,
pushed as ``programNotification`` with ``value.pubkey`` and
``value.account``) and ``slotSubscribe`` (``slotNotification`` with
``result.slot``); both are subscribed again after a reconnect too.
"""

from __future__ import annotations

import asyncio
import itertools
import random
from collections.abc import Awaitable, Callable
from typing import Any

import msgspec

from quantdesk.venues.solana.values import account_data, safe_host

OnAccount = Callable[[str, int, bytes], None]  # pubkey, slot, data
OnState = Callable[[str, str], None]  # "connected" | "down", message
OnSlot = Callable[[int], None]


def backoff_s(attempt: int, initial: float, maximum: float, rand: random.Random | None = None) -> float:
    """Delay before reconnect ``attempt`` (0-based): doubling, capped, with jitter so clients spread out."""
    base = min(maximum, initial * (2 ** min(attempt, 32)))
    return base * (0.5 + 0.5 * (rand or random).random())


class _Notification(msgspec.Struct):
    method: str = ""
    params: Any = None
    id: int | None = None
    result: Any = None
    error: Any = None


class AccountPubsub:
    def __init__(
        self,
        urls: list[str],
        pubkeys: list[str],
        on_account: OnAccount,
        on_state: OnState,
        *,
        commitment: str = "confirmed",
        backoff_initial_s: float = 0.5,
        backoff_max_s: float = 30.0,
        sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
        programs: list[tuple[str, list[dict[str, Any]]]] | None = None,  # (program id, filters)
        on_program: OnAccount | None = None,
        on_slot: OnSlot | None = None,  # given: slotSubscribe too
    ) -> None:
        if not urls:
            raise ValueError("no websocket URL configured")
        self.urls = list(urls)
        self.pubkeys = list(dict.fromkeys(pubkeys))
        self.on_account = on_account
        self.on_state = on_state
        self.commitment = commitment
        self.backoff_initial_s = backoff_initial_s
        self.backoff_max_s = backoff_max_s
        self._sleep = sleep
        self._ids = itertools.count(1)
        self.programs = list(programs or [])
        self.on_program = on_program
        self.on_slot = on_slot
        self._pending: dict[int, str] = {}  # request id -> pubkey, until acked
        self._pending_streams: dict[int, tuple[str, str]] = {}  # request id -> ("program", id) | ("slot", "")
        self.streams: dict[int, tuple[str, str]] = {}  # subscription id -> ("program", id) | ("slot", "")
        self.subscriptions: dict[int, str] = {}  # subscription id -> pubkey
        self._ws: Any = None
        self.notifications = 0
        self.malformed = 0
        self.reconnects = 0
        self.connected = False  # True once every account's subscription is acked
        self._host = ""

    def _subscribe_msg(self, pubkey: str) -> bytes:
        rid = next(self._ids)
        self._pending[rid] = pubkey
        return msgspec.json.encode(
            {
                "jsonrpc": "2.0",
                "id": rid,
                "method": "accountSubscribe",
                "params": [pubkey, {"encoding": "base64", "commitment": self.commitment}],
            }
        )

    def _stream_msgs(self) -> list[bytes]:
        out = []
        for program, filters in self.programs:
            rid = next(self._ids)
            self._pending_streams[rid] = ("program", program)
            params = [program, {"encoding": "base64", "commitment": self.commitment, "filters": filters}]
            out.append(msgspec.json.encode({"jsonrpc": "2.0", "id": rid, "method": "programSubscribe", "params": params}))
        if self.on_slot is not None:
            rid = next(self._ids)
            self._pending_streams[rid] = ("slot", "")
            out.append(msgspec.json.encode({"jsonrpc": "2.0", "id": rid, "method": "slotSubscribe", "params": []}))
        return out

    def _on_stream_ack(self, msg: _Notification) -> None:
        stream = self._pending_streams.pop(msg.id, None) if msg.id is not None else None
        if stream is None:
            return
        if isinstance(msg.result, int) and not isinstance(msg.result, bool):
            self.streams[msg.result] = stream
            self._maybe_connected()
        else:
            self.malformed += 1
            self.on_state("down", f"{stream[0]} subscription refused: {_error_text(msg.error)}")

    def _maybe_connected(self) -> None:
        if not self._pending and not self._pending_streams and not self.connected:  # all acked: nothing is missed
            self.connected = True
            self.on_state("connected", f"websocket {self._host}: {len(self.subscriptions)} accounts")

    def _on_stream(self, msg: _Notification) -> bool:
        """A program or slot notification; False if it is neither."""
        if msg.method not in ("programNotification", "slotNotification") or not isinstance(msg.params, dict):
            return False
        stream = self.streams.get(msg.params.get("subscription"))  # type: ignore[arg-type]  # any JSON value; a miss is None
        result = msg.params.get("result")
        if stream is None or not isinstance(result, dict):
            self.malformed += 1
            return True
        if msg.method == "slotNotification":
            slot = result.get("slot")
            if isinstance(slot, int) and self.on_slot is not None:
                self.notifications += 1
                self.on_slot(slot)
            else:
                self.malformed += 1
            return True
        value = result.get("value")
        pubkey = value.get("pubkey") if isinstance(value, dict) else None
        data = account_data(value.get("account")) if isinstance(value, dict) else None
        if not isinstance(pubkey, str) or data is None:
            self.malformed += 1
            return True
        slot = (result.get("context") or {}).get("slot", 0)
        self.notifications += 1
        if self.on_program is not None:
            self.on_program(pubkey, slot if isinstance(slot, int) else 0, data)
        return True

    def on_message(self, raw: str | bytes) -> None:
        """Handle one frame: an ack, an error reply or a notification."""
        try:
            msg = msgspec.json.decode(raw, type=_Notification)
        except (msgspec.DecodeError, msgspec.ValidationError):
            self.malformed += 1
            return
        if msg.id is not None and msg.id in self._pending_streams:
            self._on_stream_ack(msg)
            return
        if self._on_stream(msg):
            return
        if msg.id is not None:
            pubkey = self._pending.pop(msg.id, None)
            if pubkey is not None and isinstance(msg.result, int) and not isinstance(msg.result, bool):
                self.subscriptions[msg.result] = pubkey
                self._maybe_connected()
            elif pubkey is not None:
                self.malformed += 1
                self.on_state("down", f"subscription to {pubkey} refused: {_error_text(msg.error)}")
            return
        if msg.method != "accountNotification" or not isinstance(msg.params, dict):
            self.malformed += 1
            return
        sub_id = msg.params.get("subscription")
        pubkey = self.subscriptions.get(sub_id) if isinstance(sub_id, int) else None
        result = msg.params.get("result")
        data = account_data(result.get("value")) if isinstance(result, dict) else None
        if pubkey is None or data is None or not isinstance(result, dict):
            self.malformed += 1
            return
        slot = (result.get("context") or {}).get("slot", 0)
        self.notifications += 1
        self.on_account(pubkey, slot if isinstance(slot, int) else 0, data)

    async def subscribe(self, pubkey: str) -> None:
        """Follow one more account: at once on the open connection, and after every reconnect."""
        if pubkey in self.pubkeys:
            return
        self.pubkeys.append(pubkey)
        if self._ws is not None:
            await self._ws.send(self._subscribe_msg(pubkey).decode())

    async def unsubscribe(self, pubkey: str) -> None:
        """Stop following one account (on the open connection; not resubscribed after a reconnect)."""
        if pubkey in self.pubkeys:
            self.pubkeys.remove(pubkey)
        for sub, key in list(self.subscriptions.items()):
            if key == pubkey:
                del self.subscriptions[sub]
                if self._ws is not None:
                    msg = {"jsonrpc": "2.0", "id": next(self._ids), "method": "accountUnsubscribe", "params": [sub]}
                    await self._ws.send(msgspec.json.encode(msg).decode())

    async def run(self) -> None:
        """Connect, subscribe, read; on any loss report it, back off, reconnect and resubscribe. Until cancelled."""
        from websockets.asyncio.client import connect

        attempt = 0
        host = 0
        while True:
            url = self.urls[host % len(self.urls)]
            why = "connection closed"
            try:
                async with connect(url, open_timeout=10, close_timeout=2, max_size=8 * 1024 * 1024) as ws:
                    self._ws = ws
                    self._pending.clear()
                    self.subscriptions.clear()
                    self._host = safe_host(url)
                    self._pending_streams.clear()
                    self.streams.clear()
                    for pubkey in self.pubkeys:
                        await ws.send(self._subscribe_msg(pubkey).decode())
                    for stream_msg in self._stream_msgs():
                        await ws.send(stream_msg.decode())
                    async for frame in ws:
                        self.on_message(frame)
                        if self.connected:
                            attempt = 0
            except asyncio.CancelledError:
                raise
            except OSError as exc:
                why = f"cannot reach {safe_host(url)} ({exc.__class__.__name__})"
            except Exception as exc:  # websockets' own errors, a dropped frame mid-message
                why = f"{safe_host(url)}: {exc.__class__.__name__}"
            finally:
                self._ws = None
                self.connected = False
            self.reconnects += 1
            host += 1
            delay = backoff_s(attempt, self.backoff_initial_s, self.backoff_max_s)
            attempt += 1
            self.on_state("down", f"websocket lost: {why}; reconnecting in {delay:.1f}s")
            await self._sleep(delay)


def _error_text(error: Any) -> str:
    if isinstance(error, dict):
        return str(error.get("message", "error"))
    return "no subscription id in the reply"
