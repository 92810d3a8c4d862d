"""Order state follows the trader's User account (real mainnet layout, slots
rewritten as the program writes them) and the fills stream: open, partially
filled, triggered, filled, cancelled and expired within one account change;
own fills matched to own orders."""

from __future__ import annotations

import json

import pytest

from support.drift_chain import user_bytes
from support.drift_servers import fill_record
from quantdesk.core.model import Order
from quantdesk.venues.drift import wire
from quantdesk.venues.drift.idl import AccountDecoder, bundled_idl_path
from quantdesk.venues.drift.order_state import OrderStates, chain_orders

USER = "DXHpL2cCjm3CtMSJk9js8TdigSCUNMAs4MipvNKGrmtq"  # the trader's User account address in fill records
SOL = "SOL-PERP"
NOW = 1_732_400_000


@pytest.fixture(scope="module")
def decoder() -> AccountDecoder:
    return AccountDecoder(bundled_idl_path().read_text())


def account(decoder, orders, next_order_id):
    _, user = decoder.decode(user_bytes(orders, next_order_id))
    return chain_orders(user), int(user.next_order_id)


def pending(order_id: str = "drift:a", size: int = 3_000_000_000) -> Order:
    return Order("drift", SOL, order_id, "buy", "limit", size, price=176_000_000, status="pending")


def states() -> OrderStates:
    return OrderStates("drift", USER, {0: SOL})


def test_the_fixture_accounts_own_open_orders_decode(decoder):
    orders, next_id = account(decoder, {}, 14)
    assert next_id == 14
    assert [(o.order_id, o.market_index, o.size, o.filled) for o in orders][:2] == [(10, 0, 700_000_000, 0),
                                                                                   (11, 0, 3_000_000_000, 0)]


def test_pending_becomes_open_then_partly_filled_then_cancelled_on_chain(decoder):
    st, tracked = states(), {"drift:a": (7, pending())}
    st.sent("drift:a", 14)
    # the transaction has not landed: nothing changes
    assert st.on_user(tracked, *account(decoder, {}, 14), NOW) == []
    [opened] = st.on_user(tracked, *account(decoder, {5: dict(order_id=14, user_order_id=7, size=3_000_000_000)}, 15), NOW)
    assert (opened.status, opened.filled) == ("open", 0) and tracked["drift:a"][1] == opened
    assert st.drift_order_id("drift:a") == 14
    slot = dict(order_id=14, user_order_id=7, size=3_000_000_000, filled=1_000_000_000)
    [part] = st.on_user(tracked, *account(decoder, {5: slot}, 15), NOW)
    assert (part.status, part.filled) == ("open", 1_000_000_000)
    assert st.on_user(tracked, *account(decoder, {5: slot}, 15), NOW) == []  # unchanged: nothing to publish
    [gone] = st.on_user(tracked, *account(decoder, {5: {}}, 15), NOW)
    assert gone.status == "cancelled" and gone.reason == "cancelled on chain; 1000000000 of 3000000000 filled"


def test_an_order_that_left_the_account_is_filled_when_its_fills_cover_it(decoder):
    st, tracked = states(), {"drift:a": (7, pending(size=500_000_000))}
    st.sent("drift:a", 14)
    st.on_user(tracked, *account(decoder, {5: dict(order_id=14, user_order_id=7, size=500_000_000)}, 15), NOW)
    [gone] = st.on_user(tracked, *account(decoder, {5: {}}, 15), NOW)
    assert gone.status == "cancelled"  # the fill has not arrived yet
    rec = fill_record(9001, direction="long") | {"takerOrderId": 14, "taker": USER}
    fills, changed = st.on_fill(tracked, wire.decode_trades(json.dumps(rec))[0])
    [fill] = fills
    assert (fill.order_id, fill.fill_id, fill.side, fill.size, fill.price, fill.fee, fill.liquidity) == (
        "drift:a", "0:9001:taker", "buy", 500_000_000, 176_543_200, 44_100, "taker")
    assert [(o.status, o.filled) for o in changed] == [("filled", 500_000_000)]
    assert tracked["drift:a"][1].status == "filled"


