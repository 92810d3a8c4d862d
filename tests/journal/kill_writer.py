"""The process the SIGKILL test kills: the terminal's own order path (a
simulated session, the paper router restored from the journal, the risk
engine, the SQLite journal) placing, filling and cancelling orders as fast
as it can.

    python kill_writer.py JOURNAL RUN

Every line goes to stdout flushed, and only after the journal committed what
it reports (the recorder is subscribed to the bus before this script is):

    restored VENUE MARKET BASE           the positions the restart rebuilt
    ready                                then it waits for a line on stdin
    ack VENUE ORDER_ID SIDE TYPE SIZE PRICE
    fill VENUE FILL_ID                   a fill as the screen receives it
"""

from __future__ import annotations

import asyncio
import random
import sys

from quantdesk.core.model import OrderIntent
from quantdesk.trading.risk import RiskLimits
from quantdesk.venues.session import simulated_session
from quantdesk.venues.sim.clock import ManualClock
from quantdesk.wiring.trading import open_paper_trading

START_NS = 1_795_000_000_000_000_000
LIMITS = RiskLimits(max_orders_per_second=10_000, max_open_orders=10_000)


def out(*fields: object) -> None:
    print(*fields, flush=True)


async def main(path: str, run: int) -> None:
    # Each start is a later moment of the market: orders resting from the last
    # run may cross the new book and fill during the restore.
    session = simulated_session(seed=7, clock=ManualClock(START_NS + run * 30 * 10**9), paused=True)
    trading = open_paper_trading(session, path, LIMITS)
    router = trading.router
    for venue_id, paper in sorted(router.executors.items()):
        for market, pos in sorted(paper.account.positions.items()):
            out("restored", venue_id, market, pos.base)
    out("ready")
    sys.stdin.readline()

    session.bus.subscribe("fill.>", lambda topic, f: out("fill", f.venue, f.fill_id))
    markets = [m for v in session.venues.values() for m in v.markets]  # type: ignore[attr-defined]
    rng = random.Random(run)
    while True:
        m = rng.choice(markets)
        paper = router.executors[m.venue]
        open_orders = paper.open_orders()
        if open_orders and rng.random() < 0.2:
            await router.cancel(m.venue, rng.choice(open_orders).order_id)
        else:
            oracle = paper.oracle(m.symbol)
            usd = rng.randint(100, 1_500)
            size = max(m.lot_size, usd * 10**15 // oracle // m.lot_size * m.lot_size)
            pos = paper.account.positions.get(m.symbol)
            exposure = (pos.base if pos else 0) * oracle // 10**15  # USD
            side = "sell" if exposure > 2_000 else "buy" if exposure < -2_000 else rng.choice(("buy", "sell"))
            if rng.random() < 0.4:
                intent = OrderIntent(m.venue, m.symbol, side, "market", size)
            else:
                ticks = rng.randint(-20, 5) * (1 if side == "buy" else -1)  # mostly resting, some crossing
                price = max(m.tick_size, (oracle // m.tick_size + ticks) * m.tick_size)
                intent = OrderIntent(m.venue, m.symbol, side, "limit", size, price=price)
            ack = await router.submit(intent)
            if ack.order is not None:
                o = ack.order
                out("ack", o.venue, o.order_id, o.side, o.type, o.size, o.price)
        session.advance(rng.randint(1, 40))  # the simulated flow trades with resting orders


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], int(sys.argv[2])))
