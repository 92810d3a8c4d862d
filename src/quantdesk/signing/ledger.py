"""A Signer on a Ledger's Solana app, through ``ledgercomm`` (USB HID for a
device, TCP for the Speculos emulator).

The Solana app's APDUs: CLA 0xE0; INS 0x04 get app configuration, 0x05 get
pubkey, 0x06 sign a transaction message. A derivation path goes as a count
(3 or 4) then big-endian u32 components; a sign request is ``0x01`` (one
signer), the path, then the message. Payloads over 255 bytes are chunked:
every chunk but the last sets P2 MORE (0x02), every chunk but the first sets
P2 EXTEND (0x01). The device answers a status word; each one the trader can
act on is turned into a sentence saying what to do.

Blocking I/O: callers run ``sign_message`` in a thread (the venues do), so the
console keeps drawing while the trader confirms on the device.
"""

from __future__ import annotations

import struct
import threading
from collections.abc import Callable
from typing import Any

from quantdesk.signing.base import SignerError

CLA = 0xE0
INS_GET_APP_CONFIGURATION = 0x04
INS_GET_PUBKEY = 0x05
INS_SIGN_MESSAGE = 0x06
P1_NON_CONFIRM = 0x00
P1_CONFIRM = 0x01
P2_EXTEND = 0x01
P2_MORE = 0x02
MAX_CHUNK = 255
SW_OK = 0x9000

# Status words -> what the trader should do.
STATUS: dict[int, str] = {
    0x6985: "the transaction was refused on the Ledger; nothing was signed",
    0x6A80: "the Ledger's Solana app rejected the data as malformed; update the Solana app and QuantDesk",
    0x6A81: "the Ledger's Solana app does not support this request; update the Solana app",
    0x6A82: "blind signing is disabled: enable it in the Solana app's settings on the Ledger, then try again",
    0x6808: "blind signing is disabled: enable it in the Solana app's settings on the Ledger, then try again",
    0x6B00: "the Ledger refused the request parameters; update the Solana app",
    0x6D00: "the Solana app is not open: open it on the Ledger, then try again",
    0x6E00: "the Solana app is not open (another app is): open the Solana app on the Ledger, then try again",
    0x6E01: "the Solana app is not open: open it on the Ledger, then try again",
    0x6511: "the Solana app is not open: open it on the Ledger, then try again",
    0x5515: "the Ledger is locked: unlock it with your PIN and open the Solana app",
    0x6982: "the Ledger is locked: unlock it with your PIN and open the Solana app",
    0x6FAA: "the Ledger is locked: unlock it with your PIN and open the Solana app",
}

Exchange = Callable[[int, int, int, int, bytes], tuple[int, bytes]]


def describe_status(sw: int) -> str:
    return STATUS.get(sw, f"the Ledger answered status 0x{sw:04X}; check the device and its Solana app")


def path_payload(derivation: tuple[int, ...]) -> bytes:
    if len(derivation) not in (3, 4):
        raise SignerError("a Ledger derivation path has 3 or 4 components, e.g. 44'/501'/0'/0'")
    return bytes([len(derivation)]) + b"".join(struct.pack(">I", c) for c in derivation)


def chunks(payload: bytes) -> list[tuple[int, bytes]]:
    """(P2, data) of each APDU carrying ``payload``."""
    parts = [payload[i : i + MAX_CHUNK] for i in range(0, len(payload), MAX_CHUNK)] or [b""]
    out = []
    for i, part in enumerate(parts):
        p2 = (P2_EXTEND if i > 0 else 0) | (P2_MORE if i < len(parts) - 1 else 0)
        out.append((p2, part))
    return out


