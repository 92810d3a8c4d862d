"""A trader's Jupiter account as QuantDesk sees it: their wallet's account
(``wallet_account.WalletAccount``) over what the feed has read of the markets.

Jupiter positions are isolated (each holds its own collateral), and what a
new position posts comes out of the wallet. So the account's equity is the
wallet's collateral tokens at their oracle prices (stablecoins at a dollar)
plus each open position's collateral and PnL after its fees; its margin
requirement is each position's size over its custody's maximum leverage.
``market_state`` is one market as request planning sees it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from quantdesk.core.model import AccountState
from quantdesk.venues.jupiter.request_plan import MarketState
from quantdesk.venues.jupiter.views import CustodyView, PositionView
from quantdesk.venues.jupiter.wallet import NATIVE_MINT

if TYPE_CHECKING:
    from quantdesk.venues.jupiter.wallet_account import WalletAccount

USD = 1_000_000
BPS = 10_000


def market_state(feed: Any, account: WalletAccount, symbol: str) -> MarketState | None:
    """``symbol`` with its custody, oracle, short collateral custody and the
    ``account``'s open positions on it; None until the custody and oracle are read."""
    cfg = feed.cfg
    st = feed.markets.get(symbol)
    stable = feed.collateral.get(cfg.short_collateral)
    if st is None or st.custody is None or st.oracle is None or stable is None or st.oracle.price <= 0:
        return None
    long = short = None
    for r in account.reports:
        p: PositionView = r.position
        if p.custody != st.custody.pubkey:
            continue
        if p.side == "long" and long is None:
            long = p
        elif p.side == "short" and short is None:
            short = p
    return MarketState(symbol, st.custody, stable, cfg.short_collateral, st.oracle.price, st.market.size_decimals,
                       long, short)  # fmt: skip


def _custodies(feed: Any) -> list[CustodyView]:
    views = [st.custody for st in feed.markets.values() if st.custody is not None]
    return views + list(feed.collateral.values())


def token_price(feed: Any, mint: str) -> int:
    """USD 1e6 per whole token of ``mint``: a stable at a dollar, a traded token at its oracle; 0 when unknown."""
    for st in feed.markets.values():
        if st.custody is not None and st.custody.mint == mint and st.oracle is not None:
            return int(st.oracle.price)
    if any(c.mint == mint and c.is_stable for c in _custodies(feed)):
        return USD
    return 0


def wallet_value_usd(feed: Any, account: WalletAccount) -> int:
    """What the wallet could post, USD 1e6: native SOL and the custodies' tokens at their prices."""
    w = account.wallet
    if w is None:
        return 0
    decimals = {c.mint: c.decimals for c in _custodies(feed)}
    value = w.lamports * token_price(feed, NATIVE_MINT) // 10**9
    for mint, amount in w.tokens.items():
        if mint in decimals:
            value += amount * token_price(feed, mint) // 10 ** decimals[mint]
    return value


def equity_usd(feed: Any, account: WalletAccount) -> int:
    positions = sum(r.position.collateral_usd + r.pnl_after_fees_usd for r in account.reports)
    return wallet_value_usd(feed, account) + positions


def account_state(feed: Any, account: WalletAccount, now: int) -> AccountState:
    free = wallet_value_usd(feed, account)
    collateral = free + sum(r.position.collateral_usd for r in account.reports)
    equity = equity_usd(feed, account)
    notional = margin = 0
    for r in account.reports:
        notional += r.position.size_usd  # at entry; the PnL above carries the move
        custody = next((c for c in _custodies(feed) if c.pubkey == r.position.custody), None)
        if custody is not None and custody.max_leverage_bps:
            margin += r.position.size_usd * BPS // custody.max_leverage_bps
    health = 100 if margin == 0 else max(0, min(100, 100 - margin * 100 // max(1, equity)))
    leverage = notional * BPS // equity if equity > 0 else 0
    return AccountState(feed.cfg.id, now, collateral, equity, free, margin, health, leverage)
