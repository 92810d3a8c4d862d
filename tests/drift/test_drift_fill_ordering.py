"""An order's fills reach QuantDesk twice: as fill records on the DLOB trades
channel and in the User account (its filled amount, the slot cleared once
filled). Whatever order they arrive in, and however often a record repeats,
each fill is published and journaled once, the order shows as filled the
moment either source says all of it filled, and it ends filled with the
amount filled, never more."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from support.drift_chain import user_bytes
from support.drift_servers import SOL, fill_record
from quantdesk.core.model import Order
from quantdesk.trading.journal import Journal
from quantdesk.venues.drift import wire
from quantdesk.venues.drift.idl import AccountDecoder, bundled_idl_path
from quantdesk.venues.drift.order_state import OrderStates, chain_orders

USER = "DXHpL2cCjm3CtMSJk9js8TdigSCUNMAs4MipvNKGrmtq"
NOW = 1_732_400_000
LOT = 100_000_000  # fills are whole lots of 0.1 SOL


@pytest.fixture(scope="module")
def decoder() -> AccountDecoder:
    return AccountDecoder(bundled_idl_path().read_text())


@st.composite
def histories(draw):
    """An order's size, its fills in chain order, and the arrival of every
    fill record (some twice) and account update (in slot order, the account
    first showing the order or not) interleaved at random."""
    lots = draw(st.lists(st.integers(1, 5), min_size=1, max_size=5))
    size = sum(lots) + draw(st.sampled_from([0, 0, 2]))  # mostly filled in full, sometimes not
    records = [("fill", n) for n in range(len(lots))]
    records += [("fill", n) for n in draw(st.lists(st.sampled_from(range(len(lots))), max_size=3))]  # repeats
    # the account after 0..k fills, ending with all of them; its first states may never be seen
    accounts = [("account", k) for k in range(draw(st.integers(0, len(lots))), len(lots) + 1)]
    records = draw(st.permutations(records))
    # merge keeping the accounts in slot order
    merged, a, r = [], 0, 0
    for take_account in draw(st.permutations([True] * len(accounts) + [False] * len(records))):
        if take_account:
            merged.append(accounts[a])
            a += 1
        else:
            merged.append(records[r])
            r += 1
    return size * LOT, [x * LOT for x in lots], merged


def record(n: int, lots: list[int], *, cumulative: bool) -> wire.TradeRecord:
    base = lots[n] / 1e9
    rec = fill_record(9000 + n, base=base, quote=base * 176) | {"taker": USER, "takerOrderId": 14}
    if cumulative:
        rec["takerOrderCumulativeBaseAssetAmountFilled"] = sum(lots[: n + 1]) / 1e9
    else:
        rec.pop("takerOrderCumulativeBaseAssetAmountFilled")
    return wire.decode_trades(json.dumps(rec))[0]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                  HealthCheck.function_scoped_fixture])
@given(history=histories(), cumulative=st.booleans())
def test_any_arrival_order_counts_each_fill_once_and_ends_filled(decoder, tmp_path_factory, history, cumulative):
    size, lots, arrivals = history
    states = OrderStates("drift", USER, {0: SOL})
    tracked = {"drift:a": (7, Order("drift", SOL, "drift:a", "buy", "limit", size, price=176_000_000,
                                    status="pending"))}
    states.sent("drift:a", 14)
    journal = Journal.open(tmp_path_factory.mktemp("j") / "journal.sqlite3")
    journal.record_order(tracked["drift:a"][1])
    published_fills, seen, shown = [], set(), []
    try:
        for kind, n in arrivals:
            if kind == "fill":
                seen.add(n)
                fills, changed = states.on_fill(tracked, record(n, lots, cumulative=cumulative))
                published_fills += fills
            else:
                filled = sum(lots[:n])
                slots = {5: {}} if filled == size else {5: dict(order_id=14, user_order_id=7, size=size,
                                                                 filled=filled)}
                _, user = decoder.decode(user_bytes(slots, 15))
                fills, changed = [], states.on_user(tracked, chain_orders(user), int(user.next_order_id), NOW)
            for ev in [*fills, *changed]:
                (journal.record_fill if ev in fills else journal.record_order)(ev)
            order = tracked["drift:a"][1]
            shown.append(order.filled)
            assert order.filled <= sum(lots), "never more than filled"
            known = sum(lots[i] for i in seen)
            if cumulative and seen:
                known = max(known, sum(lots[: max(seen) + 1]))
            if known >= size:
                assert order.status == "filled", "filled the moment the fills cover the order"
        order = tracked["drift:a"][1]
        assert order.filled == sum(lots)
        assert order.status == ("filled" if sum(lots) == size else "open")
        assert sorted(f.fill_id for f in published_fills) == [f"0:{9000 + n}:taker" for n in range(len(lots))]
        assert shown == sorted(shown), "the filled amount never goes back"
        journaled = journal.order("drift", "drift:a")
        assert (journaled.status, journaled.filled) == (order.status, order.filled)
        assert sum(f.size for f in journal.fills()) == sum(lots)
    finally:
        journal.close()
