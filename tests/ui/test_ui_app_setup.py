"""App set-up a trader meets: keymaps, start-up failures, the run command's flags."""

from __future__ import annotations

import argparse
import logging

import pytest

from quantdesk.commands import run as run_command
from quantdesk.venues.session import Session
from quantdesk.console.app import QuantDeskApp
from quantdesk.console.logfile import log_path, setup_file_logging
from quantdesk.console.panes.depth import DepthPane
from quantdesk.console.statusbar import StatusBar

from support.app import paused_session, start

SIZE = (200, 50)


@pytest.fixture
def root_logger():
    """The root logger, restored afterwards (the run command adds a file handler)."""
    root = logging.getLogger()
    before, level = list(root.handlers), root.level
    yield root
    for h in root.handlers[:]:
        if h not in before:
            root.removeHandler(h)
            h.close()
    root.setLevel(level)


async def test_a_keymap_rebinds_an_action_by_its_id_and_the_hints_follow(session):
    app = QuantDeskApp(session)
    async with app.run_test(size=SIZE) as pilot:
        await start(app, pilot)
        app.set_keymap({"market.next": "n"})
        await pilot.press("n")
        assert app.query_one(DepthPane).market == "BTC-PERP"
        await pilot.press("right_square_bracket")  # the old key no longer does it
        assert app.query_one(DepthPane).market == "BTC-PERP"
        app.frame()
        assert ("[ n", "market") in app.query_one(StatusBar).hints


class UnreachableSession(Session):
    async def start(self) -> None:
        raise ConnectionError("venue host did not answer")


async def test_a_session_that_cannot_start_is_explained_on_screen(tmp_path):
    sim = paused_session()
    broken = UnreachableSession(sim.venues.values(), sim.clock)
    app = QuantDeskApp(broken, log_path=tmp_path / "quantdesk.log")
    async with app.run_test(size=SIZE) as pilot:
        await app.session_started.wait()
        await pilot.pause()
        text = app.query_one(StatusBar).render().plain
        assert "Could not start the venues (venue host did not answer)" in text
        assert "Check the venue settings and restart" in text
        # Still a working terminal: keys respond, panes say what they wait for.
        await pilot.press("2")
        assert app.focused is not None and app.focused.pane_type == "funding"


def run_args(**kw) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    run_command.add_arguments(parser)
    argv = [f"--{k}={v}" for k, v in kw.items()]
    return parser.parse_args(argv)


@pytest.mark.parametrize(
    ("flags", "message"),
    [({"rate": -5}, "--rate must be between 0"), ({"fps": 0}, "--fps must be above 0")],
)
def test_run_rejects_bad_flags_with_a_fix(flags, message, capsys):
    assert run_command.main(run_args(**flags)) == 2
    assert message in capsys.readouterr().err


def test_run_flags_default_to_a_lively_sim_at_20_fps(tmp_path, monkeypatch):
    # Flags left out fall back to the config, whose defaults are these.
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    settings = run_command.settings_from(run_args())
    assert (settings.sim.seed, settings.sim.rate, settings.ui.fps) == (7, 200.0, 20.0)


def test_log_file_goes_to_the_configured_directory(tmp_path, monkeypatch, root_logger):
    monkeypatch.setenv("QUANTDESK_LOG_DIR", str(tmp_path))
    path = setup_file_logging()
    assert path == log_path() == tmp_path / "quantdesk.log"
    logging.getLogger("quantdesk.test").error("pane failed to draw")
    for h in root_logger.handlers:
        h.flush()
    assert "pane failed to draw" in path.read_text()


async def test_a_venue_feed_that_dies_is_reported_with_what_to_do(tmp_path):
    from quantdesk.venues.sim.clob import SimClobVenue
    from quantdesk.venues.sim.pool import SimPoolVenue

    class DroppedVenue(SimPoolVenue):
        async def run(self, bus) -> None:
            self.bind(bus)
            raise ConnectionError("websocket closed by the server")

    sim = paused_session()
    session = Session([SimClobVenue(7, 0.0, sim.clock), DroppedVenue(7, 0.0, sim.clock)], sim.clock)
    app = QuantDeskApp(session, log_path=tmp_path / "quantdesk.log")
    async with app.run_test(size=SIZE) as pilot:
        await start(app, pilot, events=0)
        text = app.query_one(StatusBar).render().plain
        assert "venue:sim-jup stopped: websocket closed by the server" in text
        assert "restart QuantDesk" in text


async def test_switching_theme_recolours_the_panes(session):
    app = QuantDeskApp(session)
    async with app.run_test(size=SIZE) as pilot:
        await start(app, pilot)
        depth = app.query_one(DepthPane)

        def background():
            return {seg.style.bgcolor for seg in depth.render_line(3) if seg.style}

        dark = background()
        app.theme = "textual-light"
        await pilot.pause()
        app.frame()
        light = background()
        assert light and light.isdisjoint(dark)


def test_run_opens_the_terminal_on_the_simulated_venues(monkeypatch, tmp_path, root_logger):
    monkeypatch.setenv("QUANTDESK_LOG_DIR", str(tmp_path))
    opened = []
    monkeypatch.setattr(QuantDeskApp, "run", lambda self: opened.append(self))
    assert run_command.main(run_args(seed=3, rate=0, fps=10)) == 0
    (app,) = opened
    assert app.fps == 10
    assert sorted(app.session.venues) == ["sim-drift", "sim-jup"]
    assert {v.seed for v in app.session.venues.values()} == {3}
    assert app.log_path == tmp_path / "quantdesk.log"