def test_a_market_order_filled_within_one_notification_is_matched_by_its_predicted_id(decoder):
    st, tracked = states(), {"drift:m": (9, pending("drift:m", size=500_000_000))}
    st.sent("drift:m", 14)
    [gone] = st.on_user(tracked, *account(decoder, {}, 15), NOW)  # landed and already gone
    assert gone.status == "cancelled"
    rec = fill_record(9002) | {"takerOrderId": 14, "taker": USER}
    fills, changed = st.on_fill(tracked, wire.decode_trades(json.dumps(rec))[0])
    assert fills[0].order_id == "drift:m" and changed[0].status == "filled"


def test_an_order_past_its_max_ts_that_left_the_account_expired(decoder):
    st, tracked = states(), {"drift:a": (7, pending())}
    st.sent("drift:a", 14)
    st.on_user(tracked, *account(decoder, {5: dict(order_id=14, user_order_id=7, size=3_000_000_000,
                                                   max_ts=NOW + 30)}, 15), NOW)
    [gone] = st.on_user(tracked, *account(decoder, {5: {}}, 15), NOW + 31)
    assert (gone.status, gone.reason) == ("cancelled", "expired")


def test_a_trigger_order_shows_triggered(decoder):
    st, tracked = states(), {"drift:s": (3, pending("drift:s"))}
    slot = dict(order_id=20, user_order_id=3, size=3_000_000_000, triggered=True)
    [trig] = st.on_user(tracked, *account(decoder, {6: slot}, 21), NOW)
    assert trig.status == "triggered"


def test_maker_fills_and_fills_of_orders_placed_elsewhere_are_own_fills(decoder):
    st, tracked = states(), {}
    rec = fill_record(77, taker=False, direction="short") | {"maker": USER, "makerOrderId": 12}
    fills, changed = st.on_fill(tracked, wire.decode_trades(json.dumps(rec))[0])
    [f] = fills
    assert (f.order_id, f.side, f.liquidity, f.fee) == ("drift:12", "sell", "maker", -4_400) and changed == []
    # someone else's fill is not ours
    assert st.on_fill(tracked, wire.decode_trades(json.dumps(fill_record(78)))[0]) == ([], [])
    # a self-trade is two fills, one per side, with distinct ids
    both = fill_record(79) | {"maker": USER, "taker": USER}
    assert [x.fill_id for x in st.on_fill(tracked, wire.decode_trades(json.dumps(both))[0])[0]] == [
        "0:79:taker", "0:79:maker"]


def test_cancelled_and_filled_orders_are_left_alone(decoder):
    st = states()
    done = Order("drift", SOL, "drift:x", "buy", "limit", 1, status="cancelled", reason="cancelled by the trader")
    tracked = {"drift:x": (4, done)}
    st.sent("drift:x", 14)
    assert st.on_user(tracked, *account(decoder, {}, 15), NOW) == []
    assert tracked["drift:x"][1] is done


# -- a fill record and the account update describe the same fill ----------------

def own(fill_id: int, drift_order_id: int = 14, *, base: float = 0.5,
        cumulative: float | None = None) -> wire.TradeRecord:
    """Our taker fill of Drift order ``drift_order_id``; ``cumulative``: the
    order's filled amount the record states (None: the record leaves it out)."""
    rec = fill_record(fill_id, base=base, quote=base * 176) | {"taker": USER, "takerOrderId": drift_order_id}
    rec.pop("takerOrderCumulativeBaseAssetAmountFilled")
    if cumulative is not None:
        rec["takerOrderCumulativeBaseAssetAmountFilled"] = cumulative
    return wire.decode_trades(json.dumps(rec))[0]


