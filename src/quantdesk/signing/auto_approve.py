"""The signer agent's auto-approve policy file: what it may sign without asking.

A TOML file on the trader's laptop::

    markets = ["SOL-PERP", "drift:BTC-PERP"]   # symbols, optionally venue-qualified
    max_notional_per_order = 2000              # quote asset (USDC), price x size
    max_notional_per_hour = 10000              # all orders signed in the last hour, asked or not
    allowed_programs = ["dRiftyHA39MWEi3m9aunc5MzRF1JYuBsbn6VPcn33UH"]

A transaction is auto-approved when every program it calls is in
``allowed_programs`` (the compute-budget program always is) and each order in
it is on a listed market, priced (a market order has no notional to cap: it is
asked), within the per-order cap and, with everything signed in the past hour,
within the hourly cap. A transaction without orders (a cancel) needs only the
programs. Anything else is asked at the agent's terminal. Every key is
required, so a typo cannot widen what is signed unasked.
"""

from __future__ import annotations

import tomllib
from collections import deque
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from quantdesk.signing.base import SignerError
from quantdesk.signing.policy import COMPUTE_BUDGET_PROGRAM_ID, TransactionView

HOUR_NS = 3600 * 10**9
KEYS = ("markets", "max_notional_per_order", "max_notional_per_hour", "allowed_programs")


class PolicyFileError(SignerError):
    """The policy file cannot be used; the message names the file, the key and the fix."""


def _money(source: str, key: str, value: Any) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise PolicyFileError(f"{source}: {key} must be a number of the quote asset, e.g. {key} = 1000")
    try:
        out = Decimal(str(value))
    except InvalidOperation:
        raise PolicyFileError(f"{source}: {key} = {value!r} is not a number; write e.g. {key} = 1000") from None
    if not out.is_finite() or out < 0:
        raise PolicyFileError(f"{source}: {key} must be zero or more, e.g. {key} = 1000")
    return out


def _strings(source: str, key: str, value: Any, example: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise PolicyFileError(f"{source}: {key} must be a list of strings, e.g. {key} = [{example}]")
    return tuple(value)


@dataclass
class AutoApprove:
    markets: frozenset[str]
    max_notional_per_order: Decimal
    max_notional_per_hour: Decimal
    allowed_programs: frozenset[str]
    _signed: deque[tuple[int, Decimal]] = field(default_factory=deque, repr=False)  # (ts, notional) in the last hour

    @classmethod
    def parse(cls, text: str, source: str = "policy file") -> AutoApprove:
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise PolicyFileError(f"{source} is not valid TOML ({exc}); fix the line it names") from None
        unknown = sorted(set(data) - set(KEYS))
        if unknown:
            raise PolicyFileError(f"{source}: unknown key {unknown[0]!r}; the keys are {', '.join(KEYS)}")
        missing = [k for k in KEYS if k not in data]
        if missing:
            raise PolicyFileError(f"{source}: {missing[0]} is missing; every key is required ({', '.join(KEYS)})")
        return cls(
            markets=frozenset(_strings(source, "markets", data["markets"], '"SOL-PERP"')),
            max_notional_per_order=_money(source, "max_notional_per_order", data["max_notional_per_order"]),
            max_notional_per_hour=_money(source, "max_notional_per_hour", data["max_notional_per_hour"]),
            allowed_programs=frozenset(_strings(source, "allowed_programs", data["allowed_programs"], '"dRifty..."'))
            | {COMPUTE_BUDGET_PROGRAM_ID},
        )

    def _hour(self, now: int) -> Decimal:
        while self._signed and self._signed[0][0] <= now - HOUR_NS:
            self._signed.popleft()
        return sum((n for _, n in self._signed), Decimal(0))

    def decide(self, view: TransactionView, now: int) -> tuple[bool, str]:
        """(auto-approved?, why): the reason names the first rule that sends it to the trader."""
        for program in view.programs:
            if program not in self.allowed_programs:
                return False, f"program {program} is not in the policy's allowed_programs"
        total = Decimal(0)
        for order in view.orders:
            if order.market not in self.markets and f"{order.venue}:{order.market}" not in self.markets:
                return False, f"{order.venue} {order.market} is not in the policy's markets"
            notional = order.notional
            if notional is None:
                return False, f"{order.market} at market has no price to cap; the policy approves priced orders only"
            if notional > self.max_notional_per_order:
                return False, f"{notional:f} notional is over max_notional_per_order ({self.max_notional_per_order:f})"
            total += notional
        spent = self._hour(now)
        if spent + total > self.max_notional_per_hour:
            return False, (f"{spent + total:f} notional in the past hour would pass max_notional_per_hour "
                           f"({self.max_notional_per_hour:f})")
        return True, "within the auto-approve policy"

    def record(self, view: TransactionView, now: int) -> None:
        """Count a signed transaction's orders against the hourly cap."""
        total = sum((o.notional or Decimal(0) for o in view.orders), Decimal(0))
        if total:
            self._signed.append((now, total))
