"""Follows the trader's position requests until a keeper executes them, they are
cancelled, or they expire, and publishes each change as an ``Order`` (and a
``Fill`` for an execution) on the bus: the Orders pane and the journal read them there.

A request is an account: it appears when the trader's transaction lands
(the order goes from ``pending`` to ``open``: a keeper can execute it now)
and is closed when a keeper executes it or when it is cancelled; a market
request a keeper has not executed within the pool's
``maxRequestExecutionSec`` has expired and is closed with its collateral
returned. The account alone cannot say which: its position can. So when a
request is gone the position is read in the same state of the chain, and
compared with what it was when the request was sent (``judge``).

Requests are followed with websocket ``accountSubscribe`` (added as they are
sent) and re-read with ``getMultipleAccounts`` while the websocket is down,
after each reconnect, and once a market request's deadline passes (an
expiry is declared from chain state read after the deadline, never from the
clock alone). Requests already on chain when the venue starts (take-profits
and stop-losses from an earlier session) are read with ``getProgramAccounts``
and followed the same way.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any, Literal

import msgspec

from quantdesk.core.bus import Bus
from quantdesk.core.model import Fill, Order, OrderType, Side, topic_for
from quantdesk.venues.jupiter import position_math
from quantdesk.venues.jupiter.accounts import AccountDecodeError, AccountDecoder, discriminator
from quantdesk.venues.jupiter.preview import EXPIRY_MARGIN_S, Followed
from quantdesk.venues.jupiter.request_plan import MarketState
from quantdesk.venues.jupiter.views import PositionView
from quantdesk.venues.solana.rpc import RpcError, SolanaRpc

log = logging.getLogger(__name__)

NS = 1_000_000_000
LANDING_S = 90  # a transaction whose blockhash is this old can no longer land
Verdict = Literal["waiting", "executed", "cancelled", "expired"]


def _request_filters(owner: str) -> list[dict[str, Any]]:
    import base58

    return [
        {"memcmp": {"offset": 0, "bytes": base58.b58encode(discriminator("PositionRequest")).decode()}},
        {"memcmp": {"offset": 8, "bytes": owner}},
    ]


def judge(f: Followed, request: dict[str, Any] | None, position: PositionView | None, now_s: int) -> Verdict:
    """What became of a followed request, from its account (None: closed) and its
    position's, both read in one state of the chain."""
    if request is not None:
        if request.get("executed"):
            return "executed"
        if f.deadline_s is not None and now_s > f.deadline_s:
            return "expired"  # past its deadline no keeper may execute it; it is closed and refunded
        return "waiting"
    size, collateral = (position.size_usd, position.collateral_usd) if position is not None else (0, 0)
    before_size, before_collateral = f.before or (0, 0)
    done = {
        "open": size > before_size,
        "close": size < before_size,
        "take_profit": size < before_size,
        "stop_loss": size < before_size,
        "deposit": collateral > before_collateral,
        "withdraw": collateral < before_collateral,
    }.get(f.kind, False)
    if done:
        return "executed"
    return "expired" if f.deadline_s is not None and now_s > f.deadline_s else "cancelled"


@dataclass
class _Tracked:
    followed: Followed
    seen: bool = False  # the request account was read on chain


