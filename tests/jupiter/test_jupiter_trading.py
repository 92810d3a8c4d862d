"""Trading Jupiter Perps through the order router against a local Solana node:
an order passes the risk engine, becomes the program's position request,
is signed (the node's VM verifies the signature) and sent, and is then
followed to the keeper's execution, a cancel or its expiry; what the
trader's wallet cannot do is refused before anything is signed."""

from __future__ import annotations

from decimal import Decimal

import pytest
from anchorpy.coder.instruction import InstructionCoder
from anchorpy_core.idl import Idl
from solders.transaction import VersionedTransaction

from quantdesk.core.model import Fill, Order, OrderIntent, Position
from quantdesk.trading.risk import RiskLimits
from quantdesk.venues.base import Declined, VenueError
from quantdesk.venues.jupiter.accounts import bundled_idl_path, decoder
from quantdesk.venues.jupiter.config import PROGRAM_ID
from quantdesk.venues.jupiter.trading import JupiterTrading
from quantdesk.venues.session import Session
from quantdesk.wiring.trading import open_paper_trading

from support.jupiter_trade_rig import NOW_S, SOL_PRICE, WALLET_SOL, TradeRig
from support.wait import until

CODER = InstructionCoder(Idl.from_json(bundled_idl_path().read_text()))
SOL = 10**9


@pytest.fixture
async def rig():
    r = TradeRig()
    await r.start()
    yield r
    await r.stop()


class Desk:
    """A session on the rig's venue with the router, and what went over the bus."""

    def __init__(self, rig: TradeRig, tmp_path, limits: RiskLimits | None = None, **over) -> None:
        self.rig = rig
        self.venue = rig.venue(**over)
        self.session = Session([self.venue], rig.clock, signer=rig.signer)
        self.events: list = []
        self.session.bus.subscribe("#", lambda topic, ev: self.events.append(ev))
        self.paper = open_paper_trading(self.session, tmp_path / "journal.sqlite3", limits or RiskLimits(max_leverage=20))
        self.router = self.paper.router
        self.trading: JupiterTrading = self.router.executors["jupiter"]  # type: ignore[assignment]

    async def __aenter__(self) -> Desk:
        await self.session.start()
        feed = self.venue.feed
        await until(lambda: feed.account.loaded and feed.account.wallet is not None and feed.pool is not None
                    and ("jupiter", "SOL-PERP") in self.session.cache.oracle, what="wallet and market loaded")  # fmt: skip
        return self

    async def __aexit__(self, *exc) -> None:
        await self.session.stop()
        self.paper.close()

    def orders(self, order_id: str) -> list[Order]:
        return [e for e in self.events if isinstance(e, Order) and e.order_id == order_id]

    def status(self, order_id: str) -> str:
        got = self.orders(order_id)
        return got[-1].status if got else ""


def sent_instruction(rig: TradeRig, n: int = -1) -> tuple[str, dict]:
    tx = VersionedTransaction.from_bytes(rig.node.http.sent[n])
    keys = [str(k) for k in tx.message.account_keys]
    ix = next(ix for ix in reversed(tx.message.instructions) if keys[ix.program_id_index] == PROGRAM_ID)
    named = CODER.parse(bytes(ix.data))
    return named.name, {k: v for k, v in vars(named.data["params"]).items() if not k.startswith("_")}


