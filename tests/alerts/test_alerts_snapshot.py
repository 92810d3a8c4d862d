"""The Alerts pane alone in a layout at 160x45 (so no other pane's change
moves it): rules of every kind, one fired (when and at what), the others
armed with their live figures. On a
seeded, paused session with a frozen clock, so every run draws the same.

After an intended change: ``pytest tests/alerts/test_alerts_snapshot.py --snapshot-update``
and review the SVG in __snapshots__."""

from __future__ import annotations

from decimal import Decimal

from quantdesk.config.paths import alert_rules_path, user_dir
from quantdesk.console.panes.depth import FADE_NS

from support.alerts_app import SIZE, alerts_app, move_book

RULES = """\
[[alert]]
rule = "SOL-PERP PRICE > 150"
note = "breakout"

[[alert]]
rule = "SOL-PERP FUNDING > 50%"

[[alert]]
rule = "SOL-PERP IMBALANCE > 0.7"

[[alert]]
rule = "SPREAD SOL-PERP sim-drift sim-jup > 20BPS"

[[alert]]
rule = "POSITION SOL-PERP LIQ < 5%"

[[alert]]
rule = "FEED sim-jup STALE 10S"

[[alert]]
rule = "PNL < -500"
note = "cut risk"
"""


def test_alerts_list(snap_compare, tmp_path):
    alert_rules_path().parent.mkdir(parents=True, exist_ok=True)
    alert_rules_path().write_text(RULES)
    layouts = user_dir("layouts")
    layouts.mkdir(parents=True, exist_ok=True)
    (layouts / "alerts-only.toml").write_text('name = "alerts-only"\ncolumns = 1\nrows = 1\n[[panes]]\ntype = "alerts"\n')
    app = alerts_app(tmp_path, '[ui]\nlayout = "alerts-only"\n')

    async def run_before(pilot) -> None:
        await app.session_started.wait()
        app.session.advance(3_000)
        move_book(app, Decimal("151.00"), Decimal("151.02"))
        app.session.clock.advance(FADE_NS)
        await pilot.pause()
        app.alerts.desk.tick()
        app.clear_notifications()
        await pilot.press("colon", *"ALERTS", "enter")
        await pilot.pause()
        app.frame()
        await pilot.pause()

    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)
