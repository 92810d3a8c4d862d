"""Every market: the deployment's markets read from the real mainnet
PerpMarket/SpotMarket accounts in tests/fixtures (over getProgramAccounts on
the local RPC node), the config reduced to a watchlist and per-market
overrides, the old static list still accepted with a note saying what to
write instead, and in the terminal: the palette and ``[``/``]`` move through
the watchlist while the command line opens any listed market."""

from __future__ import annotations

import asyncio
import base64
import time

import pytest

from support.app import until_shown
from support.drift_chain import LINES, pk, raw
from support.drift_servers import SOL, local
from quantdesk.console.app import QuantDeskApp
from quantdesk.console.palette import palette_entries
from quantdesk.console.panes.depth import DepthPane
from quantdesk.core.venue import FollowsMarkets
from quantdesk.venues.drift.config import DriftDeployment, MarketSpec, default_deployment
from quantdesk.venues.drift.discovery import listed_markets
from quantdesk.venues.drift.idl import AccountDecoder, bundled_idl_path
from quantdesk.venues.drift.market_list import MarketOverride, from_listing, resolve
from quantdesk.venues.drift.venue import DriftVenue
from quantdesk.venues.session import Session

# The perp markets of the fixture accounts, by index (decoded from the real bytes).
CHAIN_PERPS = {"SOL-PERP": 0, "BTC-PERP": 1, "ETH-PERP": 2, "1MBONK-PERP": 4, "SUI-PERP": 9, "XRP-PERP": 13,
               "WIF-PERP": 23, "JUP-PERP": 24}


def market_accounts() -> list[tuple[str, bytes]]:
    return [(pk(raw(n), 8), raw(n)) for n, x in enumerate(LINES) if x["account"] in ("PerpMarket", "SpotMarket")]


@pytest.fixture(scope="module")
def listing() -> list[MarketSpec]:
    markets, problems = listed_markets(AccountDecoder(bundled_idl_path().read_text()), market_accounts())
    assert problems == []
    return from_listing(markets)


def on_chain(servers) -> tuple:
    """The local servers holding the fixture market accounts, the DLOB server knowing every listed perp."""
    ws, http = servers
    for key, data in market_accounts():
        http.accounts[key] = base64.b64encode(data).decode()
    http.books.markets.update(CHAIN_PERPS)
    return ws, http


def test_the_listing_is_every_tradable_perp_with_its_chain_steps(listing):
    assert {m.symbol: m.index for m in listing} == CHAIN_PERPS  # spot markets are not streamed as perps
    wif = next(m for m in listing if m.symbol == "WIF-PERP")
    assert (wif.tick_size, wif.lot_size) == (100, 1_000_000_000)


def test_watchlist_and_overrides_resolve_against_the_listing(listing):
    got = resolve(
        "drift",
        ["wif-perp", "SOL-PERP", "BONK-PERP", "DOGE-PERP"],
        {"1MBONK-PERP": MarketOverride(name="BONK-PERP", lot_size=2_000_000_000), "SOL-PERP": MarketOverride(tick_size=1000)},
        listing=listing,
    )
    # In the trader's order; a renamed market keeps the name the DLOB server knows.
    assert [(m.symbol, m.index, m.tick_size, m.lot_size, m.wire_name) for m in got.watched] == [
        ("WIF-PERP", 23, 100, 1_000_000_000, "WIF-PERP"),
        ("SOL-PERP", 0, 1000, 10_000_000, "SOL-PERP"),
        ("BONK-PERP", 4, 100, 2_000_000_000, "1MBONK-PERP"),
    ]
    assert len(got.listed) == 8 and got.market("JUP-PERP") is not None and got.from_chain
    assert got.problems == ('drift: the watchlist names DOGE-PERP, which drift does not list; did you mean "SOL-PERP"?',)


def test_without_a_listing_the_known_markets_and_indexed_overrides_stand_in():
    got = resolve("velocity", ["SOL-PERP", "JTO-PERP", "WIF-PERP"], {"JTO-PERP": MarketOverride(index=20, lot_size=10**9)})
    assert [(m.symbol, m.index, m.lot_size) for m in got.watched] == [("SOL-PERP", 0, 10**7), ("JTO-PERP", 20, 10**9)]
    assert not got.from_chain and "WIF-PERP" in got.problems[0]
    bad = resolve("drift", ["SOL-PERP"], {"SOLL-PERP": MarketOverride(tick_size=5)})
    assert bad.problems == ('drift: overrides.SOLL-PERP names a market drift does not list; did you mean "SOL-PERP"? '
                            "Or give its index to add it by hand.",)


def test_the_old_static_list_still_works_and_says_what_to_write_instead():
    d = DriftDeployment(**{**default_deployment("drift").model_dump(),
                           "markets": [{"symbol": "SOL-PERP", "index": 0}, {"symbol": "NOPE-PERP", "index": 9, "lot_size": 5}]})
    assert [(m.symbol, m.index, m.lot_size) for m in d.watched] == [("SOL-PERP", 0, 10_000_000), ("NOPE-PERP", 9, 5)]
    [note] = d.deprecations()
    assert note.startswith("venues.drift.markets is deprecated") and 'watchlist = ["SOL-PERP", "NOPE-PERP"]' in note
    assert default_deployment("drift").deprecations() == []


