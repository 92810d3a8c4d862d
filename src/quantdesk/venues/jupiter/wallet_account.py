"""One wallet's Jupiter Perps account, read over a feed's market data.

The feed (``market_data.JupiterFeed``) reads the pool, custodies and oracles
once for everyone; a wallet's account is its open positions (reported at
those oracle prices) and, when it trades, what it holds to post as
collateral. The feed keeps one for its watched wallet; a trader served over
SSH has their own, read and published onto their console's bus only.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from quantdesk.core.model import Position
from quantdesk.venues.jupiter.accounts import AccountDecodeError
from quantdesk.venues.jupiter.positions import PositionReport, fetch_positions, report, to_event
from quantdesk.venues.jupiter.views import PositionView
from quantdesk.venues.jupiter.wallet import WalletBalances, fetch_wallet
from quantdesk.venues.solana.rpc import RpcError

NS = 1_000_000_000
Publish = Callable[[Any], None]


def to_event_flat(venue: str, market: str, ts: int) -> Position:
    """A closed position: the Positions pane drops the row."""
    return Position(venue=venue, market=market, base=0, quote_entry=0, entry_price=0, ts=ts)


class WalletAccount:
    """``owner``'s positions and, with ``read_wallet``, balances; ``problems``
    (position or read -> why) is where what cannot be shown is said."""

    def __init__(self, owner: str | None, *, read_wallet: bool = False, problems: dict[str, str] | None = None) -> None:
        self.owner = owner
        self.read_wallet = read_wallet  # trading: read the wallet's collateral too, and publish its AccountState
        self.problems: dict[str, str] = problems if problems is not None else {}
        self.positions: dict[str, PositionReport] = {}  # by market
        self.reports: list[PositionReport] = []  # every open position (a long and a short apart)
        self.loaded = False  # read at least once
        self.wallet: WalletBalances | None = None

    async def poll(self, feed: Any, publish: Publish) -> None:
        """Read the open positions, one ``Position`` event per market (flat when
        closed), and the wallet with its ``AccountState`` when trading."""
        if not self.owner:
            return
        cfg = feed.cfg
        found = await fetch_positions(feed.rpc, feed.decoder, cfg.program_id, self.owner)
        now = feed.clock()
        seen: dict[str, PositionReport] = {}
        reports: list[PositionReport] = []
        for p in found:
            sym = feed.symbol_of(p.custody)
            r = _report(feed, p, now)
            if sym is None or r is None:
                self.problems[p.pubkey] = (
                    f"position {p.pubkey}: its custody or collateral custody is not followed; add it to the config"
                )
                continue
            self.problems.pop(p.pubkey, None)
            seen[sym] = r
            reports.append(r)
            publish(to_event(r, cfg.id, sym, now, feed.markets[sym].market.size_decimals))
        for sym in set(self.positions) - set(seen):
            publish(to_event_flat(cfg.id, sym, now))
        self.positions = seen
        self.reports = reports
        if self.read_wallet:
            self.wallet = await fetch_wallet(feed.rpc, self.owner, feed.collateral_mints())
            from quantdesk.venues.jupiter.account_state import account_state

            publish(account_state(feed, self, now))
        self.loaded = True

    async def poll_noted(self, feed: Any, publish: Publish) -> Exception | None:
        """``poll``, an RPC or decoding failure noted under ``problems["positions"]``
        and returned instead of raised (the next poll tries again)."""
        try:
            await self.poll(feed, publish)
        except (RpcError, AccountDecodeError) as exc:
            self.problems["positions"] = f"positions of {self.owner}: {exc}"
            return exc
        self.problems.pop("positions", None)
        return None


def _report(feed: Any, p: PositionView, now: int) -> PositionReport | None:
    sym = feed.symbol_of(p.custody)
    custody, collateral = feed.custody_of(p.custody), feed.custody_of(p.collateral_custody)
    st = feed.markets.get(sym or "")
    if st is None or st.oracle is None or custody is None or collateral is None:
        return None
    return report(p, custody, collateral, st.oracle.price, now // NS)
