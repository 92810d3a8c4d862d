"""``quantdesk show markets [--venue V] [--json]``: every registered venue's markets.

Listed from the configuration (or each venue's documented defaults) without
connecting anywhere, so it answers offline: which symbols, tick and lot sizes
each venue trades, and whether the config turns the venue on.
"""

from __future__ import annotations

import sys
from typing import Any

EXIT_BAD_INPUT = 2


class MarketsError(ValueError):
    pass


def markets_view(settings: Any, venue: str | None = None) -> list[dict[str, Any]]:
    """One row per market; ``venue`` is a venue id (``sim-drift``) or a
    registered name (``sim``, ``drift``)."""
    from quantdesk.venues import registry

    live_on = {n for _, n, _ in registry.configured(settings)} if settings is not None else set()
    rows: list[dict[str, Any]] = []
    for spec in registry.specs():
        for name in spec.names:
            try:
                section = spec.section_or_default(settings, name)
            except registry.RegistryError:
                continue  # needs configuring before it lists anything
            enabled = name in live_on if not spec.simulated else not live_on
            for m in spec.markets(section, name):
                rows.append({
                    "venue": m.venue, "name": name, "market": m.symbol, "base": m.base, "quote": m.quote,
                    "kind": m.kind, "tick_size": m.price(m.tick_size).normalize(), "lot_size": m.size(m.lot_size).normalize(),
                    "index": m.index, "enabled": enabled,
                })
    if venue is not None:
        valid = sorted({str(r["venue"]) for r in rows} | {str(r["name"]) for r in rows})
        if venue not in valid:
            raise MarketsError(f"unknown venue {venue!r}; valid venues: {', '.join(valid)}")
        rows = [r for r in rows if venue in (r["venue"], r["name"])]
    return rows


def render(rows: list[dict[str, Any]]) -> Any:
    from rich.table import Table

    t = Table(title="Markets (● on with this config)", show_edge=False)
    for col in ("", "venue", "market", "kind", "quote", "tick", "lot", "index"):
        t.add_column(col, justify="right" if col in ("tick", "lot", "index") else "left")
    for r in rows:
        t.add_row("●" if r["enabled"] else "", r["venue"], r["market"], r["kind"], r["quote"],
                  f"{r['tick_size'].normalize():f}", f"{r['lot_size'].normalize():f}", str(r["index"]))
    return t


def discovered_view(settings: Any, venue: str | None) -> list[dict[str, Any]]:
    """Every market the venues that can list theirs live (``VenueSpec.discover``) report."""
    import asyncio

    from quantdesk.venues import registry

    rows: list[dict[str, Any]] = []
    names = []
    for spec in registry.specs():
        if spec.discover is None:
            continue
        for name in spec.names:
            names.append(name)
            if venue is not None and venue != name:
                continue
            try:
                section = spec.section_or_default(settings, name)
            except registry.RegistryError:
                continue
            rows += asyncio.run(spec.discover(section, name))
    if venue is not None and venue not in names:
        raise MarketsError(f"{venue!r} cannot list its markets live; venues that can: {', '.join(names)}")
    return rows


def render_discovered(rows: list[dict[str, Any]]) -> Any:
    from rich.table import Table

    t = Table(title="Markets listed on chain (● on the watchlist)", show_edge=False)
    for col in ("", "venue", "market", "kind", "index", "tick", "lot", "status", "tier", "prediction"):
        t.add_column(col, justify="right" if col in ("index", "tick", "lot") else "left")
    for r in rows:
        t.add_row("●" if r.get("watchlist") else "", r["venue"], r["market"], r["kind"], str(r["index"]),
                  f"{r['tick_size']:f}", f"{r['lot_size']:f}", r["status"], r["tier"], "yes" if r["prediction"] else "")
    return t


def main(args: Any) -> int:
    from quantdesk.config.settings import load_config
    from quantdesk.core.problems import ProblemsError

    from quantdesk.venues.base import VenueError

    try:
        settings = load_config(getattr(args, "config", None))
        if getattr(args, "discover", False):
            rows = discovered_view(settings, getattr(args, "venue", None))
        else:
            rows = markets_view(settings, getattr(args, "venue", None))
    except (ProblemsError, MarketsError) as exc:
        print(f"quantdesk show: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except VenueError as exc:
        print(f"quantdesk show: {exc}; check rpc_urls in the venue's config section", file=sys.stderr)
        return 1
    if args.json:
        import msgspec

        sys.stdout.buffer.write(msgspec.json.Encoder(decimal_format="number").encode(rows) + b"\n")
        sys.stdout.flush()
        return 0
    from rich.console import Console

    console = Console()
    if not console.is_terminal:
        console = Console(width=160)
    console.print(render_discovered(rows) if getattr(args, "discover", False) else render(rows))
    return 0
