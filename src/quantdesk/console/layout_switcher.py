"""Switching the screen's layout grid: by name (shipped, saved, or the team's),
and reading back what is on screen as a Layout to save it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from quantdesk.console.layout_grid import LayoutGrid
from quantdesk.console.layouts import (
    DEFAULT_LAYOUT,
    Layout,
    check_layout,
    layout_files,
    load_layout,
    parse_layout_text,
    save_layout,
)
from quantdesk.core.problems import ProblemsError

if TYPE_CHECKING:
    from quantdesk.console.app import QuantDeskApp
    from quantdesk.console.team_sync import TeamLink


class LayoutSwitcher:
    def __init__(self, app: QuantDeskApp, team: TeamLink) -> None:
        self.app = app
        self.team = team
        self.model: Layout | None = None  # None: the App's own default grid
        self.name = DEFAULT_LAYOUT

    def named(self, name: str) -> Layout:
        """A shipped or saved layout, else the team workspace's one of that name."""
        if name not in layout_files():
            text = self.team.layout_text(name)
            if text is not None:
                return parse_layout_text(text, f"team layout {name}", name)
        return load_layout(name)

    async def switch(self, name: str) -> None:
        await self.show(self.named(name))
        self.name = name

    async def show(self, layout: Layout) -> None:
        """Replace the pane grid with ``layout``'s; raises ``ProblemsError`` if
        it names markets or venues this session does not have."""
        app = self.app
        cache = app.session.cache
        if cache.markets:
            markets: dict[str, list[str]] = {}
            for v, s in cache.markets:
                markets.setdefault(v, []).append(s)
            problems = check_layout(layout, markets)
            if problems:
                raise ProblemsError(problems, "layout")
        grid = LayoutGrid(layout, app.session, id="panes")
        screen = app.screen
        old = screen.query_children("#panes")
        if old:
            # The new grid takes the old one's place among the screen's children.
            siblings = list(screen.children)
            i = siblings.index(old.first())
            after = siblings[i + 1] if i + 1 < len(siblings) else None
            await old.remove()
            await screen.mount(grid, before=after) if after is not None else await screen.mount(grid)
        else:
            await screen.mount(grid, before=0)
        self.model = layout
        panes = app.panes
        if panes:
            panes[0].focus()
        app.frame()

    async def save(self, name: str) -> str:
        """Save what is on screen as ``name`` (and share it with the team); the file's path."""
        path = save_layout(self.current(), name)
        await self.team.share_layout(name, path.read_text(encoding="utf-8"))
        self.name = name
        return str(path)

    def current(self) -> Layout:
        """What is on screen as a Layout (the default grid counts as ``overview``)."""
        grids = self.app.query(LayoutGrid)
        if grids:
            return grids.first().current_layout()
        layout = load_layout(DEFAULT_LAYOUT)
        # The App's own grid: record what its single-market panes show now.
        specs = list(layout.panes)
        for i, spec in enumerate(specs):
            pane = self.app.pane_of_type(spec.type)
            if pane is not None:
                upd = {a: getattr(pane, a) for a in ("market", "venue") if isinstance(getattr(pane, a, None), str)}
                specs[i] = spec.model_copy(update=upd)
        return layout.model_copy(update={"panes": specs})
