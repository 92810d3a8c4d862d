"""Property tests of the simulated CLOB's matching engine against a plain
reference book: conservation of size, price-time priority, no fill through a
post-only order, and consistent level totals, over random order flows."""

from hypothesis import example, given, settings
from hypothesis import strategies as st

from quantdesk.venues.sim.matching import MatchingEngine

# a narrow grid so orders stack at the same levels and fills are partial
PRICES = st.integers(min_value=98, max_value=102)
SIZES = st.integers(min_value=1, max_value=10)

submit_op = st.tuples(
    st.just("submit"),
    st.sampled_from(["buy", "sell"]),
    SIZES,
    st.one_of(PRICES, PRICES, PRICES, st.none()),  # None: market order
    st.booleans(),  # post_only
    st.booleans(),  # ioc
    st.sampled_from(["a", "b"]),
)
cancel_op = st.tuples(st.just("cancel"), st.integers(min_value=0, max_value=60))
amend_op = st.tuples(
    st.just("amend"), st.integers(min_value=0, max_value=60), st.one_of(st.none(), PRICES), st.one_of(st.none(), SIZES)
)
pull_op = st.tuples(st.just("pull"), st.sampled_from(["a", "b"]), st.sampled_from(["buy", "sell"]), PRICES, SIZES)
OPS = st.lists(st.one_of(submit_op, submit_op, submit_op, cancel_op, amend_op, pull_op), min_size=1, max_size=60)


class ReferenceBook:
    """The obvious, slow implementation: a list of resting orders kept in
    arrival order; matching sorts by (price, arrival)."""

    def __init__(self):
        self.resting = []  # dicts: id, owner, side, price, remaining, seq
        self.seq = 0

    def best(self, side):
        prices = [o["price"] for o in self.resting if o["side"] == side]
        if not prices:
            return None
        return max(prices) if side == "buy" else min(prices)

    def submit(self, oid, owner, side, size, price, post_only=False, ioc=False):
        opp = "sell" if side == "buy" else "buy"
        best = self.best(opp)
        crosses = best is not None and (price is None or (price >= best if side == "buy" else price <= best))
        if post_only and (crosses or price is None):
            return None
        matches = []
        book = sorted(
            (o for o in self.resting if o["side"] == opp),
            key=lambda o: (o["price"] if side == "buy" else -o["price"], o["seq"]),
        )
        remaining = size
        for maker in book:
            if not remaining:
                break
            if price is not None and (maker["price"] > price if side == "buy" else maker["price"] < price):
                break
            take = min(remaining, maker["remaining"])
            maker["remaining"] -= take
            remaining -= take
            matches.append((maker["id"], oid, maker["price"], take))
        self.resting = [o for o in self.resting if o["remaining"]]
        if remaining and price is not None and not ioc:
            self.seq += 1
            self.resting.append(dict(id=oid, owner=owner, side=side, price=price, remaining=remaining, seq=self.seq))
        return matches

    def find(self, oid):
        return next((o for o in self.resting if o["id"] == oid), None)

    def cancel(self, oid):
        o = self.find(oid)
        if o:
            self.resting.remove(o)
        return o

    def amend(self, oid, price, size):
        o = self.find(oid)
        if o is None:
            return None
        new_price = o["price"] if price is None else price
        new_size = o["remaining"] if size is None else size
        if new_price == o["price"] and new_size <= o["remaining"]:
            o["remaining"] = new_size
            self.resting = [r for r in self.resting if r["remaining"] > 0]
            return []
        self.cancel(oid)
        return self.submit(oid, o["owner"], o["side"], new_size, new_price)

    def pull(self, owner, side, price, qty):
        for o in sorted(
            (o for o in self.resting if o["owner"] == owner and o["side"] == side and o["price"] == price),
            key=lambda o: -o["seq"],
        ):
            if not qty:
                break
            cut = min(o["remaining"], qty)
            o["remaining"] -= cut
            qty -= cut
        self.resting = [o for o in self.resting if o["remaining"]]

    def levels(self, side):
        totals = {}
        for o in self.resting:
            if o["side"] == side:
                totals[o["price"]] = totals.get(o["price"], 0) + o["remaining"]
        return sorted(totals.items(), reverse=(side == "buy"))


