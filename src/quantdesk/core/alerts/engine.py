"""The alert engine: rules watched on the bus, with hysteresis and a cooldown.

Each rule is armed until its condition holds; then it fires once and waits.
It re-arms only when the figure is back past the threshold by the rule's
hysteresis band, and it never fires again within its cooldown of the last
firing, so a price sitting on the line fires once. A rule armed again whose
condition holds while it cools down fires when the cooldown ends (the
engine's ``tick``) if the condition still holds then.

The engine listens to every bus message but reads only the rules whose
topics the message can move (an index built per topic, so an unwatched
market costs one dict look-up). With ``defer`` (the event loop's
``call_soon``) a burst of messages marks rules and they are read once after
it, not once per message. Figures that move without a message (a silent
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
from quantdesk.core.alerts.table import RuleKind
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
        self._dirty: dict[str, Watch] = {}
        self._scheduled = False
        self._sub: Subscription | None = None

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
        w = self._watches[rule_id] = Watch(rule_id, rule, kind, band, cooldown, state)
        self._index.clear()
        return w

    def remove(self, rule_id: str) -> bool:
        self._dirty.pop(rule_id, None)
        if self._watches.pop(rule_id, None) is None:
            return False
        self._index.clear()
        return True

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
        if self._sub is None:
            self._sub = bus.subscribe("#", self.on_event)

    def detach(self) -> None:
        if self._sub is not None:
            self._sub.close()
            self._sub = None

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
            for w in watches:
                self._evaluate(w, now)
            return
        for w in watches:
            self._dirty[w.id] = w
        if not self._scheduled:
            self._scheduled = True
            self.defer(self.flush)

    def flush(self) -> None:
        """Read the rules the messages since the last flush may have moved."""
        self._scheduled = False
        dirty, self._dirty = self._dirty, {}
        now = self.clock()
        for w in dirty.values():
            self._evaluate(w, now)

    def tick(self) -> None:
        """Read every rule: silent feeds, and cooldowns that have ended."""
        now = self.clock()
        for w in list(self._watches.values()):
            self._evaluate(w, now)

    # -- evaluation -----------------------------------------------------------------
    def _evaluate(self, w: Watch, now: int) -> None:
        self.evaluations += 1
        st = w.state
        reading = w.kind.observe(self.cache, w.rule, now)
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
