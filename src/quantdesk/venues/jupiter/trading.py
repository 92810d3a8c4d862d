"""Trading on Jupiter Perps from QuantDesk: the venue's ``TradingVenue``.

An accepted order becomes position requests (``request_plan``), built as the
program's instructions (``requests``), shown as a ``RequestPreview`` and
signed only once the ``approve`` hook says yes (``ApprovesTransactions``),
then sent (``execution``). The ``RequestFollower`` takes each request from
there: ``pending`` until it lands, ``open`` while a keeper may execute it,
then filled, cancelled or expired in the Orders pane and the journal.
Cancelling closes a request (``closePositionRequest``); modifying moves a
take-profit's or stop-loss's trigger (``updateDecreasePositionRequest2``).
Collateral is added or taken out with ``change_collateral``.

The risk engine's view (``risk_context``) is the signer's own wallet
(``wallet_account``) over the feed's markets: positions netted per market,
equity from the wallet and the positions (``account_state``). A trader served
over SSH trades through their view of the venue (``trader_view``): their
wallet, their signer, their requests.
"""

from __future__ import annotations

import functools
import inspect
import itertools
import time
from collections.abc import Callable, Iterable
from decimal import Decimal
from typing import Any

import msgspec
from solders.pubkey import Pubkey

from quantdesk.core.bus import Bus
from quantdesk.core.model import AccountState, Order, OrderIntent, OrderType, Position, Side
from quantdesk.venues.base import ApprovalHook, Declined, OrderHistory, RiskContext, VenueError
from quantdesk.venues.jupiter import request_plan as rp
from quantdesk.venues.jupiter.account_state import equity_usd, market_state
from quantdesk.venues.jupiter.execution import JupiterExecutor
from quantdesk.venues.jupiter.preview import EXPIRY_MARGIN_S, Followed, RequestPreview
from quantdesk.venues.jupiter.requests import CustodyRef, Market, RequestBuilder, RequestError
from quantdesk.venues.jupiter.views import CustodyView, PositionSide
from quantdesk.venues.jupiter.wallet import NATIVE_MINT
from quantdesk.venues.jupiter.wallet_account import WalletAccount
from quantdesk.venues.trader_view import TraderView

NS = 1_000_000_000
CANCELS_PER_TX = 8


def _ref(c: CustodyView) -> CustodyRef:
    return CustodyRef(Pubkey.from_string(c.pubkey), Pubkey.from_string(c.mint), Pubkey.from_string(c.doves_oracle),
                      Pubkey.from_string(c.oracle_account))  # fmt: skip


def _usd(value: int) -> str:
    return f"${Decimal(value).scaleb(-6):,.2f}"


def _tokens(amount: int, decimals: int) -> str:
    return f"{Decimal(amount).scaleb(-decimals).normalize():f}"


