"""The OrderRouter's executor for a live Drift venue, against the local JSON-RPC
server with real mainnet account bytes: the risk context from chain or the
session's cache, the two-step preview/confirm, brackets, cancel-all keeping
protective orders, dry runs, and the router the wiring builds for a session of Drift and simulated venues."""

from __future__ import annotations

import pytest
from solders.keypair import Keypair
from solders.pubkey import Pubkey
from solders.transaction import VersionedTransaction

from support.drift_servers import BookSource, HttpServer
from quantdesk.core.bus import Bus
from quantdesk.core.cache import MarketCache
from quantdesk.trading.journal import Journal
from quantdesk.core.model import AccountState, OraclePrice, Order, OrderIntent, Position
from quantdesk.trading.risk import RiskEngine, RiskLimits
from quantdesk.venues.session import Session
from quantdesk.venues.drift.config import DRIFT_PROGRAM_ID, DriftDeployment, default_deployment
from quantdesk.venues.base import Declined, TradingVenue, is_protective
from quantdesk.venues.drift.router_executor import DriftRouterExecutor
from quantdesk.venues.drift.venue import DriftVenue
from quantdesk.venues.sim.clob import SimClobVenue
from quantdesk.venues.sim.clock import ManualClock
from quantdesk.wiring.trading import session_router
from support.drift_chain import LINES, USER_LINE, drift_ix, pk, raw
from support.signer import MemorySigner

SOL = "SOL-PERP"
START_NS = 1_795_000_000_000_000_000


@pytest.fixture
def chain():
    http = HttpServer(BookSource())
    for n, x in enumerate(LINES):
        if x["account"] in ("PerpMarket", "SpotMarket"):
            http.accounts[pk(raw(n), 8)] = x["data_b64"]
    http.start()
    yield http
    http.stop()


def drift_venue(http: HttpServer, signer=None, **over) -> DriftVenue:
    from driftpy.addresses import get_user_account_public_key

    signer = signer or MemorySigner()
    pda = get_user_account_public_key(Pubkey.from_string(DRIFT_PROGRAM_ID), signer.pubkey, 0)
    http.accounts[str(pda)] = LINES[USER_LINE]["data_b64"]
    d = DriftDeployment(**{**default_deployment("drift").model_dump(), "rpc_urls": [http.url], **over})
    return DriftVenue(d, signer=signer)


def sent(http: HttpServer) -> list[VersionedTransaction]:
    txs = [VersionedTransaction.from_bytes(b) for b in http.sent]
    for tx in txs:
        tx.verify_and_hash_message()
    return txs


def names(ex: DriftRouterExecutor, tx: VersionedTransaction) -> list[str]:
    return [i["instruction"] for i in ex.executor.describe(tx)["instructions"] if i["program"] == "drift"]


def intent(**kw) -> OrderIntent:
    base = dict(venue="drift", market=SOL, side="buy", type="limit", size=2 * 10**9, price=176 * 10**6)
    base.update(kw)
    return OrderIntent(**base)


async def test_risk_context_from_chain_counts_the_accounts_real_orders_and_position(chain):
    venue = drift_venue(chain)
    ex = DriftRouterExecutor(venue)
    with pytest.raises(Exception, match="not loaded yet"):
        ex.risk_context(SOL, 1)
    await ex.refresh([SOL])
    ctx = ex.risk_context(SOL, 5, best_bid=1, best_ask=2)
    user = ex.executor.chain.user_account()
    sol = next(p for p in user.perp_positions if int(p.market_index) == 0)
    assert ctx.position_base == int(sol.base_asset_amount) == 1_400_000_000
    assert ctx.open_orders == sum(1 for o in user.orders if type(o.status).__name__ == "Open") == 4
    market = ex.executor.chain.store.perp_markets[0]
    assert ctx.oracle_price == int(market.amm.historical_oracle_data.last_oracle_price)  # no feed: chain's oracle
    assert ctx.equity > 0 and ctx.account_notional >= 1_400_000_000 * ctx.oracle_price // 10**9
    assert (ctx.ts, ctx.best_bid, ctx.best_ask) == (5, 1, 2)
    orders = ex.open_orders(SOL)
    assert [o.order_id for o in orders] == ["drift:10", "drift:11", "drift:12", "drift:13"]
    assert [is_protective(o) for o in orders] == [True, False, True, True]
    await venue.close()


