"""The venues QuantDesk knows, found through the ``quantdesk.venues`` entry points.

Each venue package declares itself once, with a ``VenueSpec`` in its own
``spec.py``, and one line in its distribution's entry points:

    [project.entry-points."quantdesk.venues"]
    drift = "quantdesk.venues.drift.spec:SPEC"

A package that reads market data from somewhere other than a venue (the relay
reads a ``quantdesk feed`` back from Redis) registers a ``SourceSpec`` in the
``quantdesk.sources`` group instead, for the URL schemes it opens with
``--source``.

The built-in venues register exactly like a third-party package. Loading an
entry point imports only the spec module: specs import their heavy parts
(SDKs, the Solana stack) inside their factories, so a simulated-only start
never pays for them.

Config, sessions, trading and the commands ask this registry; none of them
names a venue module.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine, Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache
from importlib.metadata import distributions
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from pydantic import BaseModel, ValidationError

from quantdesk.core.bus import Bus
from quantdesk.core.cache import MarketCache
from quantdesk.core.model import Market, Order
from quantdesk.core.venue import ApprovalHook, TradingVenue, Venue, VenueError
from quantdesk.signing.base import Signer

if TYPE_CHECKING:  # types only: a console on the simulated venues never loads the policy or risk checks
    from quantdesk.signing.policy import InstructionDecoder
    from quantdesk.trading.risk import RiskLimits

log = logging.getLogger(__name__)

GROUP = "quantdesk.venues"
SOURCE_GROUP = "quantdesk.sources"


class RegistryError(Exception):
    """The venue registry cannot be used; the message says what to do."""


@dataclass(frozen=True)
class BuildOptions:
    """What a session asks of every venue it builds. ``seed``, ``rate`` and
    ``paused`` steer simulated venues; live venues ignore them."""

    clock: Callable[[], int] | None = None
    seed: int | None = None
    rate: float | None = None
    paused: bool = False
    # The trader's signer (the top-level ``signer`` setting), shared by every
    # venue that trades; None: read-only. ``signer_problem`` says why it could
    # not be opened, for the venues to show instead of trading.
    signer: Signer | None = None
    signer_problem: str | None = None


@dataclass(frozen=True)
class Trader:
    """One of the traders a server's consoles serve (``quantdesk serve ssh``):
    their name is their paper account in a shared simulated venue; a live venue
    signs only with the signer they brought (their forwarded agent), never with
    the server's own; without one it stays read-only for them."""

    name: str
    signer: Signer | None = None
    signer_problem: str | None = None  # why they have no signer here, for the venues to show


@dataclass(frozen=True)
class TradingContext:
    """What a trading capability may use from the session it trades in."""

    cache: MarketCache
    bus: Bus
    clock: Callable[[], int]
    limits: RiskLimits | None = None  # the risk limits, for venues that enforce some themselves (self-trade)
    trader: Trader | None = None  # a served console's trader; None: the terminal's own


@dataclass(frozen=True)
class InspectRequest:
    """``quantdesk inspect NAME [ACCOUNT] ...``: raw accounts to decode."""

    config: Any  # the venue's config section (or its defaults)
    name: str
    account: str | None  # an account type the venue knows, "auto", an action such as "idl", or None
    read: Callable[[], list[bytes]]  # the accounts given with --b64/--file as bytes; raises VenueError
    b64: str | None = None  # the raw inputs, for venues that parse richer formats themselves
    file: Path | None = None
    schema: Path | None = None  # --idl: a decoding schema file given on the command line
    rpc_urls: tuple[str, ...] = ()  # --rpc: for actions that read the chain
    data_dir: Path | None = None  # the user data directory, for venues that keep files (a fetched IDL)


@dataclass(frozen=True)
class Inspected:
    """What ``inspect`` prints: decoded accounts, or the outcome of an action."""

    records: list[dict[str, Any]] = field(default_factory=list)
    message: str = ""  # instead of records, e.g. "saved the IDL to ..."
    one_document: bool = False  # --json prints one array rather than one object per line


