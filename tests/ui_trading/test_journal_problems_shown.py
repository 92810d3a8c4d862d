"""A fill the journal refuses is on the trader's screen, not only in the log."""

from __future__ import annotations

import msgspec

from quantdesk.core.model import Fill

from support.app import notes, settle
from support.paper_app import SIZE, make_app, start


async def test_a_conflicting_fill_is_notified(tmp_path):
    app, trading = make_app(tmp_path)
    try:
        async with app.run_test(size=SIZE) as pilot:
            await start(app, pilot, events=0)
            fill = Fill("sim-drift", "SOL-PERP", "elsewhere", "elsewhere:0", "buy", 150_000_000, 10**9, 10, "taker", 1)
            app.session.bus.publish("fill.sim-drift", fill)
            app.session.bus.publish("fill.sim-drift", msgspec.structs.replace(fill, size=2 * 10**9))
            await settle(app, pilot)
            (shown,) = [n for n in notes(app) if "did not record a fill" in n]
            assert "sim-drift:elsewhere:0 is already in the journal" in shown and "log file" in shown
            assert [f.size for f in trading.journal.fills()] == [10**9]
    finally:
        trading.close()
