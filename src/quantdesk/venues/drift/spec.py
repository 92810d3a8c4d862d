"""The Drift-v2 engine declares itself: one package, two deployments.

``[venues.drift]`` and ``[venues.velocity]`` each turn on one deployment of
the same engine; their keys override the documented public defaults. Nothing
heavy is imported here: driftpy and the Solana stack load inside the
factories, when a deployment is actually used.
"""

from __future__ import annotations

from typing import Any

from quantdesk.core.cache import MarketCache
from quantdesk.core.model import Market, Order
from quantdesk.venues.base import ApprovalHook, TradingUnavailable, TradingVenue, Venue, VenueError
from quantdesk.venues.drift.config import DEPLOYMENTS, DriftDeployment, default_deployment
from quantdesk.venues.registry import BuildOptions, Inspected, InspectRequest, TradingContext, VenueSpec


def defaults(name: str) -> dict[str, Any]:
    return default_deployment(name).model_dump()


def build(section: DriftDeployment, name: str, options: BuildOptions) -> list[Venue]:
    from quantdesk.venues.drift.venue import DriftVenue

    if options.clock is not None:
        return [DriftVenue(section, clock=options.clock, signer=options.signer, signer_problem=options.signer_problem)]
    return [DriftVenue(section, signer=options.signer, signer_problem=options.signer_problem)]


def markets(section: DriftDeployment, name: str) -> list[Market]:
    from quantdesk.venues.drift.venue import to_market

    return [to_market(section.id, section.quote, m) for m in section.watched]


async def discover(section: DriftDeployment, name: str) -> list[dict[str, Any]]:
    """Every perp and spot market the deployment's program lists on chain."""
    from decimal import Decimal

    from quantdesk.venues.drift.discovery import discover as from_chain
    from quantdesk.venues.drift.health import FeedHealth
    from quantdesk.venues.drift.idl import IdlError, decoder_for
    from quantdesk.venues.drift.market_list import from_listing
    from quantdesk.venues.drift.rpc_link import rpc_for

    try:
        decoder = decoder_for(section)
    except IdlError as exc:
        raise VenueError(f"{name}: cannot decode its markets: {exc}") from None
    rpc = rpc_for(section, FeedHealth())
    try:
        listed, _problems = await from_chain(rpc, section.program_id, decoder)
    except Exception as exc:
        raise VenueError(f"{name}: could not list its markets over RPC ({exc})") from None
    finally:
        await rpc.close()
    watched = section.with_listing(from_listing(listed)).watched
    on_watchlist = {m.wire_name for m in watched} | {m.symbol for m in watched}
    return [
        {"venue": section.id, "name": name, "market": m.symbol, "kind": m.kind, "index": m.index,
         "tick_size": Decimal(m.tick_size).scaleb(-6).normalize(),
         "lot_size": Decimal(m.lot_size).scaleb(-m.decimals).normalize(),
         "status": m.status, "tier": m.tier, "prediction": m.prediction,
         "watchlist": m.kind == "perp" and m.symbol in on_watchlist}
        for m in listed
    ]


def notes(section: DriftDeployment, name: str) -> list[str]:
    return section.deprecations()


def trading(venue: Any, ctx: TradingContext) -> TradingVenue:
    if ctx.trader is not None:  # a served console's trader signs with their own signer only
        venue = venue.for_trader(ctx.trader.signer, ctx.trader.signer_problem)
    reason = venue.trading_unavailable_reason()
    if reason:
        raise TradingUnavailable(reason)
    from quantdesk.venues.drift.router_executor import DriftRouterExecutor

    return DriftRouterExecutor(venue, ctx.cache, bus=ctx.bus, clock=ctx.clock)


