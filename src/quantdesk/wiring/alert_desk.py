"""One terminal's alerts: the rules, the engine watching them, and delivery.

``AlertDesk`` holds the trader's own rules (``alerts.toml`` in the config
directory, which ``ALERT ...`` appends to and ``ALERT DEL`` edits) and the
team's shared rules (the workspace in Redis, when one is configured), and
watches both with one :class:`~quantdesk.core.alerts.AlertEngine` on the
session's bus. When a rule fires it is journaled (the journal is also what a
restarted terminal restores each rule's state from), announced through
``on_fire`` (the console's toast and bell) and posted to the webhook, if one
is set; none of it waits on the network.

A shared rule is recorded in the workspace by the terminal that sees it fire
first; the others announce that firing once (without posting it again) and
hold the rule back for its cooldown as if they had fired it themselves.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Literal

from quantdesk.config.alert_rules import RulesFile, RulesFileError, rule_id
from quantdesk.core.alerts import AlertEngine, Rule, RuleError, RuleState, Transition, Watch, parse_rule, rule_text
from quantdesk.core.alerts.engine import DEFAULT_COOLDOWN_S, Defer
from quantdesk.core.problems import Problem

if TYPE_CHECKING:
    from pathlib import Path

    from quantdesk.config.settings import Settings
    from quantdesk.core.bus import Bus
    from quantdesk.core.cache import MarketCache
    from quantdesk.sync.team_desk import TeamDesk
    from quantdesk.sync.webhook import WebhookSender
    from quantdesk.sync.workspace import Alert
    from quantdesk.trading.journal import AlertEvent, Journal
    from quantdesk.venues.session import Session

log = logging.getLogger(__name__)

Scope = Literal["local", "team"]
FIRED_TITLE = "Alert triggered"
READ_ONLY = ("this console only watches your alerts: they are added and removed in your other console "
             "(quit it and connect again to edit them here)")


class AlertError(Exception):
    """An alert could not be added or removed; the message says what to do."""


@dataclass(frozen=True, slots=True)
class _Entry:
    scope: Scope
    note: str = ""
    user: str = ""  # who shared it (team rules)
    source: str = ""  # where it is kept: "alerts.toml:4", "team", "this session"


@dataclass(frozen=True, slots=True)
class AlertFiring:
    rule_id: str
    message: str
    remote: bool = False  # a team mate's terminal saw it fire


@dataclass(frozen=True, slots=True)
class AlertRow:
    """One alert as ``ALERTS`` lists it."""

    id: str
    scope: Scope
    rule: str
    note: str
    user: str
    source: str
    armed: bool
    value: str  # the figure now in its unit ("—": not readable now)
    venue: str  # where the figure was read
    fired_ts: int | None
    fired_value: str
    cooling_until: int | None


class AlertDesk:
    def __init__(
        self,
        cache: MarketCache,
        clock: Callable[[], int],
        *,
        rules: RulesFile | None = None,  # None: local rules last for this session only
        journal: Journal | None = None,  # None: nothing journaled, no state restored
        webhook: WebhookSender | None = None,
        cooldown_s: float = DEFAULT_COOLDOWN_S,
        bell: bool = True,
        writer: bool = True,  # False: another console of this trader writes their rules and journals firings
    ) -> None:
        self.cache = cache
        self.rules = rules
        self.journal = journal
        self.writer = writer
        self.webhook = webhook
        self.bell = bell
        self.engine = AlertEngine(cache, clock, self._on_transition, cooldown_s=cooldown_s)
        self.on_fire: Callable[[AlertFiring], None] | None = None
        self.on_problems: Callable[[list[Problem]], None] | None = None
        self.team: TeamDesk | None = None
        self.problems: list[Problem] = []
        self.rev = 0  # moves whenever a rule or its state changes
        self._entries: dict[str, _Entry] = {}
        self._restored: dict[str, tuple[AlertEvent, AlertEvent | None]] = journal.alert_states() if journal else {}
        self._stamp: tuple[int, int] | None | bool = False  # False: never read
        self._shown: set[str] = set()  # problems already reported
        self._team_rev = -1
        self._team_synced = False
        self._team_seen: dict[str, int] = {}  # shared alert id -> the firing already announced here
        self._unreadable: set[str] = set()

    def __repr__(self) -> str:
        return f"AlertDesk(rules={len(self._entries)}, file={self.rules!r}, webhook={self.webhook!r})"

    # -- lifecycle ---------------------------------------------------------------
    def start(self, bus: Bus, defer: Defer | None = None) -> None:
        """Watch the rules on ``bus``; ``defer`` (the loop's ``call_soon``) reads a
        burst of messages once after it rather than once per message."""
        self.engine.defer = defer
        self._check_file()
        self.engine.attach(bus)
        if self.webhook is not None:
            self.webhook.start()

    async def stop(self) -> None:
        self.engine.detach()
        if self.webhook is not None:
            await self.webhook.close()

    def tick(self) -> None:
        """A few times a second: an edited rules file, the team's changes, and
        the figures no message moves (silent feeds, cooldowns ending)."""
        self._check_file()
        self._sync_team()
        self.engine.tick()

    # -- rules ---------------------------------------------------------------------
    def ids(self) -> list[str]:
        return list(self._entries)

    def scope_of(self, alert_id: str) -> Scope | None:
        e = self._entries.get(alert_id)
        return None if e is None else e.scope

    async def add(self, rule: Rule, note: str = "", scope: Scope = "local") -> str:
        """Watch ``rule`` from now on and keep it (the file, or the team); its id."""
        text = rule_text(rule)
        if scope == "team":
            if self.team is None:
                raise AlertError("no team workspace: set [redis] url in the config to share alerts, or use ALERT LOCAL")
            same = next((a for a in self.team.alerts.values() if a.rule_text() == text), None)
            if same is not None:
                raise AlertError(f"the team already has this rule as alert {same.id}")
            alert = await self.team.add_alert(text, note)
            self._team_seen[alert.id] = 0
            self._put(alert.id, rule, _Entry("team", note, alert.user, "team"))
            return alert.id
        rid = rule_id(rule)
        if rid in self._entries:
            raise AlertError(f"this rule is already set as alert {rid}")
        if not self.writer:
            raise AlertError(READ_ONLY)
        if self.rules is None:
            self._put(rid, rule, _Entry("local", note, "", "this session"))
            return rid
        try:
            self.rules.add(rule, note)
        except RulesFileError as exc:
            raise AlertError(str(exc)) from None
        self._reload_file()
        return rid

    async def remove(self, alert_id: str) -> Scope | None:
        """Stop watching ``alert_id`` and forget it; its scope, None if unknown."""
        e = self._entries.get(alert_id)
        if e is None:
            return None
        if e.scope == "local" and not self.writer:
            raise AlertError(READ_ONLY)
        if e.scope == "team" and self.team is not None:
            await self.team.remove_alert(alert_id)
        elif self.rules is not None and e.source != "this session":
            try:
                self.rules.remove(alert_id)
            except RulesFileError as exc:
                raise AlertError(str(exc)) from None
        self._drop(alert_id)
        if e.scope == "local" and self.rules is not None:
            self._reload_file()
        return e.scope

    def rows(self) -> list[AlertRow]:
        out = []
        for w in self.engine.watches():
            e = self._entries.get(w.id)
            if e is None:
                continue
            st, unit = w.state, w.kind.unit
            out.append(AlertRow(
                w.id, e.scope, rule_text(w.rule), e.note, e.user, e.source, st.armed,
                "—" if st.value is None else unit.show(st.value), st.venue, st.fired_ts,
                "" if st.fired_value is None else unit.show(st.fired_value), w.cooling_until(),
            ))  # fmt: skip
        return out

    def _put(self, alert_id: str, rule: Rule, entry: _Entry) -> None:
        old = self.engine.get(alert_id)
        state = self._restore(alert_id, rule) if old is None or old.rule != rule else None
        self.engine.put(alert_id, rule, state)
        self._entries[alert_id] = entry
        self.rev += 1

    def _drop(self, alert_id: str) -> None:
        self.engine.remove(alert_id)
        self._entries.pop(alert_id, None)
        self.rev += 1

    def _restore(self, alert_id: str, rule: Rule) -> RuleState | None:
        """The state the journal last recorded for this very rule (None: armed)."""
        found = self._restored.get(alert_id)
        if found is None or found[0].rule != rule_text(rule):
            return None
        last, fired = found
        return RuleState(
            armed=last.event == "rearmed",
            fired_ts=fired.ts if fired is not None else None,
            fired_value=Decimal(fired.value) if fired is not None and fired.value else None,
        )

    # -- the rules file --------------------------------------------------------------
    def _reload_file(self) -> None:
        self._stamp = False
        self._check_file()

    def _check_file(self) -> None:
        if self.rules is None:
            return
        stamp = self.rules.stamp()
        if stamp == self._stamp:
            return
        self._stamp = stamp
        found, problems = self.rules.load()
        name = self.rules.path.name
        kept = set()
        for fr in found:
            kept.add(fr.id)
            entry = _Entry("local", fr.note, "", f"{name}:{fr.line}")
            w = self.engine.get(fr.id)
            if w is None or w.rule != fr.rule or self._entries.get(fr.id) != entry:
                self._put(fr.id, fr.rule, entry)
        for rid, e in list(self._entries.items()):
            if e.scope == "local" and rid not in kept:
                self._drop(rid)
        self.problems = problems
        new = [p for p in problems if str(p) not in self._shown]
        self._shown = {str(p) for p in problems}
        if new and self.on_problems is not None:
            self.on_problems(new)

    # -- the team's rules ---------------------------------------------------------------
    def _sync_team(self) -> None:
        desk = self.team
        if desk is None or not desk.loaded or desk.rev == self._team_rev:
            return
        self._team_rev = desk.rev
        present: dict[str, Alert] = {}
        for a in desk.alerts.values():
            try:
                rule = parse_rule(a.rule_text()).rule
            except RuleError:
                if a.id not in self._unreadable:  # a kind a newer QuantDesk knows
                    self._unreadable.add(a.id)
                    log.warning("team alert %s: cannot watch %r here; a newer QuantDesk wrote it", a.id, a.rule_text())
                continue
            present[a.id] = a
            entry = _Entry("team", a.note, a.user, "team")
            w = self.engine.get(a.id)
            if w is None or w.rule != rule or self._entries.get(a.id) != entry:
                self._put(a.id, rule, entry)
        for rid, e in list(self._entries.items()):
            if e.scope == "team" and rid not in present:
                self._drop(rid)
                self._team_seen.pop(rid, None)
        first, self._team_synced = not self._team_synced, True
        for a in present.values():
            ts = a.triggered_ts if a.state == "triggered" else 0
            if first:  # fired before this terminal started: not news
                self._team_seen[a.id] = ts
            elif ts > self._team_seen.get(a.id, 0):
                self._seen_elsewhere(a, ts)

    def _fired_elsewhere(self, alert_id: str) -> bool:
        """A firing of this shared rule recorded by another terminal and not yet
        announced here: announce that one instead of a second firing."""
        desk = self.team
        a = desk.alerts.get(alert_id) if desk is not None else None
        if a is None or a.state != "triggered" or a.triggered_ts <= self._team_seen.get(alert_id, 0):
            return False
        self._seen_elsewhere(a, a.triggered_ts)
        return True

    def _seen_elsewhere(self, a: Alert, ts: int) -> None:
        self._team_seen[a.id] = ts
        w = self.engine.get(a.id)
        if w is None:
            return
        self.engine.mark_fired(a.id, self.engine.clock(), a.triggered_price)
        value = "" if a.triggered_price is None else f": {w.kind.unit.show(a.triggered_price)}"
        venue = a.triggered_venue or a.venue
        where = f" on {venue}" if venue and venue not in rule_text(w.rule) else ""
        note = f" - {a.note}" if a.note else ""
        seen = f"; fired on {a.triggered_by}'s terminal" if a.triggered_by else ""
        message = f"{rule_text(w.rule)}{value}{where}{note} (alert {a.id} by {a.user}{seen})"
        self._journal(a.id, "seen", self.engine.clock(), w.rule, a.triggered_price or Decimal(0), venue, message)
        self._announce(AlertFiring(a.id, message, remote=True))
        self.rev += 1

    # -- firing ----------------------------------------------------------------------------
    def _on_transition(self, w: Watch, t: Transition) -> None:
        e = self._entries.get(w.id)
        if e is None:
            return
        self.rev += 1
        if t.event == "rearmed":
            self._journal(w.id, "rearmed", t.ts, w.rule, t.value, t.venue, "")
            return
        if e.scope == "team" and self._fired_elsewhere(w.id):
            return
        message = self._message(w, e, t)
        self._journal(w.id, "fired", t.ts, w.rule, t.value, t.venue, message)
        if e.scope == "team" and self.team is not None:
            shared = self.team.trigger(w.id, t.ts, t.value, t.venue)
            if shared is not None:
                self._team_seen[w.id] = shared.triggered_ts
        self._announce(AlertFiring(w.id, message))
        if self.webhook is not None:
            self.webhook.send(f"QuantDesk alert: {message}")

    def _message(self, w: Watch, e: _Entry, t: Transition) -> str:
        text = rule_text(w.rule)
        where = f" on {t.venue}" if t.venue and t.venue not in text else ""
        note = f" - {e.note}" if e.note else ""
        by = f" by {e.user}" if e.scope == "team" and e.user else ""
        return f"{text}: {w.kind.unit.show(t.value)}{where}{note} (alert {w.id}{by})"

    def _announce(self, firing: AlertFiring) -> None:
        if self.on_fire is not None:
            try:
                self.on_fire(firing)
            except Exception:
                log.exception("announcing alert %s failed", firing.rule_id)

    def _journal(self, alert_id: str, event: str, ts: int, rule: Rule, value: Decimal, venue: str, message: str) -> None:
        if self.journal is None or not self.writer:  # the writing console journals it, once
            return
        from quantdesk.trading.journal import JournalError

        try:
            self.journal.record_alert(alert_id, event, ts, rule_text(rule), value, venue, message)
        except (JournalError, OSError, ValueError) as exc:
            log.error("alert %s %s was not journaled: %s", alert_id, event, exc)


def alert_desk_from_settings(settings: Settings, session: Session, journal: Journal | None) -> AlertDesk:
    """The alerts ``[alerts]`` asks for: rules in ``alerts.toml`` of the config
    directory, state in ``journal``, the webhook if ``[alerts.webhook] url`` is set."""
    from quantdesk.config.paths import alert_rules_path

    cfg = settings.alerts
    webhook = None
    url = cfg.webhook.url.get_secret_value() if cfg.webhook.url is not None else ""
    if url:
        from quantdesk.sync.webhook import WebhookSender

        webhook = WebhookSender(url, timeout_s=cfg.webhook.timeout_s, retries=cfg.webhook.retries,
                                backoff_s=cfg.webhook.backoff_s)  # fmt: skip
    return AlertDesk(
        session.cache, session.clock, rules=RulesFile(alert_rules_path()), journal=journal, webhook=webhook,
        cooldown_s=cfg.cooldown_s, bell=cfg.bell,
    )  # fmt: skip


def trader_alert_desk(
    settings: Settings | None, session: Session, journal: Journal, rules: Path, *, writer: bool
) -> AlertDesk:
    """The alerts of one trader a server serves: their rules in ``rules`` (their
    own folder), their rule states in their journal; ``writer`` False for a
    second console of theirs, which watches the same rules but leaves the file
    and the journal to the first. The server's ``[alerts.webhook]`` is not
    theirs, so their firings are not posted to it."""
    cfg = settings.alerts if settings is not None else None
    return AlertDesk(
        session.cache, session.clock, rules=RulesFile(rules), journal=journal, writer=writer,
        cooldown_s=cfg.cooldown_s if cfg is not None else DEFAULT_COOLDOWN_S, bell=cfg.bell if cfg is not None else True,
    )  # fmt: skip


__all__ = ["AlertDesk", "AlertError", "AlertFiring", "AlertRow", "FIRED_TITLE", "Scope", "alert_desk_from_settings",
           "trader_alert_desk"]

