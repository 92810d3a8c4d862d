"""A paper account journaled to a real SQLite journal and restored from it."""

from quantdesk.trading.journal import Journal
from quantdesk.core.venue import OrderHistory
from quantdesk.core.model import Fill, Market, Order, OrderIntent
from quantdesk.trading.paper_account import FeeSchedule, Liquidation, PaperAccount, Payment
from quantdesk.venues.sim.matching import MatchingEngine
from quantdesk.venues.sim.paper import PaperClob

SOL = 10**9
USD = 10**6
MKT = "SOL-PERP"


class Host:
    def __init__(self, engine):
        self.eng, self.paper = engine, None

    def engine(self, market):
        return self.eng

    def apply(self, market, result):
        for m in result.matches:
            self.paper.on_match(market, m)

    def oracle_price(self, market):
        return 100 * USD


def journaling(journal):
    def publish(ev):
        if isinstance(ev, Fill):
            journal.record_fill(ev)
        elif isinstance(ev, Order):
            journal.record_order(ev)
        elif isinstance(ev, Payment):
            journal.record_funding(ev.venue, ev.market, ev.amount, ev.rate, ev.ts, kind=ev.kind)
        elif isinstance(ev, Liquidation):
            journal.record_liquidation(ev.venue, ev.market, ev.base, ev.price, ev.fee, ev.ts, ev.reason)

    return publish


def paper_on(engine, publish, now):
    account = PaperAccount("sim-drift", 10_000 * USD, fees=FeeSchedule(350, -25))
    account.add_markets([Market("sim-drift", MKT, "SOL", "USDC", "clob", 1_000, 10_000_000)])
    host = Host(engine)
    paper = PaperClob(account, host, lambda: now[0], publish)
    host.paper = paper
    return paper


def test_restart_restores_positions_collateral_and_orders(tmp_path):
    now = [1_000]
    eng = MatchingEngine()
    for i, price in enumerate((100_100_000, 100_200_000, 100_300_000)):
        eng.submit(f"a{i}", "mm", "sell", SOL, price)
    eng.submit("b0", "mm", "buy", 5 * SOL, 99_000_000)
    journal = Journal.open(tmp_path / "journal.sqlite", clock=lambda: now[0])
    paper = paper_on(eng, journaling(journal), now)
    paper.place(OrderIntent("sim-drift", MKT, "buy", "market", 2 * SOL + SOL // 2), "m1")  # walks 3 levels, same ts
    now[0] += 1
    paper.place(OrderIntent("sim-drift", MKT, "sell", "market", SOL), "m2")  # realizes a loss into the bid
    now[0] += 1
    paper.place(OrderIntent("sim-drift", MKT, "buy", "limit", SOL, price=98 * USD), "l1")
    stop = OrderIntent("sim-drift", MKT, "sell", "stop_market", SOL, trigger_price=90 * USD, reduce_only=True)
    paper.place(stop, "s1")
    paper.account.set_oracle(MKT, 100 * USD)
    for p in paper.account.settle_funding(MKT, 100_000, ts=now[0]):
        journaling(journal)(p)
    journal.close()

    # a new process: an empty book and account, rebuilt from the journal alone
    journal = Journal.open(tmp_path / "journal.sqlite", clock=lambda: now[0])
    fresh = paper_on(MatchingEngine(), lambda ev: None, now)
    fresh.restore(OrderHistory(
        tuple(reversed(journal.fills(venue="sim-drift"))),
        tuple(journal.funding_payments("sim-drift")),
        tuple(journal.open_orders("sim-drift")),
    ))
    journal.close()
    assert fresh.account.collateral == paper.account.collateral
    a, b = paper.account.positions[MKT], fresh.account.positions[MKT]
    assert (b.base, b.quote_entry, b.realized_pnl) == (a.base, a.quote_entry, a.realized_pnl)
    assert [o.order_id for o in fresh.open_orders()] == ["l1", "s1"]
    assert fresh.host.eng.best_bid() == 98 * USD
