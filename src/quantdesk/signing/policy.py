"""The transaction policy: what a transaction does, and whether it may be signed.

Every transaction is decoded and checked here before any signer sees it (the
console's signer, or the signer agent on the trader's laptop, which checks it
again itself). ``decode`` reads a serialized message (legacy or v0) into a
``TransactionView``: the fee payer, the compute budget and priority fee, and
each instruction with its program, its name and arguments where a venue
supplied a decoder for the program (from its IDL), and its accounts.
``refusals`` lists what the policy forbids:

- an instruction calling a program that is not on the allowlist, but for
  wrapping the signer's own SOL (creating their wrapped-SOL token account,
  moving their lamports into it, syncing its balance: what a venue that
  takes SOL collateral asks, and the lamports stay the signer's);
- wrapping more SOL that way than the transaction's allowed instructions
  spend from the signer's wrapped-SOL account (as their decoders declare:
  a venue's order pays its collateral from it), so a transaction cannot
  wrap SOL that no order it carries needs;
- a durable nonce (an ``AdvanceNonceAccount`` first instruction, which keeps a
  signed transaction valid indefinitely), unless explicitly allowed;
- a fee payer that is not the signer.

``render`` gives the same plain-text preview wherever one is shown: the order
ticket, ``quantdesk order --dry-run`` and the signer agent.

Pure: no I/O. Venues supply their ``InstructionDecoder``s through the venue
registry; nothing here names a venue.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from functools import lru_cache
from typing import Any, Protocol, runtime_checkable

from quantdesk.signing.base import SignerError

SYSTEM_PROGRAM_ID = "11111111111111111111111111111111"
COMPUTE_BUDGET_PROGRAM_ID = "ComputeBudget111111111111111111111111111111"
TOKEN_PROGRAM_ID = "TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA"
ASSOCIATED_TOKEN_PROGRAM_ID = "ATokenGPvbdGVxr1b2hvZbsiqW5xWH25efTNsLJA8knL"
NATIVE_MINT = "So11111111111111111111111111111111111111112"  # wrapped SOL
ADVANCE_NONCE_ACCOUNT = (4).to_bytes(4, "little")  # SystemInstruction::AdvanceNonceAccount
DEFAULT_UNITS_PER_INSTRUCTION = 200_000  # the runtime's limit when none is set
MAX_COMPUTE_UNITS = 1_400_000
LAMPORTS_PER_SOL = 10**9

_SYSTEM_NAMES = {
    0: "create_account", 1: "assign", 2: "transfer", 3: "create_account_with_seed",
    4: "advance_nonce_account", 5: "withdraw_nonce_account", 6: "initialize_nonce_account",
    7: "authorize_nonce_account", 8: "allocate", 9: "allocate_with_seed", 10: "assign_with_seed",
    11: "transfer_with_seed", 12: "upgrade_nonce_account",
}


_SYNC_NATIVE = b"\x11"
# The token programs' instructions named in previews (by their first data byte), when no venue decodes them.
_TOKEN_NAMES: dict[str, tuple[str, dict[bytes, str]]] = {
    TOKEN_PROGRAM_ID: ("Token", {_SYNC_NATIVE: "sync_native", b"\x03": "transfer", b"\x09": "close_account",
                                 b"\x0c": "transfer_checked"}),
    ASSOCIATED_TOKEN_PROGRAM_ID: ("AssociatedToken", {b"": "create", b"\x01": "create_idempotent"}),
}


class PolicyRefused(SignerError):
    """The transaction breaks the policy; the message says what and how to allow it."""

    def __init__(self, reasons: list[str]) -> None:
        super().__init__("refused: " + "; ".join(reasons))
        self.reasons = reasons


class UndecodableTransaction(SignerError):
    """Bytes that are not a Solana transaction message."""


@dataclass(frozen=True)
class OrderSummary:
    """What an order instruction trades, in human units (a venue's decoder fills it)."""

    venue: str
    market: str
    side: str  # "buy" | "sell"
    size: Decimal  # base asset (0 when the venue sizes orders in the quote: ``quote_size``)
    price: Decimal | None  # quote per base; None: at market. For a quote-sized market order: the worst price accepted
    kind: str = ""  # "limit", "market", "stop_market" ... as the venue names it
    reduce_only: bool = False
    quote_size: Decimal | None = None  # the order's size in the quote asset (a pool venue's USD size)

    @property
    def notional(self) -> Decimal | None:
        """The order's size in the quote asset: ``quote_size``, else size times price
        (None for a base-sized market order: no price to value it at)."""
        if self.quote_size is not None:
            return self.quote_size
        return None if self.price is None else self.size * self.price

    def line(self) -> str:
        ro = " reduce-only" if self.reduce_only else ""
        if self.quote_size is not None:
            limit = f" (worst price {_plain(self.price)})" if self.price is not None else ""
            return f"{self.venue} {self.market} {self.side} {_plain(self.quote_size)} USD {self.kind or 'market'}{limit}{ro}"
        at = f"@ {_plain(self.price)}" if self.price is not None else "at market"
        extra = f" {self.kind}" if self.kind else ""
        size = _plain(self.size) if self.size else "the whole position"
        return f"{self.venue} {self.market} {self.side} {size} {at}{extra}{ro}"


@dataclass(frozen=True)
class DecodedInstruction:
    """A venue decoder's reading of one instruction's data."""

    name: str
    args: Mapping[str, Any] = field(default_factory=dict)
    account_names: tuple[str, ...] = ()  # the IDL's names for the instruction's accounts, in order
    orders: tuple[OrderSummary, ...] = ()
    spends: Mapping[str, int] = field(default_factory=dict)  # token account -> base units the instruction takes from it


@runtime_checkable
class InstructionDecoder(Protocol):
    """Reads the instructions of one program (a venue supplies one per program it calls)."""

    @property
    def program_id(self) -> str: ...

    @property
    def program_name(self) -> str: ...

    def decode(self, data: bytes, accounts: Sequence[str]) -> DecodedInstruction | None:
        """The instruction's name and arguments (``accounts``: its accounts' base58
        keys, in order), or None when the data is not one of the program's instructions."""
        ...


@dataclass(frozen=True)
class AccountRef:
    pubkey: str  # base58, or "lookup table <key> #<index>" for an address a v0 lookup table supplies
    signer: bool
    writable: bool
    name: str = ""


@dataclass(frozen=True)
class InstructionView:
    program_id: str
    program: str  # a readable name, or "unknown"
    name: str  # the instruction's name, "unknown" without a decoder, "undecodable" when it fails to parse
    args: Mapping[str, Any]
    accounts: tuple[AccountRef, ...]
    data: bytes
    orders: tuple[OrderSummary, ...] = ()
    spends: Mapping[str, int] = field(default_factory=dict)  # as the venue's decoder declares (DecodedInstruction)


@dataclass(frozen=True)
class TransactionView:
    fee_payer: str
    recent_blockhash: str
    version: str  # "legacy" | "v0"
    required_signers: tuple[str, ...]
    instructions: tuple[InstructionView, ...]
    compute_unit_limit: int | None  # None: not set (the runtime's default applies)
    compute_unit_price: int  # micro-lamports per compute unit
    durable_nonce: bool

    @property
    def programs(self) -> tuple[str, ...]:
        """Every program the transaction calls, in order of first call."""
        return tuple(dict.fromkeys(ix.program_id for ix in self.instructions))

    @property
    def effective_compute_units(self) -> int:
        if self.compute_unit_limit is not None:
            return self.compute_unit_limit
        n = sum(1 for ix in self.instructions if ix.program_id != COMPUTE_BUDGET_PROGRAM_ID)
        return min(MAX_COMPUTE_UNITS, DEFAULT_UNITS_PER_INSTRUCTION * n)

    @property
    def priority_fee_lamports(self) -> int:
        """The most the priority fee can cost: compute units x price, rounded up."""
        return -(-self.effective_compute_units * self.compute_unit_price // 10**6)

    @property
    def orders(self) -> tuple[OrderSummary, ...]:
        return tuple(o for ix in self.instructions for o in ix.orders)

    @property
    def venues(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(o.venue for o in self.orders))


@dataclass(frozen=True)
class TransactionPolicy:
    """What may be signed: programs on the allowlist (the compute-budget program
    is always allowed), durable nonces only when ``allow_durable_nonce``."""

    allowed_programs: frozenset[str]
    allow_durable_nonce: bool = False

    @classmethod
    def of(cls, programs: Iterable[str], *, allow_durable_nonce: bool = False) -> TransactionPolicy:
        return cls(frozenset(programs) | {COMPUTE_BUDGET_PROGRAM_ID}, allow_durable_nonce)


# -- decoding ---------------------------------------------------------------------


def _message(message: Any) -> Any:
    """A solders Message or MessageV0 from bytes, a message, or a (versioned) transaction."""
    from solders.message import Message, MessageV0, from_bytes_versioned

    if isinstance(message, (bytes, bytearray, memoryview)):
        try:
            return from_bytes_versioned(bytes(message))
        except Exception:
            raise UndecodableTransaction("the bytes are not a Solana transaction message") from None
    inner = getattr(message, "message", message)
    if isinstance(inner, (Message, MessageV0)):
        return inner
    raise UndecodableTransaction(f"not a Solana transaction message: {type(message).__name__}")


def _lookup_keys(msg: Any) -> list[tuple[str, bool]]:
    """(label, writable) of the addresses v0 lookup tables add, in the runtime's order."""
    lookups = list(getattr(msg, "address_table_lookups", None) or [])
    writable = [(f"lookup table {lk.account_key} #{i}", True) for lk in lookups for i in bytes(lk.writable_indexes)]
    readonly = [(f"lookup table {lk.account_key} #{i}", False) for lk in lookups for i in bytes(lk.readonly_indexes)]
    return writable + readonly


def _compute_budget(data: bytes) -> tuple[str, dict[str, int]]:
    tag, body = data[:1], data[1:]
    if tag == b"\x02" and len(body) == 4:
        return "set_compute_unit_limit", {"units": int.from_bytes(body, "little")}
    if tag == b"\x03" and len(body) == 8:
        return "set_compute_unit_price", {"micro_lamports": int.from_bytes(body, "little")}
    if tag == b"\x01" and len(body) == 4:
        return "request_heap_frame", {"bytes": int.from_bytes(body, "little")}
    if tag == b"\x04" and len(body) == 4:
        return "set_loaded_accounts_data_size_limit", {"bytes": int.from_bytes(body, "little")}
    return "unknown", {}


def _system(data: bytes) -> tuple[str, dict[str, int]]:
    if len(data) < 4:
        return "unknown", {}
    tag = int.from_bytes(data[:4], "little")
    name = _SYSTEM_NAMES.get(tag, "unknown")
    if tag == 2 and len(data) == 12:
        return name, {"lamports": int.from_bytes(data[4:12], "little")}
    return name, {}


def _writable(header: Any, i: int, n_static: int) -> bool:
    """Whether static account ``i`` is writable, from the message header's counts."""
    signers = header.num_required_signatures
    if i < signers:
        return i < signers - header.num_readonly_signed_accounts
    return i < n_static - header.num_readonly_unsigned_accounts


def decode(message: Any, decoders: Iterable[InstructionDecoder] = ()) -> TransactionView:
    """Read a transaction message (bytes, solders message or transaction) with
    the venues' decoders. Raises UndecodableTransaction for bytes that are not one."""
    msg = _message(message)
    by_program = {d.program_id: d for d in decoders}
    header = msg.header
    static = [str(k) for k in msg.account_keys]
    if not static:
        raise UndecodableTransaction("the transaction message has no accounts (no fee payer)")
    n_static = len(static)
    extra = _lookup_keys(msg)
    n_signers = header.num_required_signatures

    def account(i: int) -> AccountRef:
        if i < n_static:
            return AccountRef(static[i], i < n_signers, _writable(header, i, n_static))
        if i - n_static < len(extra):
            label, w = extra[i - n_static]
            return AccountRef(label, False, w)
        raise UndecodableTransaction(f"an instruction refers to account #{i}, which the message does not have")

    views: list[InstructionView] = []
    units: int | None = None
    price = 0
    for ix in msg.instructions:
        if ix.program_id_index >= n_static:
            raise UndecodableTransaction("an instruction's program is not among the message's accounts")
        program = static[ix.program_id_index]
        data = bytes(ix.data)
        accounts = [account(i) for i in bytes(ix.accounts)]
        args: Mapping[str, Any] = {}
        orders: tuple[OrderSummary, ...] = ()
        spends: Mapping[str, int] = {}
        if program == COMPUTE_BUDGET_PROGRAM_ID:
            pname = "ComputeBudget"
            name, args = _compute_budget(data)
            if name == "set_compute_unit_limit":
                units = args["units"]
            elif name == "set_compute_unit_price":
                price = args["micro_lamports"]
        elif program == SYSTEM_PROGRAM_ID:
            pname = "System"
            name, args = _system(data)
        elif program in _TOKEN_NAMES and program not in by_program:
            pname, names = _TOKEN_NAMES[program]
            name = names.get(data[:1], "unknown")
        elif program in by_program:
            decoder = by_program[program]
            pname = decoder.program_name
            try:
                found = decoder.decode(data, [a.pubkey for a in accounts])
            except Exception:
                found = None
            if found is None:
                name = "undecodable"
            else:
                name, args, orders, spends = found.name, found.args, found.orders, found.spends
                accounts = [
                    AccountRef(a.pubkey, a.signer, a.writable, found.account_names[k] if k < len(found.account_names) else "")
                    for k, a in enumerate(accounts)
                ]
        else:
            pname, name = "unknown", "unknown"
        views.append(InstructionView(program, pname, name, args, tuple(accounts), data, orders, spends))
    return TransactionView(
        fee_payer=static[0],
        recent_blockhash=str(msg.recent_blockhash),
        version="v0" if hasattr(msg, "address_table_lookups") else "legacy",
        required_signers=tuple(static[:n_signers]),
        instructions=tuple(views),
        compute_unit_limit=units,
        compute_unit_price=price,
        durable_nonce=bool(views) and views[0].program_id == SYSTEM_PROGRAM_ID and views[0].data[:4] == ADVANCE_NONCE_ACCOUNT,
    )


# -- the policy ---------------------------------------------------------------------


def refusals(view: TransactionView, policy: TransactionPolicy, signer: str) -> list[str]:
    """Every reason the policy refuses ``view`` for ``signer`` (base58); empty when it may be signed."""
    out: list[str] = []
    if view.fee_payer != signer:
        out.append(f"the fee payer {view.fee_payer} is not the signer {signer}; only the signer's own transactions are signed")
    if view.durable_nonce and not policy.allow_durable_nonce:
        out.append(
            "the transaction uses a durable nonce (it would stay valid indefinitely); "
            "allow durable nonces explicitly in the config to sign it"
        )
    wsol = wrapped_sol_account(signer)
    wrapped = spent = 0  # lamports wrapped without an allowlist entry; what allowed instructions pay from the wSOL account
    for n, ix in enumerate(view.instructions):
        if view.durable_nonce and n == 0:
            continue  # the nonce advance itself is judged above
        if ix.program_id in policy.allowed_programs:
            spent += ix.spends.get(wsol, 0)
        elif wraps_own_sol(ix, signer):
            wrapped += ix.args.get("lamports", 0)
        else:
            out.append(
                f"instruction {n + 1} calls program {ix.program_id} ({ix.program}), which is not on the allowlist; "
                "add it to the allowed programs in the config if you trust it"
            )
    if wrapped > spent:
        out.append(
            f"the transaction wraps {_plain(Decimal(wrapped).scaleb(-9))} SOL into the signer's wrapped-SOL account "
            f"{wsol}, more than its orders pay from it ({_plain(Decimal(spent).scaleb(-9))} SOL); "
            "only the SOL an order pays is wrapped without an allowlist entry"
        )
    return out


@lru_cache(maxsize=64)
def wrapped_sol_account(owner: str) -> str:
    """``owner``'s associated token account of wrapped SOL (derived once per owner:
    every instruction of every transaction checks against it)."""
    from solders.pubkey import Pubkey

    seeds = [bytes(Pubkey.from_string(k)) for k in (owner, TOKEN_PROGRAM_ID, NATIVE_MINT)]
    return str(Pubkey.find_program_address(seeds, Pubkey.from_string(ASSOCIATED_TOKEN_PROGRAM_ID))[0])


def wraps_own_sol(ix: InstructionView, signer: str) -> bool:
    """Whether ``ix`` only wraps ``signer``'s own SOL: their wrapped-SOL account
    created (they pay its rent), their lamports moved into it, its balance synced."""
    if ix.program_id not in (SYSTEM_PROGRAM_ID, ASSOCIATED_TOKEN_PROGRAM_ID, TOKEN_PROGRAM_ID):
        return False
    keys = [a.pubkey for a in ix.accounts]
    wsol = wrapped_sol_account(signer)
    if ix.program_id == SYSTEM_PROGRAM_ID:  # exactly a transfer's 12 bytes: the amount shown is the amount moved
        return ix.name == "transfer" and len(ix.data) == 12 and keys == [signer, wsol]
    if ix.program_id == ASSOCIATED_TOKEN_PROGRAM_ID:
        return ix.data in (b"", b"\x01") and keys == [signer, wsol, signer, NATIVE_MINT, SYSTEM_PROGRAM_ID, TOKEN_PROGRAM_ID]
    return ix.data == _SYNC_NATIVE and keys == [wsol]


def check(view: TransactionView, policy: TransactionPolicy, signer: str) -> None:
    """Raise PolicyRefused listing every reason ``view`` may not be signed by ``signer``."""
    reasons = refusals(view, policy, signer)
    if reasons:
        raise PolicyRefused(reasons)


# -- the preview ----------------------------------------------------------------------


def _plain(value: Decimal) -> str:
    return f"{value.normalize():f}"


def _arg_lines(args: Any, prefix: str = "") -> list[str]:
    if isinstance(args, Mapping):
        lines: list[str] = []
        for key, value in args.items():
            if value is None:
                continue
            if isinstance(value, Mapping):
                lines.extend(_arg_lines(value, f"{prefix}{key}."))
            else:
                lines.append(f"{prefix}{key} = {value}")
        return lines
    return [f"{prefix.rstrip('.')} = {args}"]


def summary_lines(view: TransactionView) -> list[str]:
    """The short summary: what it trades, who pays, what it calls and costs."""
    units = view.effective_compute_units
    limit = f"{units:,} units" + ("" if view.compute_unit_limit is not None else " (default)")
    fee = Decimal(view.priority_fee_lamports).scaleb(-9)
    lines = [f"  order          {o.line()}" for o in view.orders] or ["  order          none (no order instruction)"]
    lines += [
        f"  fee payer      {view.fee_payer}",
        f"  programs       {', '.join(f'{ix.program} ({ix.program_id})' for ix in _first_calls(view))}",
        f"  compute        {limit} at {view.compute_unit_price:,} micro-lamports/unit: "
        f"priority fee up to {_plain(fee)} SOL",
        f"  durable nonce  {'YES' if view.durable_nonce else 'no'}",
    ]
    return lines


def _first_calls(view: TransactionView) -> list[InstructionView]:
    seen: dict[str, InstructionView] = {}
    for ix in view.instructions:
        seen.setdefault(ix.program_id, ix)
    return list(seen.values())


def render(view: TransactionView, title: str) -> list[str]:
    """The full preview as plain lines: the summary, then every instruction with its arguments and accounts."""
    lines = [title, *summary_lines(view), f"  blockhash      {view.recent_blockhash}"]
    for n, ix in enumerate(view.instructions, start=1):
        lines.append(f"  {n}. {ix.program} ({ix.program_id}): {ix.name}")
        lines.extend(f"       {a}" for a in _arg_lines(ix.args))
        if ix.name in ("unknown", "undecodable") and ix.data:
            lines.append(f"       data = {ix.data.hex()}")
        for acc in ix.accounts:
            flags = ",".join(f for f, on in (("signer", acc.signer), ("writable", acc.writable)) if on)
            label = acc.name or "account"
            lines.append(f"       · {label:<22} {acc.pubkey}{f'  [{flags}]' if flags else ''}")
    return lines
