"""The alert engine: rules watched on the bus, with hysteresis and a cooldown.

Each rule is armed until its condition holds; then it fires once and waits.
It re-arms only when the figure is back past the threshold by the rule's
hysteresis band, and it never fires again within its cooldown of the last
firing, so a price sitting on the line fires once. A rule armed again whose
condition holds while it cools down fires when the cooldown ends (the
engine's ``tick``) if the condition still holds then.

The engine subscribes to the bus only for the topics its rules can be moved
by (``book.*.SOL-PERP`` ...), so a message no rule cares about never reaches
it; a message that does marks the rules it can move (an index built per
topic). With ``defer`` (the event loop's ``call_soon``) a burst of messages
marks rules and they are read once after it, not once per message; rules on
one figure share one read. Figures that move without a message (a silent
feed) are read on ``tick``. Time comes only from the injected clock.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal

from quantdesk.core.alerts import table
from quantdesk.core.alerts.rule import Rule
from quantdesk.core.alerts.table import Reading, RuleKind
from quantdesk.core.bus import Bus, Subscription, topic_matches
from quantdesk.core.cache import MarketCache

log = logging.getLogger(__name__)

DEFAULT_COOLDOWN_S = 300
NS_PER_S = 1_000_000_000


@dataclass(slots=True)
class RuleState:
    armed: bool = True
    fired_ts: int | None = None  # the last firing (ns)
    fired_value: Decimal | None = None
    value: Decimal | None = None  # the figure when last read (None: not readable now)
    venue: str = ""  # where it was read


@dataclass(frozen=True, slots=True)
class Transition:
    rule_id: str
    event: Literal["fired", "rearmed"]
    ts: int
    value: Decimal
    venue: str


@dataclass(slots=True)
class Watch:
    id: str
    rule: Rule
    kind: RuleKind
    band: Decimal
    cooldown_ns: int
    state: RuleState
    subject: tuple[object, ...] = ()  # (kind, market, venues): rules on one subject share a read

    def cooling_until(self) -> int | None:
        """When the cooldown of the last firing ends (None: never fired)."""
        fired = self.state.fired_ts
        return None if fired is None else fired + self.cooldown_ns


OnTransition = Callable[[Watch, Transition], None]
Defer = Callable[[Callable[[], None]], Any]


class AlertEngine:
    def __init__(
        self,
        cache: MarketCache,
        clock: Callable[[], int],
        on_transition: OnTransition | None = None,
        *,
        cooldown_s: float = DEFAULT_COOLDOWN_S,
        defer: Defer | None = None,
    ) -> None:
        self.cache = cache
        self.clock = clock
        self.on_transition = on_transition
        self.cooldown_ns = int(cooldown_s * NS_PER_S)
        self.defer = defer
        self.evaluations = 0
        self._watches: dict[str, Watch] = {}
        self._index: dict[str, tuple[Watch, ...]] = {}
        self._dirty: dict[str, tuple[Watch, ...]] = {}  # topic -> the rules it marked since the last flush
        self._scheduled = False
        self._bus: Bus | None = None
        self._subs: dict[str, Subscription] = {}  # pattern -> subscription

    # -- rules ------------------------------------------------------------------
    def put(self, rule_id: str, rule: Rule, state: RuleState | None = None) -> Watch:
        """Watch ``rule`` as ``rule_id``. Replacing a rule by the same one keeps
        its state; a changed rule starts armed unless ``state`` is given."""
        kind = table.kind(rule.kind)
        old = self._watches.get(rule_id)
        if state is None:
            state = old.state if old is not None and old.rule == rule else RuleState()
        cooldown = self.cooldown_ns if rule.cooldown_s is None else rule.cooldown_s * NS_PER_S
        band = kind.band(rule) if rule.band is None else rule.band
        w = self._watches[rule_id] = Watch(rule_id, rule, kind, band, cooldown, state, (rule.kind, rule.market, rule.venues))
        self._rules_changed()
        return w

    def remove(self, rule_id: str) -> bool:
        if self._watches.pop(rule_id, None) is None:
            return False
        self._rules_changed()
        return True

    def _rules_changed(self) -> None:
        self._index.clear()
        if self._bus is None:
            return
        wanted = {p for w in self._watches.values() for p in w.kind.topics(w.rule)}
        for pattern in [p for p in self._subs if p not in wanted]:
            self._subs.pop(pattern).close()
        for pattern in sorted(wanted - set(self._subs)):
            self._subs[pattern] = self._bus.subscribe(pattern, self.on_event)

    def get(self, rule_id: str) -> Watch | None:
        return self._watches.get(rule_id)

    def watches(self) -> list[Watch]:
        return list(self._watches.values())

    def __len__(self) -> int:
        return len(self._watches)

    def mark_fired(self, rule_id: str, ts: int, value: Decimal | None) -> None:
        """Someone else (a team mate's terminal) fired this rule: wait for the
        re-arm and the cooldown here too, without announcing it again."""
        w = self._watches.get(rule_id)
        if w is not None:
            w.state.armed = False
            w.state.fired_ts = ts
            w.state.fired_value = value

    # -- the bus ------------------------------------------------------------------
    def attach(self, bus: Bus) -> None:
        if self._bus is None:
            self._bus = bus
            self._rules_changed()

    def detach(self) -> None:
        for sub in self._subs.values():
            sub.close()
        self._subs.clear()
        self._bus = None

    def on_event(self, topic: str, event: object) -> None:
        watches = self._index.get(topic)
        if watches is None:
            watches = self._index[topic] = tuple(
                w for w in self._watches.values() if any(topic_matches(p, topic) for p in w.kind.topics(w.rule))
            )
        if not watches:
            return
        if self.defer is None:
            now = self.clock()
            memo: dict[tuple[object, ...], Reading | None] = {}
            for w in watches:
                self._evaluate(w, now, memo)
            return
        self._dirty[topic] = watches
        if not self._scheduled:
            self._scheduled = True
            self.defer(self.flush)

    def flush(self) -> None:
        """Read the rules the messages since the last flush may have moved."""
        self._scheduled = False
        dirty, self._dirty = self._dirty, {}
        now = self.clock()
        memo: dict[tuple[object, ...], Reading | None] = {}
        done: set[str] = set()
        for watches in dirty.values():
            for w in watches:
                if w.id not in done and self._watches.get(w.id) is w:  # not removed or replaced meanwhile
                    done.add(w.id)
                    self._evaluate(w, now, memo)

    def tick(self) -> None:
        """Read every rule: silent feeds, and cooldowns that have ended."""
        now = self.clock()
        memo: dict[tuple[object, ...], Reading | None] = {}
        for w in list(self._watches.values()):
            self._evaluate(w, now, memo)

    # -- evaluation -----------------------------------------------------------------
    def _evaluate(self, w: Watch, now: int, memo: dict[tuple[object, ...], Reading | None]) -> None:
        """Read one rule's figure (once per subject in one pass: twenty levels on
        one market read its price once) and move its state."""
        st = w.state
        subject = w.subject
        if subject in memo:
            reading = memo[subject]
        else:
            self.evaluations += 1
            reading = memo[subject] = w.kind.observe(self.cache, w.rule, now)
        if reading is None:
            st.value = None
            return
        value, venue = reading
        st.value, st.venue = value, venue
        event: Literal["fired", "rearmed"]
        if st.armed:
            if not w.rule.holds(value) or (st.fired_ts is not None and now - st.fired_ts < w.cooldown_ns):
                return
            st.armed, st.fired_ts, st.fired_value = False, now, value
            event = "fired"
        elif w.rule.clears(value, w.band):
            st.armed = True
            event = "rearmed"
        else:
            return
        if self.on_transition is not None:
            try:
                self.on_transition(w, Transition(w.id, event, now, value, venue))
            except Exception:
                log.exception("alert %s: handling its %s event failed", w.id, event)
