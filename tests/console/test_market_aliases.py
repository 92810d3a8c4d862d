"""Market aliases on the command line: ``sol buy 1`` is ``SOL-PERP BUY 1``
(the base asset of the one market that has it), and ``[aliases]`` adds words."""

from __future__ import annotations

from decimal import Decimal

import pytest

from quantdesk.console.aliases import market_aliases, unknown_aliases
from quantdesk.console.cmdline import CommandContext, ParseError, PlaceOrder, parse
from quantdesk.core.model import Market


def mk(symbol: str, base: str) -> Market:
    return Market("sim-drift", symbol, base, "USDC", "clob", tick_size=1_000, lot_size=10_000_000)


MARKETS = [mk("SOL-PERP", "SOL"), mk("BTC-PERP", "BTC"), mk("JTO-PERP", "JTO"), mk("ETH-PERP", "ETH"), mk("ETH-SPOT", "ETH")]


def ctx(configured: dict[str, str] | None = None) -> CommandContext:
    return CommandContext(markets=[m.symbol for m in MARKETS], aliases=market_aliases(MARKETS, configured))


def test_lowercase_base_asset_names_its_market():
    cmd = parse("sol buy 1 mkt", ctx())
    assert cmd == PlaceOrder("SOL-PERP", "buy", Decimal(1), "base", "market")
    assert parse("sol-perp buy 1 mkt", ctx()) == cmd
    with pytest.raises(ParseError) as e:  # the market is known; what is missing is the price
        parse("sol buy 1", ctx())
    assert "missing price" in e.value.message
    assert "(sol buy 1 MKT)" in e.value.message  # the fix, spelled in the trader's own words


def test_a_shared_base_names_the_perp_and_configured_words_win():
    assert market_aliases(MARKETS)["ETH"] == "ETH-PERP"
    assert parse("jito sell 2 mkt", ctx({"jito": "jto-perp"})).market == "JTO-PERP"
    assert market_aliases(MARKETS, {"sol": "BTC-PERP"})["SOL"] == "BTC-PERP"


def test_an_alias_for_an_unknown_market_is_reported_not_used():
    assert unknown_aliases(MARKETS, {"bonk": "BONK-PERP", "jito": "JTO-PERP"}) == ["bonk = BONK-PERP"]
    assert "BONK" not in market_aliases(MARKETS, {"bonk": "BONK-PERP"})
    with pytest.raises(ParseError):
        parse("bonk buy 1 mkt", ctx({"bonk": "BONK-PERP"}))
