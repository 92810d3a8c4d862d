"""Jupiter Perps position requests, built as the program's real instructions.

Trades on Jupiter Perps are two steps: the trader's transaction creates a
``PositionRequest`` account (and its token account holding the collateral),
then a keeper executes it at the oracle price, or it is closed when the
request is cancelled or expires (the pool's ``maxRequestExecutionSec``).
This module builds the trader's half:

- open or add to a position at market (``createIncreasePositionMarketRequest``),
  and add collateral (the same, with no size);
- reduce or close at market (``createDecreasePositionMarketRequest``), and
  withdraw collateral (the same, with no size);
- take-profit and stop-loss (``createDecreasePositionRequest2``, a trigger
  request on the whole position or part of it), and a new trigger price for
  one (``updateDecreasePositionRequest2``);
- cancelling a request the keepers have not executed (``closePositionRequest``:
  the request and its token account are closed, the collateral returned).

Accounts are the program's PDAs (``perpetuals``, the position, the request,
the event authority) and associated token accounts; arguments are encoded
field by field from the IDL's own type definitions, so a changed IDL fails
loudly here instead of sending bytes the program reads differently.
Pure: no I/O; the caller supplies the custodies' mints and oracles.
"""

from __future__ import annotations

import hashlib
import json
import struct
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from solders.instruction import AccountMeta, Instruction
from solders.pubkey import Pubkey
from solders.system_program import ID as SYSTEM_PROGRAM

from quantdesk.signing import policy
from quantdesk.venues.jupiter.accounts import bundled_idl_path, snake

TOKEN_PROGRAM = Pubkey.from_string(policy.TOKEN_PROGRAM_ID)
ASSOCIATED_TOKEN_PROGRAM = Pubkey.from_string(policy.ASSOCIATED_TOKEN_PROGRAM_ID)
NATIVE_MINT = Pubkey.from_string(policy.NATIVE_MINT)

Side = Literal["long", "short"]
SIDE_SEED = {"long": 1, "short": 2}
CHANGE_SEED = {"increase": 1, "decrease": 2}
U64_MAX = 2**64 - 1


class RequestError(ValueError):
    """A position request that cannot be built; the message says what to change."""


@dataclass(frozen=True)
class CustodyRef:
    """What a request needs to know of a custody: its account, its token mint
    and its oracle accounts (from the decoded Custody)."""

    address: Pubkey
    mint: Pubkey
    doves_oracle: Pubkey
    pythnet_oracle: Pubkey

    @classmethod
    def from_decoded(cls, address: str, fields: Mapping[str, Any]) -> CustodyRef:
        """From ``AccountDecoder.decode(...).fields`` of a Custody account."""
        return cls(
            Pubkey.from_string(address),
            Pubkey.from_string(fields["mint"]),
            Pubkey.from_string(fields["doves_oracle"]),
            Pubkey.from_string(fields["oracle"]["oracle_account"]),
        )


@dataclass(frozen=True)
class Market:
    """One tradable Jupiter market for one side: the traded custody and the
    custody holding the collateral (itself for a long, a stable for a short)."""

    program: Pubkey
    pool: Pubkey
    custody: CustodyRef
    collateral: CustodyRef
    side: Side


@lru_cache(maxsize=4)
def _idl(path: str) -> dict[str, Any]:
    raw: dict[str, Any] = json.loads(Path(path).read_text(encoding="utf-8"))
    return raw


def sighash(ix_name: str) -> bytes:
    """Anchor's instruction discriminator: sha256("global:<snake_name>")[:8]."""
    return hashlib.sha256(f"global:{snake(ix_name)}".encode()).digest()[:8]


