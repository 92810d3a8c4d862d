"""Alerts in the running terminal: a rule typed on the command line (keys as
a burst) fires once with a toast, the bell and a journal line; ALERTS lists
it with its state; a bad rule is pointed at with an example; and a webhook
server that fails or hangs is retried without ever holding up a key."""

from __future__ import annotations

from decimal import Decimal

from quantdesk.config.paths import alert_rules_path
from quantdesk.console.alerts_link import AlertsScreen
from quantdesk.console.command_line import CommandLine
from quantdesk.console.panes.depth import DepthPane

from support.alerts_app import SIZE, alerts_app, fired_toasts, mid, move_book
from support.app import pane_text, start
from support.wait import until
from support.webhook_server import webhook_server


def count_bells(app) -> list[int]:
    rung: list[int] = []
    app.bell = lambda: rung.append(1)  # the terminal's BEL; a headless driver has no terminal to ring
    return rung


async def test_a_typed_rule_fires_once_with_a_toast_the_bell_and_a_journal_line(tmp_path):
    app = alerts_app(tmp_path)
    bells = count_bells(app)
    async with app.run_test(size=SIZE) as pilot:
        await start(app, pilot)
        level = (mid(app) + 5).quantize(Decimal("0.01"))
        await pilot.press("colon", *f"ALERT SOL-PERP PRICE > {level} breakout", "enter")
        await pilot.pause()
        assert any("set: SOL-PERP PRICE >" in str(n.message) for n in app._notifications)
        assert f'rule = "SOL-PERP PRICE > {level}"' in alert_rules_path().read_text()
        assert fired_toasts(app) == [] and bells == []

        move_book(app, level + 1, level + 2)
        await pilot.pause()
        (toast,) = fired_toasts(app)
        assert toast.startswith(f"SOL-PERP PRICE > {level}: {level + Decimal('1.5')} on sim-drift - breakout")
        assert bells == [1]
        for bid in (level + 1, level - Decimal("0.05"), level + 1):  # on the line: once is enough
            move_book(app, bid, bid + 1)
            await pilot.pause()
        assert len(fired_toasts(app)) == 1 and bells == [1]
        (event,) = app.journal_for_test.alert_events()
        assert event.event == "fired" and event.message == toast


async def test_alerts_lists_every_rule_with_its_state_over_any_layout(tmp_path):
    alert_rules_path().parent.mkdir(parents=True, exist_ok=True)
    alert_rules_path().write_text('[[alert]]\nid = "quiet"\nrule = "SOL-PERP PRICE < 1"\nnote = "never"\n')
    app = alerts_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await start(app, pilot)
        level = (mid(app) + 5).quantize(Decimal("0.01"))
        await pilot.press("colon", *f"ALERT SOL-PERP PRICE > {level}", "enter")
        move_book(app, level + 1, level + 2)
        await pilot.pause()
        await pilot.press("colon", *"ALERTS", "enter")
        await pilot.pause()
        assert isinstance(app.screen, AlertsScreen)
        await until(lambda: "quiet" in pane_text(app.screen.pane), what="the list")
        rows = pane_text(app.screen.pane).splitlines()
        quiet = next(r for r in rows if r.startswith("quiet"))
        assert "SOL-PERP PRICE < 1" in quiet and "armed" in quiet and "never" in quiet
        fired = next(r for r in rows if f"PRICE > {level}" in r)
        assert "fired 11:06:51 at" in fired and f"{level + Decimal('1.5')}" in fired and "local" in fired
        await pilot.press("escape")
        assert not isinstance(app.screen, AlertsScreen)


async def test_a_bad_rule_is_pointed_at_with_an_example_and_nothing_is_added(tmp_path):
    app = alerts_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await start(app, pilot)
        await pilot.press("colon", *"ALERT SOL-PERP FUNDING > 50", "enter")
        await pilot.pause()
        line = app.query_one(CommandLine)
        assert line.is_open and line.error is not None
        shown = str(app.query_one("#cmd-error").render()).splitlines()
        assert shown[0] == "  " + " " * 25 + "^^"
        assert "'50' needs a unit" in shown[1] and "e.g. ALERT SOL-PERP FUNDING > 50%" in "\n".join(shown)
        assert app.alerts.ids() == [] and not alert_rules_path().exists()


async def test_a_failing_webhook_is_retried_and_a_hanging_one_holds_up_no_key(tmp_path):
    async with webhook_server() as srv:
        srv.answers = [500, "hang"]
        config = f'[alerts.webhook]\nurl = "{srv.url}"\nbackoff_s = 0.01\ntimeout_s = 30\n'
        app = alerts_app(tmp_path, config)
        async with app.run_test(size=SIZE) as pilot:
            await start(app, pilot)
            level = (mid(app) + 5).quantize(Decimal("0.01"))
            await app.alerts.desk.add(_rule(level))
            move_book(app, level + 1, level + 2)
            await pilot.pause()
            # 500, then retried after the backoff: the retry hangs without an answer.
            await until(lambda: len(srv.received) == 2, what="the retry after the 500")
            assert srv.received[0] == srv.received[1] and srv.texts[0].startswith("QuantDesk alert: SOL-PERP PRICE >")

            depth = app.query_one(DepthPane)
            before = depth.market
            await pilot.press("right_square_bracket", "colon", *"SOL-PERP")  # keys while the webhook hangs
            await pilot.pause()
            app.frame()
            assert depth.market != before and depth.market in pane_text(depth)
            assert app.query_one(CommandLine).input.value == "SOL-PERP"
            assert app.alerts.desk.webhook.delivered == 0  # still waiting on the hung request
            srv.release.set()
            await until(lambda: app.alerts.desk.webhook.delivered == 1, what="the hung request's answer")
    assert srv.url not in repr(app.alerts.desk)


def _rule(level: Decimal):
    from quantdesk.core.alerts import parse_rule

    return parse_rule(f"SOL-PERP PRICE > {level}").rule