async def test_a_market_buy_is_signed_sent_and_followed_to_the_keepers_execution(rig, tmp_path):
    async with Desk(rig, tmp_path) as d:
        ack = await d.router.submit(OrderIntent("jupiter", "SOL-PERP", "buy", "market", 1 * SOL, client_id="o1"))
        assert ack.ok, ack.message
        assert ack.order.status == "pending" and ack.order.price == SOL_PRICE * 10_050 // 10_000  # 50 bps slippage
        (raw,) = rig.node.http.sent
        tx = VersionedTransaction.from_bytes(raw)
        assert tx.verify_with_results() == [True] and "SignatureFailure" not in rig.node.http.preflight[0]
        name, params = sent_instruction(rig)
        assert name == "create_increase_position_market_request"
        # $118 at 2x: $59 of collateral, 0.5 SOL at the oracle; no worse than $118.59
        assert params["size_usd_delta"] == 118_000_000 and params["collateral_token_delta"] == SOL // 2
        assert params["price_slippage"] == 118_590_000
        assert d.status("o1") == "pending"

        await rig.program.land()  # the transaction lands: the request account appears
        await until(lambda: d.status("o1") == "open", what="request open on chain")
        assert d.session.cache.orders["o1"].status == "open"

        request = rig.program.request("create_increase_position_market_request")
        await rig.keeper.execute(request, SOL_PRICE, fee_usd=70_800)  # 6 bps open fee
        await until(lambda: d.status("o1") == "filled", what="executed")
        fill = next(e for e in d.events if isinstance(e, Fill) and e.order_id == "o1")
        assert (fill.price, fill.size, fill.fee) == (SOL_PRICE, SOL, 70_800)
        assert "o1" not in d.session.cache.orders
        await until(lambda: getattr(d.session.cache.positions.get(("jupiter", "SOL-PERP")), "base", 0) == SOL,
                    what="the position shown")  # fmt: skip
        assert [f.order_id for f in d.paper.journal.fills(venue="jupiter")] == ["o1"]
        assert d.paper.journal.order("jupiter", "o1").status == "filled"


async def test_a_read_the_websocket_overtook_does_not_cancel_the_request_it_saw_land(rig, tmp_path, monkeypatch):
    async with Desk(rig, tmp_path) as d:
        assert (await d.router.submit(OrderIntent("jupiter", "SOL-PERP", "buy", "market", SOL, client_id="o1"))).ok
        request = rig.program.request("create_increase_position_market_request")
        rpc, follower = d.venue.feed.rpc, d.venue.follower
        read = rpc.get_multiple_accounts
        overtaken: list[str] = []

        async def answered_late(keys, *args, **kw):
            got = await read(keys, *args, **kw)  # read before the transaction landed
            if keys and keys[0] == request and not overtaken:
                overtaken.append(request)
                await rig.program.land()  # and the websocket says so while the answer is on its way
                await until(lambda: d.status("o1") == "open", what="the request seen landing")
            return got

        monkeypatch.setattr(rpc, "get_multiple_accounts", answered_late)
        await until(lambda: overtaken, what="a read overtaken by the websocket")
        await follower.poll_once()  # one read at a time: the overtaken one has done what it would
        assert d.status("o1") == "open" and "o1" in d.session.cache.orders
        await rig.keeper.execute(request, SOL_PRICE)
        await until(lambda: d.status("o1") == "filled", what="executed")


async def test_a_request_no_keeper_executes_expires_after_the_pools_window(rig, tmp_path):
    async with Desk(rig, tmp_path) as d:
        assert d.venue.feed.pool.max_request_execution_sec == 45
        ack = await d.router.submit(OrderIntent("jupiter", "SOL-PERP", "sell", "market", 1 * SOL, client_id="o2"))
        assert ack.ok, ack.message
        name, params = sent_instruction(rig)
        assert params["side"].__class__.__name__ == "Short" and params["collateral_token_delta"] == 59_000_000  # USDC
        await rig.program.land()
        await until(lambda: d.status("o2") == "open", what="request open")
        rig.clock.advance(40)
        for _ in range(5):
            await d.trading.follower.poll_once()
        assert d.status("o2") == "open"  # within the window it may still be executed
        rig.clock.advance(15)  # past 45 s (and the margin): no keeper will execute it now
        await until(lambda: d.status("o2") == "cancelled", what="expired")
        assert "expired: no keeper executed it within 45s" in d.orders("o2")[-1].reason
        assert "o2" not in d.session.cache.orders
        assert d.paper.journal.order("jupiter", "o2").status == "cancelled"


