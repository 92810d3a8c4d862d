"""The trading screen: the ticket keys, cancel all, the kill switch, order
commands from the command line and palette, the transaction preview and the
dead-man's switch.

``TradingController`` is held by the App. The ``Desk`` (trading/desk.py) does
the trading and says what happened; this module picks the market from what is
focused, opens the dialogs, and shows the desk's notices.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import threading
from collections.abc import Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from textual.screen import ModalScreen
from textual.worker import NoActiveWorker, get_current_worker

from quantdesk.console.cmdline import CancelAll, CancelOrder, ChangeCollateral, Kill, PlaceOrder
from quantdesk.console.confirm import ConfirmScreen
from quantdesk.console.device_prompt import DevicePromptScreen
from quantdesk.core.model import Market, Side
from quantdesk.signing.base import ConfirmsOnDevice
from quantdesk.trading.desk import Desk, Notice, Outcome

if TYPE_CHECKING:
    from quantdesk.console.app import QuantDeskApp
    from quantdesk.trading.ticket import TicketPlan

log = logging.getLogger(__name__)

# Binding id -> the App's Textual action (each a one-line call into the controller).
TRADING_ACTIONS = {
    "order.buy": "order_ticket('buy')",
    "order.sell": "order_ticket('sell')",
    "orders.cancel_all": "cancel_all_orders",
    "risk.kill_switch": "kill_switch",
}


class TradingController:
    """Trading keys and commands for one App, acting through its ``Desk``."""

    def __init__(self, app: QuantDeskApp, desk: Desk) -> None:
        self.app = app
        self.desk = desk
        self._hangup_installed = False
        self._last_summary = ""  # the last transaction preview approved, for the device prompt
        self._device_screen: DevicePromptScreen | None = None

    def report(self, outcome: Outcome) -> bool:
        """Show what the desk said, repaint, and pass on whether it worked."""
        for notice in outcome.notices:
            self.show(notice)
        self.app.frame()
        return outcome.ok

    def show(self, notice: Notice) -> None:
        self.app.notify(notice.text, title=notice.title, severity=notice.severity, timeout=notice.timeout)

    # -- what is selected ----------------------------------------------------
    def target(self) -> Market | None:
        """The market the ticket opens on: the focused pane's selection (an
        order or position row, or the market a pane shows), else the depth
        pane's market, else the first market."""
        return self.desk.pick_market(_shown_market(w) for w in (self.app.focused, self.app.depth_target()))

    # -- the ticket ------------------------------------------------------------
    def open_ticket(self, side: Side) -> None:
        from quantdesk.console.ticket import TicketScreen

        if isinstance(self.app.screen, ModalScreen):
            return  # one dialog at a time: answer or close the open one first
        market = self.target()
        if market is None:
            self.app.notify("No market to trade yet: wait for the venues to list their markets.", severity="warning")
            return
        refused = self.desk.refusal(market.venue)
        if refused is not None:
            self.show(refused)
            return
        screen = TicketScreen(self.app.session, market, side, self.desk.account(market.venue))
        self.app.push_screen(screen, self._ticket_closed)

    def _ticket_closed(self, plan: TicketPlan | None) -> None:
        if plan is not None:
            self.app.run_worker(self.submit_plan(plan), name="submit", group="orders", exit_on_error=False)

    async def submit_plan(self, plan: TicketPlan) -> bool:
        return self.report(await self.desk.submit_plan(plan))

    # -- orders and positions (keys of the Orders and Positions panes) ------------
    async def cancel_all(self) -> bool:
        return self.report(await self.desk.cancel_all())

    async def cancel_order(self, venue: str, order_id: str) -> bool:
        return self.report(await self.desk.cancel(venue, order_id))

    async def modify_order(self, venue: str, order_id: str, *, price: int | None, size: int | None) -> bool:
        return self.report(await self.desk.modify(venue, order_id, price=price, size=size))

    async def close_positions(self, keys: Sequence[tuple[str, str]]) -> bool:
        return self.report(await self.desk.close_positions(keys))

    # -- the kill switch -----------------------------------------------------------
    async def toggle_kill_switch(self) -> None:
        """Engage at once; releasing asks first."""
        refused = self.desk.refusal()
        if refused is not None:
            self.show(refused)
            return
        if not self.desk.kill_switch_on:
            self.report(await self.desk.engage_kill_switch())
            return

        def answered(yes: bool | None) -> None:
            if yes:
                self.report(self.desk.release_kill_switch())

        self.app.push_screen(
            ConfirmScreen("Release the kill switch?", "New orders will be accepted again.", yes="release"), answered
        )

    # -- what the trader must know at once ---------------------------------------------
    def announce(self) -> None:
        """What the desk has to say as the console opens, then a halt carried over."""
        for notice in self.desk.opening:
            self.show(notice)
        halted = self.desk.halt_notice(self.app.key_for("risk.kill_switch"))
        if halted is not None:
            self.show(halted)

    def watch_journal(self) -> None:
        """A fill or order the journal refused is shown, never only logged."""
        if self.desk.trading_enabled:
            from quantdesk.trading.router import JOURNAL_PROBLEM_TOPIC  # the router (and its journal) only where orders go

            self.app.session.bus.subscribe(JOURNAL_PROBLEM_TOPIC, lambda _topic, problem: self.show(Desk.journal_problem(problem)))

    # -- command line / palette --------------------------------------------------------
    async def place(self, command: PlaceOrder) -> bool:
        refused = self.desk.refusal()
        if refused is not None:
            self.show(refused)
            return False
        target = self.target()
        market = target if command.market is None else self.desk.market_for(command.market, target)
        if market is None:
            self.app.notify(
                f"No venue here trades {command.market}." if command.market else "No market to trade yet.",
                severity="error",
            )
            return False
        from quantdesk.trading.ticket import TicketInput  # with the first order: not at start-up

        inp = TicketInput(
            side=command.side, type=command.type, size=_plain(command.size),
            size_in_quote=command.size_unit == "usd",
            price=_plain(command.price), trigger_price=_plain(command.trigger_price),
            post_only=command.post_only, reduce_only=command.reduce_only, ioc=command.ioc,
        )
        return self.report(await self.desk.place(inp, market, command.to_text()))

    async def collateral_command(self, command: ChangeCollateral) -> bool:
        refused = self.desk.refusal()
        if refused is not None:
            self.show(refused)
            return False
        market = self.desk.collateral_market(command.market, self.target())
        if market is None:
            what = command.market or "this market"
            self.app.notify(f"No venue here keeps collateral per position on {what} (Jupiter Perps does).", severity="error")
            return False
        return self.report(await self.desk.change_collateral(market, command.amount, command.side))

    async def cancel_command(self, command: CancelOrder) -> bool:
        return self.report(await self.desk.cancel_by_id(command.order_id))

    async def cancel_all_command(self, command: CancelAll) -> bool:
        return self.report(await self.desk.cancel_all(command.market))

    async def kill_command(self, command: Kill) -> bool:
        return self.report(await self.desk.set_kill_switch(command.engage))

    # -- live venues: a transaction preview before anything is signed ---------------------
    def attach_transaction_preview(self) -> None:
        self.desk.set_transaction_approver(self.approve_transaction)
        signer = self.app.session.signer
        if isinstance(signer, ConfirmsOnDevice):
            signer.on_confirm = lambda waiting: self._from_signer(self._device_waiting, waiting, signer)

    def _from_signer(self, fn: Any, *args: Any) -> None:
        # the signer calls from its signing thread; on the App's own thread call directly
        if threading.get_ident() == self.app._thread_id:
            fn(*args)
        else:
            self.app.call_from_thread(fn, *args)

    def _device_waiting(self, waiting: bool, signer: ConfirmsOnDevice) -> None:
        if waiting and self._device_screen is None:
            screen = DevicePromptScreen(self._last_summary)

            def closed(answered: bool | None) -> None:
                self._device_screen = None
                if answered is False:  # Escape: the device's answer will be discarded
                    signer.cancel()
                    self.app.notify("Cancelled: the signature will be discarded; reject it on the Ledger too.",
                                    title="Ledger", severity="warning", timeout=6)  # fmt: skip

            self._device_screen = screen
            self.app.push_screen(screen, callback=closed)
        elif not waiting and self._device_screen is not None:
            screen, self._device_screen = self._device_screen, None
            screen.dismiss(True)

    async def approve_transaction(self, preview: Any) -> bool:
        try:
            get_current_worker()
        except NoActiveWorker:
            # a key handler (cancel, modify): the key press was the decision, and
            # waiting for a dialog here would block the very loop that runs it
            return True
        answer: asyncio.Future[bool] = asyncio.get_running_loop().create_future()

        def answered(ok: bool | None) -> None:
            if not answer.done():
                answer.set_result(bool(ok))

        self._last_summary = "\n".join(preview.lines())
        screen = ConfirmScreen("Sign and send this transaction?", self._last_summary, yes="sign and send")
        self.app.push_screen(screen, callback=answered)
        return await answer

    # -- dead-man's switch ----------------------------------------------------------------
    def watch_hangup(self) -> None:
        """With the dead-man's switch on, a lost terminal (SIGHUP) quits cleanly
        so the resting orders are cancelled first. A console sharing its process
        (serve ssh) is ended by its own link instead, then cancels the same way."""
        if not (self.desk.dead_man and self.desk.trading_enabled and self.app.own_process):
            return
        try:
            asyncio.get_running_loop().add_signal_handler(signal.SIGHUP, self._on_hangup)
            self._hangup_installed = True
        except (NotImplementedError, RuntimeError, ValueError):  # no SIGHUP here (Windows) or not the main thread
            log.info("dead-man's switch: cannot watch for SIGHUP here")

    def _on_hangup(self) -> None:
        log.warning("terminal session lost (SIGHUP): quitting; the dead-man's switch runs first")
        self.app.exit()

    async def stop(self) -> int:
        """The App is closing: stop watching for SIGHUP, run the dead-man's switch."""
        if self._hangup_installed:
            try:
                asyncio.get_running_loop().remove_signal_handler(signal.SIGHUP)
            except (NotImplementedError, RuntimeError, ValueError):
                pass
            self._hangup_installed = False
        return await self.desk.run_dead_man()


def _shown_market(widget: object) -> tuple[str, str] | None:
    """The (venue, market) a widget has selected or shows, if any."""
    if widget is None:
        return None
    pick = getattr(widget, "selected_market", None)
    if callable(pick):
        key = pick()
        return key if isinstance(key, tuple) else None
    venue, market = getattr(widget, "venue", None), getattr(widget, "market", None)
    return (venue, market) if isinstance(venue, str) and isinstance(market, str) else None


def _plain(value: Decimal | None) -> str:
    return "" if value is None else f"{value:f}"
