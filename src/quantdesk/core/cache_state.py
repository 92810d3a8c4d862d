"""The events that rebuild a cache's state: what a recording part opens with,
so that part replays on its own.

Published in order on a fresh bus, they give a cache the same books, latest
values, statuses, open orders, positions and accounts, and (with ``tapes``)
the same recent trades and fills. A book waiting for a resync has no state
worth repeating and is left out.
"""

from __future__ import annotations

from quantdesk.core.cache import MarketCache
from quantdesk.core.model import Event


def state_events(cache: MarketCache, *, tapes: bool = True) -> list[Event]:
    out: list[Event] = list(cache.status.values())
    for book in cache.books.values():
        if not book.needs_resync:
            out.append(book.snapshot())
    for latest in (cache.funding, cache.open_interest, cache.oracle, cache.mark):
        out.extend(latest.values())
    out.extend(cache.orders.values())
    out.extend(cache.positions.values())
    out.extend(cache.accounts.values())
    if tapes:
        for trades in cache.trades.values():
            out.extend(trades)  # oldest first, as the cache appends them
        out.extend(reversed(cache.fills))  # the cache keeps the newest first
    return out