async def test_risk_context_reads_the_cache_for_the_traders_own_account(chain):
    venue = drift_venue(chain)
    cache = MarketCache()
    ex = DriftRouterExecutor(venue, cache)
    cache.on_event("oracle.drift.SOL-PERP", OraclePrice("drift", SOL, 1, 180 * 10**6))
    cache.on_event("account.drift", AccountState("drift", 1, 1000 * 10**6, 1234 * 10**6, 0, 0, 100, 0))
    cache.on_event("position.drift.SOL-PERP", Position("drift", SOL, -3 * 10**9, 540 * 10**6, 180 * 10**6, mark_price=180 * 10**6, ts=1))
    ctx = ex.risk_context(SOL, 1)  # no chain load needed: the account view published it
    assert ctx.oracle_price == 180 * 10**6 and ctx.position_base == -3 * 10**9
    assert ctx.equity == 1234 * 10**6 and ctx.account_notional == 540 * 10**6
    # a watched wallet that is not the trader's is never taken for the trader's account
    venue.watch = str(Keypair().pubkey())
    with pytest.raises(Exception, match="not loaded yet"):
        ex.risk_context(SOL, 1)
    await venue.close()


async def test_prepare_shows_the_transaction_then_confirm_signs_and_sends_it(chain):
    venue = drift_venue(chain)
    bus = Bus()
    published: list[Order] = []
    bus.subscribe("order.>", lambda t, m: published.append(m))
    ex = DriftRouterExecutor(venue, bus=bus)
    preview = await ex.prepare(intent(post_only=True), "q1")
    assert chain.sent == [] and preview.decoded["signatures"] == []
    ix = next(i for i in preview.decoded["instructions"] if i["program"] == "drift")
    assert ix["args"]["params"]["price"] == "$176" and ix["args"]["params"]["base_asset_amount"] == "2"
    assert [a["name"] for a in ix["accounts"][:3]] == ["state", "user", "authority"]
    assert "SOL-PERP market" in {a["name"] for a in ix["accounts"]}
    assert any("not signed yet" in line for line in preview.lines())

    order = await ex.confirm(preview)
    [tx] = sent(chain)
    assert bytes(tx.message) == bytes(preview.prepared.message)  # exactly what was previewed
    assert order.order_id == "q1" and order.status == "pending" and published == [order]
    assert ex.signatures["q1"] == str(tx.signatures[0])
    assert ex.last_signed["signatures"] == [str(tx.signatures[0])]
    assert "q1" in [o.order_id for o in ex.open_orders()]

    modified = await ex.modify("q1", price=175 * 10**6)
    assert modified.price == 175 * 10**6
    cancelled = await ex.cancel("q1")
    assert cancelled.status == "cancelled" and "q1" not in [o.order_id for o in ex.open_orders()]
    assert [names(ex, t) for t in sent(chain)] == [
        ["place_perp_order"], ["modify_order_by_user_id"], ["cancel_order_by_user_id"]
    ]
    await venue.close()


async def test_bracket_legs_are_reduce_only_triggers_kept_by_cancel_all_keep_protective(chain):
    venue = drift_venue(chain)
    ex = DriftRouterExecutor(venue)
    entry = await ex.place(intent(), "q1", take_profit=190 * 10**6, stop_loss=160 * 10**6)
    [tx] = sent(chain)
    legs = [i["args"]["params"] for i in ex.executor.describe(tx)["instructions"] if i["program"] == "drift"]
    assert [(p["order_type"], p["direction"], p["reduce_only"], p["trigger_price"], p["trigger_condition"])
            for p in legs] == [
        ("Limit", "Long", False, None, "Above"),
        ("TriggerMarket", "Short", True, 190_000_000, "Above"),  # take profit: sells above
        ("TriggerMarket", "Short", True, 160_000_000, "Below"),  # stop loss: sells below
    ]
    assert len({p["user_order_id"] for p in legs}) == 3
    assert entry.order_id == "q1"
    ours = {o.order_id: o for o in ex.open_orders() if not o.order_id.startswith("drift:")}
    assert set(ours) == {"q1", "q1-tp", "q1-sl"} and is_protective(ours["q1-sl"])

    done = await ex.cancel_all(keep_protective=True)
    # the resting entry and the account's plain limit order go; every reduce-only trigger stays
    assert sorted(o.order_id for o in done) == ["drift:11", "q1"]
    cancel_tx = sent(chain)[-1]
    assert names(ex, cancel_tx) == ["cancel_order_by_user_id", "cancel_order"]
    left = sorted(o.order_id for o in ex.open_orders())
    assert left == ["drift:10", "drift:12", "drift:13", "q1-sl", "q1-tp"]

    await ex.cancel_all(SOL)
    assert names(ex, sent(chain)[-1]) == ["cancel_orders"]
    assert drift_ix(ex.executor.describe(sent(chain)[-1]))["args"]["market_index"] == 0
    assert not [o for o in ex.open_orders() if not o.order_id.startswith("drift:")]
    await venue.close()


