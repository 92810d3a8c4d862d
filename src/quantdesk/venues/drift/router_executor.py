"""The trading capability of a live Drift venue.

``DriftRouterExecutor`` implements ``core.venue.TradingVenue`` (and
``ApprovesTransactions``) over a ``DriftVenue`` and its ``DriftExecutor``. Every transaction goes in two
steps: ``prepare_*`` builds and checks it and returns a ``TxPreview`` (the
decoded transaction in human units, for the screen, before anything is
signed); ``confirm`` signs it with the configured signer and sends it (or,
in dry-run mode, only signs it). ``place``/``cancel``/``cancel_all``/
``modify`` run both steps, asking the optional ``approve`` hook in between,
so a command or a dialog can show the preview and let the trader refuse.

The risk context comes from the session's cache (the feed's oracle, the
account view's positions and equity) when the venue watches the trader's
own account, else from the on-chain accounts the executor loaded.
``spec.py`` builds one for every tradable Drift venue of a session.
"""

from __future__ import annotations

import inspect
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

import msgspec

from quantdesk.core.bus import Bus
from quantdesk.core.model import AccountState, Order, OrderIntent, OrderType, Position, Side, topic_for
from quantdesk.venues.base import ApprovalHook, Declined, OrderHistory, RiskContext, VenueError, is_protective
from quantdesk.venues.drift import preview as pv
from quantdesk.venues.trader_view import TraderView

OPEN_STATUSES = ("pending", "open", "triggered")
TRIGGER_TYPES = ("stop_market", "stop_limit", "take_profit_market", "take_profit_limit")
CANCELS_PER_TX = 8  # individual cancels per transaction (keeps it far under the size limit)
BASE_SCALE = 10**9


def _int(value: Any) -> int:
    return int(Decimal(str(value)).to_integral_value(rounding=ROUND_HALF_EVEN))


@dataclass(frozen=True)
class TxPreview:
    """A checked, unsigned transaction and what it will do, shown before signing."""

    action: str  # "place" | "cancel" | "cancel_all" | "modify"
    venue: str
    prepared: Any  # execution.Prepared: the solders message and its raw decoded form
    decoded: dict[str, Any]  # programs, named accounts, arguments in human units
    orders: tuple[Order, ...] = ()  # placed (entry first, then bracket legs), cancelled, or the modified order
    uids: tuple[int, ...] = ()  # Drift user order ids of ``orders`` (placements and modifications)
    dry_run: bool = False
    view: Any = None  # signing.policy.TransactionView: the policy's summary (order, programs, compute, fee)

    def lines(self) -> list[str]:
        detail = pv.render(self.decoded, f"Transaction preview: {self.action} on {self.venue} (not signed yet)")
        if self.view is None:
            return detail
        from quantdesk.signing.policy import summary_lines

        return [detail[0], *summary_lines(self.view), *detail[1:]]


@dataclass
class _Figures:
    """The trader's account as the risk engine needs it."""

    positions: dict[str, int] = field(default_factory=dict)  # market -> signed base
    equity: int = 0
    notional: int = 0


