"""Jupiter Perps declares itself: ``[venues.jupiter]`` turns on the JLP pool's
markets, tradable with the top-level signer (position requests), and
``quantdesk inspect jupiter`` decodes its accounts or refreshes its IDL from
chain. Nothing heavy is imported here."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from quantdesk.core.model import Market
from quantdesk.venues.base import TradingUnavailable, TradingVenue, Venue, VenueError
from quantdesk.venues.jupiter.config import JupiterConfig
from quantdesk.venues.registry import BuildOptions, Inspected, InspectRequest, TradingContext, VenueSpec

IDL_CACHE = Path("idl") / "jupiter-perpetuals.json"  # under the user data dir


def idl_cache(data_dir: Path) -> Path:
    """Where ``inspect jupiter idl`` keeps the IDL read from chain (used instead of the bundled one)."""
    return data_dir / IDL_CACHE


def build(section: JupiterConfig, name: str, options: BuildOptions) -> list[Venue]:
    from quantdesk.venues.jupiter.venue import JupiterVenue

    if options.clock is not None:
        return [JupiterVenue(section, clock=options.clock, signer=options.signer, signer_problem=options.signer_problem)]
    return [JupiterVenue(section, signer=options.signer, signer_problem=options.signer_problem)]


def trading(venue: Any, ctx: TradingContext) -> TradingVenue:
    if ctx.trader is not None:  # a served console's trader signs with their own signer only
        venue = venue.for_trader(ctx.trader.signer, ctx.trader.signer_problem, ctx.bus)
    reason = venue.trading_unavailable_reason()
    if reason:
        raise TradingUnavailable(reason)
    from quantdesk.venues.jupiter.trading import JupiterTrading

    # Request deadlines are kept by the feed's clock: the request follower judges expiry by it.
    return JupiterTrading(venue, bus=ctx.bus, clock=venue.feed.clock)


def markets(section: JupiterConfig, name: str) -> list[Market]:
    from quantdesk.venues.jupiter.venue import to_market

    return [to_market(section.id, m) for m in section.markets]


def order_desk(section: JupiterConfig, name: str, cache: Any, dry_run: bool, approve: Any, options: BuildOptions) -> Any:
    from quantdesk.venues.jupiter.order_desk import JupiterOrderDesk

    return JupiterOrderDesk(section, cache, dry_run, approve, options)


def _refresh_idl(request: InspectRequest, cache: Path) -> Inspected:
    import asyncio

    from quantdesk.venues.jupiter.accounts import IdlError
    from quantdesk.venues.jupiter.config import PROGRAM_ID
    from quantdesk.venues.jupiter.idl_account import fetch_idl
    from quantdesk.venues.solana.rpc import RpcError, RpcUnavailable, SolanaRpc

    async def run() -> tuple[str, Any]:
        rpc = SolanaRpc(list(request.rpc_urls) or list(JupiterConfig().rpc_urls))
        try:
            return await fetch_idl(rpc, PROGRAM_ID, cache)
        finally:
            await rpc.close()

    try:
        address, decoder = asyncio.run(run())
    except RpcUnavailable as exc:
        raise VenueError(f"{exc}; check the URL given with --rpc") from None
    except (IdlError, RpcError) as exc:
        raise VenueError(str(exc)) from None
    return Inspected(message=f"saved the Jupiter Perps IDL from {address} to {cache} "
                             f"({len(decoder.names)} account types); inspect and the venue use it from now on")


def inspect(request: InspectRequest) -> Inspected:
    from quantdesk.venues.jupiter.accounts import ACCOUNT_TYPES, AccountDecodeError, IdlError, decoder
    from quantdesk.venues.jupiter.inspect import InputError, RawAccount, inspect_accounts, parse_input

    if request.data_dir is None:
        raise VenueError("no user data directory to keep the Jupiter IDL in")
    cache = idl_cache(request.data_dir)
    if (request.account or "").lower() == "idl":
        return _refresh_idl(request, cache)
    if request.b64 is None and request.file is None:
        raise VenueError("pass the account data: --b64 DATA or --file PATH (or `inspect jupiter idl`)")
    wanted = None
    if request.account and request.account.lower() != "auto":
        wanted = next((n for n in ACCOUNT_TYPES if n.lower() == request.account.replace("_", "").lower()), None)
        if wanted is None:
            raise VenueError(f"unknown Jupiter account type {request.account!r}; known: {', '.join(ACCOUNT_TYPES)}, idl")
    try:
        if request.b64 is not None:
            raws = parse_input(request.b64, "--b64")
        else:
            assert request.file is not None
            try:
                raws = parse_input(request.file.read_text(), str(request.file))
            except UnicodeDecodeError:
                raws = [RawAccount(request.file.read_bytes())]  # raw account bytes
            except OSError as exc:
                raise VenueError(f"cannot read {request.file}: {exc.strerror or exc}") from None
        schema = request.schema if request.schema is not None else (cache if cache.is_file() else None)
        results = inspect_accounts(decoder(schema), raws)
    except (InputError, IdlError, AccountDecodeError) as exc:
        raise VenueError(str(exc)) from None
    if wanted is not None:
        other = [r["account"] for r in results if r["account"] not in (wanted, None)]
        if other:
            raise VenueError(f"the input holds a {other[0]} account, not a {wanted}")
    return Inspected(results, one_document=True)


def instruction_decoders(section: JupiterConfig, name: str) -> list[Any]:
    from quantdesk.venues.jupiter.instructions import decoders

    return list(decoders(section, name))


SPEC = VenueSpec(
    names=("jupiter",),
    config=JupiterConfig,
    build=build,
    markets=markets,
    summary="Jupiter Perps: the JLP pool's markets at the oracle price; position requests with a signer",
    trading=trading,
    serves_traders=True,
    order_desk=order_desk,
    inspect=inspect,
    instruction_decoders=instruction_decoders,
    inspect_help="ACCOUNT is optional (detected from the data), or 'idl' to refresh the IDL from chain",
)
