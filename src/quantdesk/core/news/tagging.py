"""Which listed assets a headline mentions.

A listed market's base asset is matched as a whole word in its ticker's own
case: "SOL", "$SOL", "SOL-PERP" and "SOL's" mention SOL; "SOLUTION" and
"console" do not. A ticker of one or two letters ("W", "ME") is too common a
word in capitals to match bare, so it counts only as "$W" or "W-PERP". A few
assets are also known by name ("Solana", "Bitcoin"), matched in any case. A
base with a size prefix (Drift's 1MBONK) is matched as the asset traders name
(BONK) and tagged as listed (1MBONK), so the tag filters and alerts by what
the venue lists.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from quantdesk.core.model import Market

# Names headlines use instead of the ticker (only for assets a venue lists).
NAMES: dict[str, tuple[str, ...]] = {
    "SOL": ("Solana",),
    "BTC": ("Bitcoin",),
    "ETH": ("Ethereum", "Ether"),
    "DOGE": ("Dogecoin",),
    "AVAX": ("Avalanche",),
    "LINK": ("Chainlink",),
    "XRP": ("Ripple",),
}
_SIZE_PREFIX = re.compile(r"^1[KM](?=[A-Z]{3,})")
_EDGE_L = r"(?<![A-Za-z0-9_$])"
_EDGE_R = r"(?![A-Za-z0-9_])"


def traded_name(base: str) -> str:
    """``1MBONK`` -> ``BONK``: the asset a base with a size prefix stands for."""
    return _SIZE_PREFIX.sub("", base.upper())


def asset_of(word: str, markets: Iterable[Market] = ()) -> str | None:
    """The listed base asset ``word`` names (``sol``, ``SOL-PERP``, ``BONK``);
    None when no listed market has it. With no markets, any ticker-shaped word
    is taken upper-cased (``SOL-PERP`` -> ``SOL``)."""
    w = word.strip().upper().lstrip("$")
    listed = list(markets)
    if not listed:
        base = w.split("-", 1)[0]
        return base if re.fullmatch(r"[A-Z0-9]{1,16}", base) else None
    for m in listed:
        if w in (m.symbol.upper(), m.base.upper(), traded_name(m.base)):
            return m.base.upper()
    return None


class SymbolMatcher:
    """Finds the listed assets a text mentions, in the order it mentions them."""

    def __init__(self, markets: Iterable[Market] = ()) -> None:
        bases = sorted({m.base.upper() for m in markets if m.base})
        self.assets: tuple[str, ...] = tuple(bases)
        self._codes: dict[str, str] = {}  # a code a source may tag with -> the listed base
        alternatives: list[str] = []
        self._group: dict[str, str] = {}
        for i, base in enumerate(bases):
            ticker = traded_name(base)
            self._codes[base] = base
            self._codes[ticker] = base
            tickers = sorted({base, ticker}, key=len, reverse=True)
            words = "|".join(re.escape(t) for t in tickers)
            if len(ticker) <= 2:
                ticker_part = rf"\$(?:{words}){_EDGE_R}|{_EDGE_L}(?:{words})-PERP{_EDGE_R}"
            else:
                ticker_part = rf"\$?(?:{words}){_EDGE_R}"
            names = NAMES.get(ticker, ())
            name_part = "|".join(rf"(?i:{re.escape(n)})" for n in names)
            pattern = rf"{_EDGE_L}(?:{ticker_part}{'|' + name_part if name_part else ''}){_EDGE_R}"
            group = f"a{i}"
            self._group[group] = base
            alternatives.append(f"(?P<{group}>{pattern})")
        self._pattern = re.compile("|".join(alternatives)) if alternatives else None

    def mentions(self, text: str, codes: Iterable[str] = ()) -> tuple[str, ...]:
        """Listed assets ``text`` names, then those of ``codes`` (a source's own
        tags) it did not, each once."""
        found: dict[str, None] = {}
        if self._pattern is not None and text:
            for m in self._pattern.finditer(text):
                if m.lastgroup is not None:
                    found.setdefault(self._group[m.lastgroup], None)
        for code in codes:
            base = self._codes.get(code.strip().upper().lstrip("$"))
            if base is not None:
                found.setdefault(base, None)
        return tuple(found)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SymbolMatcher) and other.assets == self.assets

    def __hash__(self) -> int:
        return hash(self.assets)


def watched_assets(symbols: Iterable[str], markets: Mapping[str, Market]) -> frozenset[str]:
    """The base assets of market symbols (a watchlist, open positions)."""
    out = set()
    for s in symbols:
        m = markets.get(s)
        out.add(m.base.upper() if m is not None else s.split("-", 1)[0].upper())
    return frozenset(out)
