"""``quantdesk run``: open the terminal on the configured venues, the embedded
simulated ones (the default), or a Redis feed (``--source redis://...``)."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from quantdesk.config.settings import Settings
    from quantdesk.sync.outbox_sync import OutboxSyncer
    from quantdesk.sync.team_desk import TeamDesk
    from quantdesk.venues.session import Session
    from quantdesk.wiring.trading import PaperTrading

MAX_RATE = 1_000_000.0
MAX_FPS = 120.0


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--seed", type=int, default=None, help="seed of the simulated venues (same seed, same market; default 7)"
    )
    parser.add_argument(
        "--rate",
        type=float,
        default=None,
        help="simulated events per second across all venues (default 200; 50000 is a stress feed)",
    )
    parser.add_argument("--fps", type=float, default=None, help="screen refreshes per second (default 20)")
    parser.add_argument("--config", metavar="PATH", help="config file (default: see `quantdesk config path`)")
    from quantdesk.wiring.sources import SOURCES_HELP

    parser.add_argument("--source", default="auto", help=SOURCES_HELP)
    parser.add_argument("--layout", metavar="NAME", help="layout to open: overview, scalper, carry or a saved one")
    parser.add_argument(
        "--script", metavar="FILE", help="command-line commands to run once the venues are up, one per line"
    )
    parser.add_argument(
        "--log-format", choices=("console", "json"), default=None,
        help="the log file's lines: structured console text or one JSON event per line (default: plain lines)",
    )
    from quantdesk.commands.metrics_option import add_metrics_argument
    from quantdesk.commands.record_option import add_record_arguments

    add_metrics_argument(parser)
    add_record_arguments(parser)


def main(args: argparse.Namespace) -> int:
    if args.rate is not None and not 0 <= args.rate <= MAX_RATE:
        print(f"quantdesk: --rate must be between 0 and {MAX_RATE:,.0f} events per second.", file=sys.stderr)
        return 2
    if args.fps is not None and not 0 < args.fps <= MAX_FPS:
        print(f"quantdesk: --fps must be above 0 and at most {MAX_FPS:.0f}.", file=sys.stderr)
        return 2

    from quantdesk.commands.metrics_option import check_metrics_port, start_metrics, terminal_timing

    if not check_metrics_port("quantdesk", args):
        return 2
    settings = _settings_or_none(args)
    if settings is None:
        return 2
    script = _read_script(args.script)
    if script is False:
        return 2
    from quantdesk.venues.recording.address import SCHEME as REPLAY_SCHEME

    if args.source.lower().startswith(f"{REPLAY_SCHEME}:"):
        print("quantdesk: to play a recording back, run `quantdesk replay FILE`", file=sys.stderr)
        return 2

    from quantdesk.core.problems import ProblemsError
    from quantdesk.wiring.sources import SourceError, build_session
    from quantdesk.console.app import QuantDeskApp
    from quantdesk.console.logfile import setup_file_logging
    from quantdesk.trading.desk import Desk

    from quantdesk.wiring.news import news_keys

    log_path = setup_file_logging(fmt=args.log_format, secrets=[*settings.secret_values(), *news_keys(settings)])
    if log_path is None:
        print(
            "quantdesk: cannot write the log file; errors will not be recorded. "
            "Set QUANTDESK_LOG_DIR to a writable directory to keep them.",
            file=sys.stderr,
        )
        logging.getLogger().addHandler(logging.NullHandler())  # never print tracebacks over the screen
    try:
        session = build_session(settings, source=args.source)
    except SourceError as exc:
        print(f"quantdesk: {exc}", file=sys.stderr)
        return 2
    trading = _paper_trading(session, settings)
    if trading is None:
        return 2
    team = _team(settings, trading)
    if team is None:
        trading.close()
        return 2
    workspace, journal_sync = team  # they start with the App and stop with it
    desk = Desk(session.cache, trading.router, dead_man=trading.dead_man)
    from quantdesk.wiring.alert_desk import alert_desk_from_settings

    alerts = alert_desk_from_settings(settings, session, trading.journal)
    from quantdesk.wiring.news import news_desk

    app = QuantDeskApp(
        session, desk=desk, workspace=workspace, journal_sync=journal_sync, alerts=alerts, fps=settings.ui.fps,
        log_path=log_path, news=news_desk(settings, session),
    )
    try:
        app.configure_console(settings, script=script or None)
    except ProblemsError as exc:  # the layout named by --layout / [ui] layout
        if workspace is not None:
            workspace.outbox.close()
        trading.close()
        print(f"quantdesk: {exc.render()}", file=sys.stderr)
        return 2
    from quantdesk.serve.metrics_port import MetricsPortError

    try:
        metrics = start_metrics("quantdesk", args, session, terminal_timing(app, trading.router) if args.metrics_port is not None else ())
    except MetricsPortError:
        trading.close()
        return 2
    from quantdesk.commands.record_option import open_recorder, report, settings_secrets
    from quantdesk.venues.recording.format import RecordingError

    try:
        # last before the screen: a failed start must not leave an empty recording behind
        recorder = open_recorder("quantdesk", args, session, settings_secrets(settings))
    except RecordingError as exc:
        trading.close()
        if metrics is not None:
            metrics.stop()
        print(f"quantdesk: {exc}", file=sys.stderr)
        return 2
    app.recorder = recorder
    try:
        if recorder is not None:
            recorder.start()
        app.run()
    finally:
        trading.close()
        if metrics is not None:
            metrics.stop()
        report("quantdesk", recorder)
    return app.return_code or 0


def _team(settings: Settings, trading: PaperTrading) -> tuple[TeamDesk | None, OutboxSyncer | None] | None:
    """(workspace, db syncer) the config asks for; None (reason on stderr) if unusable."""
    from quantdesk.wiring.team import TeamSetupError, team_from_settings

    try:
        return team_from_settings(settings, trading.journal)
    except TeamSetupError as exc:
        print(f"quantdesk: {exc}", file=sys.stderr)
        return None


def _paper_trading(session: Session, settings: Settings | None = None) -> PaperTrading | None:
    """Journal, risk engine and paper router for the simulated venues, from the
    config; None (with the reason on stderr) when they cannot be set up."""
    from quantdesk.trading.journal import JournalError
    from quantdesk.wiring.trading import paper_trading_from_settings
    from quantdesk.core.problems import ProblemsError

    try:
        return paper_trading_from_settings(session, settings)
    except ProblemsError as exc:
        print(f"quantdesk: {exc.render()}", file=sys.stderr)
    except JournalError as exc:
        print(f"quantdesk: {exc} Set [journal] path in the config to a writable file.", file=sys.stderr)
    return None


def settings_from(args: argparse.Namespace) -> Settings:
    """The configuration with this command's flags on top (raises ``ProblemsError``)."""
    from quantdesk.config.settings import load_config

    flags = {"sim.seed": args.seed, "sim.rate": args.rate, "ui.fps": args.fps, "ui.layout": args.layout}
    return load_config(args.config, flags=flags)


