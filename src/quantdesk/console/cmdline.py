"""The command-line grammar: Bloomberg-style commands as typed objects.

    SOL-PERP                     select a market for the focused pane
    SOL-PERP DEPTH | FUND | TRADES ...   a pane (its catalogue keyword) for a market
    SPRD                         a pane for the focused market
    PANE <type> [MARKET]         any catalogued pane by its id (PANE health)
    SOL-PERP BUY 2 @ 145.20 POST limit, post-only
    ETH-PERP SELL 1000 USD MKT   market order sized in quote notional
    SOL-PERP BUY 2 @ 150 STOP 149   stop-limit (STOP alone: stop-market; TP: take profit)
    BUY 2 @ 145                  the focused market
    CANCEL ALL [MARKET] | CANCEL <order id>
    SOL-PERP COLLATERAL ADD 50 [LONG|SHORT]   add (or REMOVE) USD of collateral to a position
    WATCH ADD SOL-PERP [LIST] | WATCH DEL SOL-PERP [LIST]   the team's shared watchlists
    ALERT SOL-PERP PRICE > 180 [note]   an alert rule (FUNDING > 50%, IMBALANCE > 0.7, SPREAD ...,
                                         POSITION ... LIQ < 5%, FEED ... STALE 10S, PNL < -500)
    ALERT LOCAL ... | ALERT TEAM ...     only here / shared with the team (default: the team when there is one)
    ALERT DEL <id> | ALERTS              remove one; list them with their state
    NEWS [SOL | SOL-PERP | ALL]          the News pane, one asset's headlines or every one
    NOTE <text>                  a note on the team's shared workspace
    LAYOUT <name> | LAYOUT SAVE <name> | THEME <name> | VENUE <venue>
    KILL | KILL OFF | HELP [topic] | QUIT

Words are case-insensitive; names come back in their canonical spelling from
``CommandContext``. A mistake raises ``ParseError`` with the column span of the
wrong word and what was expected there; nothing else is ever raised. The same
parser serves the command line, the palette and startup scripts. Prices and
sizes stay ``Decimal``; the caller converts them at the market's precision.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Literal

from quantdesk.console.panes import catalogue
from quantdesk.core.problems import did_you_mean

if TYPE_CHECKING:
    from quantdesk.core.alerts import Rule

OrderKind = Literal["market", "limit", "stop_market", "stop_limit", "take_profit_market", "take_profit_limit"]

# keyword -> pane type, from the pane catalogue; the first spelling of each pane is the canonical one.
PANE_WORDS: dict[str, str] = catalogue.command_words()
PANE_KEYWORD: dict[str, str] = {}
for _w, _p in PANE_WORDS.items():
    PANE_KEYWORD.setdefault(_p, _w)

COMMAND_WORDS = (
    "BUY", "SELL", "CANCEL", "COLLATERAL", "LAYOUT", "THEME", "VENUE", "KILL", "HELP", "QUIT", "WATCH", "ALERT",
    "ALERTS", "NOTE", "PANE",
)
ALERT_SCOPES: dict[str, Literal["local", "team"]] = {"LOCAL": "local", "TEAM": "team"}
DEFAULT_WATCHLIST = "main"
ORDER_FLAGS = ("@", "MKT", "STOP", "TP", "POST", "IOC", "REDUCE")
_NUMBER = re.compile(r"^(\d+(\.\d*)?|\.\d+)$")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
_MAX_DIGITS = 30


# ----------------------------------------------------------------- commands


@dataclass(frozen=True, slots=True)
class SelectMarket:
    market: str

    def to_text(self) -> str:
        return self.market


@dataclass(frozen=True, slots=True)
class ShowPane:
    pane: str  # a pane catalogue id
    market: str | None = None  # None: the focused market

    def to_text(self) -> str:
        word = PANE_KEYWORD.get(self.pane) or f"PANE {self.pane}"
        return f"{self.market} {word}" if self.market else word


@dataclass(frozen=True, slots=True)
class PlaceOrder:
    market: str | None  # None: the focused market
    side: Literal["buy", "sell"]
    size: Decimal
    size_unit: Literal["base", "usd"]
    type: OrderKind
    price: Decimal | None = None  # limit price
    trigger_price: Decimal | None = None
    post_only: bool = False
    ioc: bool = False
    reduce_only: bool = False

    def to_text(self) -> str:
        parts = [self.market] if self.market else []
        parts += [self.side.upper(), _fmt(self.size)]
        if self.size_unit == "usd":
            parts.append("USD")
        if self.price is not None:
            parts += ["@", _fmt(self.price)]
        if self.type == "market":
            parts.append("MKT")
        if self.trigger_price is not None:
            parts += ["STOP" if self.type.startswith("stop") else "TP", _fmt(self.trigger_price)]
        if self.post_only:
            parts.append("POST")
        if self.ioc:
            parts.append("IOC")
        if self.reduce_only:
            parts.append("REDUCE")
        return " ".join(parts)


@dataclass(frozen=True, slots=True)
class CancelAll:
    market: str | None = None  # None: every market

    def to_text(self) -> str:
        return f"CANCEL ALL {self.market}" if self.market else "CANCEL ALL"


@dataclass(frozen=True, slots=True)
class CancelOrder:
    order_id: str

    def to_text(self) -> str:
        return f"CANCEL {self.order_id}"


@dataclass(frozen=True, slots=True)
class ChangeCollateral:
    """Add (``amount`` > 0) or remove USD of collateral on an open position of a
    venue whose positions hold their own (Jupiter Perps)."""

    market: str | None  # None: the focused market
    amount: Decimal  # USD, signed
    side: Literal["long", "short"] | None = None  # None: the market's one open position

    def to_text(self) -> str:
        parts = [self.market] if self.market else []
        parts += ["COLLATERAL", "ADD" if self.amount > 0 else "REMOVE", _fmt(abs(self.amount))]
        if self.side:
            parts.append(self.side.upper())
        return " ".join(parts)


@dataclass(frozen=True, slots=True)
class SetLayout:
    name: str

    def to_text(self) -> str:
        return f"LAYOUT {self.name}"


@dataclass(frozen=True, slots=True)
class SaveLayout:
    name: str

    def to_text(self) -> str:
        return f"LAYOUT SAVE {self.name}"


@dataclass(frozen=True, slots=True)
class SetTheme:
    name: str

    def to_text(self) -> str:
        return f"THEME {self.name}"


@dataclass(frozen=True, slots=True)
class SetVenue:
    venue: str

    def to_text(self) -> str:
        return f"VENUE {self.venue}"


@dataclass(frozen=True, slots=True)
class Kill:
    engage: bool = True  # False: KILL OFF releases the kill switch

    def to_text(self) -> str:
        return "KILL" if self.engage else "KILL OFF"


@dataclass(frozen=True, slots=True)
class Help:
    topic: str | None = None

    def to_text(self) -> str:
        return f"HELP {self.topic}" if self.topic else "HELP"


@dataclass(frozen=True, slots=True)
class Quit:
    def to_text(self) -> str:
        return "QUIT"


@dataclass(frozen=True, slots=True)
class WatchAdd:
    market: str
    watchlist: str = DEFAULT_WATCHLIST

    def to_text(self) -> str:
        return f"WATCH ADD {self.market} {self.watchlist}"


@dataclass(frozen=True, slots=True)
class WatchDel:
    market: str
    watchlist: str = DEFAULT_WATCHLIST

    def to_text(self) -> str:
        return f"WATCH DEL {self.market} {self.watchlist}"


@dataclass(frozen=True, slots=True)
class AddAlert:
    rule: Rule
    note: str = ""
    scope: Literal["auto", "local", "team"] = "auto"  # auto: the team's when there is a team workspace

    def to_text(self) -> str:
        from quantdesk.core.alerts import rule_text  # loaded with the rule itself, not at start-up

        scope = f"{self.scope.upper()} " if self.scope != "auto" else ""
        text = f"ALERT {scope}{rule_text(self.rule)}"
        return f"{text} {self.note}" if self.note else text


@dataclass(frozen=True, slots=True)
class DeleteAlert:
    alert_id: str

    def to_text(self) -> str:
        return f"ALERT DEL {self.alert_id}"


@dataclass(frozen=True, slots=True)
class ShowNews:
    symbol: str | None = None  # the asset (SOL) whose headlines to show; None: every one

    def to_text(self) -> str:
        return f"NEWS {self.symbol}" if self.symbol else "NEWS ALL"


@dataclass(frozen=True, slots=True)
class ListAlerts:
    def to_text(self) -> str:
        return "ALERTS"


@dataclass(frozen=True, slots=True)
class AddNote:
    text: str

    def to_text(self) -> str:
        return f"NOTE {self.text}"


# What the team's shared workspace carries out (alerts have a desk of their own).
WORKSPACE_COMMANDS = (WatchAdd, WatchDel, AddNote)

Command = (
    SelectMarket
    | ShowPane
    | PlaceOrder
    | CancelAll
    | CancelOrder
    | SetLayout
    | SaveLayout
    | SetTheme
    | SetVenue
    | Kill
    | Help
    | Quit
    | WatchAdd
    | WatchDel
    | AddAlert
    | DeleteAlert
    | ListAlerts
    | ShowNews
    | AddNote
    | ChangeCollateral
)


def _fmt(d: Decimal) -> str:
    s = format(d, "f")
    return s.rstrip("0").rstrip(".") if "." in s else s


# ------------------------------------------------------------------ context


@dataclass(frozen=True)
class CommandContext:
    """Names the parser accepts. An empty list means "do not check" (a startup
    script is checked before the venues are up); with no markets, a word shaped
    like ``SOL-PERP`` is taken for a market."""

    markets: Sequence[str] = ()
    venues: Sequence[str] = ()
    layouts: Sequence[str] = ()
    themes: Sequence[str] = ()
    order_ids: Sequence[str] = ()  # only for completion; any id is accepted
    alert_ids: Sequence[str] = ()  # only for completion; any id is accepted
    watchlists: Sequence[str] = ()  # only for completion; a new name creates a list
    team_layouts: Sequence[str] = ()  # the team's layouts that no shipped or saved layout hides
    aliases: Mapping[str, str] = field(default_factory=dict)  # WORD -> market (``SOL`` -> ``SOL-PERP``)

    def base_of(self, market: str) -> str:
        return market.split("-", 1)[0].upper()


# ------------------------------------------------------------------- errors


class ParseError(ValueError):
    """A command that does not parse: ``start``/``end`` are the column span of
    the wrong word (``start == end == len(text)`` when a word is missing)."""

    def __init__(self, message: str, start: int, end: int, expected: Sequence[str] = ()) -> None:
        super().__init__(message)
        self.message = message
        self.start = start
        self.end = end
        self.expected = tuple(expected)

    def pointer(self, text: str) -> str:
        """The text with a caret line under the wrong word."""
        width = max(1, self.end - self.start)
        return f"{text}\n{' ' * self.start}{'^' * width}"

    def __str__(self) -> str:
        return self.message


# ---------------------------------------------------------------- tokenizer


@dataclass(frozen=True, slots=True)
class Token:
    text: str
    start: int
    end: int

    @property
    def upper(self) -> str:
        return self.text.upper()


def tokenize(text: str) -> list[Token]:
    """Split on whitespace; ``@`` is always a word of its own (``2@145``)."""
    return [Token(m.group(), m.start(), m.end()) for m in re.finditer(r"@|[^\s@]+", text)]


# ------------------------------------------------------------------- parser


@dataclass
class _Cursor:
    text: str
    tokens: list[Token]
    ctx: CommandContext
    i: int = 0
    wanted: dict[int, list[str]] = field(default_factory=dict)

    def peek(self) -> Token | None:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def want(self, options: Iterable[str]) -> None:
        bucket = self.wanted.setdefault(self.i, [])
        for o in options:
            if o not in bucket:
                bucket.append(o)

    def accept(self, *words: str) -> Token | None:
        """Take the next token if it is one of the keywords ``words``."""
        self.want(words)
        tok = self.peek()
        if tok is not None and tok.upper in words:
            self.i += 1
            return tok
        return None

    def fail(self, message: str, options: Iterable[str] = ()) -> ParseError:
        self.want(options)
        tok = self.peek()
        expected = self.wanted.get(self.i, [])
        if tok is None:
            end = len(self.text)
            return ParseError(message, end, end, expected)
        return ParseError(message, tok.start, tok.end, expected)

    def fail_at(self, tok: Token, message: str, expected: Sequence[str] = ()) -> ParseError:
        return ParseError(message, tok.start, tok.end, expected)

    def end(self) -> None:
        tok = self.peek()
        if tok is not None:
            options = self.wanted.get(self.i, [])
            hint = f"; expected {_or(options)}" if options else ""
            close = did_you_mean(tok.upper, options) if options else ""
            if close.startswith("did you mean"):
                hint += f"; {close}"
            raise self.fail(f"unexpected {tok.text!r} after a complete command{hint}")


def _or(options: Sequence[str]) -> str:
    opts = list(options)
    if len(opts) > 8:
        opts = [*opts[:8], "..."]
    if len(opts) <= 1:
        return "".join(opts)
    return ", ".join(opts[:-1]) + " or " + opts[-1]


_MARKET_SHAPE = re.compile(r"^[A-Za-z0-9]+-[A-Za-z0-9]+$")


def _market(word: str, ctx: CommandContext) -> str | None:
    """The canonical market ``word`` names. With no market list (a script
    checked before the venues are up) anything shaped like ``SOL-PERP`` is one."""
    if ctx.markets:
        return _lookup(word, ctx.markets) or ctx.aliases.get(word.upper())
    return word.upper() if _MARKET_SHAPE.match(word) else None


def _lookup(word: str, names: Sequence[str]) -> str | None:
    u = word.upper()
    for n in names:
        if n.upper() == u:
            return n
    return None


def parse(text: str, ctx: CommandContext) -> Command:
    """Parse one command. Raises ``ParseError`` (and nothing else) on bad input."""
    cur = _Cursor(text, tokenize(text), ctx)
    cmd = _command(cur)
    cur.end()
    return cmd


def _command(cur: _Cursor) -> Command:
    first_words = [*COMMAND_WORDS, *PANE_WORDS]
    cur.want([*cur.ctx.markets, *COMMAND_WORDS, *PANE_KEYWORD.values()])
    tok = cur.peek()
    if tok is None:
        raise cur.fail("empty command; type a market, a command or HELP")
    word = tok.upper
    market = _market(tok.text, cur.ctx) if word not in first_words else None
    if market is not None:
        cur.i += 1
        return _after_market(cur, market)
    if word == "ALERTS":  # before the pane words: it lists the alerts in any layout
        cur.i += 1
        return ListAlerts()
    if word == "NEWS":  # before the pane words: NEWS [asset|ALL] filters the headlines
        cur.i += 1
        return _news(cur)
    if word in PANE_WORDS:
        cur.i += 1
        return ShowPane(PANE_WORDS[word])
    if word in ("BUY", "SELL"):
        cur.i += 1
        return _order(cur, None, "buy" if word == "BUY" else "sell")
    if word == "PANE":
        cur.i += 1
        return _pane(cur)
    if word == "CANCEL":
        cur.i += 1
        return _cancel(cur)
    if word == "COLLATERAL":
        cur.i += 1
        return _collateral(cur, None)
    if word == "LAYOUT":
        cur.i += 1
        if cur.accept("SAVE"):
            return SaveLayout(_new_name(cur, "layout name"))
        names = [*cur.ctx.layouts, *cur.ctx.team_layouts] if cur.ctx.layouts else []
        return SetLayout(_name(cur, "layout", names))
    if word == "THEME":
        cur.i += 1
        return SetTheme(_name(cur, "theme", cur.ctx.themes))
    if word == "VENUE":
        cur.i += 1
        return SetVenue(_name(cur, "venue", cur.ctx.venues))
    if word == "KILL":
        cur.i += 1
        return Kill(engage=cur.accept("OFF") is None)
    if word == "HELP":
        cur.i += 1
        t = cur.peek()
        cur.want([*COMMAND_WORDS, *PANE_KEYWORD.values()])
        if t is None:
            return Help()
        cur.i += 1
        return Help(t.upper)
    if word in ("QUIT", "EXIT"):
        cur.i += 1
        return Quit()
    if word == "WATCH":
        cur.i += 1
        return _watch(cur)
    if word == "ALERT":
        cur.i += 1
        return _alert(cur)
    if word == "NOTE":
        cur.i += 1
        return AddNote(_rest(cur, "note text: NOTE followed by what to tell the team"))
    hint = did_you_mean(word, [*first_words, *(m.upper() for m in cur.ctx.markets)])
    if market is None and "-" in word:
        raise cur.fail(f"unknown market {tok.text!r}; {hint}")
    raise cur.fail(f"unknown command or market {tok.text!r}; {hint}")


def _after_market(cur: _Cursor, market: str) -> Command:
    tok = cur.peek()
    cur.want([*PANE_KEYWORD.values(), "BUY", "SELL", "COLLATERAL"])  # aliases parse but are not suggested
    if tok is None:
        return SelectMarket(market)
    word = tok.upper
    if word in PANE_WORDS:
        cur.i += 1
        return ShowPane(PANE_WORDS[word], market)
    if word in ("BUY", "SELL"):
        cur.i += 1
        return _order(cur, market, "buy" if word == "BUY" else "sell")
    if word == "COLLATERAL":
        cur.i += 1
        return _collateral(cur, market)
    raise cur.fail(
        f"unexpected {tok.text!r} after {market}; expected a pane (DEPTH, FUND, SPRD ...), BUY/SELL or COLLATERAL; "
        + did_you_mean(word, [*PANE_WORDS, "BUY", "SELL", "COLLATERAL"])
    )


def _pane(cur: _Cursor) -> Command:
    """PANE <type> [MARKET]: any pane of the catalogue by its id."""
    tok = cur.peek()
    known = catalogue.ids()
    cur.want(known)
    if tok is None:
        raise cur.fail("missing pane type: PANE followed by one of " + ", ".join(known))
    pane = _lookup(tok.text, known)
    if pane is None:
        raise cur.fail(f"unknown pane type {tok.text!r}; " + did_you_mean(tok.text.lower(), known))
    cur.i += 1
    nxt = cur.peek()
    if nxt is None:
        return ShowPane(pane)
    cur.want(cur.ctx.markets)
    market = _market(nxt.text, cur.ctx)
    if market is None:
        raise cur.fail(f"unknown market {nxt.text!r}; " + did_you_mean(nxt.upper, [m.upper() for m in cur.ctx.markets]))
    cur.i += 1
    return ShowPane(pane, market)


def _news(cur: _Cursor) -> Command:
    """NEWS [asset | market | ALL]: one asset's headlines (a market names its base asset);
    NEWS alone shows the News pane as it is."""
    bases = list(dict.fromkeys(cur.ctx.base_of(m) for m in cur.ctx.markets))
    cur.want(["ALL", *bases])
    tok = cur.peek()
    if tok is None:
        return ShowPane("news")
    if tok.upper == "ALL":
        cur.i += 1
        return ShowNews()
    word = tok.upper.lstrip("$")
    market = _market(tok.text, cur.ctx) if "-" in word else None
    if market is not None:
        asset = cur.ctx.base_of(market)
    elif not bases and re.fullmatch(r"[A-Z0-9]{1,16}", word):
        asset = word  # a script checked before the venues are up
    elif word in bases:
        asset = word
    else:
        hint = did_you_mean(word, bases) if bases else ""
        raise cur.fail(f"unknown asset {tok.text!r}: expected a listed asset such as SOL, a market, or ALL; {hint}".rstrip("; "))
    cur.i += 1
    return ShowNews(asset)


def _number(cur: _Cursor, what: str) -> Decimal:
    tok = cur.peek()
    cur.want([f"<{what}>"])
    if tok is None:
        raise cur.fail(f"missing {what}: expected a number")
    if not _NUMBER.match(tok.text) or len(tok.text) > _MAX_DIGITS:
        raise cur.fail(f"{tok.text!r} is not a {what}: expected a plain decimal number like 145.20")
    try:
        value = Decimal(tok.text)
    except InvalidOperation:  # pragma: no cover - the regex admits only decimals
        raise cur.fail(f"{tok.text!r} is not a {what}") from None
    if value <= 0:
        raise cur.fail(f"{what} must be more than 0")
    cur.i += 1
    return value


def _order(cur: _Cursor, market: str | None, side: Literal["buy", "sell"]) -> PlaceOrder:
    size = _number(cur, "size")
    units = ["USD"] + ([cur.ctx.base_of(market)] if market else [])
    unit: Literal["base", "usd"] = "base"
    utok = cur.accept(*units)
    if utok is not None and utok.upper == "USD":
        unit = "usd"
    price: Decimal | None = None
    trigger: Decimal | None = None
    trigger_word = ""
    mkt = post = ioc = reduce = False
    seen: dict[str, Token] = {}
    while True:
        # A limit price and MKT exclude each other, as do the two triggers.
        excluded = set(seen) | ({"MKT"} if "@" in seen else set()) | ({"@"} if "MKT" in seen else set())
        if "STOP" in seen or "TP" in seen:
            excluded |= {"STOP", "TP"}
        # Suggest only what still fits, but accept a contradiction so the error
        # can say what is wrong with it.
        cur.want(f for f in ORDER_FLAGS if f not in excluded)
        tok = cur.peek()
        if tok is None or tok.upper not in ORDER_FLAGS or tok.upper in seen:
            break
        cur.i += 1
        w = tok.upper
        seen[w] = tok
        if w == "@":
            price = _number(cur, "price")
        elif w == "MKT":
            mkt = True
        elif w in ("STOP", "TP"):
            if trigger is not None:
                raise cur.fail_at(tok, f"{w} after {trigger_word}: an order has one trigger price, STOP or TP")
            trigger_word = w
            trigger = _number(cur, "trigger price")
        elif w == "POST":
            post = True
        elif w == "IOC":
            ioc = True
        elif w == "REDUCE":
            reduce = True
    if mkt and price is not None:
        raise cur.fail_at(seen["MKT"], "MKT with a limit price: drop MKT for a limit order or drop @ PRICE")
    if not mkt and price is None and trigger is None:
        # Never default to a market order: a bare size is a typo as often as an intent.
        typed = cur.text[: cur.tokens[cur.i - 1].end].strip() if cur.i else cur.text.strip()
        raise cur.fail(
            f"missing price: add @ PRICE for a limit order ({typed} @ 142.5) or MKT for a market order "
            f"({typed} MKT); STOP or TP for a trigger"
        )
    if post and (price is None or trigger is not None):
        raise cur.fail_at(seen["POST"], "POST needs a resting limit order: use @ PRICE without STOP/TP")
    if post and ioc:
        raise cur.fail_at(seen["IOC"], "POST and IOC contradict: a post-only order rests, IOC never does")
    kind: OrderKind
    if trigger is not None:
        if trigger_word == "STOP":
            kind = "stop_limit" if price is not None else "stop_market"
        else:
            kind = "take_profit_limit" if price is not None else "take_profit_market"
    else:
        kind = "limit" if price is not None else "market"
    return PlaceOrder(market, side, size, unit, kind, price, trigger, post, ioc, reduce)


def _cancel(cur: _Cursor) -> Command:
    if cur.accept("ALL"):
        tok = cur.peek()
        cur.want(cur.ctx.markets)
        if tok is None:
            return CancelAll()
        market = _market(tok.text, cur.ctx)
        if market is None:
            raise cur.fail(f"unknown market {tok.text!r}; {did_you_mean(tok.upper, cur.ctx.markets)}")
        cur.i += 1
        return CancelAll(market)
    cur.want(cur.ctx.order_ids)
    tok = cur.peek()
    if tok is None:
        raise cur.fail("missing order: expected ALL or an order id")
    if not _NAME.match(tok.text):
        raise cur.fail(f"{tok.text!r} is not an order id: expected ALL or an order id")
    cur.i += 1
    return CancelOrder(tok.text)


def _collateral(cur: _Cursor, market: str | None) -> ChangeCollateral:
    """COLLATERAL ADD|REMOVE <usd> [LONG|SHORT]."""
    tok = cur.accept("ADD", "REMOVE")
    if tok is None:
        raise cur.fail("COLLATERAL needs ADD or REMOVE and a USD amount, e.g. SOL-PERP COLLATERAL ADD 50")
    amount = _number(cur, "USD amount")
    side = cur.accept("LONG", "SHORT")
    signed = amount if tok.upper == "ADD" else -amount
    return ChangeCollateral(market, signed, None if side is None else ("long" if side.upper == "LONG" else "short"))


def _rest(cur: _Cursor, what: str, required: bool = True) -> str:
    """Everything after the current word, as typed (free text: notes)."""
    cur.want([f"<{what.split(':')[0]}>"])
    tok = cur.peek()
    if tok is None:
        if required:
            raise cur.fail(f"missing {what}")
        return ""
    cur.i = len(cur.tokens)
    return cur.text[tok.start :].strip()


def _known_market(cur: _Cursor) -> str:
    cur.want(cur.ctx.markets)
    tok = cur.peek()
    if tok is None:
        raise cur.fail("missing market: expected a market such as SOL-PERP")
    market = _market(tok.text, cur.ctx)
    if market is None:
        raise cur.fail(f"unknown market {tok.text!r}; {did_you_mean(tok.upper, cur.ctx.markets)}")
    cur.i += 1
    return market


def _watch(cur: _Cursor) -> Command:
    tok = cur.accept("ADD", "DEL")
    if tok is None:
        raise cur.fail("WATCH needs ADD or DEL, e.g. WATCH ADD SOL-PERP")
    market = _known_market(cur)
    cur.want(cur.ctx.watchlists)
    name = DEFAULT_WATCHLIST
    if cur.peek() is not None:
        name = _new_name(cur, "watchlist name")
    return (WatchAdd if tok.upper == "ADD" else WatchDel)(market, name)


def _alert(cur: _Cursor) -> Command:
    # The rule grammar and its kinds load with the first ALERT typed, not at start-up.
    from quantdesk.core.alerts import RuleError, parse_rule
    from quantdesk.core.alerts.table import lead_words

    cur.want(["DEL"])
    if cur.accept("DEL"):
        cur.want(cur.ctx.alert_ids)
        tok = cur.peek()
        if tok is None:
            raise cur.fail("missing alert id: ALERT DEL <id> (ALERTS lists the ids)")
        if not _NAME.match(tok.text):
            raise cur.fail(f"{tok.text!r} is not an alert id: ALERTS lists the ids")
        cur.i += 1
        return DeleteAlert(tok.text)
    cur.want([*cur.ctx.markets, *lead_words(), *ALERT_SCOPES])
    scope_tok = cur.accept(*ALERT_SCOPES)
    scope: Literal["auto", "local", "team"] = "auto" if scope_tok is None else ALERT_SCOPES[scope_tok.upper]
    rest = cur.tokens[cur.i :]
    if not rest:
        cur.want([*cur.ctx.markets, *lead_words()])
        raise cur.fail("missing rule: e.g. ALERT SOL-PERP PRICE > 180 [note], ALERT DEL <id>, or ALERTS to list them")
    start = rest[0].start
    text = cur.text[start : rest[-1].end]
    try:
        parsed = parse_rule(text, cur.ctx.markets, cur.ctx.venues, cur.ctx.aliases, note=True)
    except RuleError as e:
        at = start + e.start
        cur.i = next((k for k, t in enumerate(cur.tokens) if t.end > at), len(cur.tokens))
        cur.want(e.expected)
        raise ParseError(e.full, at, start + e.end, cur.wanted.get(cur.i, [])) from None
    cur.i = len(cur.tokens)
    cur.want(parsed.next_words)
    return AddAlert(parsed.rule, parsed.note, scope)


def _name(cur: _Cursor, what: str, names: Sequence[str]) -> str:
    cur.want(names)
    tok = cur.peek()
    if tok is None:
        hint = f": {_or(list(names))}" if names else ""
        raise cur.fail(f"missing {what} name{hint}")
    if names:
        found = _lookup(tok.text, names)
        if found is None:
            raise cur.fail(f"unknown {what} {tok.text!r}; {did_you_mean(tok.text, names)}")
        cur.i += 1
        return found
    if not _NAME.match(tok.text):
        raise cur.fail(f"{tok.text!r} is not a {what} name: use letters, digits, '-' and '_'")
    cur.i += 1
    return tok.text


def _new_name(cur: _Cursor, what: str) -> str:
    cur.want([f"<{what}>"])
    tok = cur.peek()
    if tok is None:
        raise cur.fail(f"missing {what}")
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}", tok.text):
        raise cur.fail(f"{tok.text!r} is not a usable {what}: use letters, digits, '-' and '_'")
    cur.i += 1
    return tok.text


# --------------------------------------------------------------- completion


def complete(text: str, ctx: CommandContext) -> list[str]:
    """Candidates for the word being typed (the last word, or the next word
    when ``text`` ends in a space). Placeholders such as ``<size>`` are left
    out: they say what is expected but cannot be inserted."""
    tokens = tokenize(text)
    if tokens and tokens[-1].end == len(text):
        partial = tokens[-1].text
        done = tokens[:-1]
    else:
        partial = ""
        done = tokens
    cur = _Cursor(text, done, ctx)
    try:
        _command(cur)
    except ParseError:
        pass
    if cur.i < len(done):  # stopped before the word being typed: nothing fits
        return []
    options = cur.wanted.get(len(done), [])
    p = partial.upper()
    from quantdesk.core.alerts.grammar import is_placeholder  # with the first completion, not at start-up

    return [o for o in options if not is_placeholder(o) and o.upper().startswith(p)]


def expected_here(text: str, ctx: CommandContext) -> list[str]:
    """What may come next after ``text`` (placeholders included), for hints."""
    tokens = tokenize(text)
    cur = _Cursor(text, tokens, ctx)
    try:
        _command(cur)
    except ParseError:
        pass
    return list(cur.wanted.get(len(tokens), [])) if cur.i >= len(tokens) else []


# ------------------------------------------------------------------ scripts


class ScriptError(ValueError):
    """A bad line in a startup script; ``line`` counts from 1."""

    def __init__(self, source: str, line: int, text: str, error: ParseError) -> None:
        self.source = source
        self.line = line
        self.text = text
        self.error = error
        super().__init__(
            f"{source}:{line}:{error.start + 1}: {error.message}\n"
            + "\n".join("    " + x for x in error.pointer(text).splitlines())
        )


def parse_script(text: str, ctx: CommandContext, source: str = "script") -> list[tuple[int, Command]]:
    """Every command of a script, with its line number. Blank lines and lines
    starting with ``#`` are skipped; the first bad line raises ``ScriptError``."""
    out: list[tuple[int, Command]] = []
    for n, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        try:
            out.append((n, parse(line, ctx)))
        except ParseError as e:
            raise ScriptError(source, n, line, e) from None
    return out
