"""The paper account of a simulated venue: collateral, positions, fees,
funding, borrow fees, margin and liquidation. Pure state, no I/O.

One ``PaperAccount`` per venue (a Drift subaccount on ``sim-drift``, a wallet
on ``sim-jup``), cross-margined with Drift's model (``quantdesk.core.math.margin``).
The order layer feeds it fills; the venue feeds it oracle prices and funding
events; it answers with ``Position`` and ``AccountState`` events.

Bookkeeping: realized PnL, fees, funding and borrow fees all settle into
``collateral`` at once (Drift settles PnL into the quote balance), so a
position's ``quote_entry`` stays the pure cost of what is held and unrealized
PnL is measured against the average entry price. A position's
``realized_pnl`` is net: trading PnL minus fees plus funding received.

Restoring from the journal replays fills (liquidations are fills too, with
order id ``liquidation``) and payments, in order, with ``apply_fill`` and
``apply_payment``: the result is the same account, to the last micro-dollar.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Literal

import msgspec

from quantdesk.core.math.fees import fill_fee
from quantdesk.core.math.fixed import div_trunc
from quantdesk.core.math.funding import borrow_fee, funding_payment, rate_to_funding_delta
from quantdesk.core.math.liquidation import liquidation_fee, position_liquidation_price
from quantdesk.core.math.margin import (
    DEFAULT_MARGIN_PARAMS,
    DRIFT_MARKET_PARAMS,
    MarginCategory,
    MarginParams,
    PerpExposure,
    leverage_bps,
    margin_requirement,
    position_margin_requirement,
    total_collateral,
    worst_case_base,
)
from quantdesk.core.math.margin import health as health_score
from quantdesk.core.math.pnl import (
    apply_fill,
    entry_price,
    fill_base_delta,
    fill_quote_delta,
    notional,
    unrealized_pnl,
)
from quantdesk.core.model import AccountState, Fill, Funding, Market, Position, Side
from quantdesk.core.venue import BookedPayment

USDC = 10**6
DEFAULT_COLLATERAL = 10_000 * USDC
LIQUIDATION_ORDER_ID = "liquidation"
# Drift's DEFAULT_LIQUIDATION_MARGIN_BUFFER_RATIO: MARGIN_PRECISION / 50 = 2 % of
# notional on top of maintenance. A partial liquidation stops once the account
# holds maintenance margin plus this buffer.
LIQUIDATION_BUFFER_RATIO = 200


@dataclass(frozen=True, slots=True)
class FeeSchedule:
    """Fee rates in ppm of notional (100 ppm = 1 bp); negative is a rebate."""

    taker_ppm: int
    maker_ppm: int


# The simulated venues' economics. sim-drift: a Drift-like tier (3.5 bps taker,
# 0.25 bp maker rebate). sim-jup: Jupiter's 6 bps open/close fee, charged as a
# taker fee; the order layer fills at the oracle plus price impact only.
SIM_DRIFT_FEES = FeeSchedule(taker_ppm=350, maker_ppm=-25)
SIM_JUP_FEES = FeeSchedule(taker_ppm=600, maker_ppm=600)
# Jupiter Perps: up to 100x at open; liquidated when what is left of the
# collateral falls under 0.2 % of the position's size.
JUPITER_MARGIN_PARAMS = MarginParams(initial_ratio=100, maintenance_ratio=20, liquidation_fee=0)


class Payment(msgspec.Struct, frozen=True, tag="payment"):
    """A funding payment (sim-drift) or borrow fee (sim-jup) booked to collateral."""

    venue: str
    market: str
    ts: int
    amount: int  # quote at price precision; positive received, negative paid
    rate: int  # ppb of notional per interval, as applied
    kind: Literal["funding", "borrow"] = "funding"


class Liquidation(msgspec.Struct, frozen=True, tag="liquidation"):
    """A position closed because the account breached maintenance margin.
    The closing trade itself is the accompanying ``Fill``."""

    venue: str
    market: str
    ts: int
    base: int  # signed size that was closed
    price: int
    fee: int
    reason: str


@dataclass(slots=True)
class PaperPosition:
    market: str
    base: int = 0
    quote_entry: int = 0
    realized_pnl: int = 0  # net of fees, funding and borrow fees
    fees: int = 0  # paid (negative: rebates received)
    funding: int = 0  # received (negative: paid), borrow fees included
    # The same two for the position held now: what its break-even covers.
    held_fees: int = 0
    held_funding: int = 0
    last_cumulative_funding: int = 0  # Drift: the market's cumulative rate at the last settlement
    borrow_snapshot: int = 0  # Jupiter: the custody's cumulative interest at the last settlement
    open_bids: int = 0  # base of resting buy orders, for initial margin
    open_asks: int = 0


def _carry_held_costs(pos: PaperPosition, held_before: int, kind: str, fill: Fill) -> None:
    """Fees and funding of the position held after ``fill``: an increase adds
    its fee; a reduction keeps the remaining part's share (as Drift's
    break-even amount does); a close forgets them; a new or flipped position
    starts with the share of the fee its opening part paid."""
    if kind == "increase":
        pos.held_fees += fill.fee
    elif kind == "reduce":
        pos.held_fees = div_trunc(pos.held_fees * abs(pos.base), abs(held_before))
        pos.held_funding = div_trunc(pos.held_funding * abs(pos.base), abs(held_before))
    elif kind == "close":
        pos.held_fees = pos.held_funding = 0
    else:  # open, flip
        pos.held_fees = div_trunc(fill.fee * abs(pos.base), fill.size) if fill.size else 0
        pos.held_funding = 0


@dataclass(slots=True)
class _MarketState:
    params: MarginParams
    base_precision: int
    oracle_price: int = 0
    cumulative_funding: int = 0  # Drift FUNDING_RATE_PRECISION (quote per base, 1e9)
    cumulative_interest: int = 0  # Jupiter, 1e9 of size_usd
    next_funding_ts: int | None = None
    lot_size: int = 1  # base units a liquidation closes in


@dataclass(frozen=True, slots=True)
class FillPreview:
    """What a trade would do to the account, for the order ticket."""

    fee: int
    base: int  # resulting position
    entry_price: int
    realized_pnl: int  # by the trade itself, before fees
    liquidation_price: int | None
    leverage_bps: int | None  # account leverage after the trade
    free_collateral: int  # initial free collateral after the trade


@dataclass
class PaperAccount:
    venue: str
    collateral: int = DEFAULT_COLLATERAL
    fees: FeeSchedule = SIM_DRIFT_FEES
    params: dict[str, MarginParams] = field(default_factory=lambda: dict(DRIFT_MARKET_PARAMS))
    default_params: MarginParams = DEFAULT_MARGIN_PARAMS
    liquidation_enabled: bool = True
    positions: dict[str, PaperPosition] = field(default_factory=dict)
    _markets: dict[str, _MarketState] = field(default_factory=dict)
    # Drift liquidates only what restores maintenance margin plus the buffer;
    # Jupiter closes the whole position.
    partial_liquidation: bool = False

    # -- setup ---------------------------------------------------------------

    def add_markets(self, markets: Iterable[Market]) -> None:
        for m in markets:
            if m.venue == self.venue:
                self._market(m.symbol, 10**m.size_decimals).lot_size = max(1, m.lot_size)

    def _market(self, symbol: str, base_precision: int | None = None) -> _MarketState:
        st = self._markets.get(symbol)
        if st is None:
            st = _MarketState(self.params.get(symbol, self.default_params), base_precision or 10**9)
            self._markets[symbol] = st
        return st

    def _position(self, market: str) -> PaperPosition:
        pos = self.positions.get(market)
        if pos is None:
            pos = self.positions[market] = PaperPosition(market)
        return pos

    # -- market data -----------------------------------------------------------

    def set_oracle(self, market: str, price: int) -> None:
        self._market(market).oracle_price = price

    def oracle_price(self, market: str) -> int:
        return self._market(market).oracle_price

    def set_open_orders(self, market: str, bids: int, asks: int) -> None:
        """Resting order totals (base) in ``market``, counted in initial margin."""
        pos = self._position(market)
        pos.open_bids, pos.open_asks = bids, asks

    # -- fills ---------------------------------------------------------------

    def make_fill(
        self,
        market: str,
        order_id: str,
        side: Side,
        price: int,
        size: int,
        liquidity: Literal["maker", "taker"],
        ts: int,
        fill_id: str | None = None,
    ) -> Fill:
        """A ``Fill`` priced with this account's fee schedule (not yet applied)."""
        st = self._market(market)
        fee = fill_fee(notional(size, price, st.base_precision), liquidity, self.fees.taker_ppm, self.fees.maker_ppm)
        if fill_id is None:  # unique across restarts: the journal refuses a reused fill id
            fill_id = f"{self.venue}-f{uuid.uuid4().hex}"
        return Fill(self.venue, market, order_id, fill_id, side, price, size, fee, liquidity, ts)

    def apply_fill(self, fill: Fill) -> int:
        """Book a fill: position, average entry, realized PnL and the fee.
        Returns the trading PnL it realized (before the fee)."""
        st = self._market(fill.market)
        pos = self._position(fill.market)
        was_flat = pos.base == 0
        update = apply_fill(
            pos.base,
            pos.quote_entry,
            fill_base_delta(fill.side, fill.size),
            fill_quote_delta(fill.side, fill.size, fill.price, st.base_precision),
        )
        # a new position owes funding and interest only from now on
        if was_flat or update.kind == "flip":
            pos.last_cumulative_funding = st.cumulative_funding
            pos.borrow_snapshot = st.cumulative_interest
        held_before = pos.base
        pos.base, pos.quote_entry = update.base, update.quote_entry
        pos.realized_pnl += update.realized_pnl - fill.fee
        pos.fees += fill.fee
        _carry_held_costs(pos, held_before, update.kind, fill)
        self.collateral += update.realized_pnl - fill.fee
        return update.realized_pnl

    def fill(
        self,
        market: str,
        order_id: str,
        side: Side,
        price: int,
        size: int,
        liquidity: Literal["maker", "taker"],
        ts: int,
    ) -> Fill:
        """``make_fill`` then ``apply_fill``: the usual path for a new fill."""
        f = self.make_fill(market, order_id, side, price, size, liquidity, ts)
        self.apply_fill(f)
        return f

    # -- funding and borrow fees ------------------------------------------

    def on_funding(self, event: Funding) -> list[Payment]:
        """Settle funding or borrow fees when a venue's funding hour turns.

        The simulated venues publish the rate of the running interval with the
        time of the next settlement; when ``next_ts`` moves on, the interval
        has been settled at ``rate`` (once per interval that passed)."""
        if event.venue != self.venue:
            return []
        st = self._market(event.market)
        previous = st.next_funding_ts
        st.next_funding_ts = event.next_ts
        if previous is None or event.next_ts <= previous:
            return []
        intervals = max(1, (event.next_ts - previous) // (event.interval_s * 1_000_000_000))
        if event.kind == "borrow":
            return self.settle_borrow(event.market, event.rate * intervals, event.ts)
        return self.settle_funding(event.market, event.rate * intervals, event.ts)

    def settle_funding(self, market: str, rate_ppb: int, ts: int, price: int | None = None) -> list[Payment]:
        """Drift funding: the market's cumulative rate moves by ``rate_ppb`` of
        the oracle price per base unit; the position pays (rate > 0, long) or
        receives the difference since its last settlement."""
        st = self._market(market)
        st.cumulative_funding += rate_to_funding_delta(rate_ppb, price or st.oracle_price)
        pos = self.positions.get(market)
        if pos is None or pos.base == 0:
            return []
        amount = funding_payment(pos.base, st.cumulative_funding, pos.last_cumulative_funding)
        pos.last_cumulative_funding = st.cumulative_funding
        if amount == 0:
            return []
        payment = Payment(self.venue, market, ts, amount, rate_ppb, "funding")
        self.apply_payment(payment)
        return [payment]

    def settle_borrow(self, market: str, rate_ppb: int, ts: int) -> list[Payment]:
        """Jupiter borrow fee: (cumulative - snapshot) * size_usd / 1e9, where
        size_usd is the position's entry notional."""
        st = self._market(market)
        st.cumulative_interest += rate_ppb
        pos = self.positions.get(market)
        if pos is None or pos.base == 0:
            return []
        owed = borrow_fee(st.cumulative_interest, pos.borrow_snapshot, abs(pos.quote_entry))
        pos.borrow_snapshot = st.cumulative_interest
        if owed == 0:
            return []
        payment = Payment(self.venue, market, ts, -owed, rate_ppb, "borrow")
        self.apply_payment(payment)
        return [payment]

    def apply_payment(self, payment: BookedPayment) -> None:
        pos = self._position(payment.market)
        pos.funding += payment.amount
        pos.held_funding += payment.amount
        pos.realized_pnl += payment.amount
        self.collateral += payment.amount

    # -- margin ----------------------------------------------------------------

    def exposures(self, include_orders: bool = True) -> list[tuple[str, PerpExposure]]:
        out = []
        for market, pos in self.positions.items():
            if pos.base == 0 and not (include_orders and (pos.open_bids or pos.open_asks)):
                continue
            st = self._market(market)
            out.append(
                (
                    market,
                    PerpExposure(
                        pos.base,
                        pos.quote_entry,
                        st.oracle_price,
                        st.params,
                        pos.open_bids if include_orders else 0,
                        pos.open_asks if include_orders else 0,
                        st.base_precision,
                    ),
                )
            )
        return out

    def equity(self) -> int:
        return self.collateral + sum(e.unrealized_pnl for _, e in self.exposures(False))

    def total_notional(self) -> int:
        return sum(e.notional for _, e in self.exposures(False))

    def free_collateral(self) -> int:
        """Initial free collateral, resting orders counted at their worst case."""
        exps = [e for _, e in self.exposures()]
        return max(
            0,
            total_collateral(self.collateral, exps, MarginCategory.INITIAL)
            - margin_requirement(exps, MarginCategory.INITIAL, include_open_orders=True),
        )

    def health(self) -> int:
        exps = [e for _, e in self.exposures(False)]
        return health_score(
            total_collateral(self.collateral, exps, MarginCategory.MAINTENANCE),
            margin_requirement(exps, MarginCategory.MAINTENANCE),
        )

    def leverage_bps(self) -> int | None:
        return leverage_bps(self.total_notional(), self.equity())

    def is_liquidatable(self) -> bool:
        exps = [e for _, e in self.exposures(False)]
        return total_collateral(self.collateral, exps, MarginCategory.MAINTENANCE) < margin_requirement(
            exps, MarginCategory.MAINTENANCE
        )

    def liquidation_price(self, market: str) -> int | None:
        pairs = self.exposures(False)
        for i, (m, _) in enumerate(pairs):
            if m == market:
                return position_liquidation_price(self.collateral, [e for _, e in pairs], i)
        return None

    def order_margin_shortfall(self, market: str, side: Side, size: int) -> int:
        """How much initial free collateral is missing to place an order of
        ``size`` (0 when it fits). Resting orders are counted at their worst
        case, as Drift does, so an order that only reduces needs nothing."""
        pos = self._position(market)
        st = self._market(market)
        bids = pos.open_bids + (size if side == "buy" else 0)
        asks = pos.open_asks + (size if side == "sell" else 0)
        before = abs(worst_case_base(pos.base, pos.open_bids, pos.open_asks))
        after = abs(worst_case_base(pos.base, bids, asks))
        if after <= before:
            return 0
        exps = [e for m, e in self.exposures() if m != market]
        exps.append(PerpExposure(pos.base, pos.quote_entry, st.oracle_price, st.params, bids, asks, st.base_precision))
        free = total_collateral(self.collateral, exps, MarginCategory.INITIAL) - margin_requirement(
            exps, MarginCategory.INITIAL, include_open_orders=True
        )
        return max(0, -free)

    # -- liquidation -------------------------------------------------------------

    def meets_liquidation_buffer(self) -> bool:
        """Maintenance margin plus Drift's liquidation buffer is covered: where
        a partial liquidation stops."""
        exps = [e for _, e in self.exposures(False)]
        buffer = sum(abs(e.notional) * LIQUIDATION_BUFFER_RATIO // 10_000 for e in exps)
        return total_collateral(self.collateral, exps, MarginCategory.MAINTENANCE) >= (
            margin_requirement(exps, MarginCategory.MAINTENANCE) + buffer
        )

    def liquidation_size(self, market: str) -> int:
        """How much of ``market``'s position a liquidation closes: all of it
        (Jupiter), or the fewest lots that restore maintenance margin plus the
        buffer (Drift), found by bisection on a copy of the account."""
        pos = self.positions[market]
        whole = abs(pos.base)
        if not self.partial_liquidation:
            return whole
        lot = self._market(market).lot_size
        lots = whole // lot
        lo, hi = 1, lots  # the answer is in [lo, hi]; hi (all whole lots) or the whole position
        if lots == 0 or not self._restored_after(market, lots * lot):
            return whole
        while lo < hi:
            mid = (lo + hi) // 2
            if self._restored_after(market, mid * lot):
                hi = mid
            else:
                lo = mid + 1
        return lo * lot

    def _restored_after(self, market: str, size: int) -> bool:
        shadow = self._shadow()
        shadow._close_at_oracle(market, size, 0)
        return shadow.meets_liquidation_buffer()

    def _shadow(self) -> PaperAccount:
        return PaperAccount(
            self.venue, self.collateral, self.fees, self.params, self.default_params, False,
            {m: replace(p) for m, p in self.positions.items()},
            {m: replace(s) for m, s in self._markets.items()},
        )

    def _close_at_oracle(self, market: str, size: int, ts: int) -> Fill:
        """The liquidation fill: ``size`` of the position closed at the oracle,
        with the market's liquidation fee."""
        pos = self.positions[market]
        st = self._market(market)
        side: Side = "sell" if pos.base > 0 else "buy"
        fee = liquidation_fee(size, st.oracle_price, st.params.liquidation_fee, st.base_precision)
        # unique across restarts: a second partial liquidation at the same
        # instant finds a smaller position
        fill = Fill(
            self.venue, market, LIQUIDATION_ORDER_ID, f"{self.venue}:liquidation:{market}:{ts}:{abs(pos.base)}",
            side, st.oracle_price, size, fee, "taker", ts,
        )
        self.apply_fill(fill)
        return fill

    def liquidate_if_needed(self, ts: int) -> list[tuple[Fill, Liquidation]]:
        """While maintenance margin is breached, liquidate the position with
        the largest maintenance requirement at the oracle, charging the
        market's liquidation fee: all of it, or with ``partial_liquidation``
        only what restores maintenance plus the buffer, as Drift does.
        Returns the closing fills with their records."""
        out: list[tuple[Fill, Liquidation]] = []
        if not self.liquidation_enabled:
            return out
        done: set[str] = set()
        while self.is_liquidatable():
            pairs = [(m, e) for m, e in self.exposures(False) if m not in done]
            if not pairs:
                break
            market, exp = max(pairs, key=lambda p: position_margin_requirement(p[1], MarginCategory.MAINTENANCE))
            exps = [e for _, e in self.exposures(False)]
            reason = (
                f"maintenance margin breached: total collateral "
                f"{total_collateral(self.collateral, exps, MarginCategory.MAINTENANCE)} < requirement "
                f"{margin_requirement(exps, MarginCategory.MAINTENANCE)}"
            )
            size = self.liquidation_size(market)
            if size < abs(exp.base):
                reason += f"; partial: {size} of {abs(exp.base)} closed to restore maintenance plus the 2% buffer"
            fill = self._close_at_oracle(market, size, ts)
            done.add(market)
            closed = -size if exp.base > 0 else size
            out.append((fill, Liquidation(self.venue, market, ts, closed, exp.oracle_price, fill.fee, reason)))
        return out

    # -- events ------------------------------------------------------------------

    def position_event(self, market: str, ts: int) -> Position:
        pos = self._position(market)
        st = self._market(market)
        bp = st.base_precision
        eq = self.equity()
        value = notional(pos.base, st.oracle_price, bp)
        exp = PerpExposure(pos.base, pos.quote_entry, st.oracle_price, st.params, 0, 0, bp)
        return Position(
            self.venue,
            market,
            pos.base,
            pos.quote_entry,
            entry_price(pos.base, pos.quote_entry, bp),
            st.oracle_price,
            unrealized_pnl(pos.base, pos.quote_entry, st.oracle_price, bp),
            pos.realized_pnl,
            self.liquidation_price(market) if pos.base else None,
            position_margin_requirement(exp, MarginCategory.INITIAL),
            (leverage_bps(value, eq) or 0) if pos.base else 0,
            ts,
            pos.held_fees,
            pos.held_funding,
        )

    def account_event(self, ts: int) -> AccountState:
        exps = [e for _, e in self.exposures()]
        return AccountState(
            self.venue,
            ts,
            self.collateral,
            self.equity(),
            self.free_collateral(),
            margin_requirement(exps, MarginCategory.INITIAL, include_open_orders=True),
            self.health(),
            self.leverage_bps() or 0,
        )

    def events(self, ts: int, markets: Iterable[str] | None = None) -> list[Position | AccountState]:
        """Position events (open positions, or just ``markets``) and the account."""
        names = list(markets) if markets is not None else [m for m, p in self.positions.items() if p.base]
        out: list[Position | AccountState] = [self.position_event(m, ts) for m in names]
        out.append(self.account_event(ts))
        return out

    # -- previews ----------------------------------------------------------------

    def preview_fill(
        self, market: str, side: Side, size: int, price: int, liquidity: Literal["maker", "taker"] = "taker"
    ) -> FillPreview:
        """The account after a hypothetical fill, without changing this one."""
        shadow = self._shadow()
        f = shadow.make_fill(market, "preview", side, price, size, liquidity, 0, fill_id="preview")
        realized = shadow.apply_fill(f)
        pos = shadow._position(market)
        st = shadow._market(market)
        return FillPreview(
            fee=f.fee,
            base=pos.base,
            entry_price=entry_price(pos.base, pos.quote_entry, st.base_precision),
            realized_pnl=realized,
            liquidation_price=shadow.liquidation_price(market) if pos.base else None,
            leverage_bps=shadow.leverage_bps(),
            free_collateral=shadow.free_collateral(),
        )