class OrderDesk(Protocol):
    """One live venue set up for a single order from the command line
    (``quantdesk order``): its market data, its trading capability, and the
    steps around them that only the venue knows."""

    @property
    def venue(self) -> Venue: ...

    @property
    def trading(self) -> TradingVenue: ...

    async def load(self, cache: MarketCache, market: str) -> str:
        """Put the market's book and oracle into ``cache`` and load the trader's
        account. Returns a note for the trader ("" if all went well); raises
        VenueError saying what to check when the account cannot be loaded."""

    def receipt(self, order: Order, market: Market) -> list[str]:
        """What to print once the order went through (sent, or signed only)."""


@dataclass(frozen=True)
class VenueSpec:
    """How one venue package plugs in. Only ``names``, ``config`` and ``build``
    are required; the rest is what the venue can do beyond market data."""

    names: tuple[str, ...]  # config and CLI names; one package may serve several deployments
    config: type[BaseModel]  # one section's pydantic model (extra keys forbidden)
    build: Callable[[Any, str, BuildOptions], list[Venue]]  # (section, name, options) -> venues
    markets: Callable[[Any, str], list[Market]]  # the markets a section lists, without connecting
    summary: str = ""  # one line for help texts and the docs
    # Where the section lives: False -> [venues.NAME], turned on by being present;
    # True -> a top-level [NAME] table that always exists (defaults if absent).
    top_level: bool = False
    simulated: bool = False  # stands in when no live venue is configured; `--source sim`
    defaults: Callable[[str], Mapping[str, Any]] | None = None  # documented defaults under the user's keys
    trading: Callable[[Venue, TradingContext], TradingVenue] | None = None  # raises TradingUnavailable
    # Whether ``trading`` honours ``TradingContext.trader`` (signs with the trader's
    # signer); a venue that does not is read-only for a served console's trader.
    serves_traders: bool = False
    # (section, name, cache, dry_run, approve, options) -> a desk for `quantdesk order`; raises TradingUnavailable
    order_desk: Callable[[Any, str, MarketCache, bool, ApprovalHook, BuildOptions], OrderDesk] | None = None
    inspect: Callable[[InspectRequest], Inspected] | None = None  # raises VenueError
    # (section, name) -> every market the venue lists live (rows for `quantdesk show markets --discover`,
    # with at least venue, market, kind, tick_size, lot_size, index); raises VenueError
    discover: Callable[[Any, str], Coroutine[Any, Any, list[dict[str, Any]]]] | None = None
    inspect_help: str = ""
    # (section, name) -> the signing.policy.InstructionDecoders of the programs the venue's transactions call
    instruction_decoders: Callable[[Any, str], list[InstructionDecoder]] | None = None
    # (section, name) -> lines `quantdesk config validate` prints beside "configuration OK":
    # deprecated settings that still work, and what to write instead
    notes: Callable[[Any, str], list[str]] | None = None
    package: str = field(default="", compare=False)  # set by the registry: the module the spec came from

    def section_key(self, name: str) -> tuple[str, ...]:
        """Where ``name``'s section sits in the settings."""
        return (name,) if self.top_level else ("venues", name)

    def section(self, settings: Any, name: str) -> Any:
        """``name``'s validated section of ``settings``: None for a [venues.NAME]
        venue the config does not turn on."""
        node = settings
        for part in self.section_key(name):
            node = getattr(node, part, None) if node is not None else None
        return node

    def section_or_default(self, settings: Any, name: str) -> Any:
        """The configured section, else the documented defaults (for listing,
        inspecting and one-shot commands on a venue the config leaves off)."""
        found = self.section(settings, name) if settings is not None else None
        if found is not None:
            return found
        try:
            return self.config.model_validate(dict(self.defaults(name)) if self.defaults else {})
        except ValidationError:
            raise RegistryError(
                f"{name} has no usable defaults; configure [{'.'.join(self.section_key(name))}] "
                "(see `quantdesk config validate`)"
            ) from None

    def owns(self, venue: object) -> bool:
        """Whether ``venue`` was built by this package."""
        module = type(venue).__module__
        return bool(self.package) and (module == self.package or module.startswith(self.package + "."))


