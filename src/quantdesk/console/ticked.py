"""The widgets the App's frame timer ticks, found once per change of screen
or of what is mounted rather than by a DOM query every frame."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar, Protocol, runtime_checkable

from rich.style import Style

from textual import events, on
from textual.app import ScreenStackError
from textual.widget import Widget

from quantdesk.console.panes.line_render import LineRenderer

if TYPE_CHECKING:
    from textual.app import App
    from textual.screen import Screen


@runtime_checkable
class FrameTicked(Protocol):
    def tick(self, now_ns: int) -> bool:
        """Called once a frame; True when the widget repainted."""
        ...


class Ticked(Widget):
    """Base of the widgets the frame timer ticks (each defines ``tick``, see
    ``FrameTicked``). Their mounts and unmounts are counted, so the App knows
    when to look for them again."""

    mounts: ClassVar[int] = 0

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._styles: dict[str, Style] = {}
        self._line_renderer: LineRenderer | None = None

    def component_style(self, component: str) -> Style:
        """The rich style of a component class ("" for the widget's own),
        kept until ``forget_styles``: Textual recomputes it on every call and
        drops its own cache on every refresh, and a frame asks for dozens.
        Full styles: Textual blends translucent theme colours over the
        widget's background only in the full style."""
        style = self._styles.get(component)
        if style is None:
            style = self.rich_style if not component else self.get_component_rich_style(component)
            self._styles[component] = style
        return style

    def line_renderer(self) -> LineRenderer:
        """What turns the widget's lines into strips, over its own style."""
        if self._line_renderer is None:
            self._line_renderer = LineRenderer(self.app.console, self.component_style(""))
        return self._line_renderer

    def forget_styles(self) -> None:
        """After a theme or CSS change: styles (and the renderer made with them) are looked up again."""
        self._styles.clear()
        self._line_renderer = None

    @on(events.Mount)
    def _count_mount(self) -> None:
        Ticked.mounts += 1

    @on(events.Unmount)
    def _count_unmount(self) -> None:
        Ticked.mounts += 1


class TickedWidgets:
    """The current screen's ticked widgets of some types, each type in turn, in DOM order."""

    def __init__(self, app: App, *types: type[Ticked]) -> None:
        self.app = app
        self.types = types
        self._key: tuple[Screen, int] | None = None
        self._widgets: list[FrameTicked] = []

    def current(self) -> list[FrameTicked]:
        try:
            key = (self.app.screen, Ticked.mounts)
        except ScreenStackError:  # shutting down: no screen, nothing to tick
            return []
        if key != self._key:
            self._widgets = [w for t in self.types for w in self.app.query(t) if isinstance(w, FrameTicked)]
            self._key = key
        return self._widgets
