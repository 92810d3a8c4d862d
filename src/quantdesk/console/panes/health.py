"""Feed and RPC health of every venue, one column per venue.

Live venues (those keeping ``FeedHealth`` counters, the Drift-v2 adapter)
show their connection state and data age, how far the DLOB server's slot
trails the RPC node, RPC and WebSocket latency, and the counters of what
went wrong: errors, 429s, reconnects, RPC/HTTP failovers, malformed and
dropped (out-of-order or stale) messages, with the last error in words.
Simulated venues show their state and event rate.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any

from rich.text import Text

from quantdesk.console import format as fmt
from quantdesk.console.freshness import venue_state
from quantdesk.console.panes.base import Column, Pane, PaneSession, Table

REDRAW_NS = 250_000_000  # ages and latencies: four redraws a second are plenty
RATE_WINDOW_NS = 1_000_000_000
LABEL_WIDTH = 13
VENUE_WIDTH = 11
STATE_STYLE = {"connected": "pane--gain", "read-only": "pane--gain", "stale": "pane--warn", "down": "pane--error"}
DASH = "—"

# (label, how to read it from FeedHealth, counts something that went wrong)
METRICS: tuple[tuple[str, str, bool], ...] = (
    ("Slot lag", "slot_lag", False),
    ("RPC latency", "rpc_latency_ms", False),
    ("WS latency", "feed_lag_ms", False),
    ("Errors", "errors", True),
    ("429s", "http_429", True),
    ("Reconnects", "reconnects", True),
    ("Failovers", "failovers", True),
    ("Malformed", "malformed", True),
    ("Sub errors", "subscription_errors", True),
    ("Unknown mkts", "unknown_market", True),
    ("Dropped", "dropped", True),
)


def _metric(health: Any, attr: str) -> int | float | None:
    if attr == "dropped":  # books refused as out of order or too old on arrival
        return health.out_of_order + health.stale
    return getattr(health, attr, None)  # None: this venue does not count it


def _show(value: int | float | None, attr: str) -> str:
    if value is None:
        return DASH
    if attr.endswith("_ms"):
        return f"{value:,.0f} ms"
    return f"{value:,}"


class HealthPane(Pane):
    pane_type = "health"

    def __init__(self, session: PaneSession, **kw: Any) -> None:
        super().__init__(session, **kw)
        self._marks: dict[str, tuple[int, int]] = {}  # sim venue -> (ts, events) at the window start
        self.rates: dict[str, float] = {}  # sim venue -> events per second

    def _venues(self) -> tuple[list[tuple[str, Any]], list[tuple[str, Any]]]:
        live, sim = [], []
        for venue_id, venue in getattr(self.session, "venues", {}).items():
            if getattr(venue, "health", None) is not None:
                live.append((venue_id, venue))
            elif hasattr(venue, "events"):
                sim.append((venue_id, venue))
        return live, sim

    def _update_rates(self, sims: list[tuple[str, Any]], now_ns: int) -> None:
        for venue_id, venue in sims:
            mark = self._marks.get(venue_id)
            if mark is None or now_ns < mark[0]:
                self._marks[venue_id] = (now_ns, venue.events)
                continue
            t0, e0 = mark
            if now_ns - t0 >= RATE_WINDOW_NS:
                self.rates[venue_id] = (venue.events - e0) * 1e9 / (now_ns - t0)
                self._marks[venue_id] = (now_ns, venue.events)

    def _rows(self, now_ns: int) -> tuple:
        live, sims = self._venues()
        self._update_rates(sims, now_ns)
        live_rows = []
        for venue_id, venue in live:
            state, age = venue_state(self.cache, venue_id, now_ns)
            h = venue.health
            metrics = tuple(_metric(h, attr) for _, attr, _ in METRICS)
            live_rows.append((venue_id, state, fmt.age(age), metrics, h.last_error))
        sim_rows = []
        for venue_id, _venue in sims:
            state, age = venue_state(self.cache, venue_id, now_ns)
            sim_rows.append((venue_id, state, fmt.age(age), self.rates.get(venue_id)))
        return tuple(live_rows), tuple(sim_rows)

    def state_key(self, now_ns: int) -> Hashable:
        return (now_ns // REDRAW_NS, self.cache.rev["status"], self._rows(now_ns))

    def build(self, now_ns: int, width: int, height: int) -> list[Text]:
        live, sims = self._rows(now_ns)
        if not live and not sims:
            return self.message(["No venues are running."])
        s = self.style
        lines: list[Text] = []
        if live:
            table = Table([Column("", LABEL_WIDTH, "left"), *(Column(v[0], VENUE_WIDTH) for v in live)])
            lines.append(table.header(s("pane--header")))
            lines.append(table.row([("State", s("pane--label")),
                                    *((v[1], s(STATE_STYLE.get(v[1], "pane--dim"))) for v in live)]))
            lines.append(table.row([("Data age", s("pane--label")), *(v[2] for v in live)]))
            for n, (label, attr, bad) in enumerate(METRICS):
                cells: list = [(label, s("pane--label"))]
                for v in live:
                    value = v[3][n]
                    style = s("pane--warn") if bad and value else (s("pane--dim") if value is None else None)
                    cells.append((_show(value, attr), style))
                lines.append(table.row(cells))
            for venue_id, _, _, _, last_error in live:
                if last_error:
                    lines.append(Text(f"{venue_id} last error: {last_error}", s("pane--dim"), no_wrap=True, end=""))
        if sims:
            if lines:
                lines.append(Text(""))
            table = Table([Column("Simulated", LABEL_WIDTH, "left"), Column("State", 10, "left"),
                           Column("Data age", 8), Column("Events/s", 10)])
            lines.append(table.header(s("pane--header")))
            for venue_id, state, age, rate in sims:
                lines.append(table.row([(venue_id, s("pane--title")), (state, s(STATE_STYLE.get(state, "pane--dim"))),
                                        age, fmt.per_second(rate)]))
        return lines