async def test_a_cancelled_request_is_closed_and_shown_cancelled(rig, tmp_path):
    async with Desk(rig, tmp_path) as d:
        assert (await d.router.submit(OrderIntent("jupiter", "SOL-PERP", "buy", "market", SOL, client_id="o3"))).ok
        await rig.program.land()
        await until(lambda: d.status("o3") == "open", what="request open")
        await d.router.cancel("jupiter", "o3")
        name, _ = sent_instruction(rig)
        assert name == "close_position_request"
        tx = VersionedTransaction.from_bytes(rig.node.http.sent[-1])
        assert tx.verify_with_results() == [True]
        await rig.program.land()
        await until(lambda: d.status("o3") == "cancelled", what="cancelled")
        assert d.orders("o3")[-1].reason == "cancelled by the trader"


async def test_a_take_profit_and_stop_loss_ride_with_the_opening_order_and_stay_open(rig, tmp_path):
    async with Desk(rig, tmp_path) as d:
        ack = await d.router.submit(OrderIntent("jupiter", "SOL-PERP", "buy", "market", SOL, client_id="o4"),
                                    take_profit=130_000_000, stop_loss=110_000_000)  # fmt: skip
        assert ack.ok, ack.message
        tx = VersionedTransaction.from_bytes(rig.node.http.sent[-1])
        keys = [str(k) for k in tx.message.account_keys]
        names = [CODER.parse(bytes(ix.data)).name for ix in tx.message.instructions if keys[ix.program_id_index] == PROGRAM_ID]
        assert names == ["create_increase_position_market_request", "create_decrease_position_request2",
                         "create_decrease_position_request2"]  # fmt: skip
        await rig.program.land()
        await until(lambda: {d.status(o) for o in ("o4", "o4-tp", "o4-sl")} == {"open"}, what="all three open")
        tp = d.session.cache.orders["o4-tp"]
        assert (tp.type, tp.side, tp.trigger_price, tp.reduce_only) == ("take_profit_market", "sell", 130_000_000, True)
        await rig.keeper.execute(rig.program.seen[0].accounts["positionRequest"], SOL_PRICE)
        await until(lambda: d.status("o4") == "filled", what="entry executed")
        for _ in range(3):
            await d.trading.follower.poll_once()
        assert d.status("o4-tp") == d.status("o4-sl") == "open"  # triggers wait for their price, no expiry
        rig.clock.advance(120)
        await d.trading.follower.poll_once()
        assert d.status("o4-sl") == "open"


async def test_risk_refusals_reach_no_signer(rig, tmp_path):
    async with Desk(rig, tmp_path, RiskLimits(max_order_notional=100)) as d:
        ack = await d.router.submit(OrderIntent("jupiter", "SOL-PERP", "buy", "market", SOL))
        assert not ack.ok and ack.decision.check == "max_order_notional"
        assert "exceeds the max order notional $100.00" in ack.message
        # leverage: the wallet holds 10 SOL and $1,000 (about $2,180 of equity); 30 SOL is $3,540
    async with Desk(rig, tmp_path, RiskLimits(max_leverage=1, max_order_notional=10_000)) as d:
        ack = await d.router.submit(OrderIntent("jupiter", "SOL-PERP", "buy", "market", 30 * SOL))
        assert not ack.ok and ack.decision.check == "max_leverage"
        d.router.risk.engage_kill_switch()
        ack = await d.router.submit(OrderIntent("jupiter", "SOL-PERP", "buy", "market", SOL))
        assert not ack.ok and ack.decision.check == "kill_switch"
    assert rig.node.http.sent == []


async def test_what_jupiter_cannot_take_is_refused_with_what_to_change(rig, tmp_path):
    async with Desk(rig, tmp_path, RiskLimits(max_leverage=50, max_order_notional=100_000)) as d:
        limit = await d.router.submit(OrderIntent("jupiter", "SOL-PERP", "buy", "limit", SOL, price=117_000_000))
        assert "fills at the oracle price: send a market order" in limit.message
        stop = await d.router.submit(OrderIntent("jupiter", "SOL-PERP", "sell", "stop_market", SOL, trigger_price=110_000_000))
        assert "there is no long SOL-PERP to sell; open one first" in stop.message
        # 2x on 40 SOL ($4,720) posts 20 SOL: more than the 10 SOL wallet can spare
        big = await d.router.submit(OrderIntent("jupiter", "SOL-PERP", "buy", "market", 40 * SOL))
        assert "posts 20 SOL of collateral and the wallet has 9.98 SOL to spare" in big.message
        assert "Nothing was sent" in big.message
    assert rig.node.http.sent == []
    assert WALLET_SOL == 10 * SOL


