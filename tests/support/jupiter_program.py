"""Stand-ins for the Jupiter Perps program and its keepers, on the local chain of ``jupiter_chain``.

The program itself cannot run here (it is not in the test VM), so its
effects are written as the accounts it would leave, laid out field by field
as the IDL has them (``Position`` 210 bytes of IDL fields, allocated 216;
``PositionRequest`` allocated 312), and read back with the venue's decoder:

- ``ProgramDouble.on_send`` reads each Perps instruction of a sent
  transaction with the IDL's instruction coder: a ``create*Request`` writes
  the ``PositionRequest`` at the request account the instruction names,
  ``closePositionRequest`` deletes it, ``updateDecreasePositionRequest2``
  moves its trigger. The writes wait for ``land()``: until then the
  transaction is in flight, as on a real cluster;
- ``Keeper.execute`` does what a keeper's execution does: the position grows
  or shrinks (at the given price, the open fee taken from the collateral)
  and the request is closed in the same slot; ``Keeper.expire`` closes a
  request without touching the position.
"""

from __future__ import annotations

import json
import struct
from dataclasses import dataclass
from typing import Any

from anchorpy.coder.instruction import InstructionCoder
from anchorpy_core.idl import Idl
from solders.pubkey import Pubkey

from quantdesk.venues.jupiter.accounts import bundled_idl_path, decoder, discriminator

from support.jupiter_chain import PROGRAM_ID, Chain

_IDL_TEXT = bundled_idl_path().read_text()
_CODER = InstructionCoder(Idl.from_json(_IDL_TEXT))
_ACCOUNTS = {i["name"]: [a["name"] for a in i["accounts"]] for i in json.loads(_IDL_TEXT)["instructions"]}
SIDE = {"none": 0, "long": 1, "short": 2}
CHANGE = {"none": 0, "increase": 1, "decrease": 2}
REQUEST_TYPE = {"market": 0, "trigger": 1}


def _opt(fmt: str, value: Any) -> bytes:
    return b"\x00" if value is None else b"\x01" + struct.pack(fmt, value)


def position_account(owner: str, pool: str, custody: str, collateral: str, *, side: str, price: int, size_usd: int,
                     collateral_usd: int, open_time: int, snapshot: int = 0, locked: int = 0) -> bytes:
    body = b"".join(bytes(Pubkey.from_string(k)) for k in (owner, pool, custody, collateral))
    body += struct.pack("<qqBQQQq", open_time, open_time, SIDE[side], price, size_usd, collateral_usd, 0)
    body += snapshot.to_bytes(16, "little") + struct.pack("<QB", locked, 255)
    data = discriminator("Position") + body
    return data + bytes(216 - len(data))


def request_account(f: dict[str, Any]) -> bytes:
    keys = b"".join(bytes(Pubkey.from_string(f[k])) for k in ("owner", "pool", "custody", "position", "mint"))
    body = keys + struct.pack("<qqQQ", f["open_time"], f["open_time"], f["size_usd_delta"], f["collateral_delta"])
    body += bytes([CHANGE[f["request_change"]], REQUEST_TYPE[f["request_type"]], SIDE[f["side"]]])
    body += _opt("<Q", f.get("price_slippage")) + _opt("<Q", f.get("jupiter_minimum_out")) + _opt("<Q", None)
    body += _opt("<Q", f.get("trigger_price")) + _opt("<?", f.get("trigger_above_threshold"))
    body += _opt("<?", f.get("entire_position")) + struct.pack("<?QB", bool(f.get("executed")), f["counter"], 254)
    body += b"\x00"  # no referral
    data = discriminator("PositionRequest") + body
    return data + bytes(312 - len(data))


USDC_MINT = "EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v"


def stable_custody(sol_custody: bytes, mint: str = USDC_MINT) -> bytes:
    """A stablecoin custody made from the SOL custody's bytes: its mint, 6 decimals, stable
    (mint at 40, decimals at 104, is_stable at 105 in the IDL's layout)."""
    data = bytearray(sol_custody)
    data[40:72] = bytes(Pubkey.from_string(mint))
    data[104] = 6
    data[105] = 1
    return bytes(data)


def token_account(mint: str, owner: str, amount: int) -> bytes:
    """An SPL token account (165 bytes): mint, owner, amount, no delegate, initialized, not native."""
    body = bytes(Pubkey.from_string(mint)) + bytes(Pubkey.from_string(owner)) + struct.pack("<Q", amount)
    body += struct.pack("<I", 0) + bytes(32) + b"\x01" + struct.pack("<I", 0) + bytes(8) + bytes(8)
    body += struct.pack("<I", 0) + bytes(32)
    assert len(body) == 165
    return body


def _params(named: Any) -> dict[str, Any]:
    p = named.data["params"]
    out = {}
    for k, v in vars(p).items():
        if k.startswith("_"):
            continue
        out[k] = type(v).__name__.lower() if hasattr(v, "index") and not isinstance(v, (int, bool)) else v
    return out


@dataclass
class Sent:
    name: str
    params: dict[str, Any]
    accounts: dict[str, str]