class _Encoder:
    """Borsh encoding of instruction arguments, walking the IDL's types."""

    def __init__(self, idl: Mapping[str, Any]) -> None:
        self.types = {t["name"]: t["type"] for t in idl.get("types", [])}
        self.instructions = {i["name"]: i for i in idl.get("instructions", [])}

    def instruction(self, name: str) -> Mapping[str, Any]:
        ix = self.instructions.get(name)
        if ix is None:
            raise RequestError(f"the Jupiter Perps IDL has no {name} instruction; refresh it with `quantdesk inspect jupiter idl`")
        return ix

    def value(self, typ: Any, value: Any, where: str) -> bytes:
        if isinstance(typ, str):
            return self._primitive(typ, value, where)
        if "option" in typ:
            if value is None:
                return b"\x00"
            return b"\x01" + self.value(typ["option"], value, where)
        if "defined" in typ:
            spec = self.types[typ["defined"]]
            if spec["kind"] == "enum":
                names = [v["name"] for v in spec["variants"]]
                if value not in names:
                    raise RequestError(f"{where}: {value!r} is not one of {', '.join(names)}")
                return bytes([names.index(value)])
            return self.struct(spec, value, where)
        raise RequestError(f"{where}: the IDL type {typ!r} is not used by position requests")

    def struct(self, spec: Mapping[str, Any], value: Mapping[str, Any], where: str) -> bytes:
        fields = spec["fields"]
        unknown = set(value) - {f["name"] for f in fields}
        if unknown:
            raise RequestError(f"{where}: the IDL has no field {', '.join(sorted(unknown))}")
        return b"".join(self.value(f["type"], value.get(f["name"]), f"{where}.{f['name']}") for f in fields)

    @staticmethod
    def _primitive(typ: str, value: Any, where: str) -> bytes:
        if typ == "bool":
            if not isinstance(value, bool):
                raise RequestError(f"{where}: expected true or false")
            return b"\x01" if value else b"\x00"
        if typ == "u64":
            if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= U64_MAX:
                raise RequestError(f"{where}: {value!r} is not a whole number from 0 to 2^64-1")
            return struct.pack("<Q", value)
        raise RequestError(f"{where}: the IDL type {typ} is not used by position requests")


def find_pda(seeds: list[bytes], program: Pubkey) -> Pubkey:
    return Pubkey.find_program_address(seeds, program)[0]


def perpetuals_pda(program: Pubkey) -> Pubkey:
    return find_pda([b"perpetuals"], program)


def event_authority(program: Pubkey) -> Pubkey:
    return find_pda([b"__event_authority"], program)


def position_pda(owner: Pubkey, m: Market) -> Pubkey:
    """The one position account per wallet, custody, collateral custody and side."""
    seeds = [b"position", bytes(owner), bytes(m.pool), bytes(m.custody.address), bytes(m.collateral.address), bytes([SIDE_SEED[m.side]])]
    return find_pda(seeds, m.program)


def request_pda(position: Pubkey, counter: int, change: Literal["increase", "decrease"], program: Pubkey) -> Pubkey:
    """A request is unique per position, counter and direction of change."""
    return find_pda([b"position_request", bytes(position), struct.pack("<Q", counter), bytes([CHANGE_SEED[change]])], program)


def associated_token_account(owner: Pubkey, mint: Pubkey) -> Pubkey:
    return find_pda([bytes(owner), bytes(TOKEN_PROGRAM), bytes(mint)], ASSOCIATED_TOKEN_PROGRAM)


@dataclass(frozen=True)
class BuiltRequest:
    """The instructions of one request and the accounts it creates."""

    kind: str  # "open", "close", "deposit", "withdraw", "take_profit", "stop_loss"
    instructions: list[Instruction]
    position: Pubkey
    request: Pubkey
    counter: int


