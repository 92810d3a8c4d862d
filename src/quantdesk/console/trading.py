"""What the App does for trading: the ticket keys, cancel all, the kill switch,
order commands from the command line and palette, and the dead-man's switch.

``TradingActions`` is a mixin of the App. It talks to an injected
``OrderRouter`` (``app.router``; None when the venues are read-only market
data) and reads the session's cache; it holds no trading state of its own.
Every outcome a trader needs to know about is a notification: what was sent
and the router's answer, risk rejections with the limit and the excess.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from textual.binding import Binding

from quantdesk.core import actions
from quantdesk.console.keymap import normalize_key
from quantdesk.core.model import Market, OrderIntent, Side
from quantdesk.trading.ticket import TicketError, TicketInput, TicketPlan, build_plan

log = logging.getLogger(__name__)

# Binding id -> the mixin's Textual action.
TRADING_ACTIONS = {
    "order.buy": "order_ticket('buy')",
    "order.sell": "order_ticket('sell')",
    "orders.cancel_all": "cancel_all_orders",
    "risk.kill_switch": "kill_switch",
}
READ_ONLY = (
    "Order entry needs a trading connection: these venues are read-only market data here. "
    "Nothing was sent."
)


def trading_bindings() -> list[Binding]:
    out = []
    for binding_id, action in TRADING_ACTIONS.items():
        a = actions.BY_ID[binding_id]
        out.append(Binding(normalize_key(a.key), action, a.description, key_display=a.key, show=False, id=binding_id))
    return out


def describe(intent: OrderIntent, market: Market | None) -> str:
    """``BUY 2 SOL-PERP limit 145.2 on sim-drift`` for notifications."""
    size = f"{market.size(intent.size).normalize():f}" if market else str(intent.size)
    parts = [intent.side.upper(), size, intent.market, intent.type.replace("_", "-")]
    if intent.price and market:
        parts.append(f"{market.price(intent.price).normalize():f}")
    if intent.trigger_price and market:
        parts.append(f"trigger {market.price(intent.trigger_price).normalize():f}")
    return " ".join(parts) + f" on {intent.venue}"


class TradingActions:
    """Mixin for the App; expects ``self.session`` and sets nothing up itself.
    The App passes ``router`` and ``dead_man`` in its constructor."""

    router: Any = None
    dead_man: bool = False
    _hangup_installed = False

    # -- what is selected ----------------------------------------------------
    def trading_target(self) -> Market | None:
        """The market the ticket opens on: the focused pane's selection (an
        order or position row, or the market a pane shows), else the depth
        pane's market, else the first market."""
        cache = self.session.cache  # type: ignore[attr-defined]
        candidates: list[Any] = [self.focused]  # type: ignore[attr-defined]
        depth = getattr(self, "depth_target", None)
        if callable(depth):
            candidates.append(depth())
        for widget in candidates:
            if widget is None:
                continue
            pick = getattr(widget, "selected_market", None)
            key = pick() if callable(pick) else (getattr(widget, "venue", None), getattr(widget, "market", None))
            if key and key in cache.markets:
                return cache.markets[key]
        if cache.markets:
            return cache.markets[sorted(cache.markets, key=lambda k: (cache.markets[k].kind != "clob", k))[0]]
        return None

    # -- live venues: a transaction preview before anything is signed ---------
    def attach_transaction_preview(self) -> None:
        """Ask the trader before a live executor signs (executors with an
        ``approve`` hook: the Drift signer path)."""
        for ex in getattr(self.router, "executors", {}).values():
            if hasattr(ex, "approve"):
                ex.approve = self.approve_transaction

    async def approve_transaction(self, preview: Any) -> bool:
        from textual.worker import NoActiveWorker, get_current_worker

        from quantdesk.console.confirm import ConfirmScreen

        try:
            get_current_worker()
        except NoActiveWorker:
            # a key handler (cancel, modify): the key press was the decision, and
            # waiting for a dialog here would block the very loop that runs it
            return True
        answer: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        screen = ConfirmScreen("Sign and send this transaction?", "\n".join(preview.lines()), yes="sign and send")
        self.push_screen(screen, callback=lambda ok: answer.done() or answer.set_result(bool(ok)))  # type: ignore[attr-defined]
        return await answer

    def _can_trade(self, venue: str) -> bool:
        if self.router is None:
            self.notify(READ_ONLY, title="Read-only", severity="warning", timeout=6)  # type: ignore[attr-defined]
            return False
        if not self.router.can_trade(venue):
            self.notify(  # type: ignore[attr-defined]
                f"{venue} has no trading connection here: it is read-only market data. Nothing was sent.",
                title="Read-only", severity="warning", timeout=6,
            )
            return False
        return True

    # -- the ticket ------------------------------------------------------------
    def action_order_ticket(self, side: Side) -> None:
        from textual.screen import ModalScreen

        from quantdesk.console.ticket import TicketScreen

        if isinstance(self.screen, ModalScreen):  # type: ignore[attr-defined]
            return  # one dialog at a time: answer or close the open one first
        market = self.trading_target()
        if market is None:
            self.notify("No market to trade yet: wait for the venues to list their markets.", severity="warning")  # type: ignore[attr-defined]
            return
        if not self._can_trade(market.venue):
            return
        account = getattr(self.router.executors.get(market.venue), "account", None)
        screen = TicketScreen(self.session, market, side, account)  # type: ignore[attr-defined]
        self.push_screen(screen, self._ticket_closed)  # type: ignore[attr-defined]

    def _ticket_closed(self, plan: TicketPlan | None) -> None:
        if plan is not None:
            self.run_worker(self.submit_plan(plan), name="submit", group="orders", exit_on_error=False)  # type: ignore[attr-defined]

    async def submit_plan(self, plan: TicketPlan) -> bool:
        """Send every order of a ticket (stopping at the first refusal) and say what happened."""
        cache = self.session.cache  # type: ignore[attr-defined]
        placed = 0
        try:
            if len(plan.intents) > 1:  # a scale is decided as a whole before any child is sent
                acks = await self.router.submit_batch(plan.intents)
            else:
                acks = [await self.router.submit(plan.intents[0], take_profit=plan.take_profit, stop_loss=plan.stop_loss)]
        except Exception as exc:  # a venue error must reach the trader, not a traceback
            log.exception("order submission failed")
            intent = plan.intents[0]
            market = cache.markets.get((intent.venue, intent.market))
            self.notify(f"{describe(intent, market)} failed: {exc}", severity="error", timeout=10)  # type: ignore[attr-defined]
            return False
        for n, (intent, ack) in enumerate(zip(plan.intents, acks)):
            market = cache.markets.get((intent.venue, intent.market))
            if not ack.ok:
                what = describe(intent, market)
                if len(plan.intents) > 1 and not ack.decision.accepted:
                    what = f"Scale of {len(plan.intents)} orders ({what} first); none placed"
                elif len(plan.intents) > 1:
                    what = f"Scale order {n + 1} of {len(plan.intents)} ({what}); {placed} placed before it"
                self.notify(f"{what}: {ack.message}", title="Order rejected", severity="error", timeout=12)  # type: ignore[attr-defined]
                return False
            placed += 1
            if len(plan.intents) == 1:
                bracket = ""
                if market and (plan.take_profit or plan.stop_loss):
                    legs = []
                    if plan.take_profit:
                        legs.append(f"TP {market.price(plan.take_profit).normalize():f}")
                    if plan.stop_loss:
                        legs.append(f"SL {market.price(plan.stop_loss).normalize():f}")
                    bracket = " with " + ", ".join(legs)
                self.notify(f"{describe(intent, market)}{bracket}: {ack.message}", title="Order")  # type: ignore[attr-defined]
        if len(plan.intents) > 1:
            first = plan.intents[0]
            self.notify(  # type: ignore[attr-defined]
                f"Scale: {placed} {first.side} limit orders placed on {first.market} ({first.venue})", title="Order"
            )
        self._repaint()
        return True

    def _repaint(self) -> None:
        frame = getattr(self, "frame", None)
        if callable(frame):
            frame()

    # -- cancel, kill ------------------------------------------------------------
    async def action_cancel_all_orders(self) -> None:
        if not self._can_trade_any():
            return
        n = await self.router.cancel_all()
        self.notify(f"Cancel all: {n} order{'s' if n != 1 else ''} cancelled.", title="Orders")  # type: ignore[attr-defined]
        self._repaint()

    def _can_trade_any(self) -> bool:
        if self.router is None:
            self.notify(READ_ONLY, title="Read-only", severity="warning", timeout=6)  # type: ignore[attr-defined]
            return False
        return True

    @property
    def kill_switch_on(self) -> bool:
        return self.router is not None and self.router.risk.kill_switch_engaged

    async def action_kill_switch(self) -> None:
        """Engage at once; releasing asks first."""
        if not self._can_trade_any():
            return
        if not self.kill_switch_on:
            await self.engage_kill_switch()
            return
        from quantdesk.console.confirm import ConfirmScreen

        def answered(yes: bool | None) -> None:
            if yes:
                self.release_kill_switch()

        self.push_screen(  # type: ignore[attr-defined]
            ConfirmScreen("Release the kill switch?", "New orders will be accepted again.", yes="release"), answered
        )

    def watch_journal(self) -> None:
        """A fill or order the journal refused is shown, never only logged."""
        from quantdesk.trading.router import JOURNAL_PROBLEM_TOPIC

        if self.router is None:
            return

        def show(topic: str, problem: str) -> None:
            self.notify(  # type: ignore[attr-defined]
                f"{problem} Check the position with the venue; the log file has the details.",
                title="Journal", severity="error", timeout=30,
            )

        self.session.bus.subscribe(JOURNAL_PROBLEM_TOPIC, show)  # type: ignore[attr-defined]

    def announce_halt(self) -> None:
        """A terminal that starts halted (the kill switch was on when it last
        ran, or the config engages it) says so, and how to lift it."""
        if not self.kill_switch_on:
            return
        key = self.key_for("risk.kill_switch")  # type: ignore[attr-defined]
        self.notify(  # type: ignore[attr-defined]
            f"Trading is HALTED: the kill switch is on ({self.router.risk.kill_switch_reason}). New orders are "
            f"blocked until you release it: press {key} and confirm, run the palette command "
            "\"risk: kill switch\", or type KILL OFF.",
            title="Kill switch", severity="error", timeout=30,
        )

    async def engage_kill_switch(self) -> int:
        n = await self.router.kill()
        self.notify(  # type: ignore[attr-defined]
            f"KILL SWITCH ON: {n} open order{'s' if n != 1 else ''} cancelled; new orders are blocked. "
            "Press the kill switch key again (or KILL OFF) to release it.",
            title="Kill switch", severity="error", timeout=12,
        )
        self._repaint()
        return n

    def release_kill_switch(self) -> None:
        self.router.release()
        self.notify("Kill switch released: new orders are accepted again.", title="Kill switch")  # type: ignore[attr-defined]
        self._repaint()

    async def cancel_order(self, venue: str, order_id: str) -> bool:
        if not self._can_trade(venue):
            return False
        try:
            await self.router.cancel(venue, order_id)
        except Exception as exc:
            self.notify(f"Cancel {order_id}: {exc}", severity="error", timeout=8)  # type: ignore[attr-defined]
            return False
        self.notify(f"Order {order_id} cancelled.", title="Orders")  # type: ignore[attr-defined]
        self._repaint()
        return True

    async def modify_order(self, venue: str, order_id: str, *, price: int | None, size: int | None) -> bool:
        if not self._can_trade(venue):
            return False
        try:
            order = await self.router.modify(venue, order_id, price=price, size=size)
        except Exception as exc:
            self.notify(f"Modify {order_id}: {exc}", severity="error", timeout=8)  # type: ignore[attr-defined]
            return False
        self.notify(f"Order {order_id} modified: {order.status}.", title="Orders")  # type: ignore[attr-defined]
        self._repaint()
        return True

    async def close_positions(self, keys: Sequence[tuple[str, str]]) -> bool:
        """Close positions with reduce-only market orders, reporting each outcome."""
        ok = True
        for venue, market in keys:
            if not self._can_trade(venue):
                return False
            try:
                ack = await self.router.close_position(venue, market)
            except Exception as exc:
                self.notify(f"Close {market} on {venue} failed: {exc}", severity="error", timeout=10)  # type: ignore[attr-defined]
                ok = False
                continue
            if ack is None:
                continue
            if ack.ok:
                self.notify(f"Close {market} on {venue}: {ack.message}", title="Positions")  # type: ignore[attr-defined]
            else:
                ok = False
                self.notify(f"Close {market} on {venue}: {ack.message}", title="Close rejected", severity="error", timeout=12)  # type: ignore[attr-defined]
        self._repaint()
        return ok

    # -- command line / palette ------------------------------------------------------
    async def order_command(self, command: Any) -> bool:
        """PlaceOrder, CancelAll, CancelOrder and Kill from the command line."""
        from quantdesk.console.cmdline import CancelAll, CancelOrder, Kill, PlaceOrder

        if not self._can_trade_any():
            return False
        cache = self.session.cache  # type: ignore[attr-defined]
        if isinstance(command, Kill):
            if command.engage:
                await self.engage_kill_switch()
            elif self.kill_switch_on:
                self.release_kill_switch()
            else:
                self.notify("The kill switch is already off.")  # type: ignore[attr-defined]
            return True
        if isinstance(command, CancelOrder):
            order = cache.orders.get(command.order_id)
            if order is None:
                self.notify(f"No open order {command.order_id}; it may have filled or been cancelled.", severity="error")  # type: ignore[attr-defined]
                return False
            return await self.cancel_order(order.venue, order.order_id)
        if isinstance(command, CancelAll):
            if command.market is None:
                await self.action_cancel_all_orders()
                return True
            n = 0
            for order in [o for o in cache.orders.values() if o.market == command.market]:
                try:
                    await self.router.cancel(order.venue, order.order_id)
                    n += 1
                except Exception as exc:
                    self.notify(f"Cancel {order.order_id}: {exc}", severity="error")  # type: ignore[attr-defined]
            self.notify(f"Cancel all {command.market}: {n} order{'s' if n != 1 else ''} cancelled.", title="Orders")  # type: ignore[attr-defined]
            self._repaint()
            return True
        if isinstance(command, PlaceOrder):
            market = self._command_market(command.market)
            if market is None:
                return False
            if not self._can_trade(market.venue):
                return False
            inp = TicketInput(
                side=command.side, type=command.type, size=_plain(command.size),
                size_in_quote=command.size_unit == "usd",
                price=_plain(command.price), trigger_price=_plain(command.trigger_price),
                post_only=command.post_only, reduce_only=command.reduce_only, ioc=command.ioc,
            )
            book = cache.book(market.venue, market.symbol)
            oracle = cache.oracle.get((market.venue, market.symbol))
            try:
                plan = build_plan(inp, market, book, oracle.price if oracle else 0)
            except TicketError as exc:
                self.notify(f"{command.to_text()}: {exc.message}. Nothing was sent.", severity="error", timeout=10)  # type: ignore[attr-defined]
                return False
            return await self.submit_plan(plan)
        return False

    def _command_market(self, symbol: str | None) -> Market | None:
        target = self.trading_target()
        if symbol is None:
            return target
        cache = self.session.cache  # type: ignore[attr-defined]
        if target is not None and (target.venue, symbol) in cache.markets:
            return cache.markets[(target.venue, symbol)]
        tradable = [k for k in cache.markets if k[1] == symbol and (self.router is None or self.router.can_trade(k[0]))]
        if not tradable:
            self.notify(f"No venue here trades {symbol}.", severity="error")  # type: ignore[attr-defined]
            return None
        return cache.markets[sorted(tradable, key=lambda k: (cache.markets[k].kind != "clob", k))[0]]

    # -- dead-man's switch --------------------------------------------------------------
    def on_mount(self) -> None:
        if self.dead_man and self.router is not None:
            try:
                asyncio.get_running_loop().add_signal_handler(signal.SIGHUP, self._on_hangup)
                self._hangup_installed = True
            except (NotImplementedError, RuntimeError, ValueError):  # no SIGHUP here (Windows) or not the main thread
                log.info("dead-man's switch: cannot watch for SIGHUP here")

    def _on_hangup(self) -> None:
        log.warning("terminal session lost (SIGHUP): quitting; the dead-man's switch runs first")
        self.exit()  # type: ignore[attr-defined]

    async def on_unmount(self) -> None:
        if self._hangup_installed:
            try:
                asyncio.get_running_loop().remove_signal_handler(signal.SIGHUP)
            except (NotImplementedError, RuntimeError, ValueError):
                pass
            self._hangup_installed = False
        await self.run_dead_man()

    async def run_dead_man(self) -> int:
        """Cancel resting orders (protective stops stay) when the terminal goes away."""
        if not self.dead_man or self.router is None:
            return 0
        try:
            n = await self.router.dead_man()
        except Exception:
            log.exception("dead-man's switch could not cancel the resting orders")
            return 0
        log.warning("dead-man's switch: %d resting orders cancelled on exit; protective stops kept", n)
        return n


def _plain(value: Decimal | None) -> str:
    return "" if value is None else f"{value:f}"