class DriftRouterExecutor:
    def __init__(
        self,
        venue: Any,  # DriftVenue
        cache: Any = None,  # MarketCache
        *,
        bus: Bus | None = None,
        clock: Callable[[], int] = time.time_ns,
        approve: ApprovalHook | None = None,
    ) -> None:
        self.venue = venue
        self.id = venue.id
        self.cache = cache
        self.bus = bus
        self.clock = clock
        self.approve = approve
        self.last_preview: TxPreview | None = None  # the latest transaction prepared
        self.last_signed: dict[str, Any] | None = None  # the latest signed transaction, decoded in human units
        self.signatures: dict[str, str] = {}  # order id -> transaction signature
        self._cancelled_on_chain: set[str] = set()  # chain orders cancelled since the User account was loaded

    @property
    def _symbols(self) -> dict[int, str]:
        """Market index -> symbol of every listed market (the venue's listing grows once discovered)."""
        return {m.index: m.symbol for m in self.venue.deployment.listed}

    # -- the venue's driftpy executor --------------------------------------------
    @property
    def executor(self) -> Any:
        """The venue's DriftExecutor (raises TradingUnavailable saying why there is none)."""
        return self.venue._executor()

    @property
    def dry_run(self) -> bool:
        return bool(self.executor.dry_run)

    def _index(self, market: str) -> int:
        spec = self.venue.deployment.market(market)
        if spec is None:
            watched = ", ".join(m.symbol for m in self.venue.deployment.watched)
            raise VenueError(f"{market} is not a market of {self.id}; it lists {watched} and more (quantdesk show markets)")
        return spec.index

    async def refresh(self, markets: Iterable[str] = ()) -> None:
        """Reload the trader's User account and the markets it and ``markets`` touch."""
        await self.executor.chain.load({self._index(m) for m in markets}, refresh=True)
        self._cancelled_on_chain.clear()

    async def follow_account(self) -> None:
        """Follow the trader's account on the session's bus where the venue
        leaves that to its trading view (a served trader's); at once otherwise."""
        if isinstance(self.venue, TraderView) and self.bus is not None:
            await self.venue.follow_account(self.bus)

    # -- reads ---------------------------------------------------------------------
    def _tracked(self) -> list[tuple[int, Order]]:
        ex = self.venue.executor
        return list(ex.orders.values()) if ex is not None else []

    def _chain_orders(self) -> list[tuple[int, Order]]:
        """The account's open perp orders on chain (as of the last load), as QuantDesk orders."""
        ex = self.venue.executor
        user = ex.chain.user_account() if ex is not None else None
        if user is None:
            return []
        out = []
        for o in user.orders:
            if type(o.status).__name__ != "Open" or type(o.market_type).__name__ != "Perp":
                continue
            out.append((int(o.user_order_id), self._chain_order(o)))
        return out

    def _chain_order(self, o: Any) -> Order:
        kind = type(o.order_type).__name__
        buy = type(o.direction).__name__ == "Long"
        trigger = "above" if type(o.trigger_condition).__name__ == "Above" else "below"
        type_: OrderType
        if kind in ("TriggerMarket", "TriggerLimit"):
            stop = (trigger == "above") == buy  # stops buy above / sell below
            if kind == "TriggerMarket":
                type_ = "stop_market" if stop else "take_profit_market"
            else:
                type_ = "stop_limit" if stop else "take_profit_limit"
        else:
            type_ = "limit" if kind in ("Limit", "Oracle") else "market"
        index = int(o.market_index)
        return Order(
            venue=self.id,
            market=self._symbols.get(index, f"perp-{index}"),
            order_id=f"{self.id}:{int(o.order_id)}",
            side="buy" if buy else "sell",
            type=type_,
            size=int(o.base_asset_amount),
            price=int(o.price),
            trigger_price=int(o.trigger_price),
            filled=int(o.base_asset_amount_filled),
            status="open",
            post_only=bool(o.post_only),
            reduce_only=bool(o.reduce_only),
            ts=int(o.slot),
        )

    def _open(self) -> list[tuple[int, Order, int | None]]:
        """(user order id, order, Drift order id or None) of every open order: those
        sent from here, and those already on chain (placed here or elsewhere)."""
        out: list[tuple[int, Order, int | None]] = []
        tracked = [(uid, o) for uid, o in self._tracked() if o.status in OPEN_STATUSES]
        tracked_uids = {uid for uid, _ in tracked}
        out.extend((uid, o, None) for uid, o in tracked)
        for uid, o in self._chain_orders():
            if (uid and uid in tracked_uids) or o.order_id in self._cancelled_on_chain:
                continue
            out.append((uid, o, int(o.order_id.rsplit(":", 1)[1])))
        return out

    def open_orders(self, market: str | None = None) -> list[Order]:
        return [o for _, o, _ in self._open() if market is None or o.market == market]

    def _oracle(self, market: str) -> int:
        if self.cache is not None:
            ev = self.cache.oracle.get((self.id, market))
            if ev is not None and ev.price > 0:
                return int(ev.price)
        ex = self.venue.executor
        spec = self.venue.deployment.market(market)
        if ex is not None and spec is not None and spec.index in ex.chain.store.perp_markets:
            return int(ex.client.get_oracle_price_data_for_perp_market(spec.index).price)
        return 0

    def _own_account_in_cache(self) -> bool:
        if self.cache is None or self.id not in self.cache.accounts:
            return False
        signer = self.venue.signer
        return signer is not None and self.venue.watch == str(signer.pubkey)

    def _figures(self) -> _Figures | None:
        if self._own_account_in_cache():
            f = _Figures(equity=int(self.cache.accounts[self.id].equity))
            for (venue, market), pos in self.cache.positions.items():
                if venue == self.id and pos.base:
                    f.positions[market] = int(pos.base)
                    price = self._oracle(market) or int(pos.mark_price)
                    f.notional += abs(int(pos.base)) * price // BASE_SCALE
            return f
        ex = self.venue.executor
        user = ex.chain.user_account() if ex is not None else None
        if user is None:
            return None
        f = _Figures(equity=_int(ex.chain.user.get_net_usd_value()))
        for p in user.perp_positions:
            base, index = int(p.base_asset_amount), int(p.market_index)
            if not base or index not in ex.chain.store.perp_markets:
                continue
            f.positions[self._symbols.get(index, f"perp-{index}")] = base
            f.notional += abs(base) * int(ex.client.get_oracle_price_data_for_perp_market(index).price) // BASE_SCALE
        return f

    def risk_context(self, market: str, ts: int, best_bid: int | None = None, best_ask: int | None = None) -> RiskContext:
        self._index(market)
        figures = self._figures()
        if figures is None:
            view = getattr(self.venue, "account_view", None)
            why = getattr(view, "last_error", "") if view is not None else ""
            if why:
                raise VenueError(f"{self.id}: the trading account could not be loaded ({why})")
            raise VenueError(f"{self.id}: the trading account is not loaded yet; wait for it to load and try again")
        return RiskContext(
            ts=ts,
            oracle_price=self._oracle(market),
            best_bid=best_bid,
            best_ask=best_ask,
            position_base=figures.positions.get(market, 0),
            open_orders=len(self._open()),
            equity=figures.equity,
            account_notional=figures.notional,
        )

    # -- previews ------------------------------------------------------------------
    def _humanize(self, decoded: dict[str, Any]) -> dict[str, Any]:
        ex = self.executor
        return pv.humanize(
            decoded,
            program_id=ex.program_id,
            account_names=pv.instruction_account_names(ex.client.program.idl),
            labels=pv.known_accounts(ex.store, self._symbols),
            symbols=self._symbols,
        )

    def _preview(self, action: str, prepared: Any, orders: Iterable[Order] = (), uids: Iterable[int] = ()) -> TxPreview:
        p = TxPreview(action, self.id, prepared, self._humanize(prepared.preview), tuple(orders), tuple(uids), self.dry_run,
                      self.executor.policy_view(prepared.message))
        self.last_preview = p
        return p

    def _free_uids(self, n: int, taken: set[int]) -> list[int]:
        used = set(taken) | {uid for uid, _, _ in self._open() if uid}
        free = [u for u in range(1, 256) if u not in used][:n]
        if len(free) < n:
            raise VenueError(f"{self.id}: all 255 Drift user order ids are in use; cancel some orders first")
        return free

    def _order(self, intent: OrderIntent, order_id: str) -> Order:
        return Order(
            venue=self.id, market=intent.market, order_id=order_id, side=intent.side, type=intent.type,
            size=intent.size, price=intent.price, trigger_price=intent.trigger_price, status="pending",
            post_only=intent.post_only, reduce_only=intent.reduce_only, ioc=intent.ioc,
            client_id=intent.client_id, ts=self.clock(),
        )

    async def prepare(
        self, intent: OrderIntent, order_id: str, *, take_profit: int = 0, stop_loss: int = 0, blockhash: Any = None
    ) -> TxPreview:
        """Build the order's transaction (with reduce-only take-profit / stop-loss legs
        if prices are given) and return its preview; nothing is signed."""
        ex = self.executor
        entry = await ex.prepare_place(intent, order_id, blockhash=blockhash)
        if not (take_profit or stop_loss):
            return self._preview("place", entry, [entry.order], [entry.user_order_id])
        exit_side: Side = "sell" if intent.side == "buy" else "buy"
        legs: list[tuple[str, OrderIntent]] = []
        if take_profit:
            legs.append((f"{order_id}-tp", OrderIntent(self.id, intent.market, exit_side, "take_profit_market",
                                                       intent.size, trigger_price=take_profit, reduce_only=True)))
        if stop_loss:
            legs.append((f"{order_id}-sl", OrderIntent(self.id, intent.market, exit_side, "stop_market",
                                                       intent.size, trigger_price=stop_loss, reduce_only=True)))
        uids = [entry.user_order_id, *self._free_uids(len(legs), {entry.user_order_id})]
        ixs = ex.place_instructions(intent, uids[0])
        for (_, leg), uid in zip(legs, uids[1:]):
            ixs += ex.place_instructions(leg, uid)
        prepared = await ex.prepare(ixs, blockhash)
        orders = [entry.order, *(self._order(leg, oid) for oid, leg in legs)]
        return self._preview("place", prepared, orders, uids)

    def _find(self, order_id: str) -> tuple[int, Order, int | None]:
        for uid, o, drift_id in self._open():
            if o.order_id == order_id:
                return uid, o, drift_id
        raise VenueError(f"{self.id}: no open order {order_id}")

    def _cancel_ixs(self, entries: list[tuple[int, Order, int | None]]) -> list[Any]:
        ex = self.executor
        ixs = []
        for uid, _, drift_id in entries:
            if drift_id is None:
                ixs += ex.cancel_instructions(uid)
            else:
                ixs.append(ex.client.get_cancel_order_ix(drift_id, ex.sub_account_id))
        return ixs

    async def prepare_cancel(self, order_id: str, *, blockhash: Any = None) -> TxPreview:
        ex = self.executor
        entry = self._find(order_id)
        await ex.load_accounts({self._index(entry[1].market)})
        prepared = await ex.prepare(self._cancel_ixs([entry]), blockhash)
        return self._preview("cancel", prepared, [entry[1]])

    async def prepare_cancel_all(
        self, market: str | None = None, *, keep_protective: bool = False, blockhash: Any = None
    ) -> list[TxPreview]:
        """One transaction cancelling everything (Drift's cancel_orders), or, keeping
        protective orders, individual cancels of the others (none if there are none)."""
        ex = self.executor
        await ex.load_accounts({self._index(market)} if market else set())
        entries = [e for e in self._open() if market is None or e[1].market == market]
        if not keep_protective:
            prepared = await ex.prepare(ex.cancel_all_instructions(market), blockhash)
            return [self._preview("cancel_all", prepared, [o for _, o, _ in entries])]
        doomed = [e for e in entries if not is_protective(e[1])]
        out = []
        for k in range(0, len(doomed), CANCELS_PER_TX):
            chunk = doomed[k : k + CANCELS_PER_TX]
            prepared = await ex.prepare(self._cancel_ixs(chunk), blockhash)
            out.append(self._preview("cancel_all", prepared, [o for _, o, _ in chunk]))
        return out

    async def prepare_modify(
        self, order_id: str, *, price: int | None = None, size: int | None = None, blockhash: Any = None
    ) -> TxPreview:
        ex = self.executor
        uid, order, drift_id = self._find(order_id)
        if drift_id is not None:
            raise VenueError(f"{order_id} was not placed from QuantDesk; modify it in the venue's app or cancel it")
        await ex.load_accounts({self._index(order.market)})
        prepared = await ex.prepare(ex.modify_instructions(uid, price=price, size=size), blockhash)
        changes: dict[str, Any] = {}
        if price is not None:
            changes["price"] = price
        if size is not None:
            changes["size"] = size
        return self._preview("modify", prepared, [msgspec.structs.replace(order, **changes)], [uid])

    # -- signing and sending -----------------------------------------------------------
    async def confirm(self, preview: TxPreview) -> Any:
        """Sign the previewed transaction and send it (dry run: sign only).

        Returns the placed order (entry), the modified order, or the list of
        cancelled orders. In dry-run mode nothing changes state; orders come back
        cancelled with the reason "dry run: signed, not sent"."""
        ex = self.executor
        follow = getattr(self.venue, "order_sent", None)
        if preview.action == "place" and follow is not None:
            # Before sending: the account's next order id now is the first id the orders get.
            follow([o.order_id for o in preview.orders])
        sig = await ex.submit(preview.prepared)
        self.last_signed = self._humanize(ex.last_preview) if ex.last_preview is not None else None
        if sig is None:
            dry = [msgspec.structs.replace(o, status="cancelled", reason="dry run: signed, not sent") for o in preview.orders]
            if preview.action in ("place", "modify"):
                return dry[0]
            return dry
        if preview.action == "place":
            for order, uid in zip(preview.orders, preview.uids):
                ex.orders[order.order_id] = (uid, order)
                self.signatures[order.order_id] = sig
                self._publish(order)
            return preview.orders[0]
        if preview.action == "modify":
            order = preview.orders[0]
            ex.orders[order.order_id] = (preview.uids[0], order)
            self._publish(order)
            return order
        done = []
        for order in preview.orders:
            cancelled = msgspec.structs.replace(order, status="cancelled", reason="cancelled by the trader")
            if order.order_id in ex.orders:
                ex.orders[order.order_id] = (ex.orders[order.order_id][0], cancelled)
            else:
                self._cancelled_on_chain.add(order.order_id)
            self._publish(cancelled)
            done.append(cancelled)
        return done

    async def _approved(self, preview: TxPreview) -> None:
        if self.approve is None:
            return
        ok = self.approve(preview)
        if inspect.isawaitable(ok):
            ok = await ok
        if not ok:
            raise Declined(f"not sent: the {preview.action.replace('_', ' ')} transaction was declined at the preview")

    def _publish(self, order: Order) -> None:
        if self.bus is not None:
            self.bus.publish(topic_for(order), order)

    # -- the TradingVenue protocol -------------------------------------------------------------
    def account_events(self, now: int) -> list[Position | AccountState]:
        return []  # the venue's account view publishes positions and margin on the bus

    def restore(self, history: OrderHistory) -> None:
        """Nothing to replay: the account and its orders live on chain."""

    async def place(self, intent: OrderIntent, order_id: str, *, take_profit: int = 0, stop_loss: int = 0) -> Order:
        preview = await self.prepare(intent, order_id, take_profit=take_profit, stop_loss=stop_loss)
        await self._approved(preview)
        return await self.confirm(preview)

    async def cancel(self, order_id: str, reason: str = "cancelled by the trader") -> Order:
        preview = await self.prepare_cancel(order_id)
        await self._approved(preview)
        done = await self.confirm(preview)
        return done[0]

    async def cancel_all(self, market: str | None = None, *, keep_protective: bool = False) -> list[Order]:
        done: list[Order] = []
        for preview in await self.prepare_cancel_all(market, keep_protective=keep_protective):
            await self._approved(preview)
            done.extend(await self.confirm(preview))
        return done

    async def modify(self, order_id: str, *, price: int | None = None, size: int | None = None) -> Order:
        preview = await self.prepare_modify(order_id, price=price, size=size)
        await self._approved(preview)
        return await self.confirm(preview)
