"""Jupiter Perps instructions read back from transaction bytes, with the program's IDL.

``JupiterInstructionDecoder`` is this venue's ``signing.policy.InstructionDecoder``:
it names each instruction of the Perps program and its arguments and IDL
accounts, and says what a position request trades: the market (from the
custody account), the side, the size in USD and the worst price accepted.
Jupiter sizes positions in USD (6 decimals), so the order summary carries a
quote size rather than a base size. An increase request also declares the
collateral it takes from its funding account (``DecodedInstruction.spends``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any

from quantdesk.signing.policy import DecodedInstruction, OrderSummary
from quantdesk.venues.jupiter.accounts import bundled_idl_path, snake
from quantdesk.venues.jupiter.config import JupiterConfig

USD_DECIMALS = 6
_INCREASE = "create_increase_position_market_request"
_DECREASES = {"create_decrease_position_market_request", "create_decrease_position_request2"}


def _plain(value: Any) -> Any:
    from construct import Container, ListContainer

    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, Container):
        return {k: _plain(v) for k, v in value.items() if not k.startswith("_")}
    if isinstance(value, ListContainer | list | tuple):
        return [_plain(v) for v in value]
    if type(value).__module__ == "sumtypes":  # a Borsh enum variant
        return type(value).__name__
    if dataclasses.is_dataclass(value) and not isinstance(value, type):  # an IDL struct
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    return str(value)


@lru_cache(maxsize=4)
def _coder(path: str) -> tuple[Any, dict[str, tuple[str, ...]]]:
    from anchorpy.coder.instruction import InstructionCoder
    from anchorpy_core.idl import Idl

    idl = Idl.from_json(Path(path).read_text(encoding="utf-8"))
    names = {snake(ix.name): tuple(snake(a.name) for a in ix.accounts) for ix in idl.instructions}
    return InstructionCoder(idl), names


def _usd(value: Any) -> Decimal | None:
    return Decimal(int(value)).scaleb(-USD_DECIMALS) if isinstance(value, int) and not isinstance(value, bool) else None


def _spends(name: str, p: dict[str, Any], accounts: dict[str, str]) -> dict[str, int]:
    """An increase request takes its collateral from the funding account (the
    policy lets the signer wrap only as much SOL as that)."""
    funding, tokens = accounts.get("funding_account"), p.get("collateral_token_delta")
    if name != _INCREASE or not funding or not isinstance(tokens, int) or isinstance(tokens, bool):
        return {}
    return {funding: tokens}


class JupiterInstructionDecoder:
    def __init__(self, section: JupiterConfig, idl_path: Path | str | None = None) -> None:
        self.program_id = section.program_id
        self.program_name = section.id
        self.venue = section.id
        self._path = str(idl_path or bundled_idl_path())
        self._markets = {m.custody: m.symbol for m in section.markets}

    def decode(self, data: bytes, accounts: Sequence[str] = ()) -> DecodedInstruction | None:
        coder, account_names = _coder(self._path)
        try:
            named = coder.parse(bytes(data))
        except Exception:
            return None
        name = snake(named.name)
        args = _plain(named.data)
        names = account_names.get(name, ())
        by_name = dict(zip(names, accounts))
        params = args.get("params") or {}
        orders = self._orders(name, params, by_name)
        return DecodedInstruction(name, args, names, tuple(orders), _spends(name, params, by_name))

    def _orders(self, name: str, p: dict[str, Any], accounts: dict[str, str]) -> list[OrderSummary]:
        custody = accounts.get("custody", "")
        market = self._markets.get(custody, f"custody {custody}" if custody else "unknown market")
        if name == _INCREASE:
            size = _usd(p.get("size_usd_delta"))
            if not size:
                return []  # a collateral deposit trades nothing
            side = "buy" if p.get("side") == "Long" else "sell"
            return [OrderSummary(self.venue, market, side, Decimal(0), _usd(p.get("price_slippage")), "market",
                                 quote_size=size)]
        if name in _DECREASES:
            size = _usd(p.get("size_usd_delta"))
            entire = bool(p.get("entire_position"))
            if not size and not entire:
                return []  # a collateral withdrawal
            kind = "trigger" if p.get("request_type") == "Trigger" else "market"
            price = _usd(p.get("trigger_price") if kind == "trigger" else p.get("price_slippage"))
            # the position's side is not in the request: the reducing order is shown without one
            return [OrderSummary(self.venue, market, "close" if entire else "reduce", Decimal(0), price, kind,
                                 reduce_only=True, quote_size=size if size else None)]
        return []


def decoders(section: JupiterConfig, name: str) -> list[JupiterInstructionDecoder]:
    return [JupiterInstructionDecoder(section)]
