"""Drift-v2 instructions read back from transaction bytes, with the engine's IDL.

``DriftInstructionDecoder`` is this venue's ``signing.policy.InstructionDecoder``:
the transaction policy (in the console and in the signer agent) uses it to
name each instruction of the deployment's program, its arguments and its IDL
accounts, and to say what an order instruction trades in human units (the
market's symbol, side, size in the base asset, price in the quote).
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any

from quantdesk.signing.policy import DecodedInstruction, OrderSummary
from quantdesk.venues.drift.config import DriftDeployment

PRICE_DECIMALS = 6
BASE_DECIMALS = 9
_ORDER_PARAMS = {"place_perp_order", "place_and_take_perp_order", "place_and_make_perp_order"}
_KINDS = {"Market": "market", "Limit": "limit", "TriggerMarket": "trigger_market",
          "TriggerLimit": "trigger_limit", "Oracle": "oracle"}


@lru_cache(maxsize=8)
def _coder(path: str) -> tuple[Any, dict[str, tuple[str, ...]]]:
    from anchorpy.coder.instruction import InstructionCoder
    from anchorpy_core.idl import Idl

    from quantdesk.venues.drift.preview import instruction_account_names

    idl = Idl.from_json(Path(path).read_text())
    names = {k: tuple(v) for k, v in instruction_account_names(idl).items()}
    return InstructionCoder(idl), names


class DriftInstructionDecoder:
    def __init__(self, deployment: DriftDeployment) -> None:
        from quantdesk.venues.drift.idl import idl_path_for

        self.program_id = deployment.program_id
        self.program_name = deployment.id
        self.venue = deployment.id
        self._path = str(idl_path_for(deployment))  # IdlError when the deployment has no IDL
        self._symbols = {m.index: m.symbol for m in deployment.listed}

    def decode(self, data: bytes, accounts: Sequence[str] = ()) -> DecodedInstruction | None:
        from quantdesk.venues.drift.accounts import plain

        coder, account_names = _coder(self._path)
        try:
            named = coder.parse(bytes(data))
        except Exception:
            return None
        args = plain(named.data)
        return DecodedInstruction(
            name=named.name,
            args=args,
            account_names=account_names.get(named.name, ()),
            orders=tuple(self._orders(named.name, args)),
        )

    def _orders(self, name: str, args: dict[str, Any]) -> list[OrderSummary]:
        if name in _ORDER_PARAMS:
            return [self._order(args.get("params") or {})]
        if name == "place_orders":
            return [self._order(p) for p in args.get("params") or [] if p.get("market_type") == "Perp"]
        return []

    def _order(self, p: dict[str, Any]) -> OrderSummary:
        index = int(p.get("market_index", 0))
        price = int(p.get("price") or 0)
        return OrderSummary(
            venue=self.venue,
            market=self._symbols.get(index, f"perp market {index}"),
            side="buy" if p.get("direction") == "Long" else "sell",
            size=Decimal(int(p.get("base_asset_amount") or 0)).scaleb(-BASE_DECIMALS),
            price=Decimal(price).scaleb(-PRICE_DECIMALS) if price else None,
            kind=_KINDS.get(str(p.get("order_type")), str(p.get("order_type", ""))),
            reduce_only=bool(p.get("reduce_only")),
        )


def decoders(section: DriftDeployment, name: str) -> list[DriftInstructionDecoder]:
    """The deployment's instruction decoders; none when it has no IDL (Velocity without one)."""
    if not section.has_idl:
        return []
    return [DriftInstructionDecoder(section)]