@dataclass(frozen=True)
class SourceOptions:
    """What a session asks of a source: the team namespace it reads and the clock."""

    namespace: str = "default"
    clock: Callable[[], int] | None = None


@dataclass(frozen=True)
class SourceSpec:
    """A package that serves ``--source URL`` for some URL schemes."""

    schemes: tuple[str, ...]  # e.g. ("redis", "rediss", "unix")
    open: Callable[[str, SourceOptions], list[Venue]]  # (url, options) -> the venues it reads
    summary: str = ""
    package: str = field(default="", compare=False)  # set by the registry

    def serves(self, url: str) -> bool:
        return "://" in url and url.split("://", 1)[0].lower() in self.schemes


def _load_one(ep: Any, kind: type[Any]) -> Any:
    try:
        spec = ep.load()
    except Exception:
        log.exception("entry point %s = %s cannot be loaded; skipped", ep.name, ep.value)
        return None
    if not isinstance(spec, kind):
        log.error("entry point %s = %s is not a %s; skipped", ep.name, ep.value, kind.__name__)
        return None
    package = ep.value.split(":", 1)[0].rsplit(".", 1)[0]
    object.__setattr__(spec, "package", package)
    return spec


def _dist_key(dist: Any) -> str:
    # The name from the metadata folder's file name where the finder knows it:
    # parsing METADATA for every installed distribution costs a start-up.
    name = getattr(dist, "_normalized_name", None) or dist.metadata["Name"] or ""
    return str(name).lower().replace("-", "_")


@cache
def _entry_points(path: tuple[str, ...] | None) -> dict[str, tuple[Any, ...]]:
    """Every QuantDesk entry point on ``path``, by group, in one scan. A
    distribution found twice counts once, the first on the path winning, as
    for imports."""
    seen: set[str] = set()
    found: dict[str, list[Any]] = {GROUP: [], SOURCE_GROUP: []}
    for dist in distributions() if path is None else distributions(path=list(path)):
        key = _dist_key(dist)
        if key in seen:
            continue
        seen.add(key)
        for ep in dist.entry_points:
            if ep.group in found:
                found[ep.group].append(ep)
    return {group: tuple(eps) for group, eps in found.items()}


def _discover(group: str, kind: type[Any], path: list[str] | None) -> tuple[Any, ...]:
    found: dict[str, Any] = {}
    for ep in _entry_points(None if path is None else tuple(path))[group]:
        if ep.name in found:
            continue  # an entry point name registered twice: the first wins
        spec = _load_one(ep, kind)
        if spec is not None:
            found[ep.name] = spec
    return tuple(found.values())


def discover(path: list[str] | None = None) -> tuple[VenueSpec, ...]:
    """The venue specs registered by the distributions on ``path`` (default sys.path)."""
    return _discover(GROUP, VenueSpec, path)


def discover_sources(path: list[str] | None = None) -> tuple[SourceSpec, ...]:
    """The source specs registered by the distributions on ``path`` (default sys.path)."""
    return _discover(SOURCE_GROUP, SourceSpec, path)


def require(found: tuple[VenueSpec, ...]) -> tuple[VenueSpec, ...]:
    """``found``, or RegistryError saying how to repair an installation without venues."""
    if not found:
        raise RegistryError(
            "no venues are registered (no `quantdesk.venues` entry points found): "
            "the installation is incomplete; reinstall with `pip install .` in the QuantDesk folder"
        )
    return found


@cache
def _specs() -> tuple[VenueSpec, ...]:
    return discover()


def specs() -> tuple[VenueSpec, ...]:
    """Every registered venue package; RegistryError when there is none."""
    return require(_specs())


@cache
def sources() -> tuple[SourceSpec, ...]:
    """Every registered source package (none is fine: then only venues run)."""
    return discover_sources()


def source_for(url: str) -> SourceSpec | None:
    """The source serving ``url``'s scheme, or None when the text is not such a URL."""
    for s in sources():
        if s.serves(url):
            return s
    return None


def reload() -> None:
    """Read the entry points again (after sys.path changed, e.g. a plugin installed)."""
    _entry_points.cache_clear()
    _specs.cache_clear()
    sources.cache_clear()