class ProgramDouble:
    """What the Perps program does with a trader's transaction, written onto ``chain``."""

    def __init__(self, chain: Chain, clock_s: Any) -> None:
        self.chain = chain
        self.clock_s = clock_s  # () -> unix seconds of the chain
        self.seen: list[Sent] = []
        self._pending: list[tuple[str, bytes, str]] = []  # writes of sent transactions, not landed yet

    def on_send(self, tx: Any) -> None:
        msg = tx.message
        keys = [str(k) for k in msg.account_keys]
        for ix in msg.instructions:
            if keys[ix.program_id_index] != PROGRAM_ID:
                continue
            named = _CODER.parse(bytes(ix.data))
            camel = next(n for n in _ACCOUNTS if n.lower() == named.name.replace("_", "").lower())
            accounts = dict(zip(_ACCOUNTS[camel], [keys[i] for i in bytes(ix.accounts)]))
            sent = Sent(named.name, _params(named) if "params" in named.data else {}, accounts)
            self.seen.append(sent)
            self._apply(sent)

    def _apply(self, s: Sent) -> None:
        a, p = s.accounts, s.params
        if s.name == "close_position_request":
            self._pending.append((a["positionRequest"], b"", "11111111111111111111111111111111"))
            return
        if s.name == "update_decrease_position_request2":
            got = self.chain.get(a["positionRequest"])
            fields = decoder().decode(got[0]).fields
            fields.update(trigger_price=p["trigger_price"], size_usd_delta=p["size_usd_delta"])
            self._pending.append((a["positionRequest"], request_account(fields), PROGRAM_ID))
            return
        increase = s.name == "create_increase_position_market_request"
        position = self.chain.get(a["position"])
        side = p.get("side") or (decoder().decode(position[0]).fields["side"] if position else "long")
        fields = {
            "owner": a["owner"], "pool": a["pool"], "custody": a["custody"], "position": a["position"],
            "mint": a.get("inputMint") or a.get("desiredMint"), "open_time": self.clock_s(),
            "size_usd_delta": p.get("size_usd_delta", 0),
            "collateral_delta": p.get("collateral_token_delta", p.get("collateral_usd_delta", 0)),
            "request_change": "increase" if increase else "decrease",
            "request_type": p.get("request_type", "market"), "side": side,
            "price_slippage": p.get("price_slippage"), "trigger_price": p.get("trigger_price"),
            "trigger_above_threshold": p.get("trigger_above_threshold"), "entire_position": p.get("entire_position"),
            "counter": p["counter"],
        }
        if increase and position is None and not any(k == a["position"] for k, _, _ in self._pending):
            # the program creates the position account with the request, its interest snapshot at the custody's rate
            rate = decoder().decode(self.chain.get(a["collateralCustody"])[0]).fields["funding_rate_state"]
            self._pending.append((a["position"], position_account(
                a["owner"], a["pool"], a["custody"], a["collateralCustody"], side=side, price=0, size_usd=0,
                collateral_usd=0, open_time=self.clock_s(), snapshot=rate["cumulative_interest_rate"]), PROGRAM_ID))  # fmt: skip
        self._pending.append((a["positionRequest"], request_account(fields), PROGRAM_ID))

    async def land(self) -> None:
        """The sent transactions land: their accounts are written and pushed to subscribers."""
        pending, self._pending = self._pending, []
        for key, data, owner in pending:
            await self.chain.set(key, data, owner)

    def request(self, kind: str) -> str:
        """The request account of the latest sent instruction named ``kind``."""
        return next(s.accounts["positionRequest"] for s in reversed(self.seen) if s.name == kind)


class Keeper:
    """Executes or expires requests the way Jupiter's keepers do."""

    def __init__(self, chain: Chain) -> None:
        self.chain = chain

    async def execute(self, request: str, price: int, *, fee_usd: int = 0, collateral_decimals: int = 9) -> None:
        r = decoder().decode(self.chain.get(request)[0]).fields
        got = self.chain.get(r["position"])
        p = decoder().decode(got[0]).fields
        size, collateral, entry = p["size_usd"], p["collateral_usd"], p["price"]
        if r["request_change"] == "increase":
            posted = r["collateral_delta"] * price // 10**collateral_decimals if r["side"] == "long" else r["collateral_delta"]
            entry = price if size == 0 else (entry * size + price * r["size_usd_delta"]) // (size + r["size_usd_delta"])
            size += r["size_usd_delta"]
            collateral += posted - fee_usd
        elif r["entire_position"]:
            size = collateral = 0
        else:
            size -= r["size_usd_delta"]
            collateral -= r.get("collateral_delta", 0)
        await self.chain.set(r["position"], position_account(
            p["owner"], p["pool"], p["custody"], p["collateral_custody"], side=p["side"], price=entry, size_usd=size,
            collateral_usd=collateral, open_time=p["open_time"], snapshot=p["cumulative_interest_snapshot"]))  # fmt: skip
        await self.chain.close(request)

    async def expire(self, request: str) -> None:
        await self.chain.close(request)
