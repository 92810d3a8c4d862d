"""Short words for markets on the command line: each market's base asset
(``sol`` -> ``SOL-PERP``) when only one market has it, plus the trader's own
``[aliases]`` from the configuration (which win)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from quantdesk.core.model import Market


def market_aliases(markets: Iterable[Market], configured: Mapping[str, str] | None = None) -> dict[str, str]:
    """WORD (upper case) -> canonical market symbol. A base shared by several
    markets (``SOL-PERP`` and ``SOL-SPOT``) names the perp if there is one,
    else none of them; a configured alias for an unknown market is left out."""
    by_base: dict[str, set[str]] = {}
    symbols: dict[str, str] = {}
    for m in markets:
        by_base.setdefault(m.base.upper(), set()).add(m.symbol)
        symbols[m.symbol.upper()] = m.symbol
    out: dict[str, str] = {}
    for base, names in by_base.items():
        if base in symbols:
            continue  # the word is a market's own name
        perps = sorted(n for n in names if n.upper().endswith("-PERP"))
        if len(names) == 1:
            out[base] = next(iter(names))
        elif len(perps) == 1:
            out[base] = perps[0]
    for word, market in (configured or {}).items():
        target = symbols.get(market.upper())
        if target is not None:
            out[word.upper()] = target
    return out


def unknown_aliases(markets: Iterable[Market], configured: Mapping[str, str]) -> list[str]:
    """The configured aliases whose market no venue lists, as ``word = market``."""
    known = {m.symbol.upper() for m in markets}
    return [f"{w} = {m}" for w, m in configured.items() if m.upper() not in known]
