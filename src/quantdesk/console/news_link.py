"""The App's link to the news desk: polling starts and stops with the App,
``NEWS [asset|ALL]`` shows the headlines, and what the trader holds or
watches decides which headlines the pane highlights."""

from __future__ import annotations

from typing import TYPE_CHECKING

from quantdesk.console.cmdline import ShowNews
from quantdesk.console.pane_screen import PaneScreen
from quantdesk.console.panes.news import NewsPane
from quantdesk.core.news.tagging import watched_assets

if TYPE_CHECKING:
    from quantdesk.console.app import QuantDeskApp
    from quantdesk.news.desk import NewsDesk


class NewsLink:
    def __init__(self, app: QuantDeskApp, desk: NewsDesk | None) -> None:
        self.app = app
        self.desk = desk

    def start(self) -> None:
        if self.desk is not None:
            self.desk.start()  # one task per source: none of them waits on the screen, nor it on them

    async def stop(self) -> None:
        if self.desk is not None:
            await self.desk.stop()

    def watched(self) -> frozenset[str]:
        """Assets of open positions and of the team's watchlists."""
        cache = self.app.session.cache
        symbols = [market for (_, market), p in cache.positions.items() if p.base]
        workspace = self.app.team.workspace
        if workspace is not None:
            for markets in workspace.watchlists.values():
                symbols.extend(markets)
        by_symbol = {m.symbol: m for m in cache.markets.values()}
        return watched_assets(symbols, by_symbol)

    async def show(self, command: ShowNews, *, keep_filter: bool = False) -> bool:
        """The headlines about ``command.symbol`` (every one for None; as they
        are with ``keep_filter``): in the layout's News pane, else over it."""
        pane = self.app.pane_of_type("news")
        if isinstance(pane, NewsPane):
            pane.focus()
            if not keep_filter:
                pane.set_filter(command.symbol)
        elif isinstance(self.app.screen, PaneScreen) and isinstance(self.app.screen.pane, NewsPane):
            if not keep_filter:
                self.app.screen.pane.set_filter(command.symbol)
        else:
            if isinstance(self.app.screen, PaneScreen):
                self.app.pop_screen()
            self.app.push_screen(PaneScreen(NewsPane(self.app.session, symbol=command.symbol, id="news-overlay")))
        if self.desk is None and not len(self.app.session.cache.news):
            self.app.notify("No news sources are configured: add [[news.sources]] to the config.", severity="warning")
        return True
