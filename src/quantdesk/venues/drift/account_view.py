"""Read-only on-chain view of a Drift-v2 deployment through driftpy (Drift,
or a fork whose IDL is configured; PDAs follow its program id): perp markets
(oracle, mark, funding, open interest) and any trader's account (positions,
unrealized PnL, liquidation prices, health, leverage, free collateral), for
any authority and subaccount, no key needed.

Accounts are polled over RPC (``getMultipleAccounts``). Prices come from each
market's last recorded oracle data (``amm.historical_oracle_data``), so the
view needs no oracle accounts; its figures are as of the accounts' slot.
driftpy returns some figures as floats; they are rounded to integers here.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

from quantdesk.core.bus import Bus
from quantdesk.core.model import AccountState, Funding, MarkPrice, OpenInterest, OraclePrice, Position, topic_for
from quantdesk.venues.base import VenueError
from quantdesk.venues.drift.chain import DriftChain
from quantdesk.venues.drift.config import DriftDeployment
from quantdesk.venues.solana.rpc import SolanaRpc

log = logging.getLogger(__name__)

PRICE_SCALE = 10**6
BASE_SCALE = 10**9
PPB = 10**9


def _int(value: Any) -> int:
    return int(Decimal(str(value)).to_integral_value(rounding=ROUND_HALF_EVEN))


def hourly_ppb(last_funding_rate: int, oracle_twap: int, funding_period_s: int) -> int:
    """Funding per hour in parts per billion of notional: rate (1e9 quote per
    base per period) over the oracle twap (1e6 quote per base)."""
    if oracle_twap <= 0 or funding_period_s <= 0:
        return 0
    frac = Decimal(last_funding_rate) * PRICE_SCALE / (Decimal(oracle_twap) * 10**9)
    return _int(frac * PPB * 3600 / funding_period_s)


class DriftAccountView:
    def __init__(
        self,
        deployment: DriftDeployment,
        rpc: SolanaRpc,
        authority: Any,
        *,
        sub_account_id: int = 0,
        market_events: frozenset[str] = frozenset({"oracle", "mark", "funding", "oi"}),
        clock: Callable[[], int] = time.time_ns,
        sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
    ) -> None:
        self.deployment = deployment
        # Which market events to publish: next to a live DLOB feed only open
        # interest is new; the accounts' last oracle price would be older.
        self.kinds = market_events
        self.venue = deployment.id
        self.chain = DriftChain(deployment, authority, rpc, sub_account_id=sub_account_id)
        self.clock = clock
        self._sleep = sleep
        self.by_index = {m.index: m.symbol for m in deployment.watched}
        self.names = {m.index: m.symbol for m in deployment.listed}  # positions in any listed market
        self.last_error = ""

    async def refresh(self) -> None:
        await self.chain.load(set(self.by_index), refresh=True)

    # -- markets -------------------------------------------------------------------
    async def market_events(self) -> list[Any]:
        ts = self.clock()
        out: list[Any] = []
        for index, symbol in sorted(self.by_index.items()):
            market = self.chain.store.perp_markets.get(index)
            if market is None:
                continue
            amm = market.amm
            hist = amm.historical_oracle_data
            oracle = self.chain.client.get_oracle_price_data_for_perp_market(index)
            if "oracle" in self.kinds:
                out.append(OraclePrice(self.venue, symbol, ts, int(hist.last_oracle_price), int(hist.last_oracle_conf)))
            if "oi" in self.kinds:
                out.append(OpenInterest(self.venue, symbol, ts, abs(int(amm.base_asset_amount_long)),
                                        abs(int(amm.base_asset_amount_short))))
            if "mark" in self.kinds:
                out.extend(self._mark(symbol, amm, oracle, ts))
            if "funding" in self.kinds:
                out.append(await self._funding(symbol, market, oracle, ts))
        return out

    def _mark(self, symbol: str, amm: Any, oracle: Any, ts: int) -> list[Any]:
        from driftpy.math.amm import calculate_bid_ask_price

        try:
            bid, ask = calculate_bid_ask_price(amm, oracle)
        except Exception as exc:  # driftpy's AMM math asserts on some market states
            log.debug("%s %s: no AMM mark: %r", self.venue, symbol, exc)
            return []
        return [MarkPrice(self.venue, symbol, ts, (int(bid) + int(ask)) // 2)]

    async def _funding(self, symbol: str, market: Any, oracle: Any, ts: int) -> Funding:
        from driftpy.math.funding import calculate_all_estimated_funding_rate

        amm = market.amm
        period = int(amm.funding_period) or 3600
        rate = hourly_ppb(int(amm.last_funding_rate), int(amm.historical_oracle_data.last_oracle_price_twap), period)
        predicted = rate
        try:
            # interp_est is the next period's rate in percent at 1e6 (PRICE_PRECISION): x10 is ppb.
            est = await calculate_all_estimated_funding_rate(market, oracle, None, ts // 10**9)
            predicted = _int(est[4]) * 10 * 3600 // period
        except Exception as exc:  # as above: an estimate is optional
            log.debug("%s %s: no funding estimate: %r", self.venue, symbol, exc)
        return Funding(self.venue, symbol, ts, rate, predicted, 3600, (int(amm.last_funding_rate_ts) + period) * 10**9)

    # -- the trader's account ---------------------------------------------------------
    def account_events(self) -> list[Any]:
        user_account = self.chain.user_account()
        if user_account is None:
            return []
        user = self.chain.user
        ts = self.clock()
        out: list[Any] = []
        for pos in user_account.perp_positions:
            base = int(pos.base_asset_amount)
            index = int(pos.market_index)
            if base == 0 or index not in self.chain.store.perp_markets:
                continue
            symbol = self.names.get(index) or self._market_name(index)
            quote_entry = int(pos.quote_entry_amount)
            entry_price = abs(quote_entry) * BASE_SCALE // abs(base)
            oracle = self.chain.client.get_oracle_price_data_for_perp_market(index)
            liq = _int(user.get_perp_liq_price(index))
            out.append(
                Position(
                    venue=self.venue,
                    market=symbol,
                    base=base,
                    quote_entry=quote_entry,
                    entry_price=entry_price,
                    mark_price=int(oracle.price),  # type: ignore[union-attr]  # the cached subscription holds an oracle for every market in the store (checked above)
                    unrealized_pnl=_int(user.get_unrealized_pnl(True, index)),
                    liquidation_price=None if liq <= 0 else liq,
                    ts=ts,
                )
            )
        collateral = _int(user.get_total_collateral())
        out.append(
            AccountState(
                venue=self.venue,
                ts=ts,
                collateral=collateral,
                equity=_int(user.get_net_usd_value()),  # unweighted: deposits - borrows + perp PnL
                free_collateral=_int(user.get_free_collateral()),
                margin_requirement=_int(user.get_margin_requirement()),
                health=_int(user.get_health()),
                leverage_bps=_int(user.get_leverage()),
            )
        )
        return out

    def _market_name(self, index: int) -> str:
        market = self.chain.store.perp_markets[index]
        return bytes(market.name).decode("utf-8", errors="replace").strip()

    # -- polling --------------------------------------------------------------------
    async def poll_once(self, bus: Bus) -> bool:
        try:
            await self.refresh()
        except VenueError as exc:
            self.last_error = str(exc)
            return False
        try:
            events = await self.market_events() + self.account_events()
        except Exception as exc:  # driftpy margin math on unexpected account states
            log.warning("%s: account view failed: %r", self.venue, exc)
            self.last_error = f"could not compute the account view: {exc.__class__.__name__}"
            return False
        for ev in events:
            bus.publish(topic_for(ev), ev)
        return True

    async def run(self, bus: Bus, interval_s: float = 5.0) -> None:
        while True:
            await self.poll_once(bus)
            await self._sleep(interval_s)
