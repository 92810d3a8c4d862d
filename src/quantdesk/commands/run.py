"""``quantdesk run``: open the terminal (on the embedded simulated venues)."""

from __future__ import annotations

import argparse
import logging
import sys

MAX_RATE = 1_000_000.0
MAX_FPS = 120.0


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--seed", type=int, default=7, help="seed of the simulated venues (same seed, same market)")
    parser.add_argument(
        "--rate",
        type=float,
        default=200.0,
        help="simulated events per second across all venues (200 is lively, 50000 is a stress feed)",
    )
    parser.add_argument("--fps", type=float, default=20.0, help="screen refreshes per second (default 20)")


def main(args: argparse.Namespace) -> int:
    if not 0 <= args.rate <= MAX_RATE:
        print(f"quantdesk: --rate must be between 0 and {MAX_RATE:,.0f} events per second.", file=sys.stderr)
        return 2
    if not 0 < args.fps <= MAX_FPS:
        print(f"quantdesk: --fps must be above 0 and at most {MAX_FPS:.0f}.", file=sys.stderr)
        return 2

    from quantdesk.session import simulated_session
    from quantdesk.ui.app import QuantDeskApp
    from quantdesk.ui.logfile import setup_file_logging

    log_path = setup_file_logging()
    if log_path is None:
        print(
            "quantdesk: cannot write the log file; errors will not be recorded. "
            "Set QUANTDESK_LOG_DIR to a writable directory to keep them.",
            file=sys.stderr,
        )
        logging.getLogger().addHandler(logging.NullHandler())  # never print tracebacks over the screen
    session = simulated_session(seed=args.seed, rate=args.rate)
    app = QuantDeskApp(session, fps=args.fps, log_path=log_path)
    app.run()
    return app.return_code or 0
