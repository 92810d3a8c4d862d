"""Jupiter Perps raw accounts decoded with the program's (legacy Anchor) IDL.

anchorpy reads the legacy IDL and builds the borsh layouts; this module adds
what a trader's tool needs on top: the account type from the 8-byte
discriminator (``sha256("account:<Name>")[:8]``), a clear refusal of foreign or
truncated bytes, and plain values (snake_case names, nested structs as dicts,
pubkeys base58, enums as lower-case variant names, options as None).

Live accounts are allocated bigger than the IDL's layouts (Custody and Pool
2000 bytes, Position 216, PositionRequest 312): the program has added fields
since the IDL was published. The IDL's fields sit at the start; the bytes past
them are kept and their count reported, never guessed at.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

DISCRIMINATOR_SIZE = 8
ACCOUNT_TYPES = ("Pool", "Custody", "Position", "PositionRequest", "Perpetuals")


class IdlError(ValueError):
    """The IDL is missing or unreadable; the message says what to do."""


class AccountDecodeError(ValueError):
    """Bytes that are not a whole Jupiter Perps account; the message says what is wrong."""


def discriminator(name: str) -> bytes:
    return hashlib.sha256(f"account:{name}".encode()).digest()[:DISCRIMINATOR_SIZE]


def snake(name: str) -> str:
    """``cumulativeInterestRate`` -> ``cumulative_interest_rate`` (the IDL's names as anchorpy spells them)."""
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name).lower()


def bundled_idl_path() -> Path:
    return Path(__file__).with_name("perpetuals_idl.json")


@dataclass(frozen=True)
class DecodedAccount:
    """One account: its type, its IDL fields as plain values, and how much was left unread."""

    name: str
    fields: dict[str, Any]
    data_length: int
    idl_length: int  # bytes the IDL layout covers, discriminator included
    tail: bytes = field(repr=False, default=b"")  # the bytes past the IDL layout, kept as they are

    @property
    def bytes_past_idl(self) -> int:
        return self.data_length - self.idl_length


class AccountDecoder:
    """Decodes the Jupiter Perps account types of one IDL."""

    def __init__(self, idl_json: str, source: str = "IDL") -> None:
        from anchorpy.coder.accounts import AccountsCoder
        from anchorpy_core.idl import Idl

        try:
            raw = json.loads(idl_json)
            idl = Idl.from_json(idl_json)
        except Exception as exc:  # anchorpy_core raises its own parse errors
            raise IdlError(
                f"{source} is not an Anchor IDL this version can read ({exc.__class__.__name__}); "
                "it needs the legacy (pre-0.30) Anchor IDL format; run `quantdesk inspect jupiter idl` "
                "to fetch the program's own IDL, or remove the cached copy to use the bundled one"
            ) from None
        self.source = source
        self._coder = AccountsCoder(idl)
        self._layouts = self._coder._accounts_layout  # name -> construct layout of the body
        self._types = {t["name"]: t["type"] for t in raw.get("types", [])}
        self._accounts = {a["name"]: a["type"] for a in raw.get("accounts", [])}
        missing = [n for n in ACCOUNT_TYPES if n not in self._accounts]
        if missing:
            raise IdlError(f"{source} has no {', '.join(missing)} account; it is not the Jupiter Perps IDL")
        self.discriminators = {discriminator(n): n for n in self._accounts}

    @property
    def names(self) -> list[str]:
        return sorted(self._accounts)

    def detect(self, data: bytes) -> str:
        if len(data) < DISCRIMINATOR_SIZE:
            raise AccountDecodeError(
                f"{len(data)} bytes is too short for an account (it starts with an 8-byte discriminator)"
            )
        name = self.discriminators.get(bytes(data[:DISCRIMINATOR_SIZE]))
        if name is None:
            raise AccountDecodeError(
                f"unknown discriminator {bytes(data[:DISCRIMINATOR_SIZE]).hex()}: not a Jupiter Perps account "
                f"({', '.join(ACCOUNT_TYPES)}); check the account address"
            )
        return name

    def decode(self, data: bytes, expect: str | None = None) -> DecodedAccount:
        """Decode ``data``; ``expect`` (an account type) refuses bytes of any other type."""
        data = bytes(data)
        name = self.detect(data)
        if expect is not None and expect != name:
            raise AccountDecodeError(f"these bytes are a {name} account, not a {expect}")
        stream = io.BytesIO(data[DISCRIMINATOR_SIZE:])
        try:
            value = self._layouts[name].parse_stream(stream)
        except Exception:
            raise AccountDecodeError(
                f"{len(data)} bytes is too short for a {name} account: the data is truncated "
                "(fetch the whole account, base64 encoding)"
            ) from None
        idl_length = DISCRIMINATOR_SIZE + stream.tell()
        fields = self._plain_struct(self._accounts[name], value)
        return DecodedAccount(name, fields, len(data), idl_length, data[idl_length:])

    # anchorpy values -> plain values, walking the IDL so every type is known
    def _plain_struct(self, spec: dict, value: Any) -> dict[str, Any]:
        return {snake(f["name"]): self._plain(f["type"], getattr(value, snake(f["name"]))) for f in spec["fields"]}

    def _plain(self, typ: Any, value: Any) -> Any:
        if value is None:
            return None
        if isinstance(typ, str):
            return str(value) if typ == "publicKey" else value
        if "option" in typ:
            return self._plain(typ["option"], value)
        if "vec" in typ:
            return [self._plain(typ["vec"], v) for v in value]
        if "array" in typ:
            return [self._plain(typ["array"][0], v) for v in value]
        if "defined" in typ:
            spec = self._types[typ["defined"]]
            if spec["kind"] == "enum":
                return snake(type(value).__name__)
            return self._plain_struct(spec, value)
        raise IdlError(f"{self.source}: unsupported IDL type {typ!r}")


@lru_cache(maxsize=4)
def _decoder_for_path(path: str) -> AccountDecoder:
    p = Path(path)
    try:
        text = p.read_text()
    except OSError as exc:
        raise IdlError(f"cannot read the Jupiter Perps IDL {path}: {exc.strerror or exc}") from None
    return AccountDecoder(text, source=p.name)


def decoder(idl_path: Path | str | None = None) -> AccountDecoder:
    """The decoder for ``idl_path`` (default: the IDL shipped with QuantDesk)."""
    return _decoder_for_path(str(idl_path or bundled_idl_path()))
