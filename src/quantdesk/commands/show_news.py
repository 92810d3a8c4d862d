"""``quantdesk show news``: every configured source polled once, the merged
headlines newest first, as a table or ``--json``.

JSON: ``{"ts", "sources": [{"name", "state", "detail", "headlines"}],
"headlines": [{"title", "url", "source", "sources", "published_ts",
"seen_ts", "age_s", "symbols", "sentiment", "votes", "summary"}]}``;
timestamps in nanoseconds since the epoch, ``published_ts`` null when the
source gave none, ``votes`` null when it counts none.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from quantdesk.core.news import Headline, NewsBoard

NS = 1_000_000_000


def headline_view(h: Headline, now_ns: int) -> dict[str, Any]:
    votes = None if h.votes_positive is None and h.votes_negative is None else {
        "positive": h.votes_positive or 0, "negative": h.votes_negative or 0}  # fmt: skip
    return {
        "title": h.title,
        "url": h.url,
        "source": h.source,
        "sources": list(h.sources),
        "published_ts": h.published_ns,
        "seen_ts": h.seen_ns,
        "age_s": max(0, now_ns - h.ts) // NS,
        "symbols": list(h.symbols),
        "sentiment": h.sentiment or None,
        "votes": votes,
        "summary": h.summary,
    }


def news_view(board: NewsBoard, now_ns: int, symbol: str | None = None, limit: int | None = None) -> dict[str, Any]:
    return {
        "ts": now_ns,
        "sources": [{"name": s.name, "state": s.state, "detail": s.detail, "headlines": s.headlines}
                    for s in board.statuses.values()],  # fmt: skip
        "headlines": [headline_view(h, now_ns) for h in board.headlines(symbol, limit)],
    }


async def collect_news(settings: Any, markets: list[Any], clock: Any, symbol: str | None, limit: int) -> dict[str, Any]:
    """Poll every source once, tagging against ``markets``."""
    from quantdesk.core.news import NewsBoard
    from quantdesk.news.desk import NewsDesk
    from quantdesk.wiring.news import news_sources

    board = NewsBoard(markets)
    desk = NewsDesk(board, news_sources(settings), clock, markets=lambda: markets)
    try:
        await desk.poll_all()
    finally:
        await desk.stop()
    return news_view(board, clock(), symbol, limit)


def render_news(view: dict[str, Any]) -> Any:
    from rich.console import Group
    from rich.table import Table
    from rich.text import Text

    from quantdesk.console.format import age

    t = Table(title="News", show_edge=False)
    for name in ("Age", "Source", "Assets", "Votes", "Headline"):
        t.add_column(name, justify="right" if name in ("Age", "Votes") else "left")
    for h in view["headlines"]:
        v = h["votes"]
        votes = f"+{v['positive']} -{v['negative']}" if v and (v["positive"] or v["negative"]) else ""
        style = "green" if h["sentiment"] == "bullish" else "red" if h["sentiment"] == "bearish" else ""
        t.add_row(age(h["age_s"]), ", ".join(h["sources"]), " ".join(h["symbols"]), Text(votes, style=style), h["title"])
    problems = [Text(f"{s['name']}: {s['state']}: {s['detail']}", style="yellow")
                for s in view["sources"] if s["state"] not in ("ok", "unchanged")]  # fmt: skip
    when = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(view["ts"] // NS))
    return Group(t, *problems, Text(f"as of {when}", style="dim"))
