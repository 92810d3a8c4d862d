"""Alert rules: the grammar, the table of kinds, and the engine that watches them.

``parse_rule("SOL-PERP PRICE > 180")`` gives a ``Rule``; ``AlertEngine``
watches rules on the bus with hysteresis and a cooldown and reports each
firing and re-arming. Pure: no I/O, no clock but the one injected. Delivery
(toasts, the journal, webhooks) and persistence live above the core.
"""

from __future__ import annotations

from quantdesk.core.alerts import builtin as _builtin  # noqa: F401  # registers the shipped kinds
from quantdesk.core.alerts import news as _news  # noqa: F401  # and ALERT NEWS <asset>
from quantdesk.core.alerts.engine import AlertEngine, RuleState, Transition, Watch
from quantdesk.core.alerts.grammar import ParsedRule, RuleError, duration, expected_after, parse_rule, rule_text
from quantdesk.core.alerts.rule import Rule, plain
from quantdesk.core.alerts.table import RuleKind, kind, kinds, register, unregister

__all__ = [
    "AlertEngine",
    "ParsedRule",
    "Rule",
    "RuleError",
    "RuleKind",
    "RuleState",
    "Transition",
    "Watch",
    "duration",
    "expected_after",
    "kind",
    "kinds",
    "parse_rule",
    "plain",
    "register",
    "rule_text",
    "unregister",
]
