"""One headline opened: its sources, when it was published, the assets it
names, readers' votes, the summary and the link to read it all."""

from __future__ import annotations

from typing import ClassVar

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from quantdesk.console import format as fmt
from quantdesk.console.panes.news import age_text, votes_text
from quantdesk.core.news import Headline


def detail(h: Headline, now_ns: int) -> Group:
    facts = Table(box=None, show_header=False, padding=(0, 2), expand=False)
    facts.add_column("what", style="bold", no_wrap=True)
    facts.add_column("value")
    published = fmt.clock(h.published_ns) if h.published_ns is not None else "not given (first seen " + fmt.clock(h.seen_ns) + ")"
    facts.add_row("Source", ", ".join(h.sources))
    facts.add_row("Published", f"{published}, {age_text(h, now_ns)} ago")
    facts.add_row("Assets", " ".join(h.symbols) or "none listed")
    if h.sentiment:
        facts.add_row("Sentiment", f"{h.sentiment} ({votes_text(h)} votes)")
    summary = Text(h.summary or "The source gives no summary.", style="" if h.summary else "dim")
    link = Text(h.url or "The source gives no link.", style="underline" if h.url else "dim")
    return Group(Text(h.title, style="bold"), Text(""), facts, Text(""), summary, Text(""), link)


class NewsDetailScreen(ModalScreen[None]):
    BINDINGS: ClassVar = [
        Binding("escape", "dismiss", "close", show=False),
        Binding("q", "dismiss", "close", show=False),
        Binding("enter", "dismiss", "close", show=False),
    ]
    DEFAULT_CSS = """
    NewsDetailScreen { align: center middle; }
    NewsDetailScreen > VerticalScroll {
        width: 90;
        max-width: 95%;
        height: auto;
        max-height: 80%;
        border: round $accent;
        background: $surface;
        padding: 0 1;
    }
    NewsDetailScreen #news-detail { width: 100%; height: auto; }
    """

    def __init__(self, headline: Headline, now_ns: int) -> None:
        super().__init__()
        self.headline = headline
        self.now_ns = now_ns

    def compose(self) -> ComposeResult:
        with VerticalScroll() as v:
            v.border_title = "Headline (Esc closes)"
            yield Static(detail(self.headline, self.now_ns), id="news-detail")

