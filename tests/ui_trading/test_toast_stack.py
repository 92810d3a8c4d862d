"""Toasts stack whole at the top right, one below another, never over the risk
panes (positions, orders). When more arrive than fit, the oldest warnings and
information go; an error stays until its timeout, waiting for room if it must."""

from __future__ import annotations

import pytest
from textual.widgets._toast import Toast

from quantdesk.console.app import QuantDeskApp
from quantdesk.console.layouts import load_layout
from quantdesk.console.toasts import Item, fit
from quantdesk.serve.ssh.trader_desk import read_only_notice, unsynced_notice
from quantdesk.trading.desk import Desk, Notice

from support.app import notes, paused_session

# What a console over ``quantdesk serve ssh`` can open with, all at once.
READ_ONLY = read_only_notice(
    ["drift"], "to trade here, run `quantdesk signer serve` on your machine and connect with "
    "`ssh -R /run/qd/alice.sock:/home/alice/.local/state/quantdesk/agent.sock -p 2222 desk.example`",
)
AGENT = Notice("Your signer agent did not answer: connection refused", "Signer agent", "error", 20)
UNSYNCED = unsynced_notice("no database user for alice: add QUANTDESK_DB__USER_ID to her key's line")
OPENING = [READ_ONLY, AGENT, UNSYNCED]


def ssh_console(layout: str | None, opening=OPENING) -> QuantDeskApp:
    session = paused_session()
    app = QuantDeskApp(session, desk=Desk(session.cache, opening=opening))
    if layout is not None:
        app.layout_model = load_layout(layout)
    return app


async def shown(app: QuantDeskApp, pilot) -> list[Toast]:
    """The toasts once the console has drawn a frame with its layout."""
    await app.session_started.wait()
    await pilot.pause()
    app.frame()
    await pilot.pause()
    await pilot.pause()
    return list(app.screen.query(Toast))


def assert_every_toast_whole(app: QuantDeskApp, toasts: list[Toast]) -> None:
    """Each toast is on screen, every cell of it the toast's (nothing over it,
    no rack edge cutting it), apart from the others and from the risk panes."""
    screen = app.screen.region
    risk = [p.region for t in ("positions", "orders") if (p := app.pane_of_type(t)) is not None]
    assert risk, "the layout has a risk pane to keep clear"
    for toast in toasts:
        r = toast.region
        assert r.area and screen.contains_region(r), (r, screen)
        for y in range(r.y, r.bottom):
            for x in range(r.x, r.right):
                assert app.screen.get_widget_at(x, y)[0] is toast, (toast._notification.title, x, y)
        assert not any(r.overlaps(p) for p in risk), (r, risk)
    for n, a in enumerate(toasts):
        for b in toasts[n + 1:]:
            assert not a.region.overlaps(b.region), (a.region, b.region)


def titles(toasts: list[Toast]) -> list[str]:
    return [t._notification.title for t in toasts]


@pytest.mark.parametrize("layout", [None, "overview", "chart", "scalper"])
@pytest.mark.parametrize("size", [(80, 24), (120, 35), (200, 50)])
async def test_the_opening_notices_are_each_whole_and_clear_of_the_risk_panes(size, layout):
    app = ssh_console(layout)
    async with app.run_test(size=size, notifications=True) as pilot:
        toasts = await shown(app, pilot)
        assert_every_toast_whole(app, toasts)
        assert "Signer agent" in titles(toasts), "an error is never dropped for room"
        if size != (80, 24):
            assert titles(toasts) == ["Read-only", "Signer agent", "Journal sync"]


async def test_with_too_little_room_the_oldest_warning_goes_and_the_error_stays():
    # Overview at 80x24: the positions pane starts nine rows down, under the toasts' column.
    app = ssh_console("overview")
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        toasts = await shown(app, pilot)
        assert titles(toasts) == ["Signer agent", "Journal sync"]
        assert [n.title for n in app._notifications] == ["Signer agent", "Journal sync"], "dismissed, not hidden"
        assert_every_toast_whole(app, toasts)


async def test_a_shrinking_terminal_refits_the_stack():
    app = ssh_console("overview")
    async with app.run_test(size=(200, 50), notifications=True) as pilot:
        assert titles(await shown(app, pilot)) == ["Read-only", "Signer agent", "Journal sync"]
        await pilot.resize_terminal(80, 24)
        toasts = await shown(app, pilot)
        assert titles(toasts) == ["Signer agent", "Journal sync"]
        assert_every_toast_whole(app, toasts)


async def test_an_error_without_room_waits_for_the_one_above_it():
    long_error = Notice("Your account could not be loaded: " + "the RPC node answered 503 " * 8, "Account", "error", 30)
    app = ssh_console("overview", opening=[AGENT, long_error])
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        toasts = await shown(app, pilot)
        assert titles(toasts) == ["Signer agent"], "the second error does not fit under the first"
        assert "Account" in [n.title for n in app._notifications], "it waits: errors stay until their timeout"
        await pilot.click(toasts[0])  # the trader dismisses the first
        toasts = await shown(app, pilot)
        assert titles(toasts) == ["Account"]
        assert_every_toast_whole(app, toasts)


async def test_a_new_notice_takes_the_room_of_the_oldest():
    app = ssh_console("overview", opening=[AGENT, UNSYNCED])
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await shown(app, pilot)
        app.notify("Streaming ETH-PERP from sim-drift now.", timeout=4)
        toasts = await shown(app, pilot)
        assert titles(toasts) == ["Signer agent", ""], "the journal warning made room for the newer notice"
        assert any("ETH-PERP" in n for n in notes(app))
        assert_every_toast_whole(app, toasts)


def test_errors_take_the_room_first_and_keep_their_order():
    info, error = Item(3, False), Item(3, True)
    assert fit([info, error, info], 9) == ([0, 1, 2], [])
    assert fit([info, error, info], 6) == ([1, 2], [0])
    assert fit([info, error, info, error], 6) == ([1, 3], [0, 2])
    assert fit([error, Item(5, True), error], 6) == ([0], []), "the later errors wait behind the one that does not fit"
    assert fit([Item(12, False)], 6) == ([0], []), "a toast taller than the room shows cut short"
    assert fit([Item(2, False), Item(5, False), Item(1, False)], 6) == ([1, 2], [0])
    assert fit([Item(1, False), Item(6, False), Item(1, False)], 6) == ([2], [0, 1]), "the oldest go first, never a newer one"
