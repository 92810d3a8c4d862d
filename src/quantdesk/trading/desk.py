"""The trading desk: what a trader can do with orders and positions, and what
they are told about it, without a screen.

``Desk`` wraps an ``OrderRouter`` (None: the venues are read-only market data)
and the session's cache. Every action returns an ``Outcome``: whether it
worked and the ``Notice``s a trader must see (what was sent and the router's
answer, risk rejections with the limit, venue errors). The console shows the
notices; this module never draws and never imports the console.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Literal

from quantdesk.core.cache import MarketCache
from quantdesk.core.model import Market, Order, OrderIntent, Position

if TYPE_CHECKING:  # the console imports the desk at start-up; the router's journal and the ticket need not come with it
    from quantdesk.trading.router import OrderRouter
    from quantdesk.trading.ticket import FillPreviewer, TicketInput, TicketPlan

log = logging.getLogger(__name__)

Severity = Literal["information", "warning", "error"]
Key = tuple[str, str]  # (venue, market)

READ_ONLY = (
    "Order entry needs a trading connection: these venues are read-only market data here. "
    "Nothing was sent."
)


@dataclass(frozen=True, slots=True)
class Notice:
    """One message for the trader."""

    text: str
    title: str = ""
    severity: Severity = "information"
    timeout: float | None = None  # seconds on screen; None: the console's default


READ_ONLY_NOTICE = Notice(READ_ONLY, "Read-only", "warning", 6)


@dataclass(frozen=True, slots=True)
class Outcome:
    """What an action did: ``ok`` and what to tell the trader, in order."""

    ok: bool
    notices: tuple[Notice, ...] = ()

    @classmethod
    def fail(cls, *notices: Notice) -> Outcome:
        return cls(False, notices)

    @classmethod
    def done(cls, *notices: Notice) -> Outcome:
        return cls(True, notices)


def describe(intent: OrderIntent, market: Market | None) -> str:
    """``BUY 2 SOL-PERP limit 145.2 on sim-drift`` for notices."""
    size = f"{market.size(intent.size).normalize():f}" if market else str(intent.size)
    parts = [intent.side.upper(), size, intent.market, intent.type.replace("_", "-")]
    if intent.price and market:
        parts.append(f"{market.price(intent.price).normalize():f}")
    if intent.trigger_price and market:
        parts.append(f"trigger {market.price(intent.trigger_price).normalize():f}")
    return " ".join(parts) + f" on {intent.venue}"


def _orders(n: int) -> str:
    return f"{n} order{'s' if n != 1 else ''}"


def _read_only(venue: str) -> Notice:
    return Notice(
        f"{venue} has no trading connection here: it is read-only market data. Nothing was sent.",
        "Read-only", "warning", 6,
    )


class Desk:
    """Orders, positions, the kill switch and account state for one session."""

    def __init__(
        self, cache: MarketCache, router: OrderRouter | None = None, *, dead_man: bool = False,
        opening: Sequence[Notice] = (),
    ) -> None:
        self.cache = cache
        self.router = router
        self.dead_man = dead_man  # cancel resting orders when the terminal quits or hangs up
        # What the trader is told once as the console opens (why venues are read-only for them).
        self.opening = tuple(opening)

    # -- state -----------------------------------------------------------------
    @property
    def trading_enabled(self) -> bool:
        return self.router is not None

    @property
    def kill_switch_on(self) -> bool:
        return self.router is not None and self.router.risk.kill_switch_engaged

    def can_trade(self, venue: str) -> bool:
        return self.router is not None and self.router.can_trade(venue)

    def refusal(self, venue: str | None = None) -> Notice | None:
        """Why nothing can be sent (to ``venue``, or anywhere when None); None if it can."""
        if self.router is None:
            return READ_ONLY_NOTICE
        if venue is not None and not self.router.can_trade(venue):
            return _read_only(venue)
        return None

    def account(self, venue: str) -> FillPreviewer | None:
        """The venue's account view for the ticket's preview (None: the venue has none)."""
        if self.router is None:
            return None
        return getattr(self.router.executors.get(venue), "account", None)

    def _fill_summary(self, order_id: str, market: Market | None) -> str:
        """`` · 1 filled at 145.271, fee $0.07`` from the order's own fills (empty if none)."""
        fills = [f for f in self.cache.fills if f.order_id == order_id]
        size = sum(f.size for f in fills)
        if not fills or not size or market is None:
            return ""
        avg = sum(f.price * f.size for f in fills) // size
        fee = sum(f.fee for f in fills)
        fee_text = f"${market.price(abs(fee)):,.2f}" + (" rebate" if fee < 0 else "")
        return f" · {market.size(size).normalize():f} filled at {market.price(avg).normalize():f}, fee {fee_text}"

    def open_orders(self) -> list[Order]:
        return list(self.cache.orders.values())

    def open_positions(self) -> list[Position]:
        return [p for p in self.cache.positions.values() if p.base != 0]

    def set_transaction_approver(self, approve: Callable[[Any], Awaitable[bool]]) -> None:
        """Ask ``approve(preview)`` before a live venue signs (trading venues
        that sign transactions: ``core.venue.ApprovesTransactions``)."""
        if self.router is None:
            return
        self.router.set_approval(approve)

    # -- which market ------------------------------------------------------------
    def pick_market(self, candidates: Iterable[Key | None]) -> Market | None:
        """The first listed candidate (the focused selection, then the depth
        pane's market), else the first market, order books before pools."""
        markets = self.cache.markets
        for key in candidates:
            if key is not None and key in markets:
                return markets[key]
        if markets:
            return markets[sorted(markets, key=lambda k: (markets[k].kind != "clob", k))[0]]
        return None

    def market_for(self, symbol: str, near: Market | None) -> Market | None:
        """``symbol`` on ``near``'s venue if it lists it, else on a venue that trades it."""
        markets = self.cache.markets
        if near is not None and (near.venue, symbol) in markets:
            return markets[(near.venue, symbol)]
        tradable = [k for k in markets if k[1] == symbol and (self.router is None or self.router.can_trade(k[0]))]
        if not tradable:
            return None
        return markets[sorted(tradable, key=lambda k: (markets[k].kind != "clob", k))[0]]

    # -- orders --------------------------------------------------------------------
    async def place(self, inp: TicketInput, market: Market, label: str) -> Outcome:
        """Validate typed fields (``label`` names the command in errors), then submit."""
        refused = self.refusal(market.venue)
        if refused is not None:
            return Outcome.fail(refused)
        from quantdesk.trading.ticket import TicketError, build_plan  # with the first order: not at start-up

        book = self.cache.book(market.venue, market.symbol)
        oracle = self.cache.oracle.get((market.venue, market.symbol))
        try:
            plan = build_plan(inp, market, book, oracle.price if oracle else 0)
        except TicketError as exc:
            return Outcome.fail(Notice(f"{label}: {exc.message}. Nothing was sent.", severity="error", timeout=10))
        return await self.submit_plan(plan)

    async def submit_plan(self, plan: TicketPlan) -> Outcome:
        """Send every order of a ticket: one (with its bracket), or a scale that
        the risk engine decides as a whole before any child is sent."""
        if self.router is None or not plan.intents:
            return Outcome.fail(READ_ONLY_NOTICE) if self.router is None else Outcome.fail()
        intents = plan.intents
        markets = self.cache.markets
        try:
            if len(intents) > 1:
                acks = await self.router.submit_batch(intents)
            else:
                acks = [await self.router.submit(intents[0], take_profit=plan.take_profit, stop_loss=plan.stop_loss)]
        except Exception as exc:  # a venue error must reach the trader, not a traceback
            log.exception("order submission failed")
            first = intents[0]
            return Outcome.fail(
                Notice(f"{describe(first, markets.get((first.venue, first.market)))} failed: {exc}", severity="error", timeout=10)
            )
        notices: list[Notice] = []
        placed = 0
        for n, (intent, ack) in enumerate(zip(intents, acks)):
            market = markets.get((intent.venue, intent.market))
            if not ack.ok:
                what = describe(intent, market)
                if len(intents) > 1 and not ack.decision.accepted:
                    what = f"Scale of {len(intents)} orders ({what} first); none placed"
                elif len(intents) > 1:
                    what = f"Scale order {n + 1} of {len(intents)} ({what}); {placed} placed before it"
                notices.append(Notice(f"{what}: {ack.message}", "Order rejected", "error", 12))
                return Outcome(False, tuple(notices))
            placed += 1
            if len(intents) == 1:
                filled = self._fill_summary(ack.order.order_id if ack.order else "", market)
                notices.append(
                    Notice(f"{describe(intent, market)}{_bracket(plan, market)}: {ack.message}{filled}", "Order")
                )
        if len(intents) > 1:
            first = intents[0]
            notices.append(
                Notice(f"Scale: {placed} {first.side} limit orders placed on {first.market} ({first.venue})", "Order")
            )
        return Outcome(True, tuple(notices))

    async def cancel(self, venue: str, order_id: str) -> Outcome:
        refused = self.refusal(venue)
        if refused is not None or self.router is None:
            return Outcome.fail(refused or READ_ONLY_NOTICE)
        try:
            await self.router.cancel(venue, order_id)
        except Exception as exc:
            return Outcome.fail(Notice(f"Cancel {order_id}: {exc}", severity="error", timeout=8))
        return Outcome.done(Notice(f"Order {order_id} cancelled.", "Orders"))

    async def cancel_by_id(self, order_id: str) -> Outcome:
        """Cancel an open order by its id alone (the command line's CANCEL)."""
        refused = self.refusal()
        if refused is not None:
            return Outcome.fail(refused)
        order = self.cache.orders.get(order_id)
        if order is None:
            return Outcome.fail(Notice(f"No open order {order_id}; it may have filled or been cancelled.", severity="error"))
        return await self.cancel(order.venue, order.order_id)

    async def cancel_all(self, market: str | None = None) -> Outcome:
        """Cancel every open order, or every open order on ``market`` (any venue)."""
        refused = self.refusal()
        if refused is not None or self.router is None:
            return Outcome.fail(refused or READ_ONLY_NOTICE)
        if market is None:
            n = await self.router.cancel_all()
            return Outcome.done(Notice(f"Cancel all: {_orders(n)} cancelled.", "Orders"))
        notices: list[Notice] = []
        n = 0
        for order in [o for o in self.cache.orders.values() if o.market == market]:
            try:
                await self.router.cancel(order.venue, order.order_id)
                n += 1
            except Exception as exc:
                notices.append(Notice(f"Cancel {order.order_id}: {exc}", severity="error"))
        notices.append(Notice(f"Cancel all {market}: {_orders(n)} cancelled.", "Orders"))
        return Outcome(True, tuple(notices))

    async def modify(self, venue: str, order_id: str, *, price: int | None, size: int | None) -> Outcome:
        refused = self.refusal(venue)
        if refused is not None or self.router is None:
            return Outcome.fail(refused or READ_ONLY_NOTICE)
        try:
            order = await self.router.modify(venue, order_id, price=price, size=size)
        except Exception as exc:
            return Outcome.fail(Notice(f"Modify {order_id}: {exc}", severity="error", timeout=8))
        return Outcome.done(Notice(f"Order {order_id} modified: {order.status}.", "Orders"))

    # -- collateral --------------------------------------------------------------------
    def collateral_market(self, symbol: str | None, near: Market | None) -> Market | None:
        """Where a collateral change goes: ``symbol`` (or ``near``'s) on a venue whose
        positions hold their own collateral, ``near``'s venue first."""
        from quantdesk.core.venue import ChangesCollateral

        if self.router is None:
            return None
        want = symbol or (near.symbol if near is not None else None)
        keys = sorted((k for k in self.cache.markets if k[1] == want), key=lambda k: (near is None or k[0] != near.venue, k))
        for key in keys:
            if isinstance(self.router.executors.get(key[0]), ChangesCollateral):
                return self.cache.markets[key]
        return None

    async def change_collateral(self, market: Market, amount: Decimal, side: Literal["long", "short"] | None) -> Outcome:
        """Add (``amount`` > 0, USD) or take out collateral of the open position on ``market``."""
        refused = self.refusal(market.venue)
        if refused is not None or self.router is None:
            return Outcome.fail(refused or READ_ONLY_NOTICE)
        change = int(amount.scaleb(market.price_decimals).to_integral_value())
        what = f"{'add' if change > 0 else 'take out'} ${abs(amount):,.2f} of collateral on {market.symbol} ({market.venue})"
        try:
            ack = await self.router.change_collateral(market.venue, market.symbol, change, side)
        except Exception as exc:  # a venue error must reach the trader, not a traceback
            log.exception("collateral change failed")
            return Outcome.fail(Notice(f"Collateral: {what} failed: {exc}", severity="error", timeout=10))
        if not ack.ok:
            return Outcome.fail(Notice(f"Collateral: {what}: {ack.message}", "Collateral refused", "error", 12))
        return Outcome.done(Notice(f"Collateral: {what}: {ack.message}", "Collateral"))

    # -- positions -------------------------------------------------------------------
    async def close_positions(self, keys: Sequence[Key]) -> Outcome:
        """Close positions with reduce-only market orders, reporting each outcome."""
        notices: list[Notice] = []
        ok = True
        for venue, market in keys:
            refused = self.refusal(venue)
            if refused is not None or self.router is None:
                return Outcome(False, (*notices, refused or READ_ONLY_NOTICE))
            try:
                ack = await self.router.close_position(venue, market)
            except Exception as exc:
                notices.append(Notice(f"Close {market} on {venue} failed: {exc}", severity="error", timeout=10))
                ok = False
                continue
            if ack is None:  # already flat
                continue
            if ack.ok:
                notices.append(Notice(f"Close {market} on {venue}: {ack.message}", "Positions"))
            else:
                ok = False
                notices.append(Notice(f"Close {market} on {venue}: {ack.message}", "Close rejected", "error", 12))
        return Outcome(ok, tuple(notices))

    async def close_all(self) -> Outcome:
        return await self.close_positions([(p.venue, p.market) for p in self.open_positions()])

    # -- the kill switch -----------------------------------------------------------------
    async def engage_kill_switch(self) -> Outcome:
        """Block new orders and cancel every open one."""
        if self.router is None:
            return Outcome.fail(READ_ONLY_NOTICE)
        n = await self.router.kill()
        return Outcome.done(
            Notice(
                f"KILL SWITCH ON: {n} open order{'s' if n != 1 else ''} cancelled; new orders are blocked. "
                "Press the kill switch key again (or KILL OFF) to release it.",
                "Kill switch", "error", 12,
            )
        )

    def release_kill_switch(self) -> Outcome:
        if self.router is None:
            return Outcome.fail(READ_ONLY_NOTICE)
        self.router.release()
        return Outcome.done(Notice("Kill switch released: new orders are accepted again.", "Kill switch"))

    async def set_kill_switch(self, engage: bool) -> Outcome:
        """KILL ON / KILL OFF from the command line."""
        if engage:
            return await self.engage_kill_switch()
        if self.router is None:
            return Outcome.fail(READ_ONLY_NOTICE)
        if self.kill_switch_on:
            return self.release_kill_switch()
        return Outcome.done(Notice("The kill switch is already off."))

    def halt_notice(self, release_key: str) -> Notice | None:
        """For a terminal that starts halted (the kill switch was on when it last
        ran, or the config engages it): that it is, and how to lift it."""
        if self.router is None or not self.kill_switch_on:
            return None
        return Notice(
            f"Trading is HALTED: the kill switch is on ({self.router.risk.kill_switch_reason}). New orders are "
            f"blocked until you release it: press {release_key} and confirm, run the palette command "
            "\"risk: kill switch\", or type KILL OFF.",
            "Kill switch", "error", 30,
        )

    @staticmethod
    def journal_problem(problem: str) -> Notice:
        """A fill or order the journal refused: shown, never only logged."""
        return Notice(
            f"{problem} Check the position with the venue; the log file has the details.", "Journal", "error", 30
        )

    # -- the end of the session ---------------------------------------------------------------
    async def run_dead_man(self) -> int:
        """Cancel resting orders (protective stops stay) when the terminal goes
        away; 0 when the dead-man's switch is off or cannot act."""
        if not self.dead_man or self.router is None:
            return 0
        try:
            n = await self.router.dead_man()
        except Exception:
            log.exception("dead-man's switch could not cancel the resting orders")
            return 0
        log.warning("dead-man's switch: %d resting orders cancelled on exit; protective stops kept", n)
        return n


def _bracket(plan: TicketPlan, market: Market | None) -> str:
    """`` with TP 150, SL 140`` for an order sent with a bracket."""
    if market is None or not (plan.take_profit or plan.stop_loss):
        return ""
    legs = []
    if plan.take_profit:
        legs.append(f"TP {market.price(plan.take_profit).normalize():f}")
    if plan.stop_loss:
        legs.append(f"SL {market.price(plan.stop_loss).normalize():f}")
    return " with " + ", ".join(legs)
