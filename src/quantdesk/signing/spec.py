"""The one ``signer`` setting: which key signs the trader's transactions.

    signer = "none"                          read-only (the default)
    signer = "keypair:~/.config/solana/id.json"   a Solana CLI keypair file
    signer = "keypair"                       the Solana CLI's default file
    signer = "ledger:44'/501'/0'/0'"         a Ledger's Solana app, by derivation path
    signer = "ledger-tcp:127.0.0.1:9999:44'/501'/0'"   the Speculos emulator
    signer = "agent:/tmp/agent.sock"         a signer agent (``quantdesk signer serve``)

Venues never read a key themselves: the wiring opens this signer once and
hands it to every venue that trades. Parsing is pure; ``open_signer`` touches
the file, the device or the socket.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from quantdesk.signing.base import Signer, SignerError

SOLANA_CLI_DEFAULT = "~/.config/solana/id.json"
HARDENED = 0x8000_0000
EXAMPLES = f'"keypair:{SOLANA_CLI_DEFAULT}", "ledger:44\'/501\'/0\'/0\'", "agent:/path/agent.sock" or "none"'

Kind = Literal["none", "keypair", "ledger", "agent"]


class SignerSpecError(ValueError):
    """A ``signer`` value that cannot be read; the message says what to write."""


@dataclass(frozen=True)
class SignerSpec:
    kind: Kind
    path: Path | None = None  # keypair file
    derivation: tuple[int, ...] = ()  # ledger path, hardened components
    host: str | None = None  # ledger-tcp: the emulator
    port: int | None = None
    socket: Path | None = None  # agent

    @property
    def derivation_text(self) -> str:
        return "/".join(f"{c & ~HARDENED}'" if c & HARDENED else str(c) for c in self.derivation)

    def describe(self) -> str:
        """What the trader configured, for status lines and errors (no secrets in any form)."""
        if self.kind == "keypair":
            return f"keypair file {self.path}"
        if self.kind == "ledger":
            where = f" on the emulator at {self.host}:{self.port}" if self.host else ""
            return f"Ledger {self.derivation_text}{where}"
        if self.kind == "agent":
            return f"signer agent at {self.socket}"
        return "no signer (read-only)"


def parse_derivation(text: str) -> tuple[int, ...]:
    """``44'/501'/0'/0'`` -> hardened u32 components; 3 or 4 of them."""
    parts = [p.strip() for p in text.strip().removeprefix("m/").split("/") if p.strip()]
    if len(parts) not in (3, 4):
        raise SignerSpecError(f"the derivation path {text!r} needs 3 or 4 components, e.g. 44'/501'/0'/0'")
    out = []
    for p in parts:
        hardened = p.endswith(("'", "h", "H"))
        digits = p.rstrip("'hH")
        if not digits.isdigit() or int(digits) >= HARDENED:
            raise SignerSpecError(f"the derivation path {text!r} has {p!r}: each component is a number below 2^31, with ' when hardened")
        out.append(int(digits) | (HARDENED if hardened else 0))
    if out[0] != 44 | HARDENED or out[1] != 501 | HARDENED:
        raise SignerSpecError(f"the derivation path {text!r} is not a Solana path: it starts 44'/501'")
    return tuple(out)


def parse_signer(text: str | None) -> SignerSpec:
    """The ``signer`` setting read; SignerSpecError saying what to write."""
    value = (text or "none").strip()
    kind, sep, rest = value.partition(":")
    kind = kind.strip().lower()
    if kind == "none" and not rest:
        return SignerSpec("none")
    if kind == "keypair":
        return SignerSpec("keypair", path=Path(os.path.expanduser(rest.strip() or SOLANA_CLI_DEFAULT)))
    if kind == "ledger":
        return SignerSpec("ledger", derivation=parse_derivation(rest or "44'/501'/0'/0'"))
    if kind == "ledger-tcp":
        host, _, tail = rest.partition(":")
        port_text, _, path = tail.partition(":")
        if not host or not port_text.isdigit() or not 0 < int(port_text) < 65536:
            raise SignerSpecError(f"write ledger-tcp:HOST:PORT:PATH, e.g. ledger-tcp:127.0.0.1:9999:44'/501'/0'/0' (got {value!r})")
        return SignerSpec("ledger", derivation=parse_derivation(path or "44'/501'/0'/0'"), host=host, port=int(port_text))
    if kind == "agent":
        if not rest.strip():
            raise SignerSpecError("write agent:SOCKET, the path of the forwarded signer agent socket, e.g. agent:/tmp/agent.sock")
        return SignerSpec("agent", socket=Path(os.path.expanduser(rest.strip())))
    raise SignerSpecError(f"unknown signer {value!r}: write {EXAMPLES}")


def open_signer(spec: SignerSpec) -> Signer | None:
    """The signer ``spec`` names, ready to sign; None for ``none``. Raises
    SignerError with what to do when the key cannot be used."""
    if spec.kind == "none":
        return None
    if spec.kind == "keypair":
        from quantdesk.signing.keypair import KeypairSigner

        assert spec.path is not None
        return KeypairSigner.from_file(spec.path)
    if spec.kind == "agent":
        from quantdesk.signing.agent import AgentSigner

        assert spec.socket is not None
        signer: Signer = AgentSigner(spec.socket)
        return signer
    from quantdesk.signing.ledger import LedgerSigner

    ledger = LedgerSigner.connect(spec.derivation, host=spec.host, port=spec.port)
    return ledger