async def test_declined_at_the_preview_sends_nothing(rig, tmp_path):
    async with Desk(rig, tmp_path) as d:
        seen = []

        def approve(preview) -> bool:
            seen.append("\n".join(preview.lines()))
            return False

        d.router.set_approval(approve)
        ack = await d.router.submit(OrderIntent("jupiter", "SOL-PERP", "buy", "market", SOL))
        assert not ack.ok and "declined at the preview" in ack.message
        (text,) = seen
        assert "Transaction preview: place on jupiter (not signed yet)" in text
        assert "open long $118.00 at 2x: posts 0.5 SOL ($59.00)" in text
        assert "no worse than $118.59, within 45s or it expires" in text
        assert "create_increase_position_market_request" in text and "jupiter SOL-PERP buy 118 USD market" in text
    assert rig.node.http.sent == []


async def test_requests_on_chain_at_start_are_followed(rig, tmp_path):
    from support.jupiter_program import position_account, request_account

    from quantdesk.venues.jupiter import requests as rq

    # a long and its stop-loss left from an earlier session
    async with Desk(rig, tmp_path) as d:
        m = d.trading._market(d.trading._state("SOL-PERP"), "long")
        position = str(rq.position_pda(rig.signer.pubkey, m))
        request = str(rq.request_pda(rq.position_pda(rig.signer.pubkey, m), 99, "decrease", m.program))
    chain = rig.node.chain
    chain.set_quietly(position, position_account(rig.owner, str(m.pool), str(m.custody.address), str(m.custody.address),
                                                 side="long", price=SOL_PRICE, size_usd=236_000_000,
                                                 collateral_usd=100_000_000, open_time=NOW_S - 600))  # fmt: skip
    chain.set_quietly(request, request_account(dict(
        owner=rig.owner, pool=str(m.pool), custody=str(m.custody.address), position=position,
        mint=str(m.custody.mint), open_time=NOW_S - 500, size_usd_delta=0, collateral_delta=0,
        request_change="decrease", request_type="trigger", side="long", trigger_price=100_000_000,
        trigger_above_threshold=False, entire_position=True, counter=99)))  # fmt: skip
    async with Desk(rig, tmp_path) as d:
        await until(lambda: d.status("jupiter:99") == "open", what="the stop-loss shown")
        sl = d.session.cache.orders["jupiter:99"]
        assert (sl.type, sl.side, sl.size, sl.trigger_price) == ("stop_market", "sell", 2 * SOL, 100_000_000)
        # it has no limit price to change; its size can (risk-checked like any modify)
        with pytest.raises(VenueError, match="no limit price"):
            await d.trading.prepare_modify("jupiter:99", price=101_000_000)
        await d.router.modify("jupiter", "jupiter:99", size=SOL)
        name, params = sent_instruction(rig)
        assert name == "update_decrease_position_request2"
        assert (params["size_usd_delta"], params["trigger_price"]) == (118_000_000, 100_000_000)  # half of $236
        assert d.session.cache.orders["jupiter:99"].size == SOL
        moved = await d.trading.prepare_modify("jupiter:99", trigger_price=105_000_000)
        assert "the stop-loss on the long closes the whole position at $105.00" in "\n".join(moved.lines())
        await rig.keeper.execute(request, 100_000_000)
        await until(lambda: d.status("jupiter:99") == "filled", what="stopped out")
        await until(lambda: ("jupiter", "SOL-PERP") not in d.session.cache.positions
                    or d.session.cache.positions[("jupiter", "SOL-PERP")].base == 0, what="flat")  # fmt: skip


