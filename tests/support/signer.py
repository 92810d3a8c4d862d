"""A signer held in memory, for tests that must not touch a keypair file, and
a keypair on file (mode 0600) with its signer, for those that read one."""

from __future__ import annotations

import json
from pathlib import Path

from solders.keypair import Keypair


def keypair_on_file(folder: Path):
    """(the Keypair, a KeypairSigner read from its file in ``folder``)."""
    from quantdesk.signing.keypair import KeypairSigner

    kp = Keypair()
    path = folder / "id.json"
    path.write_text(json.dumps(list(bytes(kp))))
    path.chmod(0o600)
    return kp, KeypairSigner.from_file(path)


class MemorySigner:
    """A Signer that is not a KeypairSigner: the executor must only use the protocol."""

    def __init__(self) -> None:
        self._kp = Keypair()

    @property
    def pubkey(self):
        return self._kp.pubkey()

    def sign_message(self, message: bytes) -> bytes:
        return bytes(self._kp.sign_message(message))
