"""The team's shared workspace: watchlists with live prices, alerts, notes.

Reads the App's team workspace (a :class:`~quantdesk.sync.team_desk.TeamDesk`)
and the cache. It redraws when the workspace changes (``desk.rev``) or a price
it shows moves; the book and oracle revisions gate even that look-up.
The change column compares the price with the oldest one this terminal saw
within the last 24 hours (so just after start-up it covers less than a day).
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Hashable
from decimal import Decimal
from typing import Any

from rich.text import Text

from quantdesk.sync.team_desk import TeamDesk, market_price, venue_for
from quantdesk.console import format as fmt
from quantdesk.console.panes.base import Column, Pane, PaneSession, Table

DAY_NS = 86_400 * 10**9
SAMPLE_NS = 60 * 10**9  # one reference price a minute is plenty for a day's change
WATCH = Table([Column("Watchlist", 10, "left"), Column("Market", 10, "left"), Column("Venue", 10, "left"),
               Column("Mid", 12), Column("Chg 24h", 8)])  # fmt: skip
ALERTS = Table([Column("Alert", 8, "left"), Column("Rule", 36, "left"), Column("State", 9, "left"),
                Column("By", 8, "left"), Column("Note", 20, "left")])  # fmt: skip
NO_DESK = [
    "No team workspace: set [redis] url (and team) in the config to share",
    "watchlists, alerts and notes with the desk.",
]


def _places(price: Decimal) -> int:
    return 2 if abs(price) >= 100 else 4


class WorkspacePane(Pane):
    pane_type = "workspace"

    def __init__(self, session: PaneSession, **kw: Any) -> None:
        super().__init__(session, **kw)
        self._refs: dict[tuple[str, str], deque[tuple[int, Decimal]]] = {}
        self._prices_key: tuple = ()
        self._prices: dict[tuple[str, str], tuple[Decimal | None, Decimal | None]] = {}

    @property
    def desk(self) -> TeamDesk | None:
        team = getattr(self.app, "team", None)  # the App's TeamLink
        return team.workspace if team is not None else None

    def _rows(self, desk: TeamDesk) -> list[tuple[str, str, str | None]]:
        rows = []
        for name, symbols in sorted(desk.watchlists.items()):
            for sym in symbols:
                rows.append((name, sym, venue_for(self.cache, sym)))
        return rows

    def _update_prices(self, desk: TeamDesk, now_ns: int) -> None:
        key = (desk.rev, self.cache.rev["book"], self.cache.rev["oracle"])
        if key == self._prices_key:
            return
        self._prices_key = key
        prices = {}
        for _name, sym, venue in self._rows(desk):
            if venue is None:
                continue
            price = market_price(self.cache, venue, sym)
            prices[(venue, sym)] = (price, self._change(venue, sym, price, now_ns))
        self._prices = prices

    def _change(self, venue: str, sym: str, price: Decimal | None, now_ns: int) -> Decimal | None:
        if price is None:
            return None
        refs = self._refs.setdefault((venue, sym), deque())
        if not refs or now_ns - refs[-1][0] >= SAMPLE_NS:
            refs.append((now_ns, price))
        while len(refs) > 1 and now_ns - refs[0][0] > DAY_NS:
            refs.popleft()
        ref = refs[0][1]
        return (price - ref) / ref * 100 if ref else None

    def state_key(self, now_ns: int) -> Hashable:
        desk = self.desk
        if desk is None:
            return None
        self._update_prices(desk, now_ns)
        shown = tuple(
            (k, None if p is None else round(p, _places(p)), None if c is None else round(c, 2))
            for k, (p, c) in sorted(self._prices.items())
        )
        return (desk.rev, desk.status(), shown)

    def build(self, now_ns: int, width: int, height: int) -> list[Text]:
        desk = self.desk
        if desk is None:
            return self.message(NO_DESK)
        s = self.style
        lines: list[Text] = []
        text, state = desk.status()
        if state != "connected":
            lines.append(Text(f"{text}: changes made here are kept and sent when the workspace is back.", s("pane--warn")))
        lines.append(WATCH.header(s("pane--header")))
        rows = self._rows(desk)
        if not rows:
            lines.append(Text("No watchlists yet: WATCH ADD SOL-PERP [LIST]", s("pane--dim")))
        for name, sym, venue in rows:
            price, chg = self._prices.get((venue, sym), (None, None)) if venue else (None, None)
            mid = fmt.quote_units(price, _places(price)) if price is not None else "—"
            chg_cell = ("—", s("pane--dim")) if chg is None else (
                f"{chg:+.2f}%", s("pane--up") if chg > 0 else s("pane--down") if chg < 0 else None)
            lines.append(WATCH.row([(name, s("pane--label")), (sym, s("pane--title")), venue or "not listed",
                                    (mid, s("pane--mid")), chg_cell]))  # fmt: skip
        lines.append(Text(""))
        lines.append(ALERTS.header(s("pane--header")))
        if not desk.alerts:
            lines.append(Text("No alerts: ALERT SOL-PERP PRICE > 180 [note]", s("pane--dim")))
        for a in sorted(desk.alerts.values(), key=lambda a: (a.created_ts, a.id)):
            fired = a.state == "triggered"
            lines.append(ALERTS.row([
                a.id, (a.rule_text(), s("pane--title")),
                (a.state, s("pane--warn") if fired else s("pane--gain")), a.user, a.note,
            ]))  # fmt: skip
        if desk.layouts:
            lines.append(Text(f"Shared layouts: {', '.join(desk.layouts)}", s("pane--dim"), no_wrap=True, end=""))
        lines.append(Text(""))
        lines.append(Text("Notes", s("pane--header")))
        if not desk.notes:
            lines.append(Text("No notes: NOTE <text>", s("pane--dim")))
        room = max(1, height - len(lines))
        for n in desk.notes[-room:]:
            when = time.strftime("%H:%M", time.gmtime(n.ts // 10**9))
            line = Text(no_wrap=True, overflow="ellipsis", end="")
            line.append(f"{when} ", s("pane--dim"))
            line.append(f"{n.user}: ", s("pane--label"))
            line.append(n.text.replace("\n", " "))
            lines.append(line)
        return lines