def test_a_foreign_watched_wallet_keeps_the_venue_read_only():
    from quantdesk.venues.jupiter.config import JupiterConfig
    from quantdesk.venues.jupiter.venue import JupiterVenue

    from support.signer import MemorySigner

    v = JupiterVenue(JupiterConfig(watch="11111111111111111111111111111111"), signer=MemorySigner())
    assert not v.can_trade and "watch shows another wallet" in v.trading_unavailable_reason()
    assert "no signer configured" in JupiterVenue(JupiterConfig()).trading_unavailable_reason()
    assert v.follower is None and Position  # nothing follows requests on a read-only venue
    assert decoder() is not None and Declined


async def test_a_request_that_never_lands_or_is_refused_by_the_node_says_so(rig, tmp_path):
    async with Desk(rig, tmp_path) as d:
        rig.node.http.send_fault = (-32002, "Transaction simulation failed: insufficient funds for rent")
        ack = await d.router.submit(OrderIntent("jupiter", "SOL-PERP", "buy", "market", SOL, client_id="refused"))
        assert not ack.ok and "insufficient funds for rent" in ack.message
        assert d.trading.follower.find("refused") is None and d.status("refused") == ""
        rig.node.http.send_fault = None
        assert (await d.router.submit(OrderIntent("jupiter", "SOL-PERP", "buy", "market", SOL, client_id="lost"))).ok
        for _ in range(3):
            await d.trading.follower.poll_once()
        assert d.status("lost") == "pending"  # in flight: not on chain yet
        rig.clock.advance(55)
        await until(lambda: d.status("lost") == "cancelled", what="given up")
        assert "expired or never landed" in d.orders("lost")[-1].reason


async def test_collateral_is_added_and_taken_out_of_the_position_through_the_risk_engine(rig, tmp_path):
    async with Desk(rig, tmp_path, RiskLimits(max_leverage=3)) as d:
        assert (await d.router.submit(OrderIntent("jupiter", "SOL-PERP", "buy", "market", 2 * SOL, client_id="o"))).ok
        await rig.program.land()
        await rig.keeper.execute(rig.program.request("create_increase_position_market_request"), SOL_PRICE)
        await until(lambda: d.status("o") == "filled", what="the long opened")
        await until(lambda: d.venue.feed.account.reports, what="the position read")
        ack = await d.router.change_collateral("jupiter", "SOL-PERP", 59_000_000)  # the long: the market's one position
        assert ack.ok, ack.message
        name, params = sent_instruction(rig)
        assert name == "create_increase_position_market_request"
        assert params["size_usd_delta"] == 0 and params["collateral_token_delta"] == SOL // 2  # $59 of SOL
        await rig.program.land()
        await rig.keeper.execute(rig.program.request("create_increase_position_market_request"), SOL_PRICE)
        await until(lambda: d.status(ack.order.order_id) == "filled", what="deposited")
        assert d.paper.journal.risk_events()[-1].accepted
        # equity: the wallet's $2,180 and the position's $177 of collateral (less its close fee), about $2,357;
        # at 0.105x the $236 long needs $2,248 of it: $150 out is too much, $20 is fine
        d.router.risk.limits = RiskLimits(max_leverage=Decimal("0.105"))
        refused = await d.router.change_collateral("jupiter", "SOL-PERP", -150_000_000, "long")
        assert not refused.ok and refused.decision.check == "max_leverage"
        assert "taking out $150.00 would leave account leverage at 0.11x, over the max leverage 0.10x" in refused.message, \
            refused.message
        ok = await d.router.change_collateral("jupiter", "SOL-PERP", -20_000_000, "long")
        assert ok.ok, ok.message
        name, params = sent_instruction(rig)
        assert name == "create_decrease_position_market_request" and params["collateral_usd_delta"] == 20_000_000
        d.session.cache.positions.pop(("jupiter", "SOL-PERP"), None)  # as if the long were closed
        with pytest.raises(VenueError, match="no open SOL-PERP position on jupiter"):
            await d.router.change_collateral("jupiter", "SOL-PERP", 1_000_000)
