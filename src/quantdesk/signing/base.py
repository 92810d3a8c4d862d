"""The Signer protocol: anything that can sign a Solana transaction message.

A local keypair file, a Ledger or a remote signer agent all look the same to
the venues: a public key and ``sign_message``. Implementations keep secret
material out of ``repr``, logs and exception messages.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol, runtime_checkable

if TYPE_CHECKING:
    from solders.pubkey import Pubkey


class SignerError(Exception):
    """A signer could not be loaded or refused to sign; the message is for the trader."""


@runtime_checkable
class Signer(Protocol):
    @property
    def pubkey(self) -> Pubkey: ...

    def sign_message(self, message: bytes) -> bytes:
        """The 64-byte ed25519 signature of ``message`` (a serialized transaction message)."""
        ...


@runtime_checkable
class ConfirmsOnDevice(Protocol):
    """A signer the trader confirms on a device (a Ledger). ``on_confirm`` is
    called with True from the signing thread when the device starts waiting
    for the trader and with False when it answered; ``cancel`` gives up on the
    pending signature: it is discarded whatever the device answers."""

    on_confirm: Callable[[bool], None] | None

    def cancel(self) -> None: ...
