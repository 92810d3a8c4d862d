"""The program's own IDL, read from its on-chain Anchor IDL account.

Anchor keeps a program's IDL at ``create_with_seed(base, "anchor:idl",
program)`` where ``base`` is the program's PDA with no seeds. The account is
the discriminator (``sha256("account:IdlAccount")[:8]``), the authority
(32 bytes), a u32 length, then that many bytes of zlib-compressed IDL JSON.
"""

from __future__ import annotations

import hashlib
import struct
import zlib
from pathlib import Path

from quantdesk.venues.jupiter.accounts import AccountDecoder, IdlError
from quantdesk.venues.solana.rpc import SolanaRpc

IDL_ACCOUNT = hashlib.sha256(b"account:IdlAccount").digest()[:8]
_HEADER = 8 + 32 + 4


def idl_address(program_id: str) -> str:
    from solders.pubkey import Pubkey

    program = Pubkey.from_string(program_id)
    base, _bump = Pubkey.find_program_address([], program)
    return str(Pubkey.create_with_seed(base, "anchor:idl", program))


def idl_json_from_account(data: bytes) -> str:
    """The IDL JSON text inside an IDL account's bytes; IdlError saying what is wrong otherwise."""
    if len(data) < _HEADER or data[:8] != IDL_ACCOUNT:
        raise IdlError("that account is not an Anchor IDL account (wrong discriminator or too short)")
    (length,) = struct.unpack_from("<I", data, 40)
    blob = data[_HEADER : _HEADER + length]
    if len(blob) < length:
        raise IdlError(f"the IDL account holds {len(blob)} of its {length} bytes; it is truncated")
    try:
        return zlib.decompress(blob).decode("utf-8")
    except (zlib.error, UnicodeDecodeError):
        raise IdlError("the IDL account's data is not zlib-compressed JSON") from None


async def fetch_idl(rpc: SolanaRpc, program_id: str, cache: Path) -> tuple[str, AccountDecoder]:
    """Read the program's IDL from chain, check it decodes Jupiter Perps accounts, and save it to ``cache``."""
    address = idl_address(program_id)
    _slot, data = await rpc.get_account(address)
    if data is None:
        raise IdlError(f"the program has no IDL account at {address}; keep using the bundled IDL")
    text = idl_json_from_account(data)
    checked = AccountDecoder(text, source=f"on-chain IDL {address}")
    cache.parent.mkdir(parents=True, exist_ok=True)
    tmp = cache.with_suffix(".tmp")
    tmp.write_text(text)
    tmp.replace(cache)  # a half-written cache never replaces a good one
    return address, checked