def check_invariants(eng: MatchingEngine, ref: ReferenceBook):
    bids, asks = eng.levels()
    assert bids == ref.levels("buy")
    assert asks == ref.levels("sell")
    if bids and asks:
        assert bids[0][0] < asks[0][0], "the book is crossed"
    for side, book in (("buy", eng.bids), ("sell", eng.asks)):
        for price, queue in book.queues.items():
            assert book.totals[price] == sum(o.remaining for o in queue) > 0
            assert all(o.side == side and o.price == price for o in queue)
    assert set(eng.orders) == {o["id"] for o in ref.resting}


@settings(max_examples=400, deadline=None)
@given(OPS)
@example(  # queue order inside one level: the older maker fills first
    [("submit", "sell", 5, 100, False, False, "a"), ("submit", "sell", 5, 100, False, False, "b"),
     ("submit", "buy", 3, None, False, False, "b")]
)
def test_engine_matches_the_reference_book(ops):
    eng, ref = MatchingEngine(), ReferenceBook()
    n = 0
    for op in ops:
        if op[0] == "submit":
            _, side, size, price, post_only, ioc, owner = op
            oid = f"o{n}"
            n += 1
            before = dict(eng.levels()[1 if side == "buy" else 0])
            res = eng.submit(oid, owner, side, size, price, post_only=post_only, ioc=ioc)
            expected = ref.submit(oid, owner, side, size, price, post_only, ioc)
            if expected is None:  # post-only that would take: refused, nothing traded
                assert res.rejected and not res.matches and res.rested == 0
            else:
                assert not res.rejected
                got = [(m.maker_order_id, m.taker_order_id, m.price, m.size) for m in res.matches]
                assert got == expected  # price-time priority, exactly
                # conservation: what traded + what rests never exceeds the order, and a
                # resting limit order keeps all of it
                assert res.filled + res.rested <= size
                if price is not None and not ioc:
                    assert res.filled + res.rested == size
                if price is None or ioc:
                    assert res.rested == 0
                # no fill through the limit, every fill at a level that was there
                for m in res.matches:
                    assert price is None or (m.price <= price if side == "buy" else m.price >= price)
                    assert m.price in before
                if post_only:
                    assert not res.matches
        elif op[0] == "cancel":
            oid = f"o{op[1]}"
            res = eng.cancel(oid)
            assert bool(res.rejected) == (ref.cancel(oid) is None)
        elif op[0] == "amend":
            _, i, price, size = op
            oid = f"o{i}"
            res = eng.amend(oid, price=price, size=size)
            expected = ref.amend(oid, price, size)
            if expected is None:
                assert res.rejected
            else:
                assert [(m.maker_order_id, m.taker_order_id, m.price, m.size) for m in res.matches] == expected
        else:
            _, owner, side, price, qty = op
            eng.pull(owner, side, price, qty)
            ref.pull(owner, side, price, qty)
        check_invariants(eng, ref)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["buy", "sell"]), SIZES, PRICES), min_size=1, max_size=40), SIZES)
def test_size_is_conserved_across_a_sweep(resting, sweep):
    """Everything submitted is either resting, traded (counted once on each
    side) or was cancelled as an IOC remainder."""
    eng = MatchingEngine()
    submitted = traded = 0
    for i, (side, size, price) in enumerate(resting):
        res = eng.submit(f"r{i}", "a", side, size, price)
        submitted += size
        traded += 2 * res.filled
    for side in ("buy", "sell"):
        res = eng.submit(f"sweep-{side}", "b", side, sweep, None)
        submitted += sweep
        traded += 2 * res.filled
        ioc_cancelled = sweep - res.filled
        submitted -= ioc_cancelled
    bids, asks = eng.levels()
    assert submitted == traded + sum(s for _, s in bids) + sum(s for _, s in asks)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["buy", "sell"]), SIZES, PRICES, st.booleans()), min_size=1, max_size=40))
def test_post_only_never_takes(orders):
    eng = MatchingEngine()
    for i, (side, size, price, post_only) in enumerate(orders):
        best_opp = eng.best_ask() if side == "buy" else eng.best_bid()
        res = eng.submit(f"o{i}", "a", side, size, price, post_only=post_only)
        if post_only:
            assert not res.matches
            would_cross = best_opp is not None and (price >= best_opp if side == "buy" else price <= best_opp)
            assert bool(res.rejected) == would_cross
            assert res.rested == (0 if would_cross else size)
