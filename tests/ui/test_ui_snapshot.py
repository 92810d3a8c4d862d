"""The default screen at 200x50 on a seeded, paused session with a frozen clock.

Update after an intended change of the screen with
``pytest tests/ui/test_ui_snapshot.py --snapshot-update`` and review the SVG.
"""

from __future__ import annotations

from quantdesk.console.app import QuantDeskApp
from quantdesk.console.panes.depth import FADE_NS

from support.app import WARMUP_EVENTS, paused_session


def test_default_screen(snap_compare):
    session = paused_session()
    app = QuantDeskApp(session)

    async def warm_up(pilot) -> None:
        await app.session_started.wait()
        session.advance(WARMUP_EVENTS)
        app.frame()
        session.clock.advance(FADE_NS)  # past the change highlights: a screen at rest
        app.frame()

    assert snap_compare(app, terminal_size=(200, 50), run_before=warm_up)


def test_trades_pane(snap_compare):
    """The tape of SOL-PERP on both simulated venues: sides coloured, big prints bold."""
    session = paused_session()
    app = QuantDeskApp(session, panes=["trades"])

    async def warm_up(pilot) -> None:
        await app.session_started.wait()
        session.advance(WARMUP_EVENTS)
        app.frame()

    assert snap_compare(app, terminal_size=(100, 30), run_before=warm_up)