class RequestBuilder:
    """Builds position requests for one wallet against one IDL."""

    def __init__(self, owner: Pubkey, idl_path: Path | str | None = None) -> None:
        self.owner = owner
        self._enc = _Encoder(_idl(str(idl_path or bundled_idl_path())))

    # -- the requests ------------------------------------------------------
    def open(self, m: Market, *, size_usd: int, collateral_tokens: int, price_slippage: int, counter: int) -> BuiltRequest:
        """Open or add to a position at market: ``size_usd`` (6 decimals), paid
        with ``collateral_tokens`` of the collateral custody's mint, filled no
        worse than ``price_slippage`` (USD, 6 decimals)."""
        if size_usd <= 0:
            raise RequestError("the size must be above 0 USD (use deposit to add collateral only)")
        return self._increase("open", m, size_usd, collateral_tokens, price_slippage, counter)

    def deposit(self, m: Market, *, collateral_tokens: int, counter: int) -> BuiltRequest:
        """Add collateral to the position without changing its size."""
        if collateral_tokens <= 0:
            raise RequestError("a collateral deposit must be above 0")
        # no size: the price limit cannot matter, so it is the widest allowed
        price = U64_MAX if m.side == "long" else 0
        return self._increase("deposit", m, 0, collateral_tokens, price, counter)

    def close(self, m: Market, *, size_usd: int | None, price_slippage: int, counter: int) -> BuiltRequest:
        """Reduce the position by ``size_usd``, or close all of it (None), at
        market no worse than ``price_slippage``."""
        if size_usd is not None and size_usd <= 0:
            raise RequestError("the size to reduce must be above 0 USD (or close the whole position)")
        params = {
            "collateralUsdDelta": 0,
            "sizeUsdDelta": size_usd or 0,
            "priceSlippage": price_slippage,
            "jupiterMinimumOut": None,
            "entirePosition": True if size_usd is None else None,
            "counter": counter,
        }
        return self._decrease("close", "createDecreasePositionMarketRequest", m, params, counter)

    def withdraw(self, m: Market, *, collateral_usd: int, counter: int) -> BuiltRequest:
        """Take ``collateral_usd`` (6 decimals) of collateral out of the position."""
        if collateral_usd <= 0:
            raise RequestError("a collateral withdrawal must be above 0 USD")
        params = {
            "collateralUsdDelta": collateral_usd,
            "sizeUsdDelta": 0,
            "priceSlippage": 0 if m.side == "long" else U64_MAX,
            "jupiterMinimumOut": None,
            "entirePosition": None,
            "counter": counter,
        }
        return self._decrease("withdraw", "createDecreasePositionMarketRequest", m, params, counter)

    def trigger(
        self, m: Market, *, kind: Literal["take_profit", "stop_loss"], trigger_price: int, counter: int,
        size_usd: int | None = None,
    ) -> BuiltRequest:
        """A take-profit or stop-loss at ``trigger_price`` (USD, 6 decimals) on the
        whole position, or on ``size_usd`` of it. A long takes profit above and
        stops out below; a short the other way round."""
        if trigger_price <= 0:
            raise RequestError("the trigger price must be above 0")
        if size_usd is not None and size_usd <= 0:
            raise RequestError("the size to close must be above 0 USD (or the whole position)")
        above = (kind == "take_profit") == (m.side == "long")
        params = {
            "collateralUsdDelta": 0,
            "sizeUsdDelta": size_usd or 0,
            "requestType": "Trigger",
            "priceSlippage": None,
            "jupiterMinimumOut": None,
            "triggerPrice": trigger_price,
            "triggerAboveThreshold": above,
            "entirePosition": True if size_usd is None else None,
            "counter": counter,
        }
        return self._decrease(kind, "createDecreasePositionRequest2", m, params, counter)

    def update_trigger(
        self, m: Market, request: Pubkey, *, trigger_price: int, size_usd: int, position: Pubkey | None = None
    ) -> Instruction:
        """A new trigger price (and size, 0 for the whole position) for an open trigger request."""
        if trigger_price <= 0:
            raise RequestError("the trigger price must be above 0")
        named = {
            "owner": self.owner,
            "perpetuals": perpetuals_pda(m.program),
            "pool": m.pool,
            "position": position or position_pda(self.owner, m),
            "positionRequest": request,
            "custody": m.custody.address,
            "custodyDovesPriceAccount": m.custody.doves_oracle,
            "custodyPythnetPriceAccount": m.custody.pythnet_oracle,
        }
        params = {"sizeUsdDelta": size_usd, "triggerPrice": trigger_price}
        return self._instruction("updateDecreasePositionRequest2", named, params, m.program)

    def cancel(self, m: Market, request: Pubkey, mint: Pubkey, position: Pubkey | None = None) -> Instruction:
        """Close a request the keepers have not executed; what it holds goes back to the owner's ``mint`` account."""
        named = {
            "keeper": m.program,  # absent: the owner closes it, as the fee payer and signer
            "owner": self.owner,
            "ownerAta": associated_token_account(self.owner, mint),
            "pool": m.pool,
            "positionRequest": request,
            "positionRequestAta": associated_token_account(request, mint),
            "position": position or position_pda(self.owner, m),
            "tokenProgram": TOKEN_PROGRAM,
            "eventAuthority": event_authority(m.program),
            "program": m.program,
        }
        return self._instruction("closePositionRequest", named, {}, m.program)

    # -- shared ----------------------------------------------------------------
    def _increase(self, kind: str, m: Market, size_usd: int, tokens: int, price: int, counter: int) -> BuiltRequest:
        position = position_pda(self.owner, m)
        request = request_pda(position, counter, "increase", m.program)
        mint = m.collateral.mint
        params = {
            "sizeUsdDelta": size_usd,
            "collateralTokenDelta": tokens,
            "side": "Long" if m.side == "long" else "Short",
            "priceSlippage": price,
            "jupiterMinimumOut": None,
            "counter": counter,
        }
        named = {
            **self._request_accounts(m, position, request, mint),
            "fundingAccount": associated_token_account(self.owner, mint),
            "inputMint": mint,
        }
        ixs = [self._instruction("createIncreasePositionMarketRequest", named, params, m.program)]
        if mint == NATIVE_MINT:
            ixs = wrap_sol(self.owner, tokens) + ixs
        return BuiltRequest(kind, ixs, position, request, counter)

    def _decrease(self, kind: str, ix_name: str, m: Market, params: dict[str, Any], counter: int) -> BuiltRequest:
        position = position_pda(self.owner, m)
        request = request_pda(position, counter, "decrease", m.program)
        mint = m.collateral.mint  # proceeds are paid in the collateral's own token
        named = {
            **self._request_accounts(m, position, request, mint),
            "receivingAccount": associated_token_account(self.owner, mint),
            "custodyDovesPriceAccount": m.custody.doves_oracle,
            "custodyPythnetPriceAccount": m.custody.pythnet_oracle,
            "desiredMint": mint,
        }
        ixs = [create_ata_idempotent(self.owner, self.owner, mint)]  # the proceeds need somewhere to land
        ixs.append(self._instruction(ix_name, named, params, m.program))
        return BuiltRequest(kind, ixs, position, request, counter)

    def _request_accounts(self, m: Market, position: Pubkey, request: Pubkey, mint: Pubkey) -> dict[str, Pubkey]:
        """The accounts every position request names, whichever its direction."""
        return {
            "owner": self.owner,
            "perpetuals": perpetuals_pda(m.program),
            "pool": m.pool,
            "position": position,
            "positionRequest": request,
            "positionRequestAta": associated_token_account(request, mint),
            "custody": m.custody.address,
            "collateralCustody": m.collateral.address,
            "referral": m.program,  # an absent optional account is the program id
            "tokenProgram": TOKEN_PROGRAM,
            "associatedTokenProgram": ASSOCIATED_TOKEN_PROGRAM,
            "systemProgram": SYSTEM_PROGRAM,
            "eventAuthority": event_authority(m.program),
            "program": m.program,
        }

    def _instruction(self, name: str, named: Mapping[str, Pubkey], params: Mapping[str, Any], program: Pubkey) -> Instruction:
        ix = self._enc.instruction(name)
        metas = []
        for acc in ix["accounts"]:
            key = named.get(acc["name"])
            if key is None:
                raise RequestError(f"{name}: no value for the account {acc['name']} (the IDL changed; refresh it)")
            if acc.get("isOptional") and key == program:
                metas.append(AccountMeta(key, is_signer=False, is_writable=False))  # Anchor's "absent"
                continue
            metas.append(AccountMeta(key, is_signer=bool(acc.get("isSigner")), is_writable=bool(acc.get("isMut"))))
        (arg,) = ix["args"]
        data = sighash(name) + self._enc.value(arg["type"], params, f"{name}.{arg['name']}")
        return Instruction(program, data, metas)


def create_ata_idempotent(payer: Pubkey, owner: Pubkey, mint: Pubkey) -> Instruction:
    """The associated token program's CreateIdempotent (instruction 1)."""
    metas = [
        AccountMeta(payer, True, True),
        AccountMeta(associated_token_account(owner, mint), False, True),
        AccountMeta(owner, False, False),
        AccountMeta(mint, False, False),
        AccountMeta(SYSTEM_PROGRAM, False, False),
        AccountMeta(TOKEN_PROGRAM, False, False),
    ]
    return Instruction(ASSOCIATED_TOKEN_PROGRAM, bytes([1]), metas)


def wrap_sol(owner: Pubkey, lamports: int) -> list[Instruction]:
    """SOL collateral is paid from the wallet's wrapped-SOL account: create it
    if needed, move the lamports in, and sync its token balance."""
    from solders.system_program import TransferParams, transfer

    ata = associated_token_account(owner, NATIVE_MINT)
    sync_native = Instruction(TOKEN_PROGRAM, bytes([17]), [AccountMeta(ata, False, True)])
    return [
        create_ata_idempotent(owner, owner, NATIVE_MINT),
        transfer(TransferParams(from_pubkey=owner, to_pubkey=ata, lamports=lamports)),
        sync_native,
    ]
