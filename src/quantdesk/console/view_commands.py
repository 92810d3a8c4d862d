"""Commands that change what the screen shows: the market or venue of a pane,
which pane has focus, the layout, the theme, help, quit."""

from __future__ import annotations

from typing import TYPE_CHECKING

from quantdesk.console.cmdline import Help, Quit, SaveLayout, SelectMarket, SetLayout, SetTheme, SetVenue, ShowNews, ShowPane
from quantdesk.console.panes import catalogue

if TYPE_CHECKING:
    from quantdesk.console.app import QuantDeskApp
    from quantdesk.console.layout_switcher import LayoutSwitcher


class ViewCommands:
    def __init__(self, app: QuantDeskApp, layouts: LayoutSwitcher) -> None:
        self.app = app
        self.layouts = layouts

    async def select_market(self, command: SelectMarket) -> bool:
        return self.select(market=command.market)

    async def set_venue(self, command: SetVenue) -> bool:
        return self.select(venue=command.venue)

    async def show_pane(self, command: ShowPane) -> bool:
        if command.pane == "news":  # SOL-PERP NEWS: the headlines about its asset, as NEWS SOL-PERP
            return await self.app.news.show(ShowNews(self._asset(command.market)), keep_filter=command.market is None)
        pane = self.app.pane_of_type(command.pane)
        if pane is None and catalogue.get(command.pane).overlay:
            return self._overlay(command)
        if pane is None:
            from quantdesk.console.layouts import layouts_with

            having = layouts_with(command.pane)
            hint = f"LAYOUT {having[0]} has one" if having else "add it to a layout file, then LAYOUT <name>"
            self.app.notify(f"The {self.layouts.name} layout has no {command.pane} pane; {hint}.", severity="warning")
            return False
        pane.focus()
        return self.select(market=command.market) if command.market else True

    def _overlay(self, command: ShowPane) -> bool:
        """Open the pane over the layout, on the command's market or the focused one."""
        from quantdesk.console.pane_screen import PaneScreen

        app = self.app
        market = command.market or getattr(app.focused, "market", None)
        kwargs = {"market": market} if isinstance(market, str) and catalogue.get(command.pane).param("market") else {}
        if isinstance(app.screen, PaneScreen):
            app.pop_screen()
        app.push_screen(PaneScreen(catalogue.pane_class(command.pane)(app.session, id=f"{command.pane}-overlay", **kwargs)))
        return True

    def _asset(self, market: str | None) -> str | None:
        if market is None:
            return None
        listed = next((m for m in self.app.session.cache.markets.values() if m.symbol == market), None)
        return listed.base.upper() if listed is not None else market.split("-", 1)[0].upper()

    async def set_layout(self, command: SetLayout) -> bool:
        await self.layouts.switch(command.name)
        return True

    async def save_layout(self, command: SaveLayout) -> bool:
        path = await self.layouts.save(command.name)
        self.app.notify(f"Layout saved as {command.name} ({path}).")
        return True

    async def set_theme(self, command: SetTheme) -> bool:
        if command.name not in self.app.available_themes:
            self.app.notify(f"No theme named {command.name}.", severity="error")
            return False
        self.app.theme = command.name
        return True

    async def help(self, command: Help) -> bool:
        self.app.action_show_help()
        return True

    async def quit(self, command: Quit) -> bool:
        self.app.exit()
        return True

    # -- market and venue ------------------------------------------------------
    def select(self, market: str | None = None, venue: str | None = None) -> bool:
        """Show ``market`` and/or ``venue`` in the pane market commands act on:
        the focused one if it shows one market, else the first that can."""
        app = self.app
        focused = app.focused
        pane = focused if focused is not None and hasattr(focused, "select") else None
        if pane is None:
            pane = next((p for p in app.panes if hasattr(p, "select")), None)
        if pane is None:
            app.notify("No pane here shows a single market; try LAYOUT overview.", severity="warning")
            return False
        cache = app.session.cache
        current_venue = venue or getattr(pane, "venue", None)
        if market is not None and (current_venue, market) not in cache.markets:
            # Keep the market, move to a venue that lists it.
            listing = [v for (v, s) in cache.markets if s == market]
            if not listing:
                app.notify(f"No venue lists {market}.", severity="error")
                return False
            if venue is not None:
                app.notify(f"{venue} does not list {market}.", severity="error")
                return False
            if current_venue is not None:  # a pane showing every venue (the tape) keeps doing so
                venue = listing[0]
        show = getattr(pane, "select")  # a pane showing one market: select(venue=..., market=...)
        show(venue=venue, market=market)
        app.frame()
        return True
