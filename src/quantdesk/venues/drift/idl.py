"""The Drift-v2 engine's Anchor IDL and raw-account decoding with it.

Drift's IDL ships inside driftpy; a fork (Velocity) needs its own IDL file
because its layouts differ (shifted enums, removed features). Decoding checks
the discriminator and that the layout consumes exactly the account's bytes, so
a wrong IDL version or a truncated account is reported instead of yielding
garbage.
"""

from __future__ import annotations

import io
from functools import lru_cache
from pathlib import Path
from typing import Any

from quantdesk.venues.drift.config import DriftDeployment

DISCRIMINATOR_SIZE = 8


class IdlError(ValueError):
    """The IDL is missing or unreadable; the message says what to do."""


class AccountDecodeError(ValueError):
    """Account bytes that do not decode; the message says what is wrong."""


def bundled_idl_path() -> Path:
    import driftpy

    return Path(next(iter(driftpy.__path__))) / "idl" / "drift.json"


def idl_path_for(deployment: DriftDeployment) -> Path:
    if deployment.idl_path is not None:
        return Path(deployment.idl_path)
    if deployment.uses_bundled_idl:
        return bundled_idl_path()
    raise IdlError(deployment.read_only_reason() or "no IDL configured")


class AccountDecoder:
    """Decodes raw account bytes of any account type the IDL declares."""

    def __init__(self, idl_json: str, source: str = "IDL") -> None:
        from anchorpy.coder.accounts import AccountsCoder
        from anchorpy_core.idl import Idl

        try:
            idl = Idl.from_json(idl_json)
        except Exception as exc:  # anchorpy_core raises its own parse errors
            raise IdlError(
                f"{source} is not an Anchor IDL this version can read ({exc.__class__.__name__}); "
                "it needs the legacy (pre-0.30) Anchor IDL format that driftpy ships."
            ) from None
        self.source = source
        self._coder = AccountsCoder(idl)
        self.names: list[str] = sorted(self._coder.acc_name_to_discriminator)
        self.discriminators: dict[bytes, str] = dict(self._coder.discriminator_to_acc_name)
        self._layouts = self._coder._accounts_layout  # name -> construct layout of the body

    def resolve_name(self, name: str) -> str:
        """``PerpMarket``, ``perp_market`` or ``perp-market`` -> ``PerpMarket``."""
        wanted = name.replace("_", "").replace("-", "").lower()
        for n in self.names:
            if n.lower() == wanted:
                return n
        raise AccountDecodeError(f"unknown account type {name!r}; known: {', '.join(self.names)}, or 'auto'")

    def detect(self, data: bytes) -> str:
        name = self.discriminators.get(bytes(data[:DISCRIMINATOR_SIZE]))
        if name is None:
            raise AccountDecodeError(
                f"unknown discriminator {bytes(data[:DISCRIMINATOR_SIZE]).hex()}: these bytes are not an account "
                f"of this program's IDL ({self.source})"
            )
        return name

    def decode(self, data: bytes, name: str | None = None) -> tuple[str, Any]:
        """Return (account type, decoded container). ``name`` None or 'auto' detects the type."""
        if len(data) < DISCRIMINATOR_SIZE:
            raise AccountDecodeError(f"{len(data)} bytes is too short for an account (8-byte discriminator first)")
        detected = self.detect(data)
        if name is not None and name.lower() != "auto":
            wanted = self.resolve_name(name)
            if wanted != detected:
                raise AccountDecodeError(f"these bytes are a {detected} account, not a {wanted}")
        layout = self._layouts[detected]
        stream = io.BytesIO(bytes(data[DISCRIMINATOR_SIZE:]))
        try:
            value = layout.parse_stream(stream)
        except Exception:
            raise AccountDecodeError(
                f"{len(data)} bytes is too short for a {detected} account; "
                "the data is truncated or the IDL is for another program version"
            ) from None
        consumed = DISCRIMINATOR_SIZE + stream.tell()
        if consumed != len(data):
            raise AccountDecodeError(
                f"wrong length for a {detected} account: {len(data)} bytes, the IDL layout is {consumed}; "
                "the IDL is for another program version or the data is not one whole account"
            )
        return detected, value


@lru_cache(maxsize=8)
def _decoder_for_path(path: str) -> AccountDecoder:
    p = Path(path)
    try:
        text = p.read_text()
    except OSError as exc:
        raise IdlError(f"cannot read the IDL file {path}: {exc.strerror or exc}; check idl_path") from None
    return AccountDecoder(text, source=p.name)


def decoder_for(deployment: DriftDeployment) -> AccountDecoder:
    """The decoder of a deployment; IdlError (saying why) when it has no IDL."""
    return _decoder_for_path(str(idl_path_for(deployment)))