class RequestFollower:
    def __init__(
        self,
        venue: str,
        owner: str,
        rpc: SolanaRpc,
        decoder: AccountDecoder,
        state: Callable[[str], MarketState | None],  # symbol -> the market as planning sees it now
        *,
        program_id: str,
        symbols: dict[str, str],  # custody -> market symbol
        poll_s: float = 1.0,
        clock: Callable[[], int] = time.time_ns,
        sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
        on_executed: Callable[[], Awaitable[None]] | None = None,  # e.g. re-read the positions
        ready: Callable[[], bool] = lambda: True,  # the markets and positions are read: requests on chain can be placed
    ) -> None:
        self.ready = ready
        self.open_loaded = False
        self.venue = venue
        self.owner = owner
        self.rpc = rpc
        self.decoder = decoder
        self.state = state
        self.program_id = program_id
        self.symbols = symbols
        self.poll_s = poll_s
        self.clock = clock
        self._sleep = sleep
        self.on_executed = on_executed
        self.bus: Bus | None = None
        self.tracked: dict[str, _Tracked] = {}  # order id -> the request followed
        self.pubsub: Any = None  # solana.pubsub.AccountPubsub while running with a websocket
        self.cancelling: set[str] = set()  # orders the trader sent a cancel for
        self.reads = 0
        self.last_error = ""
        self._lock = asyncio.Lock()
        self._tasks: set[asyncio.Task[Any]] = set()

    # -- what is followed -----------------------------------------------------------------------
    def open_orders(self) -> list[Order]:
        return [t.followed.order for t in self.tracked.values()]

    def find(self, order_id: str) -> Followed | None:
        t = self.tracked.get(order_id)
        return None if t is None else t.followed

    def _publish(self, *events: Any) -> None:
        if self.bus is not None:
            for ev in events:
                self.bus.publish(topic_for(ev), ev)

    async def track(self, followed: Followed) -> None:
        """A request just sent: shown pending, followed from now on."""
        self.tracked[followed.order.order_id] = _Tracked(followed)
        self._publish(followed.order)
        if self.pubsub is not None:
            await self.pubsub.subscribe(followed.request)

    def replace_order(self, order: Order) -> None:
        """A followed request's order changed (a new trigger price was sent)."""
        t = self.tracked.get(order.order_id)
        if t is not None:
            t.followed = replace(t.followed, order=order)
            self._publish(order)

    # -- chain state -------------------------------------------------------------------------------
    def _decode_request(self, data: bytes | None) -> dict[str, Any] | None:
        """The request's fields; None for a closed account (no data, or zeroed)."""
        if not data:
            return None
        try:
            return self.decoder.decode(data, expect="PositionRequest").fields
        except AccountDecodeError as exc:
            self.last_error = f"position request: {exc}"
            return None

    def _decode_position(self, data: bytes | None) -> PositionView | None:
        if not data:
            return None
        try:
            return PositionView.from_fields(self.decoder.decode(data, expect="Position").fields)
        except AccountDecodeError as exc:
            self.last_error = f"position: {exc}"
            return None

    async def reread(self, *, only_due: bool = False) -> bool:
        """Read every followed request and its position in one call and settle what
        can be settled; ``only_due``: only requests past their deadline or not seen
        on chain yet (the websocket reports the others). False if the RPC failed."""
        now_s = self.clock() // NS
        items = [t for t in self.tracked.values()
                 if not only_due or not t.seen or (t.followed.deadline_s is not None and now_s > t.followed.deadline_s)]  # fmt: skip
        if not items:
            return True
        keys: list[str] = []
        for t in items:
            keys += [t.followed.request, t.followed.position]
        seen_before = [t.seen for t in items]
        try:
            _slot, datas = await self.rpc.get_multiple_accounts(keys)
        except RpcError as exc:
            self.last_error = f"requests could not be read: {exc}"
            return False
        self.reads += 1
        self.last_error = ""  # read again: an earlier failure is over (a bad account below says so anew)
        now_s = self.clock() // NS
        for k, t in enumerate(items):
            request = self._decode_request(datas[2 * k])
            if request is None and t.seen and not seen_before[k]:
                continue  # the websocket saw it land while this read was under way: the read is older
            if request is not None and not t.seen:
                self._seen(t)
            await self._settle(t, request, self._decode_position(datas[2 * k + 1]), now_s)
        return True

    def _seen(self, t: _Tracked) -> None:
        t.seen = True
        order = t.followed.order
        if order.status == "pending":
            t.followed = replace(t.followed, order=msgspec.structs.replace(order, status="open"))
            self._publish(t.followed.order)

    async def _settle(self, t: _Tracked, request: dict[str, Any] | None, position: PositionView | None, now_s: int) -> None:
        f = t.followed
        verdict = judge(f, request, position, now_s)
        if verdict == "waiting":
            return
        never_seen = request is None and not t.seen and verdict != "executed"
        if never_seen:
            horizon = f.deadline_s if f.deadline_s is not None else f.order.ts // NS + LANDING_S
            if now_s <= horizon:
                return  # the transaction may still be landing
        if self.tracked.get(f.order.order_id) is not t:
            return  # settled meanwhile
        del self.tracked[f.order.order_id]
        by_trader = f.order.order_id in self.cancelling
        self.cancelling.discard(f.order.order_id)
        if self.pubsub is not None:
            await self.pubsub.unsubscribe(f.request)
        if verdict == "executed":
            self._publish(*self._executed(f, position))
            if self.on_executed is not None:
                await self.on_executed()
            return
        window = f"{f.deadline_s - f.order.ts // NS - EXPIRY_MARGIN_S}s" if f.deadline_s is not None else ""
        if never_seen and f.deadline_s is None:
            reason = "never seen on chain: the transaction did not land; nothing changed"
        elif never_seen:
            reason = f"expired or never landed: no keeper executed it within {window}; nothing stays locked"
        elif verdict == "expired":
            reason = f"expired: no keeper executed it within {window}; its collateral goes back to the wallet"
        elif by_trader:
            reason = "cancelled by the trader"
        elif f.trigger:
            reason = "closed: cancelled, or the position it guarded was closed"
        else:
            reason = "cancelled before a keeper executed it"
        self._publish(msgspec.structs.replace(f.order, status="cancelled", reason=reason))

    def _executed(self, f: Followed, position: PositionView | None) -> list[Any]:
        order = f.order
        m = self.state(order.market)
        oracle = m.oracle_price if m is not None else 0
        price = oracle
        if f.kind == "open" and (f.before is None or f.before[0] == 0) and position is not None and position.price:
            price = position.price  # a fresh position's entry is its fill price exactly
        fee = self._fee(f, position, price, m)
        filled = msgspec.structs.replace(order, status="filled", filled=order.size)
        if f.kind in ("deposit", "withdraw") or not order.size:
            return [filled]
        fill = Fill(self.venue, order.market, order.order_id, f"{order.order_id}-1", order.side, price, order.size,
                    fee, "taker", self.clock())  # fmt: skip
        return [fill, filled]

    def _fee(self, f: Followed, position: PositionView | None, price: int, m: MarketState | None) -> int:
        """An open's fee is what the collateral lost on the way in; a decrease's, the
        custody's close fee on the size closed (the position no longer shows it)."""
        if m is None:
            return 0
        if f.kind == "open" and position is not None:
            before = f.before[1] if f.before else 0
            custody = m.custody if f.side == "long" else m.stable
            if f.side == "long":
                posted = f.collateral_tokens * price // 10**custody.decimals
            else:
                posted = f.collateral_tokens * 1_000_000 // 10**custody.decimals
            return max(0, posted - (position.collateral_usd - before))
        if f.kind in ("close", "take_profit", "stop_loss"):
            size = f.size_usd if f.size_usd is not None else (f.before[0] if f.before else 0)
            c = m.custody
            delta = position_math.impact_delta("long" if f.side == "long" else "short", False, size)
            return position_math.close_fee_usd(size, c.decrease_position_bps, c.trade_impact_fee_scalar,
                                               c.price_impact, self.clock() // NS, delta)  # fmt: skip
        return 0

    # -- requests already on chain -------------------------------------------------------------
    async def load_open(self, deadline_of: Callable[[int], int | None]) -> int:
        """Follow the owner's requests already on chain (from another session or app);
        ``deadline_of(open_time)`` gives a market request's expiry. How many were found (-1: the RPC failed)."""
        try:
            found = await self.rpc.get_program_accounts(self.program_id, _request_filters(self.owner))
        except RpcError as exc:
            self.last_error = f"open requests could not be listed: {exc}"
            return -1
        known = {t.followed.request for t in self.tracked.values()}
        n = 0
        for pubkey, data in found:
            fields = self._decode_request(data)
            if fields is None or fields.get("executed") or pubkey in known:
                continue
            followed = self._from_chain(pubkey, fields, deadline_of)
            if followed is None:
                continue
            self.tracked[followed.order.order_id] = _Tracked(followed, seen=True)
            self._publish(followed.order)
            if self.pubsub is not None:
                await self.pubsub.subscribe(pubkey)
            n += 1
        return n

    def _from_chain(self, pubkey: str, r: dict[str, Any], deadline_of: Callable[[int], int | None]) -> Followed | None:
        symbol = self.symbols.get(r["custody"])
        m = self.state(symbol) if symbol else None
        side = r["side"] if r["side"] in ("long", "short") else None
        if symbol is None or m is None or side is None:
            return None
        increase = r["request_change"] == "increase"
        trigger = r["request_type"] == "trigger"
        pos = m.position(side)
        base = m.base(pos) if pos is not None else 0
        size_usd = None if r.get("entire_position") else int(r["size_usd_delta"])
        if pos is not None and size_usd is not None and pos.size_usd:
            base = base * size_usd // pos.size_usd
        elif increase and r["size_usd_delta"] and m.oracle_price:
            base = int(r["size_usd_delta"]) * 10**m.size_decimals // m.oracle_price
        buys = (side == "long") == increase
        order_side: Side = "buy" if buys else "sell"
        type_: OrderType = "market"
        kind = "open" if increase else "close"
        if trigger:
            take_profit = bool(r.get("trigger_above_threshold")) == (side == "long")
            type_ = "take_profit_market" if take_profit else "stop_market"
            kind = "take_profit" if take_profit else "stop_loss"
        if increase and not r["size_usd_delta"]:
            kind = "deposit"
        elif not increase and not r["size_usd_delta"] and not r.get("entire_position") and not trigger:
            kind = "withdraw"
        price = int(r.get("price_slippage") or 0)
        order = Order(
            venue=self.venue, market=symbol, order_id=f"{self.venue}:{r['counter']}", side=order_side, type=type_,
            size=base, price=0 if trigger else price, trigger_price=int(r.get("trigger_price") or 0),
            status="open", reduce_only=not increase, ts=int(r["open_time"]) * NS,
        )
        before = (pos.size_usd, pos.collateral_usd) if pos is not None else None
        return Followed(order, pubkey, r["position"], kind, side, trigger, size_usd, int(r["collateral_delta"]),
                        mint=r["mint"], deadline_s=None if trigger else deadline_of(int(r["open_time"])),
                        before=before)  # fmt: skip

    # -- running -----------------------------------------------------------------------------------
    def on_account(self, pubkey: str, slot: int, data: bytes) -> None:
        """One ``accountNotification`` of a followed request."""
        t = next((t for t in self.tracked.values() if t.followed.request == pubkey), None)
        if t is None:
            return
        request = self._decode_request(data)
        if request is not None and not request.get("executed"):
            if not t.seen:
                self._seen(t)
            return
        self._spawn(self.reread)  # closed or executed: settle from the position's state too

    def on_state(self, state: str, message: str) -> None:
        if state != "connected":
            self.last_error = f"request websocket: {message}"[:200]
            return
        self._spawn(self.reread)  # subscribed (again): catch up on what changed meanwhile

    def _spawn(self, work: Callable[[], Awaitable[Any]]) -> None:
        task = asyncio.get_running_loop().create_task(self._locked(work))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _locked(self, work: Callable[[], Awaitable[Any]]) -> Any:
        async with self._lock:  # one settlement at a time: an order ends once
            return await work()

    async def poll_once(self) -> None:
        ws_up = self.pubsub is not None and self.pubsub.connected
        await self._locked(lambda: self.reread(only_due=ws_up))

    async def run(self, bus: Bus, ws_urls: list[str], *, commitment: str, backoff_initial_s: float,
                  backoff_max_s: float, deadline_of: Callable[[int], int | None]) -> None:
        from quantdesk.venues.solana.pubsub import AccountPubsub

        self.bus = bus
        tasks: list[asyncio.Task[Any]] = []
        if ws_urls:
            self.pubsub = AccountPubsub(ws_urls, [t.followed.request for t in self.tracked.values()], self.on_account,
                                        self.on_state, commitment=commitment, backoff_initial_s=backoff_initial_s,
                                        backoff_max_s=backoff_max_s, sleep=self._sleep)  # fmt: skip
            tasks.append(asyncio.create_task(self.pubsub.run(), name=f"{self.venue}-requests-ws"))
        try:
            while True:
                if not self.open_loaded and self.ready():
                    self.open_loaded = await self._locked(lambda: self.load_open(deadline_of)) >= 0
                await self._sleep(self.poll_s)
                await self.poll_once()
        finally:
            for task in [*tasks, *self._tasks]:
                task.cancel()
            await asyncio.gather(*tasks, *self._tasks, return_exceptions=True)


def usd_text(value: int) -> str:
    return f"${Decimal(value).scaleb(-6):,.2f}"
