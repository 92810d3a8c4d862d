"""One line at the bottom: venue connections and data age, feed rate, clock.

Everything time-based reads the session clock, so a frozen clock gives a
frozen status bar (snapshot tests) and a replay shows replay time.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import TYPE_CHECKING, Any, ClassVar

from rich.text import Text
from textual.strip import Strip

from quantdesk.console.kept_paint import KeptPaint
from quantdesk.console.ticked import Ticked

from quantdesk.console import format as fmt
from quantdesk.console.account_status import account_key, account_segment
from quantdesk.console.freshness import venue_state
from quantdesk.core.venue import Playback

if TYPE_CHECKING:
    from quantdesk.venues.session import Session

RATE_WINDOW_NS = 1_000_000_000
REDRAW_NS = 200_000_000  # data ages tick in tenths; five redraws a second are plenty
STATE_STYLE = {
    "connected": "status--ok",
    "stale": "status--warn",
    "connecting": "status--dim",
    "read-only": "status--ok",
    "down": "status--error",
}


class StatusBar(Ticked, KeptPaint):
    line_api = True
    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "status--brand",
        "status--ok",
        "status--warn",
        "status--error",
        "status--dim",
        "status--key",
        "status--clock",
    }
    DEFAULT_CSS = """
    StatusBar {
        dock: bottom;
        height: 1;
        background: $panel;
        color: $text;
    }
    StatusBar > .status--brand { color: $accent; text-style: bold; }
    StatusBar > .status--ok { color: $gain; }
    StatusBar > .status--warn { color: $warn; text-style: bold; }
    StatusBar > .status--error { color: $loss; text-style: bold; }
    StatusBar > .status--dim { color: $text-muted; }
    StatusBar > .status--key { color: $accent; text-style: bold; }
    StatusBar > .status--clock { color: $text; text-style: bold; }
    """

    def __init__(
        self,
        session: Session,
        hints: list[tuple[str, str]] | None = None,
        *,
        kill_switch: Callable[[], bool] | None = None,  # is the kill switch on (the desk's)
        sync_segments: Callable[[], list[tuple[str, str]]] | None = None,  # (text, state) of the team links
        **kw: Any,
    ) -> None:
        super().__init__(**kw)
        self.session = session
        self.kill_switch = kill_switch
        self.sync_segments = sync_segments
        self.cache = session.cache
        self.hints = hints or []
        self.error = ""  # set by the App: what went wrong and what to do
        self.feed_rate: float | None = None
        self._mark: tuple[int, int] | None = None
        self._key: Hashable = None
        self._text = Text()
        self._strip: Strip | None = None  # the line as painted, made again when the text or width moves
        self._own_key: tuple[str, ...] | None = None
        self._own: list[str] = []

    def venue_states(self, now_ns: int) -> list[tuple[str, str, float | None]]:
        """(venue, state, data age in seconds) for every venue of the session."""
        # the session's own venues first, then any a feed relays (``--source redis://``)
        # (a replay is not a venue to watch: the App shows its progress as a segment)
        venues = list(dict.fromkeys([*self._own_venues(), *self.cache.venues()]))
        return [(v, *venue_state(self.cache, v, now_ns)) for v in venues]

    def on_mount(self) -> None:
        self.app.theme_changed_signal.subscribe(self, lambda _theme: self._restyle())

    def _restyle(self) -> None:
        self.forget_styles()
        self._key = None  # redrawn at the next frame in the new theme

    def _own_venues(self) -> list[str]:
        # Checked once per set of venues: a protocol isinstance costs more than the rest of a tick.
        venues = getattr(self.session, "venues", {})
        key = tuple(venues)
        if key != self._own_key:
            self._own = [v for v, venue in venues.items() if not isinstance(venue, Playback)]
            self._own_key = key
        return self._own

    def _update_rate(self, now_ns: int) -> None:
        events = self.cache.events
        if self._mark is None:
            self._mark = (now_ns, events)
            return
        t0, e0 = self._mark
        if now_ns - t0 >= RATE_WINDOW_NS:
            self.feed_rate = (events - e0) * 1e9 / (now_ns - t0)
            self._mark = (now_ns, events)

    def tick(self, now_ns: int) -> bool:
        self._update_rate(now_ns)
        states = self.venue_states(now_ns)
        errors = tuple(getattr(self.session, "errors", ()))
        key = (
            [(v, st) for v, st, _ in states],
            now_ns // REDRAW_NS,
            self.feed_rate,
            tuple(self.hints),
            self.error,
            errors,
            tuple(self._sync_segments()),
            self.size.width,
            account_key(self.cache, self._kill_switch()),
        )
        if key == self._key:
            return False
        self._key = key
        text = self._build(now_ns, states, errors)
        if text == self._text:
            return False
        self._text = text
        self._strip = None
        self.refresh()
        return True

    def _build(self, now_ns: int, states: list, errors: tuple) -> Text:
        s = self.component_style
        t = Text(no_wrap=True, overflow="ellipsis", end="")
        t.append(" QUANTDESK ", s("status--brand"))
        for venue, state, age in states:
            style = s(STATE_STYLE.get(state, "status--dim"))
            t.append("│ ", s("status--dim"))
            t.append("● ", style)
            t.append(f"{venue} ")
            t.append(state, style)
            t.append(f" {fmt.age(age)} ", s("status--dim"))
        t.append("│ feed ", s("status--dim"))
        t.append(f"{fmt.per_second(self.feed_rate)} ev/s ")
        for text, state in self._sync_segments():  # team workspace and journal sync
            t.append("│ ", s("status--dim"))
            t.append(text + " ", s(STATE_STYLE.get(state, "status--dim")))
        for text, component in account_segment(self.cache, self._kill_switch()):
            t.append(text, s(component) if component else "")
        problem = self.error
        if not problem and errors:
            log_path = getattr(self.app, "log_path", None)
            where = f"; details in {log_path}" if log_path else ""
            problem = f"{errors[-1]}. Its data is frozen: restart QuantDesk{where}."
        if problem:
            t.append("│ ", s("status--dim"))
            t.append(problem + " ", s("status--error"))
        right = Text(no_wrap=True, end="")
        for key, label in self.hints:
            right.append(key, s("status--key"))
            right.append(f" {label}  ", s("status--dim"))
        right.append(fmt.clock(now_ns) + " ", s("status--clock"))
        room = self.size.width - t.cell_len
        # On a narrow line the hints go first, then the date; the time stays.
        for fallback in (fmt.clock(now_ns), fmt.clock(now_ns)[11:]):
            if right.cell_len <= room:
                break
            right = Text(fallback + " ", s("status--clock"), end="")
        if right.cell_len <= room:
            t.append(" " * (room - right.cell_len))
            t.append_text(right)
        return t

    def _sync_segments(self) -> list[tuple[str, str]]:
        return self.sync_segments() if self.sync_segments is not None else []

    def _kill_switch(self) -> bool:
        return self.kill_switch is not None and self.kill_switch()

    def render(self) -> Text:
        """The bar's text, as ``render_line`` paints it."""
        return self._text

    def render_line(self, y: int) -> Strip:
        # The line API: one strip made when the text changes, not a trip through
        # Textual's content pipeline at every frame that touches the bar.
        width = self.size.width
        renderer = self.line_renderer()
        if y != 0:
            return Strip.blank(width, renderer.base)
        strip = self._strip
        if strip is None or strip.cell_length != width:
            text = self._text
            if text.cell_len > width:
                text = text.copy()
                text.truncate(width, overflow="ellipsis")
            strip = self._strip = renderer.strip(text, width)
        return strip
