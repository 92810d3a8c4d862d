"""Jupiter Perps market data: the JLP pool, its custodies and their oracles, live.

Accounts are read with ``getMultipleAccounts`` on start, then followed with
websocket ``accountSubscribe``; while the websocket is down they are polled
every ``poll_interval_s``, and re-read in full every ``refresh_interval_s``
anyway. Each change republishes its market: oracle and mark price (trades
fill at the oracle price; the confidence interval from the custody's Pyth
account, shown beside it), the borrow rate (``Funding`` with ``kind`` borrow,
per hour, so panes annualize it like Drift's funding), open interest and the
quote ladder as a ``BookSnapshot`` for the Depth pane.

Nothing here raises into the session: an RPC outage, a dropped websocket, a
stale oracle or an account that does not decode (truncated, foreign) each
set a ``VenueStatus`` saying what happened, and the last good data stays.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from quantdesk.core.bus import Bus
from quantdesk.core.model import (
    BookSnapshot,
    ConnState,
    Funding,
    MarkPrice,
    OpenInterest,
    OraclePrice,
    VenueStatus,
    topic_for,
)
from quantdesk.venues.jupiter import borrow
from quantdesk.venues.jupiter.accounts import AccountDecodeError, AccountDecoder, decoder
from quantdesk.venues.jupiter.config import JupiterConfig, JupiterMarket
from quantdesk.venues.jupiter.oracle import ConfidenceReading, OracleReading, decode_price_feed, decode_pyth_price_update
from quantdesk.venues.jupiter.wallet import NATIVE_MINT
from quantdesk.venues.jupiter.wallet_account import WalletAccount
from quantdesk.venues.solana.pubsub import AccountPubsub, backoff_s
from quantdesk.venues.jupiter.quotes import ladder_levels, quote_ladder
from quantdesk.venues.solana.rpc import RpcError, RpcUnavailable, SolanaRpc
from quantdesk.venues.solana.values import safe_host
from quantdesk.venues.jupiter.views import CustodyView, PoolView

NS = 1_000_000_000
USD = 1_000_000
HOUR_S = 3600


@dataclass
class MarketState:
    market: JupiterMarket
    custody: CustodyView | None = None
    oracle: OracleReading | None = None
    api_price: int | None = None  # the Jupiter price API's price, USD 1e6
    confidence: ConfidenceReading | None = None  # the custody's Pyth price and its confidence interval
    seq: int = 0
    stale: bool = False

    @property
    def confidence_bps(self) -> Decimal | None:
        """The Pyth confidence interval in bps of its price."""
        c = self.confidence
        return None if c is None else Decimal(c.confidence * 10_000) / c.price

    @property
    def oracle_gap_bps(self) -> Decimal | None:
        """How far the price API is from the on-chain oracle, in bps of the oracle price."""
        if self.oracle is None or self.api_price is None or self.oracle.price <= 0:
            return None
        return Decimal((self.api_price - self.oracle.price) * 10_000) / self.oracle.price


@dataclass(frozen=True)
class MarketSummary:
    symbol: str
    oracle_price: int | None  # USD 1e6
    api_price: int | None
    oracle_gap_bps: Decimal | None
    borrow_hourly: Decimal  # fraction an hour, paid by longs (on this custody)
    borrow_apr_pct: Decimal
    short_borrow_apr_pct: dict[str, Decimal]  # shorts pay on their stable collateral custody, by mint
    long_liquidity_usd: int | None  # tokens the pool can still lock for longs, valued at the oracle
    short_liquidity_usd: int  # stablecoins free for shorts (1 token = 1 USD)
    max_leverage: Decimal
    pool_aum_usd: int | None
    jlp_virtual_price: int | None


def decode_mint_supply(data: bytes) -> tuple[int, int]:
    """(supply, decimals) of an SPL token mint: supply u64 at 36, decimals u8 at 44."""
    if len(data) < 82:
        raise AccountDecodeError(f"{len(data)} bytes is too short for a token mint (82 bytes)")
    return int.from_bytes(data[36:44], "little"), data[44]


@dataclass
class FeedCounters:
    updates: int = 0  # account changes applied
    polls: int = 0
    bad_accounts: int = 0  # truncated or foreign data, dropped
    rpc_errors: int = 0
    problems: dict[str, str] = field(default_factory=dict)  # account -> why it is not shown


class JupiterFeed:
    def __init__(
        self,
        cfg: JupiterConfig,
        *,
        rpc: SolanaRpc | None = None,
        account_decoder: AccountDecoder | None = None,
        clock: Callable[[], int] = time.time_ns,
        sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
    ) -> None:
        self.cfg = cfg
        self.rpc = rpc or SolanaRpc(
            cfg.rpc_urls, commitment=cfg.commitment, timeout_s=cfg.http_timeout_s, cooldown_s=cfg.rpc_cooldown_s
        )
        self.decoder = account_decoder or decoder()
        self.clock = clock
        self._sleep = sleep
        self.markets = {m.symbol: MarketState(m) for m in cfg.markets}
        self.pool: PoolView | None = None
        self.collateral: dict[str, CustodyView] = {}
        self.counters = FeedCounters()
        self.oracle_notes: dict[str, str] = {}  # Pyth account -> why no confidence is shown (the price stays live)
        self.state: ConnState = "connecting"
        self.message = ""
        self.pubsub: AccountPubsub | None = None
        self._bus: Bus | None = None
        self._roles: dict[str, tuple[str, str]] = {cfg.pool: ("pool", "")}
        for m in cfg.markets:
            self._roles[m.custody] = ("custody", m.symbol)
        for sym, key in cfg.collateral.items():
            self._roles[key] = ("collateral", sym)
        if cfg.lp_mint:
            self._roles[cfg.lp_mint] = ("lp_mint", "")
        self._last_refresh_ns = 0
        self._last_message_ns = 0
        self._ws_message = ""
        self._resync_due = False
        self.lp_supply: tuple[int, int] | None = None  # (JLP supply, decimals)
        # The watched wallet's account (its problems are the feed's); a served trader reads their own.
        self.account = WalletAccount(cfg.watch, problems=self.counters.problems) if cfg.watch else None
        self.price_api_problem = ""  # shown, but the on-chain oracle alone keeps the venue live
        self._http: Any = None  # httpx client of the price API, made on first use

    # -- state -------------------------------------------------------------------------------------

    def _publish(self, event: Any) -> None:
        if self._bus is not None:
            self._bus.publish(topic_for(event), event)

    def set_state(self, state: ConnState, message: str = "") -> None:
        if (state, message) == (self.state, self.message):
            return
        self.state, self.message = state, message
        self._publish(
            VenueStatus(self.cfg.id, state, self.clock(), last_message_ts=self._last_message_ns, message=message)
        )

    def account_keys(self) -> list[str]:
        return list(self._roles)

    def _problem(self, pubkey: str, what: str) -> None:
        self.counters.bad_accounts += 1
        self.counters.problems[pubkey] = what

    def on_account(self, pubkey: str, slot: int, data: bytes | None) -> None:
        """Apply one account's new data; bad data is counted, named in the status and dropped."""
        role = self._roles.get(pubkey)
        if role is None:
            return
        kind, symbol = role
        label = {"pool": "pool", "custody": f"{symbol} custody", "collateral": f"{symbol} custody",
                 "lp_mint": "JLP mint"}.get(kind, f"{symbol} oracle")
        if kind == "pyth":
            self._on_pyth(pubkey, symbol, data)
            return
        if data is None:
            self._problem(pubkey, f"{label} {pubkey} not found on this RPC (check the address and cluster)")
            return
        try:
            if kind == "oracle":
                self.markets[symbol].oracle = decode_price_feed(data)
            elif kind == "lp_mint":
                self.lp_supply = decode_mint_supply(data)
            else:
                acc = self.decoder.decode(data, expect="Pool" if kind == "pool" else "Custody")
                if kind == "pool":
                    self.pool = PoolView.from_fields(acc.fields, pubkey)
                elif kind == "custody":
                    view = CustodyView.from_fields(acc.fields, pubkey)
                    self.markets[symbol].custody = view
                    self._roles.setdefault(view.doves_oracle, ("oracle", symbol))
                    self._roles.setdefault(view.oracle_account, ("pyth", symbol))
                else:
                    self.collateral[symbol] = CustodyView.from_fields(acc.fields, pubkey)
        except AccountDecodeError as exc:
            self._problem(pubkey, f"{label}: {exc}; showing its last good data")
            return
        self.counters.problems.pop(pubkey, None)
        self.counters.updates += 1
        self._last_message_ns = self.clock()
        if kind in ("custody", "oracle"):
            self.publish_market(symbol)

    def _on_pyth(self, pubkey: str, symbol: str, data: bytes | None) -> None:
        """The custody's Pyth account: only its confidence interval is used, so a
        missing or unreadable one is a note in the status, never a stale market."""
        try:
            if data is None:
                raise AccountDecodeError("not found on this RPC")
            reading = decode_pyth_price_update(data)
        except AccountDecodeError as exc:
            self.oracle_notes[pubkey] = f"{symbol} Pyth account {pubkey}: {exc}; confidence not shown"
            return
        self.oracle_notes.pop(pubkey, None)
        self.markets[symbol].confidence = reading
        self.publish_market(symbol)

    def on_pubsub_account(self, pubkey: str, slot: int, data: bytes) -> None:
        self.on_account(pubkey, slot, data)
        self.check_health()

    # -- events -------------------------------------------------------------------------------------

    def publish_market(self, symbol: str) -> None:
        st = self.markets[symbol]
        c, o = st.custody, st.oracle
        if c is None or o is None:
            return
        now = self.clock()
        conf = st.confidence.confidence if st.confidence is not None else 0
        self._publish(OraclePrice(self.cfg.id, symbol, now, o.price, confidence=conf))
        self._publish(MarkPrice(self.cfg.id, symbol, now, o.price))  # fills happen at the oracle price
        hourly = borrow.rate_ppb(borrow.hourly_borrow_rate(c))
        next_hour = (now // NS // HOUR_S + 1) * HOUR_S * NS
        self._publish(Funding(self.cfg.id, symbol, now, hourly, hourly, HOUR_S, next_hour, kind="borrow"))
        size_dec = st.market.size_decimals
        long_base = c.locked * 10**size_dec // 10**c.decimals  # the pool locks a long's full size in tokens
        short_base = c.global_short_sizes * 10**size_dec // o.price if o.price > 0 else 0
        self._publish(OpenInterest(self.cfg.id, symbol, now, long_base, short_base))
        rungs = quote_ladder(c, o.price, tuple(s * USD for s in self.cfg.ladder_usd), size_dec, now // NS)
        bids, asks = ladder_levels(rungs)
        st.seq += 1
        self._publish(BookSnapshot(self.cfg.id, symbol, st.seq, now, bids, asks))

    def summary(self, symbol: str) -> MarketSummary | None:
        """Everything known about one market beyond its events, for panes and tools."""
        st = self.markets.get(symbol)
        if st is None or st.custody is None:
            return None
        c = st.custody
        hourly = borrow.hourly_borrow_rate(c)
        price = st.oracle.price if st.oracle else 0
        free_tokens = max(0, c.owned - c.locked)
        short_pool = [x for x in self.collateral.values()]
        return MarketSummary(
            symbol=symbol,
            oracle_price=price or None,
            api_price=st.api_price,
            oracle_gap_bps=st.oracle_gap_bps,
            borrow_hourly=hourly,
            borrow_apr_pct=borrow.apr_percent(hourly),
            short_borrow_apr_pct={x.mint: borrow.apr_percent(borrow.hourly_borrow_rate(x)) for x in short_pool},
            long_liquidity_usd=free_tokens * price // 10**c.decimals if price else None,
            short_liquidity_usd=sum(max(0, x.owned - x.locked) * USD // 10**x.decimals for x in short_pool),
            max_leverage=Decimal(c.max_leverage_bps) / 10_000,
            pool_aum_usd=self.pool.aum_usd if self.pool else None,
            jlp_virtual_price=self.jlp_virtual_price(),
        )

    def jlp_virtual_price(self) -> int | None:
        """Pool AUM over JLP supply, USD with 6 decimals."""
        if self.pool is None or self.lp_supply is None or self.lp_supply[0] <= 0:
            return None
        supply, decimals = self.lp_supply
        return self.pool.aum_usd * 10**decimals // supply

    def publish_all(self) -> None:
        for symbol in self.markets:
            self.publish_market(symbol)

    # -- health -------------------------------------------------------------------------------------

    def stale_markets(self) -> list[str]:
        """Markets whose oracle is older than allowed (the config's limit, else the custody's own)."""
        now_s = self.clock() // NS
        out = []
        for sym, st in self.markets.items():
            if st.oracle is None or st.custody is None:
                continue
            limit = self.cfg.stale_after_s if self.cfg.stale_after_s is not None else st.custody.max_price_age_sec
            age = now_s - st.oracle.timestamp
            st.stale = age > limit
            if st.stale:
                out.append(f"{sym} oracle {age}s old (limit {limit:g}s)")
        return out

    def check_health(self, rpc_problem: str = "") -> None:
        """One status for everything known: RPC, websocket, stale oracles, bad accounts."""
        parts = []
        if rpc_problem:
            parts.append(rpc_problem)
        if self.pubsub is not None and not self.pubsub.connected:
            lost = self._ws_message or "websocket down"
            parts.append(f"{lost}; polling every {self.cfg.poll_interval_s:g}s")
        stale = self.stale_markets()
        parts.extend(stale)
        parts.extend(sorted(set(self.counters.problems.values())))
        if self.price_api_problem:
            parts.append(self.price_api_problem)
        for sym, st in self.markets.items():
            gap = st.oracle_gap_bps
            if gap is not None and abs(gap) > Decimal(str(self.cfg.price_gap_warn_bps)):
                parts.append(f"{sym} oracle and price API differ by {gap:+.0f} bps")
            conf = st.confidence_bps
            if conf is not None and conf > Decimal(str(self.cfg.confidence_warn_bps)):
                parts.append(f"{sym} oracle confidence is wide: ±{conf:.0f} bps")
        parts.extend(sorted(set(self.oracle_notes.values())))
        if rpc_problem and not self._last_refresh_ns:
            state: ConnState = "down"
        elif rpc_problem and (self.pubsub is None or not self.pubsub.connected):
            state = "down"
        elif stale or self.counters.problems:
            state = "stale"
        else:
            state = "connected"
        self.set_state(state, "; ".join(parts))

    # -- reading -------------------------------------------------------------------------------------

    async def refresh(self) -> None:
        """Read every followed account once (oracles become known from their custodies)."""
        keys = self.account_keys()
        slot, datas = await self.rpc.get_multiple_accounts(keys)
        for key, data in zip(keys, datas):
            self.on_account(key, slot, data)
        new = [k for k in self.account_keys() if k not in keys]
        if new:
            slot, datas = await self.rpc.get_multiple_accounts(new)
            for key, data in zip(new, datas):
                self.on_account(key, slot, data)
        self.counters.polls += 1
        self._last_refresh_ns = self.clock()

    async def _refresh_guarded(self) -> str:
        try:
            await self.refresh()
        except RpcUnavailable as exc:
            self.counters.rpc_errors += 1
            return f"{exc}; check venues.{self.cfg.id}.rpc_urls"
        except RpcError as exc:
            self.counters.rpc_errors += 1
            return str(exc)
        return ""

    async def _start(self) -> None:
        """Keep trying the first full read, backing off, until it works."""
        attempt = 0
        while True:
            problem = await self._refresh_guarded()
            self.check_health(problem)
            if not problem:
                return
            delay = backoff_s(attempt, self.cfg.backoff_initial_s, self.cfg.backoff_max_s)
            attempt += 1
            self.set_state("down", f"{problem}; retrying in {delay:.1f}s")
            await self._sleep(delay)

    def _on_ws_state(self, state: str, message: str) -> None:
        self._ws_message = "" if state == "connected" else message
        if state == "connected":
            self._resync_due = True  # changes before the subscriptions took hold: read them once
        self.check_health()

    async def _poll_loop(self) -> None:
        while True:
            await self._sleep(self.cfg.poll_interval_s)
            ws_up = self.pubsub is not None and self.pubsub.connected
            due = (self.clock() - self._last_refresh_ns) >= self.cfg.refresh_interval_s * NS
            problem = ""
            if not ws_up or due or self._resync_due:
                self._resync_due = False
                problem = await self._refresh_guarded()
            self.check_health(problem)

    async def poll_price_api(self) -> None:
        """The Jupiter price API's price per market, a second source beside the on-chain oracle."""
        import httpx
        import msgspec

        mints = {st.custody.mint: sym for sym, st in self.markets.items() if st.custody is not None}
        if not mints:
            return
        if self._http is None:
            self._http = httpx.AsyncClient(timeout=self.cfg.http_timeout_s)
        key = self.cfg.price_api_key
        headers = {"x-api-key": key.get_secret_value()} if key is not None else {}
        try:
            resp = await self._http.get(self.cfg.price_api_url, params={"ids": ",".join(mints)}, headers=headers)
            body = msgspec.json.decode(resp.content) if resp.status_code == 200 else None
        except (httpx.HTTPError, msgspec.DecodeError):
            body = None
        if not isinstance(body, dict):
            self.price_api_problem = f"price API {safe_host(self.cfg.price_api_url)} unavailable; oracle only"
            return
        self.price_api_problem = ""
        for mint, sym in mints.items():
            entry = body.get(mint)
            price = entry.get("usdPrice") if isinstance(entry, dict) else None
            if isinstance(price, (int, float)) and not isinstance(price, bool) and price > 0:
                # the API sends a JSON number; read it through its text so no binary float reaches state
                self.markets[sym].api_price = int(Decimal(repr(price)).scaleb(6).to_integral_value())

    def custody_of(self, pubkey: str) -> CustodyView | None:
        for st in self.markets.values():
            if st.custody is not None and st.custody.pubkey == pubkey:
                return st.custody
        return next((c for c in self.collateral.values() if c.pubkey == pubkey), None)

    async def poll_positions(self) -> None:
        """The watched wallet's open positions, one ``Position`` event per market (flat when closed)."""
        if self.account is not None:
            await self.account.poll(self, self._publish)

    def collateral_mints(self) -> list[str]:
        """Every token the wallet may post: the traded custodies' (SOL is native) and the stables'."""
        views = [st.custody for st in self.markets.values() if st.custody is not None] + list(self.collateral.values())
        return list(dict.fromkeys([NATIVE_MINT, *(v.mint for v in views)]))

    def symbol_of(self, custody: str) -> str | None:
        return next((s for s, st in self.markets.items() if st.market.custody == custody), None)

    async def _positions_loop(self) -> None:
        assert self.account is not None
        while True:
            if isinstance(await self.account.poll_noted(self, self._publish), RpcError):
                self.counters.rpc_errors += 1
            await self._sleep(self.cfg.positions_poll_s)

    async def _price_api_loop(self) -> None:
        while True:
            await self.poll_price_api()
            await self._sleep(self.cfg.price_api_interval_s)

    async def run(self, bus: Bus) -> None:
        self._bus = bus
        self.set_state("connecting", f"reading the JLP pool from {safe_host(self.cfg.rpc_urls[0])}")
        await self._start()
        tasks = [asyncio.create_task(self._poll_loop(), name=f"{self.cfg.id}-poll")]
        if self.account is not None:
            tasks.append(asyncio.create_task(self._positions_loop(), name=f"{self.cfg.id}-positions"))
        if self.cfg.price_api_url:
            tasks.append(asyncio.create_task(self._price_api_loop(), name=f"{self.cfg.id}-price-api"))
        if self.cfg.ws_urls:
            self.pubsub = AccountPubsub(
                list(self.cfg.ws_urls),
                self.account_keys(),
                self.on_pubsub_account,
                self._on_ws_state,
                commitment=self.cfg.commitment,
                backoff_initial_s=self.cfg.backoff_initial_s,
                backoff_max_s=self.cfg.backoff_max_s,
                sleep=self._sleep,
            )
            tasks.append(asyncio.create_task(self.pubsub.run(), name=f"{self.cfg.id}-pubsub"))
        try:
            await asyncio.gather(*tasks)
        finally:
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    async def close(self) -> None:
        await self.rpc.close()
        if self._http is not None:
            await self._http.aclose()
