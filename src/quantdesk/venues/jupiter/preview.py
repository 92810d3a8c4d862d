"""A Jupiter Perps transaction as the trader reads it before signing.

The transaction policy's decoded view (``signing.policy.render``: what it
trades, who pays, every instruction with its IDL accounts and arguments) is
headed by what only this venue knows: the collateral each request posts,
the worst price it accepts, and that a keeper executes it later, or it
expires after the pool's ``maxRequestExecutionSec``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from quantdesk.core.model import Order
from quantdesk.signing.policy import TransactionView, render

EXPIRY_MARGIN_S = 5  # a deadline allows this beyond maxRequestExecutionSec: the chain's clock and ours differ


@dataclass(frozen=True)
class Followed:
    """A sent request and what it should do, for the follower to judge its outcome by."""

    order: Order
    request: str  # the PositionRequest account
    position: str  # the Position account it changes
    kind: str  # request_plan.Kind
    side: str  # the position's side: long | short
    trigger: bool
    size_usd: int | None  # None: the whole position
    collateral_usd: int  # posted (open, deposit) or withdrawn
    collateral_tokens: int = 0
    mint: str = ""  # the request's token (collateral in, proceeds out)
    deadline_s: int | None = None  # market requests: expired after this (unix seconds, EXPIRY_MARGIN_S included)
    before: tuple[int, int] | None = None  # the position's (size_usd, collateral_usd) when sent; None: none yet


@dataclass(frozen=True)
class RequestPreview:
    """A checked, unsigned transaction and what it will do, shown before signing
    (``core.venue.TransactionPreview``)."""

    action: str  # place | cancel | cancel_all | modify | collateral
    venue: str
    message: Any  # solders MessageV0
    view: TransactionView
    orders: tuple[Order, ...] = ()  # placed (entry first), cancelled or modified
    followed: tuple[Followed, ...] = ()  # the requests it creates, to follow once sent
    notes: tuple[str, ...] = ()  # the venue's own lines: collateral, limits, expiry
    dry_run: bool = False
    extra: dict[str, Any] = field(default_factory=dict)

    def lines(self) -> list[str]:
        title = f"Transaction preview: {self.action.replace('_', ' ')} on {self.venue} (not signed yet)"
        detail = render(self.view, title)
        return [detail[0], *(f"  {n}" for n in self.notes), *detail[1:]]
