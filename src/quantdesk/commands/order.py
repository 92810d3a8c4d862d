"""``quantdesk order VENUE MARKET buy|sell SIZE [--limit PRICE | --market] ...``: one live order.

The order takes the same path as in the terminal: it is journaled, checked
by the risk engine (the ``[risk]`` limits of the config), built into a
transaction whose decoded preview is printed, confirmed by the trader (or
``--yes``), signed by the venue's configured signer and sent. ``--dry-run``
signs but does not send, and prints the signed transaction decoded.

``--stop PRICE`` makes a stop order and ``--take-profit PRICE`` a
take-profit order triggered at that price (at market, or at ``--limit``
once triggered), as STOP and TP do on the terminal's command line.

Exit status: 0 sent (or signed, in a dry run), 1 refused or failed, 2 bad input.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
import time
from typing import Any

EXIT_REFUSED = 1
EXIT_BAD_INPUT = 2

log = logging.getLogger(__name__)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("venue", metavar="VENUE", help="a live venue, e.g. drift, velocity or jupiter")
    parser.add_argument("market", metavar="MARKET", help="market symbol, e.g. SOL-PERP")
    parser.add_argument("side", choices=("buy", "sell"), help="buy or sell")
    parser.add_argument("size", metavar="SIZE", help="size in the base asset, e.g. 0.5")
    kind = parser.add_mutually_exclusive_group()
    kind.add_argument("--limit", metavar="PRICE", help="limit price (default: a market order)")
    kind.add_argument("--market", dest="market_order", action="store_true", help="a market order (the default)")
    parser.add_argument("--stop", metavar="PRICE", help="make it a stop order triggered at PRICE")
    parser.add_argument("--take-profit", metavar="PRICE", help="make it a take-profit order triggered at PRICE")
    parser.add_argument("--post-only", action="store_true", help="limit orders: only rest, never take")
    parser.add_argument("--reduce-only", action="store_true", help="only reduce the position")
    parser.add_argument("--ioc", action="store_true", help="limit orders: immediate or cancel")
    parser.add_argument("--dry-run", action="store_true", help="build and sign, print the signed transaction, do not send")
    parser.add_argument("--config", metavar="PATH", help="config file (default: see `quantdesk config path`)")
    parser.add_argument("--yes", "-y", action="store_true", help="do not ask for confirmation after the preview")


class Refused(Exception):
    """The order cannot go ahead; the message is one sentence for the trader."""

    def __init__(self, message: str, code: int = EXIT_REFUSED) -> None:
        super().__init__(message)
        self.code = code


def _say(text: str = "") -> None:
    print(text, flush=True)


def main(args: argparse.Namespace) -> int:
    try:
        return asyncio.run(_order(args))
    except Refused as exc:
        print(f"quantdesk order: {exc}", file=sys.stderr)
        return exc.code
    except KeyboardInterrupt:
        print("quantdesk order: interrupted; nothing more was sent.", file=sys.stderr)
        return EXIT_REFUSED


def _settings(args: argparse.Namespace) -> Any:
    from quantdesk.config.settings import load_config
    from quantdesk.core.problems import ProblemsError

    try:
        return load_config(args.config)
    except ProblemsError as exc:
        raise Refused(f"{exc.render()}\nFix these (check with `quantdesk config validate`) and try again.", EXIT_BAD_INPUT) from None


def _desk_spec(name: str) -> Any:
    """The registered venue that can take one order from the command line."""
    from quantdesk.venues import registry

    live = [n for spec in registry.specs() if spec.order_desk is not None for n in spec.names]
    if name not in live:
        raise Refused(
            f"{name!r} is not a live venue; choose {' or '.join(live)} "
            "(simulated venues trade on paper inside `quantdesk run`).",
            EXIT_BAD_INPUT,
        )
    return registry.spec_for(name)


def _intent(args: argparse.Namespace, market: Any) -> Any:
    from quantdesk.core.model import OrderType
    from quantdesk.trading.ticket import TicketError, TicketInput, build_plan

    if args.stop and args.take_profit:
        raise Refused("an order is either a stop (--stop) or a take-profit (--take-profit), not both.", EXIT_BAD_INPUT)
    trigger = args.stop or args.take_profit or ""
    priced = args.limit is not None
    kind: OrderType
    if args.stop:
        kind = "stop_limit" if priced else "stop_market"
    elif args.take_profit:
        kind = "take_profit_limit" if priced else "take_profit_market"
    else:
        kind = "limit" if priced else "market"
    ticket = TicketInput(
        side=args.side, type=kind, size=args.size, price=args.limit or "", trigger_price=trigger,
        post_only=args.post_only, reduce_only=args.reduce_only, ioc=args.ioc,
    )
    try:
        plan = build_plan(ticket, market)
    except TicketError as exc:
        raise Refused(f"{exc.message}.", EXIT_BAD_INPUT) from None
    return plan.intents[0]


def _confirm(preview: Any, args: argparse.Namespace) -> bool:
    _say("\n".join(preview.lines()))
    _say()
    if args.yes:
        return True
    if not sys.stdin.isatty():
        raise Refused("no terminal to confirm the transaction on; review the preview and pass --yes to sign it.")
    what = "Sign (dry run: it will not be sent)" if preview.dry_run else "Sign and send"
    try:
        answer = input(f"{what}? [y/N] ")
    except EOFError:
        return False
    return answer.strip().lower() in ("y", "yes")


async def _order(args: argparse.Namespace) -> int:
    settings = _settings(args)
    spec = _desk_spec(args.venue)

    from quantdesk.core.cache import MarketCache
    from quantdesk.trading.journal import Journal, JournalError
    from quantdesk.trading.risk import RiskEngine
    from quantdesk.trading.router import OrderRouter
    from quantdesk.core.venue import FollowsMarkets
    from quantdesk.venues.base import TradingUnavailable, VenueError

    from quantdesk.venues.registry import BuildOptions
    from quantdesk.wiring.signer import open_configured

    cache = MarketCache()
    signer, problem = open_configured(settings)
    try:
        desk = spec.order_desk(spec.section_or_default(settings, args.venue), args.venue, cache, args.dry_run,
                               lambda p: _confirm(p, args), BuildOptions(signer=signer, signer_problem=problem))
    except TradingUnavailable as exc:
        raise Refused(str(exc)) from None
    venue = desk.venue
    try:
        markets = {m.symbol: m for m in await venue.connect()}
        market = markets.get(args.market)
        if market is None and isinstance(venue, FollowsMarkets):
            market = await venue.follow(args.market)  # listed, though not on the watchlist
            if market is not None:
                markets[market.symbol] = market
        if market is None:
            raise Refused(f"{args.market} is not a market of {venue.id}; choose one of {', '.join(markets)}.", EXIT_BAD_INPUT)
        intent = _intent(args, market)
        cache.add_markets(list(markets.values()))
        note = await desk.load(cache, market.symbol)
        if note:
            print(f"quantdesk order: {note}.", file=sys.stderr)
        try:
            journal = Journal.open(settings.journal.resolved_path)
        except JournalError as exc:
            raise Refused(f"{exc} Set [journal] path in the config to a writable file.") from None
        try:
            router = OrderRouter(cache, RiskEngine(settings.risk.limits()), journal, {venue.id: desk.trading}, time.time_ns)
            ack = await router.submit(intent)
        finally:
            journal.close()
    except Refused:
        raise
    except VenueError as exc:
        raise Refused(f"{exc}.".replace("..", ".")) from None
    except Exception as exc:  # a bug must not print a traceback over the trader's terminal
        log.exception("quantdesk order failed")
        raise Refused(f"unexpected error ({type(exc).__name__}); nothing was sent if no signature was printed.") from None
    finally:
        await venue.close()

    if not ack.decision.accepted:
        d = ack.decision
        raise Refused(f"rejected by the risk engine ({d.check}): {d.message}.")
    if ack.error:
        raise Refused(ack.error.rstrip(".") + ".")
    order = ack.order
    assert order is not None
    _say("\n".join(desk.receipt(order, market)))
    return 0