async def test_a_declined_preview_sends_nothing(chain):
    venue = drift_venue(chain)
    seen = []
    ex = DriftRouterExecutor(venue, approve=lambda p: seen.append(p) or False)
    with pytest.raises(Declined, match="declined at the preview"):
        await ex.place(intent(), "q1")
    assert len(seen) == 1 and chain.sent == [] and ex.open_orders(SOL)[0].order_id.startswith("drift:")

    async def yes(preview):
        return True

    ex.approve = yes
    await ex.place(intent(), "q2")
    assert len(sent(chain)) == 1
    await venue.close()


async def test_dry_run_signs_but_changes_nothing(chain):
    venue = drift_venue(chain, dry_run=True)
    ex = DriftRouterExecutor(venue)
    order = await ex.place(intent(), "q1")
    assert chain.sent == [] and order.status == "cancelled" and order.reason == "dry run: signed, not sent"
    # the signature it printed is a valid signature of the previewed message by the trader's key
    from solders.message import to_bytes_versioned
    from solders.signature import Signature

    [sig] = ex.last_signed["signatures"]
    payload = to_bytes_versioned(ex.last_preview.prepared.message)
    assert Signature.from_string(sig).verify(venue.signer.pubkey, payload)
    assert not Signature.from_string(sig).verify(Keypair().pubkey(), payload)
    assert "q1" not in [o.order_id for o in ex.open_orders()]
    await venue.close()


async def test_session_router_trades_drift_live_and_sim_venues_on_paper(chain, tmp_path):
    venue = drift_venue(chain)
    watcher = DriftVenue(DriftDeployment(**{**default_deployment("velocity").model_dump(), "rpc_urls": [chain.url]}))
    clock = ManualClock(START_NS)
    sim = SimClobVenue(7, 0.0, clock)
    session = Session([venue, watcher, sim], clock)
    for v in (venue, sim):
        session.cache.add_markets(await v.connect())
    sim.bind(session.bus)
    journal = Journal.open(tmp_path / "journal.sqlite3")
    router, recorder = session_router(session, journal, RiskEngine(RiskLimits(max_order_notional=100)))
    try:
        assert set(router.executors) == {"drift", sim.id}  # velocity is read-only: no executor
        assert isinstance(router.executors["drift"], DriftRouterExecutor)
        assert all(isinstance(ex, TradingVenue) for ex in router.executors.values())  # one interface for both
        await router.executors["drift"].refresh([SOL])
        session.bus.publish("oracle.drift.SOL-PERP", OraclePrice("drift", SOL, START_NS, 176_548_000))  # the feed's
        # the risk engine stands in front: $352 of SOL is over the $100 limit, nothing is signed
        ack = await router.submit(intent())
        assert not ack.ok and ack.decision.check == "max_order_notional" and chain.sent == []
        assert "exceeds the max order notional $100.00 by $" in ack.message
        ack = await router.submit(intent(size=500_000_000, price=170 * 10**6))
        assert ack.ok, ack.message
        [tx] = sent(chain)
        assert names(router.executors["drift"], tx) == ["place_perp_order"]
        assert journal.order("drift", ack.order.order_id) is not None  # journaled
        assert ack.order.order_id in session.cache.orders  # published for the orders pane
        n = await router.dead_man()  # the session ends: resting orders go, protective ones stay
        assert n >= 1 and "cancel_order_by_user_id" in names(router.executors["drift"], sent(chain)[-1])
        paper = await router.submit(OrderIntent(sim.id, SOL, "buy", "market", 10**8))
        assert paper.decision.accepted
    finally:
        recorder.close()
        journal.close()
        await venue.close()
        await watcher.close()
