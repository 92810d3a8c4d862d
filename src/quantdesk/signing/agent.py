"""``AgentSigner``: the console's Signer when the key lives with a signer agent.

The config's ``signer = "agent:/path/agent.sock"`` names a Unix socket,
usually one forwarded from the trader's laptop with ``ssh -R``. Each request
opens a connection, sends one frame of the agent protocol
(``signing.agent_wire``) and reads the reply, so a forwarding that drops and
comes back costs nothing. Signatures are verified against the agent's public
key before they are used.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import socket
from pathlib import Path
from typing import Any

from quantdesk.signing import agent_wire as wire
from quantdesk.signing.base import SignerError


class AgentSigner:
    def __init__(self, socket_path: str | os.PathLike[str], *, timeout_s: float = 300.0) -> None:
        """``timeout_s`` bounds a request, approval at the agent's terminal included."""
        self.socket_path = Path(socket_path).expanduser()
        self.timeout_s = timeout_s
        self._pubkey: Any = None
        self.kind = ""

    def _call(self, request: dict[str, Any]) -> dict[str, Any]:
        where = self.socket_path
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
                s.settimeout(self.timeout_s)
                s.connect(str(where))
                s.sendall(wire.frame(request))
                n = wire.frame_length(_recv(s, wire.HEADER))
                body = _recv(s, n)
        except (FileNotFoundError, ConnectionRefusedError):
            raise SignerError(
                f"no signer agent at {where}; start `quantdesk signer serve --socket ...` on the machine with the key "
                f"and forward it here with `ssh -R {where}:/local/agent.sock`"
            ) from None
        except TimeoutError:
            raise SignerError(f"the signer agent at {where} did not answer within {self.timeout_s:g} s") from None
        except wire.WireError as exc:
            raise SignerError(f"the signer agent at {where} sent a bad reply: {exc}") from None
        except OSError as exc:
            raise SignerError(f"cannot talk to the signer agent at {where}: {exc.strerror or exc}") from None
        try:
            reply = json.loads(body)
        except (UnicodeDecodeError, json.JSONDecodeError):
            reply = None
        if not isinstance(reply, dict) or reply.get("v") != wire.VERSION:
            raise SignerError(f"the signer agent at {where} does not speak protocol version {wire.VERSION}; "
                              "update QuantDesk on both machines")
        if not reply.get("ok"):
            raise SignerError(str(reply.get("message") or f"the signer agent refused ({reply.get('error')})"))
        return reply

    @property
    def pubkey(self) -> Any:
        if self._pubkey is None:
            from solders.pubkey import Pubkey

            reply = self._call(wire.pubkey_request())
            try:
                self._pubkey = Pubkey.from_string(str(reply.get("pubkey")))
            except ValueError:
                raise SignerError(f"the signer agent at {self.socket_path} sent a malformed public key") from None
            self.kind = str(reply.get("kind", ""))
        return self._pubkey

    def sign_message(self, message: bytes) -> bytes:
        from solders.signature import Signature

        pubkey = self.pubkey
        reply = self._call(wire.sign_request(bytes(message)))
        try:
            raw = base64.b64decode(str(reply.get("signature")), validate=True)
            sig = Signature.from_bytes(raw)
        except (binascii.Error, ValueError):
            raise SignerError("the signer agent returned a malformed signature") from None
        if not sig.verify(pubkey, bytes(message)):
            raise SignerError(f"the signer agent's signature does not verify for {pubkey}")
        return raw

    def __repr__(self) -> str:
        return f"AgentSigner(socket={self.socket_path})"


def _recv(s: socket.socket, n: int) -> bytes:
    chunks = bytearray()
    while len(chunks) < n:
        part = s.recv(n - len(chunks))
        if not part:
            raise SignerError("the signer agent closed the connection before replying; see the agent's terminal")
        chunks += part
    return bytes(chunks)