class DriftOrderDesk:
    """One deployment set up for ``quantdesk order``: the DLOB server's book and
    oracle for the risk check, the trader's User account from RPC, the signer."""

    def __init__(
        self, section: DriftDeployment, cache: MarketCache, dry_run: bool, approve: ApprovalHook, options: BuildOptions
    ) -> None:
        from quantdesk.venues.drift.router_executor import DriftRouterExecutor
        from quantdesk.venues.drift.venue import DriftVenue

        # One order needs no listing of every market: the watchlist's are known
        # offline; another market is looked up on chain when it is named.
        deployment = section.model_copy(update={"dry_run": dry_run or section.dry_run, "discover_markets": False})
        self.venue = DriftVenue(deployment, signer=options.signer, signer_problem=options.signer_problem)
        reason = self.venue.trading_unavailable_reason()
        if reason:
            raise TradingUnavailable(reason)
        self.trading = DriftRouterExecutor(self.venue, cache, approve=approve)

    async def load(self, cache: MarketCache, market: str) -> str:
        note = await self._snapshot(cache, market)
        try:
            await self.trading.refresh([market])
        except VenueError as exc:
            v = self.venue.id
            raise VenueError(f"cannot load the {v} account from the RPC: {exc}. Check venues.{v}.rpc_urls.") from None
        return note

    async def _snapshot(self, cache: MarketCache, symbol: str) -> str:
        import time

        from quantdesk.core.model import OraclePrice, topic_for
        from quantdesk.venues.drift import wire

        venue = self.venue
        try:
            raw = await venue.feed.dlob.get("/l2", {"marketName": symbol, "depth": venue.deployment.book_depth})
            book = wire.decode_l2(raw)
        except (VenueError, wire.WireError) as exc:
            return f"no order book from the DLOB server ({exc}); the risk check uses the on-chain oracle price"
        now = time.time_ns()
        snap = wire.to_snapshot(book, venue.id, symbol, 1, now)
        cache.on_event(topic_for(snap), snap)
        oracle = wire.oracle_price(book)
        if oracle:
            ev = OraclePrice(venue.id, symbol, now, oracle)
            cache.on_event(topic_for(ev), ev)
        return ""

    def receipt(self, order: Order, market: Market) -> list[str]:
        ex = self.trading
        if ex.last_signed is not None and self.venue.deployment.dry_run:
            from quantdesk.venues.drift.preview import render

            from quantdesk.signing.policy import summary_lines

            signed = render(ex.last_signed, f"Signed transaction (dry run, NOT sent) on {self.venue.id}")
            tx = ex.executor.last_signed_tx
            summary = summary_lines(ex.executor.policy_view(tx)) if tx is not None else []
            return [
                signed[0],
                *summary,
                *signed[1:],
                "",
                f"Dry run: order {order.order_id} was signed and not sent.",
            ]
        sig = ex.signatures.get(order.order_id, "")
        return [f"Sent: order {order.order_id} ({order.side} {market.size(order.size)} {market.symbol}), signature {sig}."]


def order_desk(
    section: DriftDeployment, name: str, cache: MarketCache, dry_run: bool, approve: ApprovalHook, options: BuildOptions
) -> DriftOrderDesk:
    return DriftOrderDesk(section, cache, dry_run, approve, options)


def inspect(request: InspectRequest) -> Inspected:
    from quantdesk.venues.drift.accounts import normalize
    from quantdesk.venues.drift.idl import AccountDecodeError, IdlError, decoder_for

    account = request.account
    if account is None:
        raise VenueError("name the account type (PerpMarket, User, SpotMarket, UserStats ...) or 'auto'")
    deployment = request.config
    if request.schema is not None:
        deployment = deployment.model_copy(update={"idl_path": request.schema})
    try:
        decoder = decoder_for(deployment)
        datas = request.read()
        if account.lower() != "auto":
            decoder.resolve_name(account)
        results = []
        n = len(datas)
        for i, data in enumerate(datas, 1):
            try:
                name, acc = decoder.decode(data, account)
            except AccountDecodeError as exc:
                raise AccountDecodeError(f"account {i} of {n}: {exc}" if n > 1 else str(exc)) from None
            results.append(normalize(name, acc))
    except (IdlError, AccountDecodeError) as exc:
        raise VenueError(str(exc)) from None
    return Inspected(results)


def instruction_decoders(section: DriftDeployment, name: str) -> list[Any]:
    from quantdesk.venues.drift.instructions import decoders

    return list(decoders(section, name))


SPEC = VenueSpec(
    names=DEPLOYMENTS,
    config=DriftDeployment,
    build=build,
    markets=markets,
    summary="the Drift-v2 engine: Drift and its fork Velocity (DLOB books, data-API funding, driftpy orders)",
    defaults=defaults,
    trading=trading,
    serves_traders=True,
    order_desk=order_desk,
    inspect=inspect,
    discover=discover,
    instruction_decoders=instruction_decoders,
    notes=notes,
    inspect_help=(
        "ACCOUNT is an account type of the engine's IDL (PerpMarket, User, SpotMarket, UserStats ...) or 'auto'; "
        "--idl gives the Anchor IDL file (needed for velocity; default: venues.<deployment>.idl_path)"
    ),
)