def _transport_exchange(interface: str, host: str | None, port: int | None) -> tuple[Exchange, Callable[[], None]]:
    try:
        from ledgercomm import Transport
    except ImportError:  # pragma: no cover - a dependency of QuantDesk
        raise SignerError("Ledger support needs the ledgercomm package: pip install ledgercomm") from None
    try:
        if interface == "tcp":
            transport = Transport(interface="tcp", server=host or "127.0.0.1", port=port or 9999)
        else:
            transport = Transport(interface="hid")
    except ImportError:  # ledgercomm reaches USB through the optional hidapi package
        raise SignerError(
            "a Ledger over USB needs the hidapi package: pip install 'ledgercomm[hid]' (or hidapi), "
            "or use ledger-tcp:HOST:PORT:PATH for the Speculos emulator"
        ) from None
    except Exception as exc:
        where = f"the emulator at {host}:{port}" if interface == "tcp" else "a Ledger over USB"
        raise SignerError(
            f"cannot reach {where} ({type(exc).__name__}): connect and unlock the Ledger, open the Solana app"
            + (", and check the emulator is running" if interface == "tcp" else "")
        ) from None

    def exchange(cla: int, ins: int, p1: int, p2: int, data: bytes) -> tuple[int, bytes]:
        try:
            sw, reply = transport.exchange(cla, ins, p1, p2, cdata=data)
        except Exception as exc:
            raise SignerError(f"the Ledger connection failed ({type(exc).__name__}): reconnect it and try again") from None
        return int(sw), bytes(reply)

    return exchange, transport.close


class LedgerSigner:
    """The Solana app on a Ledger, at one derivation path."""

    def __init__(self, exchange: Exchange, derivation: tuple[int, ...], *, close: Callable[[], None] | None = None,
                 on_confirm: Callable[[bool], None] | None = None) -> None:  # fmt: skip
        self._exchange = exchange
        self._close = close
        self.derivation = derivation
        self._pubkey: Any = None
        self._lock = threading.Lock()  # one APDU conversation at a time
        # Told True while the device waits for the trader, False when it answered:
        # the console shows "confirm on your Ledger" meanwhile.
        self.on_confirm = on_confirm
        self._cancelled = threading.Event()

    @classmethod
    def connect(cls, derivation: tuple[int, ...], *, host: str | None = None, port: int | None = None) -> LedgerSigner:
        exchange, close = _transport_exchange("tcp" if host else "hid", host, port)
        return cls(exchange, derivation, close=close)

    def _call(self, ins: int, p1: int, payload: bytes) -> bytes:
        reply = b""
        with self._lock:
            for p2, part in chunks(payload):
                sw, reply = self._exchange(CLA, ins, p1, p2, part)
                if sw != SW_OK:
                    raise SignerError(describe_status(sw))
        return reply

    def app_configuration(self) -> dict[str, Any]:
        """The Solana app's settings and version."""
        data = self._call(INS_GET_APP_CONFIGURATION, P1_NON_CONFIRM, b"")
        if len(data) < 5:
            raise SignerError("the Ledger's Solana app answered its configuration too briefly; update the Solana app")
        return {"blind_signing": bool(data[0]), "pubkey_display": data[1], "version": f"{data[2]}.{data[3]}.{data[4]}"}

    @property
    def pubkey(self) -> Any:
        if self._pubkey is None:
            from solders.pubkey import Pubkey

            data = self._call(INS_GET_PUBKEY, P1_NON_CONFIRM, path_payload(self.derivation))
            if len(data) != 32:
                raise SignerError("the Ledger answered a public key of the wrong length; update the Solana app")
            self._pubkey = Pubkey.from_bytes(data)
        return self._pubkey

    def sign_message(self, message: bytes) -> bytes:
        from solders.signature import Signature

        payload = b"\x01" + path_payload(self.derivation) + bytes(message)
        self._cancelled.clear()
        if self.on_confirm is not None:
            self.on_confirm(True)
        try:
            sig = self._call(INS_SIGN_MESSAGE, P1_CONFIRM, payload)
        finally:
            if self.on_confirm is not None:
                self.on_confirm(False)
        if self._cancelled.is_set():
            raise SignerError("cancelled at the terminal: the signature was discarded and nothing was sent")
        if len(sig) != 64:
            raise SignerError("the Ledger answered a signature of the wrong length; update the Solana app")
        if not Signature.from_bytes(sig).verify(self.pubkey, bytes(message)):
            raise SignerError("the Ledger's signature does not verify against its public key; check the derivation path")
        return sig

    def cancel(self) -> None:
        """Give up on the signature the device is waiting for (Escape at the
        terminal): whatever the trader does on the device, it is not used."""
        self._cancelled.set()

    def close(self) -> None:
        if self._close is not None:
            self._close()

    def __repr__(self) -> str:
        path = "/".join(f"{c & 0x7FFFFFFF}'" if c & 0x80000000 else str(c) for c in self.derivation)
        return f"LedgerSigner(path={path})"