def opened(decoder, size: int = 1_000_000_000):
    """An order of ``size`` sent as Drift order 14 and seen open on chain."""
    st, tracked = states(), {"drift:a": (7, pending(size=size))}
    st.sent("drift:a", 14)
    st.on_user(tracked, *account(decoder, {5: dict(order_id=14, user_order_id=7, size=size)}, 15), NOW)
    assert tracked["drift:a"][1].status == "open"
    return st, tracked


def test_a_fill_record_that_completes_the_order_marks_it_filled_before_the_account_clears_it(decoder):
    st, tracked = opened(decoder)
    fills, changed = st.on_fill(tracked, own(1, base=1.0))
    assert [f.size for f in fills] == [1_000_000_000]
    assert [(o.status, o.filled) for o in changed] == [("filled", 1_000_000_000)]
    # the account update for the same fill: the slot cleared, nothing more to say
    assert st.on_user(tracked, *account(decoder, {5: {}}, 15), NOW) == []
    assert tracked["drift:a"][1].status == "filled"


def test_a_partial_fill_record_shows_at_once_and_the_account_does_not_count_it_again(decoder):
    st, tracked = opened(decoder)
    _, [part] = st.on_fill(tracked, own(1, base=0.4))
    assert (part.status, part.filled) == ("open", 400_000_000)
    slot = dict(order_id=14, user_order_id=7, size=1_000_000_000, filled=400_000_000)
    assert st.on_user(tracked, *account(decoder, {5: slot}, 15), NOW) == [], "the same 0.4, not 0.8"
    _, [done] = st.on_fill(tracked, own(2, base=0.6))
    assert (done.status, done.filled) == ("filled", 1_000_000_000)


def test_the_account_first_then_its_fill_record_counts_the_fill_once(decoder):
    st, tracked = opened(decoder)
    slot = dict(order_id=14, user_order_id=7, size=1_000_000_000, filled=400_000_000)
    [part] = st.on_user(tracked, *account(decoder, {5: slot}, 15), NOW)
    assert part.filled == 400_000_000
    fills, changed = st.on_fill(tracked, own(1, base=0.4))
    assert len(fills) == 1 and changed == [] and tracked["drift:a"][1].filled == 400_000_000


def test_a_fill_record_delivered_twice_is_one_fill(decoder):
    st, tracked = opened(decoder)
    assert st.on_fill(tracked, own(1, base=0.5))[1][0].filled == 500_000_000
    assert st.on_fill(tracked, own(1, base=0.5)) == ([], [])
    assert tracked["drift:a"][1].status == "open" and tracked["drift:a"][1].filled == 500_000_000


def test_the_records_own_cumulative_amount_completes_the_order_when_an_earlier_record_was_missed(decoder):
    st, tracked = opened(decoder)
    _, [done] = st.on_fill(tracked, own(2, base=0.6, cumulative=1.0))  # the 0.4 before it never arrived
    assert (done.status, done.filled) == ("filled", 1_000_000_000)


def test_a_market_order_filled_before_the_account_shows_it_is_filled_by_its_fill_record(decoder):
    st, tracked = states(), {"drift:m": (9, pending("drift:m", size=500_000_000))}
    st.sent("drift:m", 14)
    fills, [done] = st.on_fill(tracked, own(3, base=0.5))
    assert fills[0].order_id == "drift:m" and (done.status, done.filled) == ("filled", 500_000_000)
    assert st.on_user(tracked, *account(decoder, {}, 15), NOW) == []  # landed and gone: the same fill


def test_a_partial_fill_of_an_order_the_account_no_longer_lists_says_how_much_filled(decoder):
    st, tracked = opened(decoder)
    [gone] = st.on_user(tracked, *account(decoder, {5: {}}, 15), NOW)
    assert (gone.status, gone.filled) == ("cancelled", 0)
    _, [late] = st.on_fill(tracked, own(4, base=0.3))
    assert (late.status, late.filled, late.reason) == (
        "cancelled", 300_000_000, "cancelled on chain; 300000000 of 1000000000 filled")
    assert st.on_user(tracked, *account(decoder, {5: {}}, 15), NOW) == []
