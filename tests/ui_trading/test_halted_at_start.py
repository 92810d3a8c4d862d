"""A terminal that was halted when it last ran opens halted and says how to lift it."""

from __future__ import annotations

from quantdesk.console.app import QuantDeskApp
from quantdesk.console.cmdline import Kill
from quantdesk.trading.desk import Desk
from quantdesk.wiring.trading import open_paper_trading

from support.app import notes, paused_session, settle, status_text
from support.paper_app import PANES, SIZE, start


async def test_the_terminal_starts_halted_after_a_restart_and_kill_off_lifts_it(tmp_path):
    path = tmp_path / "journal.sqlite3"
    before = open_paper_trading(paused_session(), path)
    try:
        await before.router.kill("kill switch engaged by the trader")
    finally:
        before.close()

    session = paused_session()
    trading = open_paper_trading(session, path)
    app = QuantDeskApp(session, panes=PANES, desk=Desk(session.cache, trading.router))
    try:
        async with app.run_test(size=SIZE) as pilot:
            await start(app, pilot)
            assert "HALTED" in status_text(app)
            (halt,) = [n for n in notes(app) if "Trading is HALTED" in n]
            assert "kill switch engaged by the trader" in halt
            assert app.key_for("risk.kill_switch") in halt and "risk: kill switch" in halt and "KILL OFF" in halt

            await app.execute(Kill(engage=False))
            await settle(app, pilot)
            assert "HALTED" not in status_text(app)
            assert not trading.journal.kill_switch().engaged  # lifting it was journaled
    finally:
        trading.close()
