"""Headlines beside prices: newest first, with source, age, assets and votes.

Reads the news board in the market cache (``cache.news``), which the news
desk fills in the background. A headline that mentions an asset the trader
holds a position in or watches is highlighted. ``Enter`` opens the selected
headline (summary and link); ``f`` shows only the selected headline's asset,
and again shows all; ``NEWS SOL`` on the command line does the same.
Sources that are failing say why, above the headlines.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any, ClassVar

from rich.text import Text
from textual.binding import Binding

from quantdesk.console import format as fmt
from quantdesk.console.panes.base import Column, PaneSession, Table
from quantdesk.console.panes.row_cursor import CURSOR_CSS_CLASS
from quantdesk.console.panes.selectable import SelectablePane, pane_binding
from quantdesk.core.news import Headline, NewsBoard, SourceStatus

NS = 1_000_000_000
FIXED = [
    Column("Age", 4),
    Column("Source", 11, "left", drop=2, min_width=6),
    Column("Assets", 9, "left", drop=1),
    Column("Votes", 6, drop=3),
]
MIN_HEADLINE = 20
NO_SOURCES = "No news sources. Add [[news.sources]] to the config (config.example.toml shows RSS, Atom and JSON ones)."
TROUBLE = ("error", "rate limited")


def votes_text(h: Headline) -> str:
    if not h.votes_positive and not h.votes_negative:
        return ""  # not counted, or nobody voted
    return f"+{h.votes_positive or 0} -{h.votes_negative or 0}"


def age_text(h: Headline, now_ns: int) -> str:
    return fmt.age(max(0, now_ns - h.ts) / NS)


def status_text(st: SourceStatus, now_ns: int) -> str:
    retry = f"; next try in {fmt.age(max(0, st.next_ns - now_ns) / NS)}" if st.next_ns is not None else ""
    return f"{st.name}: {st.state}: {st.detail}{retry}"


class NewsPane(SelectablePane):
    pane_type = "news"

    BINDINGS: ClassVar = [
        Binding("up", "cursor(-1)", "previous headline", show=False, id="news.cursor_up"),
        Binding("down", "cursor(1)", "next headline", show=False, id="news.cursor_down"),
        pane_binding("news.open", "open_selected"),
        pane_binding("news.filter", "filter_selected"),
    ]

    def __init__(self, session: PaneSession, *, symbol: str | None = None, **kw: Any) -> None:
        super().__init__(session, **kw)
        self.symbol = symbol  # only headlines mentioning this asset; None: all

    @property
    def board(self) -> NewsBoard:
        return self.cache.news

    def watched(self) -> frozenset[str]:
        link = getattr(self.app, "news", None)  # the App's NewsLink
        return link.watched() if link is not None else frozenset()

    # -- rows ----------------------------------------------------------------------
    def rows(self) -> list[Headline]:
        return self.board.headlines(self.symbol)

    def row_keys(self) -> list[Hashable]:
        return [h.key for h in self.rows()]

    def selected(self) -> Headline | None:
        rows = self.rows()
        i = self.cursor.pick([h.key for h in rows])
        return None if i is None else rows[i]

    def set_filter(self, symbol: str | None) -> None:
        self.symbol = symbol
        self.tick(self.session.clock())

    # -- frame ---------------------------------------------------------------------
    def state_key(self, now_ns: int) -> Hashable:
        # Ages move once a second at most as far as the screen shows them.
        return (self.board.rev, self.symbol, self.cursor.key, self.has_focus, self.watched(), now_ns // NS)

    def build(self, now_ns: int, width: int, height: int) -> list[Text]:
        s = self.style
        board = self.board
        if not board.statuses and not len(board):
            return self.message([NO_SOURCES])
        rows = self.rows()
        head = Text(no_wrap=True, end="")
        head.append(f"{len(rows)} headline{'s' if len(rows) != 1 else ''}", s("pane--title"))
        if self.symbol:
            head.append(f" about {self.symbol}", s("pane--warn"))
        head.append("   enter open · f asset/all · ↑/↓ select", s("pane--dim"))
        lines = [head]
        for st in board.statuses.values():
            if st.state in TROUBLE:
                lines.append(Text(status_text(st, now_ns), s("pane--warn"), no_wrap=True, end=""))
        fixed = Table(FIXED).fit(max(0, width - 1 - MIN_HEADLINE - 1))
        keep = [fixed.shows(c.header) for c in FIXED]
        headline_w = max(MIN_HEADLINE, width - 1 - fixed.width - 1)
        table = Table([*FIXED, Column("Headline", headline_w, "left")], keep=[*keep, True])
        lines.append(table.header(s("pane--header")))
        if not rows:
            waiting = all(st.state == "waiting" for st in board.statuses.values())
            if waiting:
                text = "Waiting for the first headlines..."
            elif self.symbol:
                text = f"No headlines about {self.symbol} yet. f or NEWS ALL shows every one."
            else:
                text = "No headlines yet."
            lines.append(Text(text, s("pane--dim"), end=""))
            return lines
        watched = self.watched()
        i = self.cursor.pick([h.key for h in rows])
        visible = max(1, height - len(lines))
        first = 0 if i is None or i < visible else i - visible + 1
        for k, h in enumerate(rows[first : first + visible], start=first):
            row = table.row(self._cells(h, now_ns, watched))
            if k == i and self.has_focus:
                row.stylize(s(CURSOR_CSS_CLASS))
            lines.append(row)
        return lines

    def _cells(self, h: Headline, now_ns: int, watched: frozenset[str]) -> list:
        s = self.style
        mine = bool(watched.intersection(h.symbols))
        sentiment = h.sentiment
        votes_style = s("pane--gain") if sentiment == "bullish" else s("pane--loss") if sentiment == "bearish" else s("pane--dim")
        source = h.source + (f"+{len(h.sources) - 1}" if len(h.sources) > 1 else "")
        return [
            (age_text(h, now_ns), s("pane--dim")),
            (source, s("pane--dim")),
            (" ".join(h.symbols), s("pane--warn") if mine else s("pane--label")),
            (votes_text(h), votes_style),
            (h.title, s("pane--warn") if mine else s("pane--title") if h.fresh else None),
        ]

    # -- keys ----------------------------------------------------------------------
    def action_open_selected(self) -> None:
        from quantdesk.console.news_detail import NewsDetailScreen

        h = self.selected()
        if h is None:
            self.app.notify("No headline to open.", severity="warning")
            return
        self.app.push_screen(NewsDetailScreen(h, self.session.clock()))

    def action_filter_selected(self) -> None:
        if self.symbol is not None:
            self.set_filter(None)
            return
        h = self.selected()
        if h is None or not h.symbols:
            self.app.notify("The selected headline names no listed asset; NEWS SOL shows one asset's.", severity="warning")
            return
        self.set_filter(h.symbols[0])
