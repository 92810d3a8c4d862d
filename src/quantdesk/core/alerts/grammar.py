"""The alert rule grammar: ``ALERT SOL-PERP PRICE > 180`` and its siblings.

    [ALERT] MARKET WORD OP VALUE [options]     PRICE, FUNDING, IMBALANCE ...
    [ALERT] WORD ... OP VALUE [options]        SPREAD, POSITION, FEED, PNL ...
    options: ON <venue> | COOLDOWN <duration> | HYST <value>

The keywords come from the kinds table, so the grammar grows with it. Words
are case-insensitive; markets and venues come back spelled as the caller's
lists spell them (empty lists: not checked yet, anything shaped right goes).
A mistake raises ``RuleError`` with the character span of the wrong part,
what was expected there and a complete example of the rule being written.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

import msgspec

from quantdesk.core.alerts import table
from quantdesk.core.alerts.rule import OPS, Op, Rule
from quantdesk.core.alerts.table import SECONDS, RuleKind, Unit

OPTIONS = ("ON", "COOLDOWN", "HYST")
GENERAL_EXAMPLE = "ALERT SOL-PERP PRICE > 180"
MAX_COOLDOWN_S = 7 * 86_400
_TOKEN = re.compile(r">=|<=|[<>]|[^\s<>]+")
_NUMBER = re.compile(r"^([+-]?(?:\d+(?:\.\d*)?|\.\d+))([A-Za-z%]*)$")
_MARKET = re.compile(r"^[A-Za-z0-9]+-[A-Za-z0-9]+$")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
_MAX_DIGITS = 30


class RuleError(ValueError):
    """A rule that does not parse. ``start``/``end`` are the character span of
    the wrong part (both ``len(text)`` when a part is missing)."""

    def __init__(self, message: str, start: int, end: int, example: str, expected: Sequence[str] = ()) -> None:
        self.message = message
        self.start = start
        self.end = end
        self.example = example
        self.expected = tuple(expected)
        super().__init__(self.full)

    @property
    def full(self) -> str:
        return f"{self.message}; e.g. {self.example}" if self.example else self.message


@dataclass(frozen=True, slots=True)
class Token:
    text: str
    start: int
    end: int

    @property
    def upper(self) -> str:
        return self.text.upper()


def tokenize(text: str) -> list[Token]:
    """Words, with comparisons always words of their own (``>180`` is ``>`` ``180``)."""
    return [Token(m.group(), m.start(), m.end()) for m in _TOKEN.finditer(text)]


@dataclass(frozen=True, slots=True)
class ParsedRule:
    rule: Rule
    note: str  # free text after the rule (command line only)
    next_words: tuple[str, ...]  # what may follow the text, for completion


@dataclass
class RuleParser:
    """A cursor over one rule's words, with the helpers every kind parses with."""

    text: str
    markets: Sequence[str] = ()
    venues: Sequence[str] = ()
    aliases: Mapping[str, str] = field(default_factory=dict)
    tokens: list[Token] = field(default_factory=list)
    i: int = 0
    example: str = GENERAL_EXAMPLE
    wanted: dict[int, list[str]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.tokens:
            self.tokens = tokenize(self.text)

    # -- the cursor ---------------------------------------------------------------
    def peek(self) -> Token | None:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def want(self, options: Iterable[str]) -> None:
        bucket = self.wanted.setdefault(self.i, [])
        bucket.extend(o for o in options if o not in bucket)

    def accept(self, *words: str) -> Token | None:
        self.want(words)
        tok = self.peek()
        if tok is not None and tok.upper in words:
            self.i += 1
            return tok
        return None

    def fail(self, message: str, tok: Token | None = None) -> RuleError:
        tok = tok if tok is not None else self.peek()
        expected = self.wanted.get(self.i, [])
        if tok is None:
            end = len(self.text.rstrip())
            return RuleError(message, end, end, self.example, expected)
        return RuleError(message, tok.start, tok.end, self.example, expected)

    def need(self, what: str) -> Token:
        tok = self.peek()
        if tok is None:
            raise self.fail(f"missing {what}")
        return tok

    # -- names ------------------------------------------------------------------
    def market(self) -> str:
        self.want(self.markets)
        tok = self.need("market")
        found = _canonical(tok.text, self.markets, self.aliases) if self.markets else (
            tok.upper if _MARKET.match(tok.text) else None)  # fmt: skip
        if found is None:
            raise self.fail(f"unknown market {tok.text!r}: expected a market such as SOL-PERP", tok)
        self.i += 1
        return found

    def venue(self, what: str = "venue") -> str:
        self.want(self.venues)
        tok = self.need(what)
        if tok.text in OPS or not _NAME.match(tok.text):
            raise self.fail(f"{tok.text!r} is not {_a(what)}: expected a venue id such as drift", tok)
        found = _canonical(tok.text, self.venues, {}) if self.venues else tok.text.lower()
        if found is None:
            raise self.fail(f"unknown venue {tok.text!r}: expected one of {', '.join(self.venues)}", tok)
        self.i += 1
        return found

    def keyword(self, word: str, why: str) -> None:
        if self.accept(word) is None:
            raise self.fail(why)

    # -- comparisons and values ----------------------------------------------------
    def op(self) -> Op:
        self.want(OPS)
        tok = self.need("comparison: > or <")
        if tok.text not in OPS:
            raise self.fail(f"{tok.text!r} is not a comparison: expected > or < (or >=, <=)", tok)
        self.i += 1
        return tok.text

    def value(self, unit: Unit, what: str, *, positive: bool = False) -> Decimal:
        """A number in ``unit``: ``180``, ``-500``, ``50%``, ``20BPS``, ``10S``
        (the suffix may also be a word of its own: ``20 BPS``)."""
        self.want([f"<{what}>"])
        tok = self.need(what)
        m = _NUMBER.match(tok.text)
        if m is None or len(tok.text) > _MAX_DIGITS or (m.group(2) and not unit.suffixes):
            raise self.fail(f"{tok.text!r} is not {_a(what)}: expected {unit.name}", tok)
        try:
            number = Decimal(m.group(1))
        except InvalidOperation:  # pragma: no cover - the pattern admits only decimals
            raise self.fail(f"{tok.text!r} is not a number", tok) from None
        self.i += 1
        suffix = m.group(2).upper()
        if not suffix and unit.suffixes:
            nxt = self.peek()
            if nxt is not None and nxt.upper in unit.scale:
                suffix = nxt.upper
                self.i += 1
        if unit.suffixes and not suffix:
            raise self.fail(f"{tok.text!r} needs a unit: {what} is {unit.name} ({'/'.join(unit.suffixes)})", tok)
        if suffix and suffix not in unit.scale:
            raise self.fail(f"{tok.text!r}: {what} does not take {suffix!r}; write it with {'/'.join(unit.suffixes)}", tok)
        value = number * unit.scale.get(suffix, Decimal(1))
        if positive and value <= 0:
            raise self.fail(f"{what} must be more than 0", tok)
        return value


def _a(noun: str) -> str:
    return f"an {noun}" if noun[:1].lower() in "aeiou" else f"a {noun}"


def is_placeholder(word: str) -> bool:
    """``<price>`` says what goes there; ``<`` and ``<=`` are words to type."""
    return len(word) > 2 and word.startswith("<") and word.endswith(">")


def _canonical(word: str, names: Sequence[str], aliases: Mapping[str, str]) -> str | None:
    u = word.upper()
    for n in names:
        if n.upper() == u:
            return n
    return aliases.get(u)


def parse_rule(
    text: str,
    markets: Sequence[str] = (),
    venues: Sequence[str] = (),
    aliases: Mapping[str, str] | None = None,
    *,
    note: bool = False,
) -> ParsedRule:
    """Parse one rule (a leading ``ALERT`` is optional). ``note``: free text
    after the rule is its note (the command line), else it is a mistake (a
    rules file, whose entries carry notes of their own)."""
    p = RuleParser(text, markets, venues, aliases or {})
    p.accept("ALERT")
    kind, market, word = _kind(p)
    p.example = kind.example
    rule = kind.parse(p, market, word)
    rule = _options(p, kind, rule)
    nxt = [w for w in p.wanted.get(p.i, []) if not is_placeholder(w)]
    tok = p.peek()
    if tok is None:
        return ParsedRule(rule, "", (*nxt, *(("<note>",) if note else ())))
    if not note:
        raise p.fail(f"unexpected {tok.text!r} after a complete rule; expected {_or(nxt) or 'nothing more'}", tok)
    return ParsedRule(rule, text[tok.start :].strip(), ())


def _kind(p: RuleParser) -> tuple[RuleKind, str, str]:
    lead = table.lead_words()
    after_market = table.market_words()
    p.want([*p.markets, *lead])
    tok = p.peek()
    if tok is None:
        raise p.fail("missing rule: a market and what to watch, or " + _or(list(lead)))
    if tok.upper in lead:
        p.i += 1
        return lead[tok.upper], "", tok.upper
    known = _canonical(tok.text, p.markets, p.aliases) is not None if p.markets else bool(_MARKET.match(tok.text))
    if not known:
        raise p.fail(
            f"unknown market or alert kind {tok.text!r}: expected a market (SOL-PERP) or {_or(list(lead))}", tok
        )
    market = p.market()
    p.want(after_market)
    nxt = p.peek()
    words = _or([k.word for k in table.kinds() if not k.lead])
    if nxt is None:
        raise p.fail(f"missing what to watch on {market}: {words}")
    kind = after_market.get(nxt.upper)
    if kind is None:
        raise p.fail(f"{nxt.text!r} is not something to alert on: expected {words} after {market}", nxt)
    p.i += 1
    return kind, market, nxt.upper


def _options(p: RuleParser, kind: RuleKind, rule: Rule) -> Rule:
    seen: set[str] = set()
    while True:
        allowed = [o for o in OPTIONS if o not in seen and (o != "ON" or kind.on_venue)]
        tok = p.accept(*allowed)
        if tok is None:
            return rule
        word = tok.upper
        seen.add(word)
        if word == "ON":
            rule = _replace(rule, venues=(p.venue(),))
        elif word == "COOLDOWN":
            at = p.peek()
            seconds = p.value(SECONDS, "cooldown")
            if seconds < 0 or seconds > MAX_COOLDOWN_S or seconds != seconds.to_integral_value():
                raise p.fail(f"cooldown must be whole seconds from 0 to {MAX_COOLDOWN_S // 86_400} days", at)
            rule = _replace(rule, cooldown_s=int(seconds))
        else:
            at = p.peek()
            band = p.value(kind.unit, "hysteresis")
            if band < 0:
                raise p.fail("hysteresis cannot be negative", at)
            rule = _replace(rule, band=band)


def _replace(rule: Rule, **changes: object) -> Rule:
    return msgspec.structs.replace(rule, **changes)


def _or(options: Sequence[str]) -> str:
    opts = [o for o in options if not is_placeholder(o)]
    if len(opts) <= 1:
        return "".join(opts)
    return ", ".join(opts[:-1]) + " or " + opts[-1]


def rule_text(rule: Rule) -> str:
    """The canonical rule, as ``parse_rule`` reads it back (without ALERT)."""
    kind = table.kind(rule.kind)
    parts = [kind.text(rule)]
    if kind.on_venue and rule.venues:
        parts.append(f"ON {rule.venues[0]}")
    if rule.cooldown_s is not None:
        parts.append(f"COOLDOWN {duration(rule.cooldown_s)}")
    if rule.band is not None:
        parts.append(f"HYST {kind.unit.write(rule.band)}")
    return " ".join(parts)


def duration(seconds: int) -> str:
    """``300`` -> ``5M``; ``3600`` -> ``1H``; ``45`` -> ``45S``."""
    if seconds and seconds % 3600 == 0:
        return f"{seconds // 3600}H"
    if seconds and seconds % 60 == 0:
        return f"{seconds // 60}M"
    return f"{seconds}S"


def expected_after(text: str, markets: Sequence[str] = (), venues: Sequence[str] = (),
                   aliases: Mapping[str, str] | None = None, *, note: bool = False) -> list[str]:  # fmt: skip
    """What may come next after ``text`` (placeholders such as ``<price>`` included)."""
    try:
        return list(parse_rule(text, markets, venues, aliases, note=note).next_words)
    except RuleError as e:
        return list(e.expected) if e.start >= len(text.rstrip()) else []
