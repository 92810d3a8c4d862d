"""A signer held in memory, for tests that must not touch a keypair file."""

from __future__ import annotations

from solders.keypair import Keypair


class MemorySigner:
    """A Signer that is not a KeypairSigner: the executor must only use the protocol."""

    def __init__(self) -> None:
        self._kp = Keypair()

    @property
    def pubkey(self):
        return self._kp.pubkey()

    def sign_message(self, message: bytes) -> bytes:
        return bytes(self._kp.sign_message(message))
