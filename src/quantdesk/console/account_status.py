"""The status bar's trading segment: kill switch, equity, free collateral, health."""

from __future__ import annotations

from collections.abc import Hashable
from typing import TYPE_CHECKING

from quantdesk.core.model import PRICE_DECIMALS
from quantdesk.console import format as fmt

if TYPE_CHECKING:
    from quantdesk.core.cache import MarketCache

Segment = list[tuple[str, str]]  # (text, status bar component class)


def account_key(cache: MarketCache, kill_switch: bool) -> Hashable:
    return (cache.rev["account"], kill_switch)


def account_segment(cache: MarketCache, kill_switch: bool) -> Segment:
    """Totals over the accounts in the cache (one per venue); health is the
    weakest account's, since that one is liquidated first."""
    out: Segment = []
    if kill_switch:
        out.append(("│ ", "status--dim"))
        out.append(("HALTED: KILL SWITCH ON ", "status--error"))
    accounts = list(cache.accounts.values())
    if not accounts:
        return out
    equity = sum(a.equity for a in accounts)
    free = sum(a.free_collateral for a in accounts)
    health = min(a.health for a in accounts)
    out.append(("│ equity ", "status--dim"))
    out.append((f"${fmt.fixed(equity, PRICE_DECIMALS, 2)} ", ""))
    out.append(("free ", "status--dim"))
    out.append((f"${fmt.fixed(free, PRICE_DECIMALS, 2)} ", ""))
    out.append(("health ", "status--dim"))
    out.append((f"{health}% ", "status--ok" if health >= 50 else "status--warn" if health >= 20 else "status--error"))
    return out
