"""``quantdesk replay FILE``: a recording (``quantdesk --record FILE``) on the
terminal's screen, as it happened.

The recording plays as a venue on its own clock: ``--speed`` times recorded
time, from ``--from`` (everything before it is applied at once). Space pauses
and resumes, ``.`` steps one event, ``+`` and ``-`` double and halve the speed;
the status bar shows where the replay is and says where it stopped. Nothing
can be traded in a replay. ``--info`` prints what the recording holds.
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from quantdesk.console.app import QuantDeskApp

MAX_FPS = 120.0


def _speed(text: str) -> float:
    from quantdesk.venues.recording.address import parse_speed

    try:
        return parse_speed(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _moment(text: str) -> str:
    from quantdesk.venues.recording.times import parse_moment

    try:
        parse_moment(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return text


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from quantdesk.venues.recording.times import HELP

    parser.add_argument("file", metavar="FILE", help="the recording (its parts FILE.1, FILE.2 ... follow on)")
    parser.add_argument("--speed", type=_speed, default=1.0, help="times recorded time: 10, 0.5, or max (default 1)")
    parser.add_argument("--from", dest="start", type=_moment, metavar="TIME", help=f"start there: {HELP}")
    parser.add_argument("--paused", action="store_true", help="open paused: . steps one event, space plays")
    parser.add_argument("--info", action="store_true", help="print what the recording holds and exit")
    parser.add_argument("--config", metavar="PATH", help="config file: keymap, theme and layout (no venue is used)")
    parser.add_argument("--layout", metavar="NAME", help="layout to open: overview, scalper, carry or a saved one")
    parser.add_argument("--fps", type=float, default=None, help="screen refreshes per second (default 20)")


def build_app(args: argparse.Namespace) -> QuantDeskApp | int:
    """The App on the replay, or the exit status after saying what is wrong."""
    if args.fps is not None and not 0 < args.fps <= MAX_FPS:
        print(f"quantdesk replay: --fps must be above 0 and at most {MAX_FPS:.0f}.", file=sys.stderr)
        return 2
    from quantdesk.config.settings import load_config
    from quantdesk.core.problems import ProblemsError
    from quantdesk.venues.recording.address import replay_url
    from quantdesk.wiring.sources import SourceError, build_session

    try:
        settings = load_config(args.config, flags={"ui.fps": args.fps, "ui.layout": args.layout})
    except ProblemsError as exc:
        print(f"quantdesk replay: {exc.render()}", file=sys.stderr)
        return 2
    url = replay_url(args.file, speed=args.speed, start=args.start, paused=args.paused)
    try:
        session = build_session(settings, source=url)
    except SourceError as exc:
        print(f"quantdesk replay: {exc}", file=sys.stderr)
        return 2
    from quantdesk.console.app import QuantDeskApp
    from quantdesk.console.logfile import setup_file_logging

    app = QuantDeskApp(session, fps=settings.ui.fps, log_path=setup_file_logging())
    try:
        app.configure_console(settings)
    except ProblemsError as exc:
        print(f"quantdesk replay: {exc.render()}", file=sys.stderr)
        return 2
    return app


def info(path: str) -> int:
    from quantdesk.venues.recording.format import RecordingError
    from quantdesk.venues.recording.reader import Recording
    from quantdesk.venues.recording.times import format_ns

    try:
        rec = Recording(path)
        summary = rec.scan()
    except RecordingError as exc:
        print(f"quantdesk replay: {exc}", file=sys.stderr)
        return 2
    venues = sorted({m.venue for m in rec.markets})
    print(f"recording {rec.meta.recording} by {rec.meta.writer}: {summary.parts} part{'s' if summary.parts != 1 else ''}")
    print(f"  {summary.events:,} events, {format_ns(summary.first_ts)} to {format_ns(summary.last_ts)}")
    print(f"  {len(rec.markets)} markets on {', '.join(venues) or 'no venue'}")
    if summary.cut is not None:
        print(f"  stops early: {summary.cut.describe()}")
    return 0


def main(args: argparse.Namespace) -> int:
    if args.info:
        return info(args.file)
    app = build_app(args)
    if isinstance(app, int):
        return app
    app.run()
    return app.return_code or 0
