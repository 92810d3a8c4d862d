"""A Signer backed by a Solana CLI keypair file (a JSON array of 64 bytes).

The secret bytes live only inside the solders ``Keypair``; ``repr``, ``str``
and every error message show the public key or the path, never the secret,
and the object refuses to be pickled.
"""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

from quantdesk.signing.base import SignerError

if TYPE_CHECKING:
    from solders.keypair import Keypair
    from solders.pubkey import Pubkey

class _Sealed:
    """Holds the solders Keypair, whose own repr prints the secret bytes, behind
    a repr that does not (tracebacks with locals, debuggers, ``vars()``)."""

    __slots__ = ("keypair",)

    def __init__(self, keypair: Keypair) -> None:
        self.keypair = keypair

    def __repr__(self) -> str:
        return "<sealed keypair>"

    def __reduce__(self) -> NoReturn:
        raise TypeError("a keypair cannot be pickled")


def _refuse_if_shared(p: Path) -> None:
    """Refuse a key file other users can read or change, before reading it:
    a key that others could have copied is not one to sign with."""
    if os.name == "nt":  # no POSIX modes; NTFS ACLs are the user's to set
        return
    try:
        mode = p.stat().st_mode
    except OSError:
        return  # the read below says what is wrong
    if stat.S_ISREG(mode) and mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise SignerError(
            f"keypair file {p} is open to other users (mode {stat.S_IMODE(mode):04o}); "
            f"run `chmod 600 {p}` and try again"
        )


def _secret_bytes(p: Path, text: str) -> bytes:
    """The 64 secret bytes of a key file: the Solana CLI's JSON array of
    numbers, or one base58 string (as wallets export it). Each way a file can
    be wrong gets its own message; none of them quotes the file."""
    stripped = text.strip()
    if stripped.startswith("["):
        try:
            values = json.loads(stripped)
        except json.JSONDecodeError:
            raise SignerError(f"keypair file {p} is not valid JSON; a Solana CLI keypair is a JSON array of 64 numbers") from None
        if not isinstance(values, list) or not all(
            isinstance(v, int) and not isinstance(v, bool) and 0 <= v <= 255 for v in values
        ):
            raise SignerError(f"keypair file {p} is a JSON value but not an array of numbers 0-255 (a Solana CLI keypair)")
        if len(values) != 64:
            raise SignerError(f"keypair file {p} holds {len(values)} numbers; a Solana keypair is 64 (secret and public key)")
        return bytes(values)
    import base58

    try:
        raw = base58.b58decode(stripped)
    except ValueError:
        raise SignerError(
            f"keypair file {p} is neither a Solana CLI keypair (a JSON array of 64 numbers) nor a base58 secret key"
        ) from None
    if len(raw) != 64:
        raise SignerError(f"keypair file {p} holds a base58 key of {len(raw)} bytes; a Solana keypair is 64")
    return raw


class KeypairSigner:
    __slots__ = ("_sealed", "path")

    def __init__(self, keypair: Keypair | _Sealed, path: Path | None = None) -> None:
        self._sealed = keypair if isinstance(keypair, _Sealed) else _Sealed(keypair)
        self.path = path

    @classmethod
    def from_file(cls, path: str | os.PathLike[str]) -> KeypairSigner:
        from solders.keypair import Keypair

        p = Path(path).expanduser()
        _refuse_if_shared(p)
        try:
            text = p.read_text()
        except FileNotFoundError:
            raise SignerError(f"keypair file {p} does not exist; create one with `solana-keygen new -o {p}`") from None
        except OSError as exc:
            raise SignerError(f"cannot read keypair file {p}: {exc.strerror or 'unreadable'}") from None
        except UnicodeDecodeError:
            raise SignerError(f"keypair file {p} is not a Solana CLI keypair (a JSON array of 64 numbers)") from None
        raw = _secret_bytes(p, text)
        try:
            sealed = _Sealed(Keypair.from_bytes(raw))
        except Exception:
            raise SignerError(f"keypair file {p}: the public half does not match the secret half") from None
        finally:
            del raw, text
        return cls(sealed, p)

    @property
    def pubkey(self) -> Pubkey:
        return self._sealed.keypair.pubkey()

    def sign_message(self, message: bytes) -> bytes:
        return bytes(self._sealed.keypair.sign_message(bytes(message)))

    def __repr__(self) -> str:
        return f"KeypairSigner(pubkey={self.pubkey})"

    __str__ = __repr__

    def __reduce__(self) -> NoReturn:
        raise TypeError("a KeypairSigner holds a secret key and cannot be pickled")
