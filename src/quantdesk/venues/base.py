"""The Venue protocol every adapter implements: simulated, replayed or live."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from quantdesk.core.bus import Bus
from quantdesk.core.model import Market, MarketKind, Order, OrderIntent


class VenueError(Exception):
    """A venue refused or could not be reached; the message is for the trader."""


class TradingUnavailable(VenueError):
    pass


@runtime_checkable
class Venue(Protocol):
    id: str
    kind: MarketKind
    can_trade: bool

    async def connect(self) -> list[Market]:
        """Open connections and return the markets this venue lists."""

    async def run(self, bus: Bus) -> None:
        """Publish normalized events on ``bus`` until cancelled. Publishes a
        full ``BookSnapshot`` per market first, and again after any reconnect."""

    def request_resync(self, market: str) -> None:
        """Ask for a fresh snapshot of ``market`` (after a sequence gap)."""

    async def close(self) -> None: ...

    # Trading: adapters with ``can_trade`` False raise TradingUnavailable.
    async def place(self, intent: OrderIntent, order_id: str) -> Order: ...

    async def cancel(self, order_id: str) -> None: ...

    async def cancel_all(self, market: str | None = None) -> None: ...

    async def modify(self, order_id: str, *, price: int | None = None, size: int | None = None) -> Order: ...
