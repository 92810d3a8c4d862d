"""The replay keys and the replay's place in the status bar.

Active only when a venue of the session plays a recording back (a
``Playback``, see ``core/venue.py``): then the pause, step and speed keys act
on it, the status bar shows where it is, and the end of the recording (or
where it stopped early) is said once, in a notification that stays.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from quantdesk.core.venue import Playback, PlaybackProgress

if TYPE_CHECKING:
    from quantdesk.console.app import QuantDeskApp

# Binding id -> App action (the App's ``action_replay`` below).
REPLAY_ACTIONS = {
    "replay.pause": "replay('pause')",
    "replay.step": "replay('step')",
    "replay.faster": "replay('faster')",
    "replay.slower": "replay('slower')",
}
MAX_SPEED = 0.0  # a Playback's "as fast as it goes"
FASTEST_PACED = 1024.0  # one step slower than as fast as it goes


class ReplayControls:
    def __init__(self, app: QuantDeskApp) -> None:
        self.app = app
        # a session's venues are fixed when the App gets it
        self.playback: Playback | None = next(
            (v for v in app.session.venues.values() if isinstance(v, Playback)), None
        )
        self._told_end = False

    @property
    def active(self) -> bool:
        return self.playback is not None

    def act(self, what: str) -> None:
        p = self.playback
        if p is None:
            return
        progress = p.progress()
        if what == "pause":
            if progress.paused:
                p.resume()
            else:
                p.pause()
        elif what == "step":
            p.step(1)
        elif what == "faster":
            if progress.speed != MAX_SPEED:
                p.set_speed(progress.speed * 2)
        elif what == "slower":
            p.set_speed(FASTEST_PACED if progress.speed == MAX_SPEED else progress.speed / 2)
        self.app.frame()  # the step's event, the new speed: on screen now

    def tick(self) -> None:
        """Once per frame: say once that the replay ended, and how."""
        p = self.playback
        if p is None or self._told_end:
            return
        progress = p.progress()
        if progress.finished and progress.ended:
            self._told_end = True
            self.app.notify(progress.ended, title="Replay", severity="warning" if progress.cut else "information", timeout=3600)

    def segments(self) -> list[tuple[str, str]]:
        """(text, state) for the status bar."""
        p = self.playback
        if p is None:
            return []
        return [segment(p.progress())]


def segment(progress: PlaybackProgress) -> tuple[str, str]:
    count = f"{progress.played:,}/{progress.total:,}"
    if progress.finished:
        if progress.cut:
            return (f"replay ■ cut {count}", "down")
        return (f"replay ■ end {count}", "read-only")
    if progress.paused:
        return (f"replay ⏸ {count}", "stale")
    speed = "max" if progress.speed == MAX_SPEED else f"{progress.speed:g}x"
    return (f"replay ▶ {speed} {count}", "connected")
