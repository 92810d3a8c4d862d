"""Real Drift order transactions built offline (driftpy instructions over the
mainnet fixture accounts), for tests of what signs them."""

from __future__ import annotations

from quantdesk.core.model import OrderIntent
from quantdesk.venues.drift.config import default_deployment
from quantdesk.venues.drift.execution import DriftExecutor
from support.drift_chain import LINES, USER_LINE, raw

BLOCKHASH = "EkSnNWid2cvwEVnVx9aBqawnmiCNiDgp3gUdkDPTKN1N"


def offline_executor(signer, **kw) -> DriftExecutor:
    ex = DriftExecutor(default_deployment("drift"), signer, None, dry_run=True, **kw)
    for n, x in enumerate(LINES):
        if x["account"] in ("PerpMarket", "SpotMarket"):
            ex.add_account(raw(n))
    ex.add_account(raw(USER_LINE), address=str(ex.user_address))
    return ex


def order_intent(**kw) -> OrderIntent:
    base = dict(venue="drift", market="SOL-PERP", side="buy", type="limit", size=2 * 10**9, price=150 * 10**6)
    base.update(kw)
    return OrderIntent(**base)


def order_message(signer, *, blockhash: str = BLOCKHASH, extra=(), **intent_kw):
    """A checked v0 message placing one Drift order for ``signer`` (plus ``extra`` instructions, unchecked)."""
    from quantdesk.venues.drift import transaction as txn

    ex = offline_executor(signer, priority_fee_micro_lamports=5_000)
    ixs = ex.place_instructions(order_intent(**intent_kw), 1)
    if not extra:
        return ex.message(ixs, blockhash)
    return txn.compose(signer.pubkey, txn.compute_budget_ixs(ex.compute_units, ex.priority_fee) + ixs + list(extra), blockhash)
