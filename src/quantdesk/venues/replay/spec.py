"""The replay venue declares itself as the source for ``replay://`` addresses:
``quantdesk replay FILE`` and ``quantdesk show --replay FILE`` build one, and
``--source replay:///path/to/FILE`` works wherever ``--source`` does."""

from __future__ import annotations

from quantdesk.venues.base import Venue, VenueError
from quantdesk.venues.recording.address import SCHEME, parse_replay_url
from quantdesk.venues.recording.format import RecordingError
from quantdesk.venues.registry import SourceOptions, SourceSpec


def open_replay(url: str, options: SourceOptions) -> list[Venue]:
    """The replay the address asks for; VenueError saying what is wrong with it
    (the replay keeps its own clock: ``options.clock`` does not apply)."""
    from quantdesk.venues.replay.source import ReplaySource

    try:
        req = parse_replay_url(url)
        return [ReplaySource(req.path, speed=req.speed, start=req.start, until=req.until, paused=req.paused)]
    except (ValueError, RecordingError) as exc:
        raise VenueError(str(exc)) from None


SOURCE = SourceSpec(
    schemes=(SCHEME,),
    open=open_replay,
    summary="a recording played back (replay:///path/to/FILE; `quantdesk replay FILE`)",
)
