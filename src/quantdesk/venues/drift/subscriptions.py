"""The DLOB WebSocket subscriptions of one connection: sent, acknowledged,
refused, and when a refused one is tried again.

The server acknowledges a subscription with ``{"message": "Subscribe received
for channel: C, market: M, marketType: T"}``; it refuses one it cannot map
(an unknown market, a bad channel) with ``{"channel": C, "error": "Error
subscribing to channel"}``, naming the requested channel but not the market,
so a refusal is laid on the subscriptions of that channel still waiting for
their acknowledgement. A refused subscription is retried with exponential
backoff. No I/O here: the feed sends what ``due`` returns.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from quantdesk.venues.drift.backoff import backoff_s

Key = tuple[str, str]  # (channel, market symbol)

_ACK = re.compile(r"Subscribe received for channel: (?P<channel>[^,]*), market: (?P<market>[^,]*),")


@dataclass
class _Sub:
    state: str = "sent"  # "sent" | "acked" | "refused"
    attempts: int = 0  # refusals in a row
    retry_at_ns: int = 0
    error: str = ""


@dataclass
class Subscriptions:
    backoff_initial_s: float
    backoff_max_s: float
    delay: Callable[[int, float, float], float] = backoff_s
    subs: dict[Key, _Sub] = field(default_factory=dict)

    def sent(self, key: Key) -> None:
        sub = self.subs.setdefault(key, _Sub())
        sub.state = "sent"

    def reset(self) -> None:
        """A new connection: nothing is acknowledged or refused on it yet."""
        self.subs.clear()

    def on_ack(self, message: str) -> Key | None:
        m = _ACK.match(message)
        if m is None:
            return None
        key = (m["channel"].lower(), m["market"].upper())
        sub = self.subs.get(key)
        if sub is not None:
            sub.state, sub.attempts, sub.error = "acked", 0, ""
        return key

    def on_error(self, channel: str | None, error: str, now_ns: int) -> list[Key]:
        """The subscriptions a refusal is for (those of ``channel`` still waiting),
        each marked refused and scheduled for a retry."""
        wanted = (channel or "").lower()
        refused = [k for k, s in self.subs.items() if s.state == "sent" and (not wanted or k[0] == wanted)]
        for key in refused:
            sub = self.subs[key]
            sub.state, sub.error = "refused", error
            sub.retry_at_ns = now_ns + int(self.delay(sub.attempts, self.backoff_initial_s, self.backoff_max_s) * 1e9)
            sub.attempts += 1
        return refused

    def due(self, now_ns: int) -> list[Key]:
        """Refused subscriptions whose retry time has come (marked sent again)."""
        out = [k for k, s in self.subs.items() if s.state == "refused" and now_ns >= s.retry_at_ns]
        for key in out:
            self.subs[key].state = "sent"
        return out

    def refused(self) -> dict[Key, str]:
        """Subscriptions refused and not yet acknowledged, with the server's words."""
        return {k: s.error for k, s in self.subs.items() if s.attempts and s.state != "acked"}
