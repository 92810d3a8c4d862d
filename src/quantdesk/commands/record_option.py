"""``--record FILE`` of ``quantdesk`` and ``quantdesk feed``: the options, their
checks, and the recorder over a session (``quantdesk.wiring.recorder``)."""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from quantdesk.venues.session import Session
    from quantdesk.wiring.recorder import SessionRecorder

_SIZE = re.compile(r"^([0-9]+(?:\.[0-9]+)?)\s*([kmgt]?)(i?)b?$", re.I)
_UNIT = {"": 1, "k": 1, "m": 2, "g": 3, "t": 4}
DEFAULT_MAX_SIZE = "256MB"
MIN_SIZE = 64 * 1024


def parse_size(text: str) -> int:
    """``256MB``, ``1.5GB``, ``512KiB``, ``1000000`` (bytes); ArgumentTypeError otherwise."""
    m = _SIZE.match(text.strip())
    if not m:
        raise argparse.ArgumentTypeError(f"{text!r} is not a size: write e.g. 256MB, 1GB or 512KiB")
    number, unit, binary = m.groups()
    size = int(float(number) * (1024 if binary else 1000) ** _UNIT[unit.lower()])
    if size < MIN_SIZE:
        raise argparse.ArgumentTypeError(f"{text!r} is too small for a recording part: give at least 64KiB")
    return size


def _keep(text: str) -> int:
    try:
        n = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if n < 0:
        raise argparse.ArgumentTypeError("give 0 (keep every part) or more")
    return n


def add_record_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--record",
        metavar="FILE",
        help="record every event with its receive time to FILE (compressed; play it with `quantdesk replay FILE`)",
    )
    parser.add_argument(
        "--record-max-size",
        type=parse_size,
        default=parse_size(DEFAULT_MAX_SIZE),
        metavar="SIZE",
        help=f"start a new part (FILE.1, FILE.2 ...) when one reaches SIZE (default {DEFAULT_MAX_SIZE})",
    )
    parser.add_argument(
        "--record-keep",
        type=_keep,
        default=0,
        metavar="N",
        help="keep only the newest N parts on disk (default 0: keep them all)",
    )


def open_recorder(prog: str, args: argparse.Namespace, session: Session, secrets: Iterable[str] = ()) -> SessionRecorder | None:
    """The recorder ``--record`` asks for, attached to ``session`` (call before
    the session starts); None without ``--record``. Raises RecordingError
    (print it) when the file cannot be written."""
    if not getattr(args, "record", None):
        return None
    from quantdesk.wiring.recorder import SessionRecorder

    recorder = SessionRecorder(session, args.record, max_bytes=args.record_max_size, keep=args.record_keep, secrets=secrets)
    recorder.attach()
    return recorder


def settings_secrets(settings: Any) -> list[str]:
    """The configured secret values a recording must never hold."""
    from urllib.parse import urlsplit

    out: list[str] = []
    if settings is None:
        return out
    for secret in (getattr(settings.redis, "url", None), getattr(settings.db, "dsn", None)):
        if secret is not None:
            value = secret.get_secret_value()
            out.append(value)
            try:
                out.append(urlsplit(value).password or "")
            except ValueError:
                pass
    jwt = getattr(settings.api, "jwt_secret", None)
    if jwt is not None:
        out.append(jwt.get_secret_value())
    supabase = getattr(getattr(settings, "sync", None), "supabase", None)
    if supabase is not None:
        out.append(supabase.anon_key.get_secret_value())
    return [s for s in out if s]


def report(prog: str, recorder: SessionRecorder | None) -> None:
    """Close the recorder and say what it wrote (and whether it stopped early)."""
    if recorder is None:
        return
    recorder.close()
    print(f"{prog}: {recorder.summary()}", file=sys.stderr)