def _settings_or_none(args: argparse.Namespace) -> Settings | None:
    from quantdesk.core.problems import ProblemsError

    try:
        settings = settings_from(args)
    except ProblemsError as exc:
        print(f"quantdesk: {exc.render()}", file=sys.stderr)
        print("Fix these (check with `quantdesk config validate`) and start again.", file=sys.stderr)
        return None
    from quantdesk.console.layouts import layout_names

    names = layout_names()
    if settings.ui.layout not in names:
        from quantdesk.core.problems import did_you_mean

        print(
            f"quantdesk: no layout named {settings.ui.layout!r}; {did_you_mean(settings.ui.layout, names)}",
            file=sys.stderr,
        )
        return None
    return settings


def _read_script(path: str | None) -> tuple[str, str] | None | Literal[False]:
    """(file name, text) of the startup script, None without one, False (reason
    on stderr) when it cannot be read or a line does not parse. Markets are
    checked again once the venues are up."""
    if path is None:
        return None
    try:
        text = Path(path).expanduser().read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = getattr(exc, "strerror", None) or "not UTF-8 text"
        print(f"quantdesk: cannot read the startup script {path}: {reason}", file=sys.stderr)
        return False
    from quantdesk.console.cmdline import CommandContext, ScriptError, parse_script
    from quantdesk.console.layouts import layout_names
    from quantdesk.console.themes import theme_names

    try:
        parse_script(text, CommandContext(layouts=layout_names(), themes=theme_names()), source=path)
    except ScriptError as exc:
        print(f"quantdesk: {exc}", file=sys.stderr)
        print("The startup script stopped at that line; fix it and start again.", file=sys.stderr)
        return False
    return (path, text)
