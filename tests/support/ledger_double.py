"""A Ledger running the Solana app, as the Speculos emulator serves it over TCP.

Framing (Speculos' APDU port): in, a 4-byte big-endian length then the APDU
(CLA INS P1 P2 Lc data); out, a 4-byte big-endian length of the data, the
data, then the 2-byte status word. The Solana app's protocol byte for byte:
INS 0x04 app configuration, 0x05 public key, 0x06 sign message with P2
MORE/EXTEND chunking. Keys come from a fixed BIP39 test mnemonic by SLIP-0010
ed25519 derivation, so the signatures it returns verify against the public
keys it reports. ``answer`` steers what the trader does on the device.
"""

from __future__ import annotations

import hashlib
import hmac
import socket
import struct
import threading

from solders.keypair import Keypair

MNEMONIC = "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about"
HARDENED = 0x8000_0000


def slip10_ed25519(seed: bytes, path: tuple[int, ...]) -> bytes:
    """The private key at ``path`` (hardened components only, as ed25519 allows)."""
    digest = hmac.new(b"ed25519 seed", seed, hashlib.sha512).digest()
    key, chain = digest[:32], digest[32:]
    for index in path:
        assert index & HARDENED, "SLIP-0010 ed25519 derives hardened children only"
        digest = hmac.new(chain, b"\x00" + key + struct.pack(">I", index), hashlib.sha512).digest()
        key, chain = digest[:32], digest[32:]
    return key


def bip39_seed(mnemonic: str = MNEMONIC, passphrase: str = "") -> bytes:
    return hashlib.pbkdf2_hmac("sha512", mnemonic.encode(), ("mnemonic" + passphrase).encode(), 2048)


def keypair_at(path: tuple[int, ...]) -> Keypair:
    return Keypair.from_seed(slip10_ed25519(bip39_seed(), path))


class LedgerDouble:
    """A TCP server on a free port; ``state`` is "ready", "locked" or "other_app";
    ``answer`` is "approve" or "refuse"; ``blind_signing`` the app setting."""

    def __init__(self) -> None:
        self.state = "ready"
        self.answer = "approve"
        self.blind_signing = True
        self.apdus: list[bytes] = []
        self.hold: threading.Event | None = None  # set: the trader takes until it is set to answer
        self.signed: list[bytes] = []
        self._pending = b""
        self._sock = socket.socket()
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen()
        self.port = self._sock.getsockname()[1]
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._sock.close()

    # -- the wire --------------------------------------------------------------
    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self._sock.accept()
            except OSError:
                return
            threading.Thread(target=self._conn, args=(conn,), daemon=True).start()

    @staticmethod
    def _read(conn: socket.socket, n: int) -> bytes:
        out = b""
        while len(out) < n:
            part = conn.recv(n - len(out))
            if not part:
                raise ConnectionError
            out += part
        return out

    def _conn(self, conn: socket.socket) -> None:
        with conn:
            try:
                while True:
                    (n,) = struct.unpack(">I", self._read(conn, 4))
                    apdu = self._read(conn, n)
                    self.apdus.append(apdu)
                    data, sw = self.handle(apdu)
                    conn.sendall(struct.pack(">I", len(data)) + data + struct.pack(">H", sw))
            except (ConnectionError, OSError):
                return

    # -- the Solana app ------------------------------------------------------------
    def handle(self, apdu: bytes) -> tuple[bytes, int]:
        if len(apdu) < 5:
            return b"", 0x6700  # wrong length
        cla, ins, p1, p2, lc = apdu[:5]
        data = apdu[5 : 5 + lc]
        if self.state == "locked":
            return b"", 0x5515
        if self.state == "other_app":
            return b"", 0x6E00
        if cla != 0xE0:
            return b"", 0x6E00
        if ins == 0x04:
            return bytes([1 if self.blind_signing else 0, 0, 1, 8, 2]), 0x9000
        if ins == 0x05:
            path = self._path(data)
            if path is None:
                return b"", 0x6A80
            return bytes(keypair_at(path).pubkey()), 0x9000
        if ins == 0x06:
            if p2 & 0x01:  # EXTEND: continues the message being received
                self._pending += data
            else:
                self._pending = data
            if p2 & 0x02:  # MORE: another chunk follows
                return b"", 0x9000
            payload, self._pending = self._pending, b""
            if not payload or payload[0] != 1:
                return b"", 0x6A80
            path = self._path(payload[1:])
            if path is None:
                return b"", 0x6A80
            message = payload[2 + 4 * len(path) :]
            if not _parses(message):  # the app parses the message first and refuses what it cannot read
                return b"", 0x6A80
            if not self.blind_signing:
                return b"", 0x6808
            if self.hold is not None:
                self.hold.wait(30)
            if self.answer == "refuse":
                return b"", 0x6985
            self.signed.append(message)
            return bytes(keypair_at(path).sign_message(message)), 0x9000
        return b"", 0x6D00

    @staticmethod
    def _path(data: bytes) -> tuple[int, ...] | None:
        if not data or data[0] not in (3, 4) or len(data) < 1 + 4 * data[0]:
            return None
        return struct.unpack(f">{data[0]}I", data[1 : 1 + 4 * data[0]])


def _parses(message: bytes) -> bool:
    from solders.message import from_bytes_versioned

    try:
        from_bytes_versioned(message)
    except Exception:  # any parse failure: the app answers 0x6A80
        return False
    return True
