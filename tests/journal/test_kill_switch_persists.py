"""The kill switch outlives a restart: engaged and released are journaled
actions, and a terminal that was halted starts halted."""

from __future__ import annotations

from quantdesk.core.model import OrderIntent
from quantdesk.trading.journal import Journal
from quantdesk.venues.session import simulated_session
from quantdesk.venues.sim.clock import ManualClock
from quantdesk.wiring.trading import open_paper_trading

START_NS = 1_795_000_000_000_000_000
SOL = 10**9


def buy() -> OrderIntent:
    return OrderIntent("sim-drift", "SOL-PERP", "buy", "limit", SOL, price=100_000_000)


def restart(path):
    return open_paper_trading(simulated_session(seed=7, clock=ManualClock(START_NS), paused=True), path)


async def test_engaged_kill_switch_rejects_orders_after_a_restart_until_released(tmp_path):
    path = tmp_path / "journal.sqlite3"
    trading = restart(path)
    try:
        await trading.router.kill("drawdown limit hit")
    finally:
        trading.close()

    trading = restart(path)  # a new process: a new journal opened on the same file
    try:
        assert trading.router.risk.kill_switch_engaged
        ack = await trading.router.submit(buy())
        assert not ack.ok and ack.decision.check == "kill_switch"
        assert "drawdown limit hit" in ack.message and "still on after the restart" in ack.message
        assert trading.router.executors["sim-drift"].open_orders() == []
        trading.router.release()
        assert (await trading.router.submit(buy())).ok
    finally:
        trading.close()

    with Journal.open(path) as j:
        history = j.kill_switch_history()
        assert [(c.engaged, c.reason) for c in history] == [
            (True, "drawdown limit hit"), (False, "released by the trader")]
        assert history[0].ts <= history[1].ts
        assert [e.table for e in j.pending(limit=10_000)].count("kill_switch") == 2  # synced like any row
        assert [r.limit_name for r in j.risk_events() if not r.accepted] == ["kill_switch"]

    trading = restart(path)  # released stays released
    try:
        assert not trading.router.risk.kill_switch_engaged
    finally:
        trading.close()
