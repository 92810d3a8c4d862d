"""Follows the trader's own orders live: the User account over websocket
pubsub (``accountSubscribe``) and own fills from the DLOB trades channel, fed
through ``order_state.OrderStates``; every changed order and every own fill
is published on the bus (the journal records them from there).

The account's bytes also refresh the executor's copy of the User account, so
the next order is built on the current one.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from quantdesk.core.bus import Bus
from quantdesk.core.model import topic_for
from quantdesk.venues.drift import wire
from quantdesk.venues.drift.health import FeedHealth
from quantdesk.venues.drift.idl import AccountDecodeError
from quantdesk.venues.drift.order_state import OrderStates, chain_orders

if TYPE_CHECKING:
    from quantdesk.venues.drift.config import DriftDeployment
    from quantdesk.venues.drift.market_data import DlobFeed

log = logging.getLogger(__name__)


class OrderFollower:
    def __init__(
        self,
        venue: str,
        executor: Any,  # execution.DriftExecutor: its ``orders``, ``store`` and ``chain``
        symbols: dict[int, str],
        health: FeedHealth,
        *,
        clock: Callable[[], int] = time.time_ns,
    ) -> None:
        self.venue = venue
        self.executor = executor
        self.user_address = str(executor.user_address)
        self.states = OrderStates(venue, self.user_address, symbols)
        self.health = health
        self.clock = clock
        self.bus: Bus | None = None
        self.account_updates = 0
        self.rereads = 0
        self._tasks: set[asyncio.Task] = set()

    def _publish(self, events: list[Any]) -> None:
        if self.bus is not None:
            for ev in events:
                self.bus.publish(topic_for(ev), ev)

    def sent(self, order_ids: list[str]) -> None:
        """Orders just sent in one transaction, in their order in it."""
        user = self.executor.chain.user_account()
        base = int(user.next_order_id) if user is not None else None
        for k, order_id in enumerate(order_ids):
            self.states.sent(order_id, None if base is None else base + k)

    def on_account(self, pubkey: str, slot: int, data: bytes) -> None:
        """One ``accountNotification`` of the User account."""
        if pubkey != self.user_address:
            return
        try:
            self.executor.store.add(data, slot=slot, address=pubkey)
        except AccountDecodeError as exc:
            self.health.malformed += 1
            self.health.last_error = f"User account at slot {slot}: {exc}"
            return
        user = self.executor.chain.user_account()
        self.account_updates += 1
        now_s = self.clock() // 1_000_000_000
        self._publish(self.states.on_user(self.executor.orders, chain_orders(user), int(user.next_order_id), now_s))

    def on_fill(self, rec: wire.TradeRecord) -> None:
        """A fill record from the trades channel (already once per record)."""
        try:
            fills, changed = self.states.on_fill(self.executor.orders, rec)
        except wire.WireError:
            return  # the feed counted it
        self._publish([*fills, *changed])

    def on_state(self, state: str, message: str) -> None:
        if state != "connected":
            self.health.error(f"User account websocket: {message}"[:200])
            return
        # Subscribed (again): read the account once, so a change made while the
        # socket was down (an order filled or cancelled) is not missed.
        task = asyncio.get_running_loop().create_task(self.reread())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def reread(self) -> bool:
        """Fetch the User account over RPC and apply it; False if it could not be read."""
        try:
            slot, data = await self.executor.rpc.get_account(self.user_address)
        except Exception as exc:  # RPC down: the next notification or reconnect catches up
            log.warning("%s: could not re-read the User account: %s", self.venue, exc.__class__.__name__)
            return False
        if data is None:
            return False
        self.rereads += 1
        self.on_account(self.user_address, slot, data)
        return True

    async def run(self, bus: Bus, url: str, *, backoff_initial_s: float, backoff_max_s: float,
                  sleep: Callable[[float], Awaitable[Any]] | None = None) -> None:
        from quantdesk.venues.solana.pubsub import AccountPubsub

        self.bus = bus
        kw: dict[str, Any] = {} if sleep is None else {"sleep": sleep}
        pubsub = AccountPubsub([url], [self.user_address], self.on_account, self.on_state,
                               backoff_initial_s=backoff_initial_s, backoff_max_s=backoff_max_s, **kw)
        try:
            await pubsub.run()
        finally:
            for task in list(self._tasks):
                task.cancel()

    async def follow(self, bus: Bus, feed: DlobFeed, deployment: DriftDeployment,
                     sleep: Callable[[float], Awaitable[Any]] | None = None) -> None:
        """Follow the orders onto ``bus`` until cancelled, hearing ``feed``'s fill
        records meanwhile and not after (a gone console's bus is let go of)."""
        d = deployment
        feed.add_fill_listener(self.on_fill)
        try:
            await self.run(bus, d.ws_rpc_url, backoff_initial_s=d.backoff_initial_s, backoff_max_s=d.backoff_max_s,
                           sleep=sleep)
        finally:
            feed.remove_fill_listener(self.on_fill)