def names() -> list[str]:
    """Every venue name, in registration order."""
    return [n for s in specs() for n in s.names]


def spec_for(name: str) -> VenueSpec:
    """The spec serving ``name``; RegistryError listing the known names."""
    for s in specs():
        if name in s.names:
            return s
    raise RegistryError(f"no venue named {name!r}; known venues: {', '.join(names())}")


def spec_of(venue: object) -> VenueSpec | None:
    """The spec whose package built ``venue`` (None for venues no package
    registered, such as a Redis feed read back)."""
    for s in specs():
        if s.owns(venue):
            return s
    return None


def configured(settings: Any) -> list[tuple[VenueSpec, str, Any]]:
    """(spec, name, section) of every live venue the config turns on."""
    return [
        (s, n, sec)
        for s in specs()
        if not s.simulated
        for n in s.names
        if (sec := s.section(settings, n)) is not None
    ]


def simulated(settings: Any) -> list[tuple[VenueSpec, str, Any]]:
    """(spec, name, section) of every simulated venue package."""
    return [(s, n, s.section_or_default(settings, n)) for s in specs() if s.simulated for n in s.names]


def build(entries: Iterable[tuple[VenueSpec, str, Any]], options: BuildOptions) -> list[Venue]:
    return [v for spec, name, section in entries for v in spec.build(section, name, options)]


def trading_for(venue: Venue, ctx: TradingContext) -> TradingVenue | None:
    """The trading capability of ``venue``, or None when its package offers
    none or says it cannot trade here (then it stays read-only market data)."""
    from quantdesk.core.venue import TradingUnavailable

    spec = spec_of(venue)
    if spec is None or spec.trading is None:
        return None
    if ctx.trader is not None and not (spec.simulated or spec.serves_traders):
        log.info("%s is read-only for %s: its package cannot sign for a served console's trader", venue.id, ctx.trader.name)
        return None
    try:
        return spec.trading(venue, ctx)
    except TradingUnavailable as exc:
        log.info("%s is read-only: %s", venue.id, exc)
        return None


def list_markets(settings: Any, name: str | None = None) -> list[Market]:
    """Every registered venue's markets (or ``name``'s), from the configured
    sections or the documented defaults, without connecting."""
    out: list[Market] = []
    for s in specs():
        for n in s.names:
            if name is not None and name != n:
                continue
            try:
                section = s.section_or_default(settings, n)
            except RegistryError:
                if name is not None:
                    raise
                continue  # a venue that needs configuring before it lists anything
            out.extend(s.markets(section, n))
    return out


def instruction_decoders(settings: Any = None) -> list[InstructionDecoder]:
    """The instruction decoders of every registered venue (its configured section,
    else its defaults), for the transaction policy; a venue that cannot supply
    one here (no IDL, no usable defaults) is skipped: its instructions show as unknown."""
    out: list[InstructionDecoder] = []
    for s in specs():
        if s.instruction_decoders is None:
            continue
        for n in s.names:
            try:
                out.extend(s.instruction_decoders(s.section_or_default(settings, n), n))
            except Exception:  # a venue's IDL that cannot load must not stop the others
                log.warning("%s supplies no instruction decoder here", n, exc_info=True)
    return out


def config_notes(settings: Any) -> list[str]:
    """The notes of every live venue the config turns on (deprecated settings)."""
    return [n for spec, name, section in configured(settings) if spec.notes is not None for n in spec.notes(section, name)]


def inspect_names() -> list[str]:
    return [n for s in specs() if s.inspect is not None for n in s.names]


__all__ = [
    "BuildOptions",
    "InspectRequest",
    "Inspected",
    "OrderDesk",
    "RegistryError",
    "SourceOptions",
    "SourceSpec",
    "TradingContext",
    "VenueError",
    "VenueSpec",
    "build",
    "config_notes",
    "configured",
    "discover",
    "discover_sources",
    "inspect_names",
    "instruction_decoders",
    "list_markets",
    "names",
    "reload",
    "require",
    "simulated",
    "source_for",
    "sources",
    "spec_for",
    "spec_of",
    "specs",
    "trading_for",
]