def test_config_validate_takes_watchlist_and_overrides_and_notes_the_old_list(tmp_path, capsys):
    from quantdesk import cli

    good = tmp_path / "good.toml"
    good.write_text('[venues.drift]\nwatchlist = ["SOL-PERP", "WIF-PERP"]\n'
                    '[venues.drift.overrides."1MBONK-PERP"]\nname = "BONK-PERP"\ntick_size = 1000\n')
    assert cli.main(["config", "validate", "--config", str(good)]) == 0
    assert "note" not in capsys.readouterr().out
    old = tmp_path / "old.toml"
    old.write_text('[venues.drift]\n[[venues.drift.markets]]\nsymbol = "SOL-PERP"\nindex = 0\n')
    assert cli.main(["config", "validate", "--config", str(old)]) == 0
    out = capsys.readouterr().out
    assert "configuration OK" in out and "note: venues.drift.markets is deprecated" in out
    typo = tmp_path / "typo.toml"
    typo.write_text('[venues.drift.overrides."SOL-PERP"]\ntick = 5\n')
    assert cli.main(["config", "validate", "--config", str(typo)]) == 1
    assert 'venues.drift.overrides.SOL-PERP.tick: unknown key (did you mean "tick_size"?)' in capsys.readouterr().err


async def test_the_venue_streams_its_watchlist_from_the_chain_listing_and_follows_any_listed_market(servers):
    ws, http = on_chain(servers)
    venue = DriftVenue(local(ws, http, discover_markets=True, watchlist=[SOL, "WIF-PERP", "BONK-PERP"],
                             overrides={"1MBONK-PERP": {"name": "BONK-PERP"}}))
    session = Session([venue], time.time_ns)
    assert isinstance(venue, FollowsMarkets)
    await session.start()
    try:
        cache = session.cache
        assert [(m.symbol, m.index, m.lot_size) for m in session.markets] == [
            (SOL, 0, 10_000_000), ("WIF-PERP", 23, 1_000_000_000), ("BONK-PERP", 4, 1_000_000_000)]
        assert {s for _, s in session.listed} == set(CHAIN_PERPS) - {"1MBONK-PERP"} | {"BONK-PERP"}
        assert session.can_follow("JUP-PERP") and not session.can_follow(SOL) and not session.can_follow("DOGE-PERP")
        [jup] = await session.follow("JUP-PERP")
        assert (jup.symbol, jup.index) == ("JUP-PERP", 24) and ("drift", "JUP-PERP") in cache.markets
        deadline = time.monotonic() + 8
        while cache.book("drift", "JUP-PERP") is None and time.monotonic() < deadline:
            await asyncio.sleep(0.02)
        assert cache.book("drift", "JUP-PERP") is not None, "no JUP-PERP book after following it"
        subscribed = {(m.get("channel"), m.get("market")) for m in ws.subscribes}
        assert {("orderbook", "JUP-PERP"), ("trades", "JUP-PERP"), ("orderbook", "WIF-PERP")} <= subscribed
        # A renamed market is asked for by the name the DLOB server knows, shown under the override's.
        assert ("orderbook", "1MBONK-PERP") in subscribed and cache.book("drift", "BONK-PERP") is not None
        assert venue.health.malformed == 0
        assert ("orderbook", "BTC-PERP") not in subscribed  # listed, not watched: not streamed
    finally:
        await session.stop()


async def test_an_unreadable_listing_falls_back_to_the_known_markets_and_says_so(servers):
    ws, http = servers
    http.fail_500 = 10**6  # the RPC node fails every call
    venue = DriftVenue(local(ws, http, discover_markets=True, watchlist=[SOL, "WIF-PERP"], http_timeout_s=1.0))
    markets = await venue.connect()
    await venue.close()
    assert [m.symbol for m in markets] == [SOL]
    assert "WIF-PERP" in venue.health.last_error and venue.health.errors >= 1


async def test_palette_and_brackets_move_through_the_watchlist_and_the_command_line_opens_any_listed_market(servers):
    ws, http = on_chain(servers)
    venue = DriftVenue(local(ws, http, discover_markets=True, watchlist=[SOL, "WIF-PERP"]))
    app = QuantDeskApp(Session([venue], time.time_ns), panes=("depth",), columns=1)
    async with app.run_test(size=(160, 40)) as pilot:
        await app.session_started.wait()
        depth = app.query_one(DepthPane)
        depth.focus()
        markets = [name for name, help_text, _cb in palette_entries(app)
                   if name.startswith("market: ") and help_text == "show it in the focused pane"]
        assert markets == ["market: SOL-PERP", "market: WIF-PERP"]  # the watchlist, not all eight
        assert set(CHAIN_PERPS) <= set(app.command_context().markets)  # the command line knows every one
        await pilot.press("right_square_bracket", "right_square_bracket", "right_square_bracket")
        assert depth.market == "WIF-PERP"
        await pilot.press("colon", *"JUP-PERP", "enter")
        await until_shown(app, pilot, lambda: depth.market == "JUP-PERP" and
                          app.session.cache.book("drift", "JUP-PERP") is not None, what="JUP-PERP's book")
        assert "JUP-PERP" in depth.border_title