class JupiterTrading:
    def __init__(
        self,
        venue: Any,  # venue.SignsRequests: the venue trading, or a served trader's view of it
        *,
        bus: Bus | None = None,
        clock: Callable[[], int] = time.time_ns,
        approve: ApprovalHook | None = None,
    ) -> None:
        self.venue = venue
        self.id = venue.id
        self.cfg = venue.cfg
        self.feed = venue.feed
        self.bus = bus
        if bus is not None and self.follower is not None and self.follower.bus is None:
            self.follower.bus = bus
        self.clock = clock
        self.approve = approve
        self.signer = venue.signer
        self.executor = JupiterExecutor(self.cfg, self.signer, self.feed.rpc)
        self.terms = rp.Terms(self.cfg.leverage, self.cfg.slippage_bps)
        self.last_preview: RequestPreview | None = None
        self.signatures: dict[str, str] = {}  # order id -> transaction signature
        self._counters = itertools.count(clock() // 1_000)  # request PDAs are unique per counter

    @property
    def dry_run(self) -> bool:
        return self.executor.dry_run

    # A served trader's account and follower are made once their signer gives its key.
    @property
    def wallet_account(self) -> WalletAccount | None:
        account: WalletAccount | None = self.venue.account
        return account

    @property
    def follower(self) -> Any:  # request_follower.RequestFollower, None until the account is known
        return self.venue.follower

    @functools.cached_property
    def builder(self) -> RequestBuilder:
        """Requests built for the signer's wallet; its key is asked once, when the first one is built."""
        return RequestBuilder(self.signer.pubkey)

    async def refresh(self, markets: Iterable[str] = ()) -> None:
        """Read the wallet's positions and balances now (VenueError if they cannot be)."""
        await self.venue.load_account()

    async def follow_account(self) -> None:
        """Follow a served trader's account and requests onto the session's bus;
        at once for the venue's own (it follows them as it runs)."""
        if isinstance(self.venue, TraderView) and self.bus is not None:
            await self.venue.follow_account(self.bus)

    # -- what is known ---------------------------------------------------------------------------
    def _state(self, market: str) -> rp.MarketState:
        if market not in self.feed.markets:
            raise VenueError(f"{market} is not a market of {self.id}; choose one of {', '.join(self.feed.markets)}")
        m = market_state(self.feed, self._account(), market)
        if m is None:
            raise VenueError(f"{self.id}: {market}'s custody and oracle are not loaded yet; wait for market data and try again")
        return m

    def _account(self) -> WalletAccount:
        account = self.wallet_account
        if account is None:
            raise VenueError(f"{self.id}: your wallet is not known yet (your signer has not given its key); try again in a moment")
        return account

    def _loaded(self) -> None:
        account = self._account()
        if not account.loaded or account.wallet is None:
            why = account.problems.get("positions", "")
            if why:
                raise VenueError(f"{self.id}: the wallet could not be read ({why})")
            raise VenueError(f"{self.id}: the wallet's positions are not loaded yet; wait for them to load and try again")

    def open_orders(self, market: str | None = None) -> list[Order]:
        if self.follower is None:
            return []
        return [o for o in self.follower.open_orders() if market is None or o.market == market]

    def risk_context(self, market: str, ts: int, best_bid: int | None = None, best_ask: int | None = None) -> RiskContext:
        m = self._state(market)
        self._loaded()
        base = (m.base(m.long) if m.long else 0) - (m.base(m.short) if m.short else 0)
        notional = 0
        account = self._account()
        for r in account.reports:
            sym = self.feed.symbol_of(r.position.custody)
            other = market_state(self.feed, account, sym) if sym else None
            if other is not None:
                notional += other.base(r.position) * other.oracle_price // 10**other.size_decimals
        return RiskContext(
            ts=ts, oracle_price=m.oracle_price, best_bid=best_bid, best_ask=best_ask, position_base=base,
            open_orders=len(self.follower.tracked), equity=equity_usd(self.feed, account), account_notional=notional,
            size_decimals=m.size_decimals, price_decimals=6,
        )

    def account_events(self, now: int) -> list[Position | AccountState]:
        return []  # the feed publishes the wallet's positions and account state on the bus

    def restore(self, history: OrderHistory) -> None:
        """Nothing to replay: requests live on chain, and the follower reads them at start."""

    # -- building --------------------------------------------------------------------------------
    def _market(self, m: rp.MarketState, side: PositionSide, collateral: CustodyView | None = None) -> Market:
        if collateral is None:
            collateral = m.custody if side == "long" else m.stable
        return Market(Pubkey.from_string(self.cfg.program_id), Pubkey.from_string(self.cfg.pool), _ref(m.custody),
                      _ref(collateral), side)  # fmt: skip

    def _collateral_of(self, m: rp.MarketState, side: PositionSide) -> CustodyView:
        """The custody the position on ``side`` holds its collateral in (a short may hold USDT)."""
        p = m.position(side)
        if side == "long" or p is None:
            return m.custody if side == "long" else m.stable
        return next((c for c in self.feed.collateral.values() if c.pubkey == p.collateral_custody), m.stable)

    def _deadline(self, now_s: int) -> int:
        pool = self.feed.pool
        if pool is None:
            raise VenueError(f"{self.id}: the pool is not loaded yet (its maxRequestExecutionSec); try again in a moment")
        return now_s + int(pool.max_request_execution_sec) + EXPIRY_MARGIN_S

    def _check_wallet(self, m: rp.MarketState, plan: rp.RequestPlan) -> None:
        if not plan.collateral_tokens:
            return
        custody = plan.collateral(m)
        w = self._account().wallet
        have = w.spendable(custody.mint) if w is not None else 0
        if plan.collateral_tokens > have:
            token = "SOL" if custody.mint == NATIVE_MINT else (m.stable_symbol if custody.is_stable else m.symbol.split("-")[0])
            raise VenueError(
                f"the request posts {_tokens(plan.collateral_tokens, custody.decimals)} {token} of collateral and the "
                f"wallet has {_tokens(have, custody.decimals)} {token} to spare; add funds, lower the size or raise "
                "venues.jupiter.leverage. Nothing was sent"
            )

    def _note(self, m: rp.MarketState, plan: rp.RequestPlan, window: int) -> str:
        custody = plan.collateral(m)
        if plan.kind == "open":
            what = f"open {plan.side} {_usd(plan.size_usd or 0)} at {self.cfg.leverage:f}x: posts " \
                   f"{_tokens(plan.collateral_tokens, custody.decimals)} {'SOL' if custody.mint == NATIVE_MINT else custody.mint[:4] + '…'} " \
                   f"({_usd(plan.collateral_usd)})"
            limit = "no worse than " + _usd(plan.price)
        elif plan.kind == "close":
            what = f"close {'all of the ' + plan.side if plan.size_usd is None else _usd(plan.size_usd) + ' of the ' + plan.side}"
            limit = "no worse than " + _usd(plan.price)
        elif plan.kind in ("take_profit", "stop_loss"):
            word = "take-profit" if plan.kind == "take_profit" else "stop-loss"
            size = "the whole " + plan.side if plan.size_usd is None else f"{_usd(plan.size_usd)} of the {plan.side}"
            return f"request      {word}: closes {size} when the price reaches {_usd(plan.price)} (stays open until then)"
        elif plan.kind == "deposit":
            what, limit = f"add {_usd(plan.collateral_usd)} of collateral to the {plan.side}", "at the oracle price"
        else:
            what, limit = f"take {_usd(plan.collateral_usd)} of collateral out of the {plan.side}", "at the oracle price"
        return (f"request      {what}; a keeper fills it at the oracle price, {limit}, within {window}s "
                "or it expires and the collateral goes back")

    def _order(self, intent: OrderIntent, order_id: str, plan: rp.RequestPlan, side: Side, type_: OrderType,
               now: int) -> Order:
        trigger = plan.kind in ("take_profit", "stop_loss")
        return Order(
            venue=self.id, market=intent.market, order_id=order_id, side=side, type=type_, size=plan.base,
            price=0 if trigger else plan.price, trigger_price=plan.price if trigger else 0, status="pending",
            reduce_only=plan.kind != "open", client_id=intent.client_id if order_id == intent.client_id else "", ts=now,
        )

    async def _preview(self, action: str, ixs: list[Any], orders: Iterable[Order], followed: Iterable[Followed],
                       notes: Iterable[str]) -> RequestPreview:
        message, view = await self.executor.prepare(ixs)
        p = RequestPreview(action, self.id, message, view, tuple(orders), tuple(followed), tuple(notes), self.dry_run)
        self.last_preview = p
        return p

    def _followed(self, order: Order, built: Any, plan: rp.RequestPlan, m: rp.MarketState, mint: str,
                  deadline: int | None) -> Followed:
        pos = m.position(plan.side)
        before = (pos.size_usd, pos.collateral_usd) if pos is not None else None
        trigger = plan.kind in ("take_profit", "stop_loss")
        return Followed(order, str(built.request), str(built.position), plan.kind, plan.side, trigger, plan.size_usd,
                        plan.collateral_usd, plan.collateral_tokens, mint, None if trigger else deadline, before)  # fmt: skip

    async def prepare(self, intent: OrderIntent, order_id: str, *, take_profit: int = 0, stop_loss: int = 0) -> RequestPreview:
        """The order's requests in one transaction, checked and decoded; nothing is signed."""
        m = self._state(intent.market)
        self._loaded()
        try:
            plans = rp.plan_order(intent, m, self.terms, take_profit=take_profit, stop_loss=stop_loss)
        except rp.PlanError as exc:
            raise VenueError(f"{self.id}: {exc}. Nothing was sent") from None
        self._check_wallet(m, plans[0])
        now = self.clock()
        deadline = self._deadline(now // NS)
        window = deadline - now // NS - EXPIRY_MARGIN_S
        exit_side: Side = "sell" if intent.side == "buy" else "buy"
        ixs: list[Any] = []
        orders: list[Order] = []
        followed: list[Followed] = []
        for n, plan in enumerate(plans):
            collateral = self._collateral_of(m, plan.side)
            market = self._market(m, plan.side, collateral)
            counter = next(self._counters)
            try:
                if plan.kind == "open":
                    built = self.builder.open(market, size_usd=plan.size_usd or 0, collateral_tokens=plan.collateral_tokens,
                                              price_slippage=plan.price, counter=counter)  # fmt: skip
                elif plan.kind == "close":
                    built = self.builder.close(market, size_usd=plan.size_usd, price_slippage=plan.price, counter=counter)
                else:
                    built = self.builder.trigger(market, kind="take_profit" if plan.kind == "take_profit" else "stop_loss", trigger_price=plan.price, counter=counter,
                                                 size_usd=plan.size_usd)  # fmt: skip
            except RequestError as exc:
                raise VenueError(f"{self.id}: {exc}. Nothing was sent") from None
            ixs += built.instructions
            if n == 0:
                order = self._order(intent, order_id, plan, intent.side, intent.type, now)
            else:
                leg_type: OrderType = "take_profit_market" if plan.kind == "take_profit" else "stop_market"
                suffix = "tp" if plan.kind == "take_profit" else "sl"
                order = self._order(intent, f"{order_id}-{suffix}", plan, exit_side, leg_type, now)
            orders.append(order)
            followed.append(self._followed(order, built, plan, m, collateral.mint, deadline))
        notes = [self._note(m, plan, window) for plan in plans]
        return await self._preview("place", ixs, orders, followed, notes)

    def _find(self, order_id: str) -> Followed:
        f = self.follower.find(order_id) if self.follower is not None else None
        if f is None:
            raise VenueError(f"{self.id}: no open request {order_id}; it may have been executed or closed already")
        return f

    def _cancel_ix(self, f: Followed) -> Any:
        m = self._state(f.order.market)
        side: PositionSide = "long" if f.side == "long" else "short"
        market = self._market(m, side)
        return self.builder.cancel(market, Pubkey.from_string(f.request), Pubkey.from_string(f.mint),
                                   Pubkey.from_string(f.position))  # fmt: skip

    async def prepare_cancel(self, order_ids: list[str], action: str = "cancel") -> RequestPreview:
        fs = [self._find(oid) for oid in order_ids]
        notes = [f"request      close {f.order.order_id} ({f.kind.replace('_', '-')} on the {f.side}); what it holds "
                 "goes back to the wallet" for f in fs]  # fmt: skip
        return await self._preview(action, [self._cancel_ix(f) for f in fs], [f.order for f in fs], (), notes)

    async def prepare_modify(
        self, order_id: str, *, price: int | None = None, size: int | None = None, trigger_price: int | None = None
    ) -> RequestPreview:
        """A take-profit's or stop-loss's new size or trigger price (a market request cannot change)."""
        f = self._find(order_id)
        if not f.trigger:
            raise VenueError(f"{order_id} is a market request: it cannot be changed; cancel it, or wait for a keeper")
        if price is not None:
            raise VenueError(f"{order_id} has no limit price: a Jupiter take-profit or stop-loss closes at the oracle "
                             "price once triggered; change its size, or cancel it and send a new one")
        m = self._state(f.order.market)
        side: PositionSide = "long" if f.side == "long" else "short"
        trigger = trigger_price if trigger_price is not None else f.order.trigger_price
        pos = m.position(side)
        size_usd = 0
        new_size = f.order.size
        if size is not None and pos is not None:
            held = m.base(pos)
            new_size = min(size, held)
            size_usd = 0 if size >= held else pos.size_usd * size // held
        try:
            rp._trigger("take_profit" if f.kind == "take_profit" else "stop_loss", m, side, trigger, None, new_size)
            ix = self.builder.update_trigger(self._market(m, side), Pubkey.from_string(f.request), trigger_price=trigger,
                                             size_usd=size_usd, position=Pubkey.from_string(f.position))  # fmt: skip
        except (rp.PlanError, RequestError) as exc:
            raise VenueError(f"{self.id}: {exc}. Nothing was sent") from None
        changed = msgspec.structs.replace(f.order, trigger_price=trigger, size=new_size)
        what = "the whole position" if not size_usd else _usd(size_usd)
        note = f"request      the {f.kind.replace('_', '-')} on the {side} closes {what} at {_usd(trigger)}"
        return await self._preview("modify", [ix], [changed], (), [note])

    async def prepare_collateral(self, market: str, side: PositionSide, change_usd: int, order_id: str) -> RequestPreview:
        m = self._state(market)
        self._loaded()
        try:
            plan = rp.plan_collateral(m, side, change_usd)
        except rp.PlanError as exc:
            raise VenueError(f"{self.id}: {exc}. Nothing was sent") from None
        self._check_wallet(m, plan)
        collateral = self._collateral_of(m, side)
        market_ref = self._market(m, side, collateral)
        counter = next(self._counters)
        try:
            if plan.kind == "deposit":
                built = self.builder.deposit(market_ref, collateral_tokens=plan.collateral_tokens, counter=counter)
            else:
                built = self.builder.withdraw(market_ref, collateral_usd=plan.collateral_usd, counter=counter)
        except RequestError as exc:
            raise VenueError(f"{self.id}: {exc}. Nothing was sent") from None
        now = self.clock()
        deadline = self._deadline(now // NS)
        order_side: Side = "buy" if side == "long" else "sell"
        order = Order(venue=self.id, market=market, order_id=order_id, side=order_side, type="market", size=0,
                      status="pending", reduce_only=True, ts=now, reason=f"{plan.kind} collateral {_usd(plan.collateral_usd)}")  # fmt: skip
        followed = self._followed(order, built, plan, m, collateral.mint, deadline)
        note = self._note(m, plan, deadline - now // NS - EXPIRY_MARGIN_S)
        return await self._preview("collateral", built.instructions, [order], [followed], [note])

    # -- signing and sending ---------------------------------------------------------------------
    async def _approved(self, preview: RequestPreview) -> None:
        if self.approve is None:
            return
        ok = self.approve(preview)
        if inspect.isawaitable(ok):
            ok = await ok
        if not ok:
            raise Declined(f"not sent: the {preview.action.replace('_', ' ')} transaction was declined at the preview")

    async def confirm(self, preview: RequestPreview) -> list[Order]:
        """Sign and send a previewed transaction (dry run: sign only); the orders it made or changed."""
        sig = await self.executor.submit(preview.message)
        if sig is None:
            return [msgspec.structs.replace(o, status="cancelled", reason="dry run: signed, not sent") for o in preview.orders]
        for f in preview.followed:
            self.signatures[f.order.order_id] = sig
            await self.follower.track(f)
        if preview.action in ("cancel", "cancel_all"):
            self.follower.cancelling.update(o.order_id for o in preview.orders)
            return [msgspec.structs.replace(o, reason="cancel sent") for o in preview.orders]
        if preview.action == "modify":
            for o in preview.orders:
                self.follower.replace_order(o)
        return list(preview.orders)

    async def _run(self, preview: RequestPreview) -> list[Order]:
        await self._approved(preview)
        return await self.confirm(preview)

    # -- the TradingVenue protocol ---------------------------------------------------------------
    async def place(self, intent: OrderIntent, order_id: str, *, take_profit: int = 0, stop_loss: int = 0) -> Order:
        return (await self._run(await self.prepare(intent, order_id, take_profit=take_profit, stop_loss=stop_loss)))[0]

    async def cancel(self, order_id: str) -> Order:
        return (await self._run(await self.prepare_cancel([order_id])))[0]

    async def cancel_all(self, market: str | None = None, *, keep_protective: bool = False) -> list[Order]:
        ids = [o.order_id for o in self.open_orders(market) if not (keep_protective and o.reduce_only and o.type != "market")]
        done: list[Order] = []
        for k in range(0, len(ids), CANCELS_PER_TX):
            done += await self._run(await self.prepare_cancel(ids[k : k + CANCELS_PER_TX], "cancel_all"))
        return done

    async def modify(
        self, order_id: str, *, price: int | None = None, size: int | None = None, trigger_price: int | None = None
    ) -> Order:
        return (await self._run(await self.prepare_modify(order_id, price=price, size=size, trigger_price=trigger_price)))[0]

    async def change_collateral(self, market: str, side: PositionSide, change_usd: int, order_id: str) -> Order:
        """Add (> 0) or withdraw (< 0) ``change_usd`` of collateral on the open ``side`` position."""
        return (await self._run(await self.prepare_collateral(market, side, change_usd, order_id)))[0]
