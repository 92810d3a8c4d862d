"""The signer agent: holds the trader's signer on their laptop and signs for consoles elsewhere.

``quantdesk signer serve`` runs an ``AgentServer`` on a Unix socket (created
mode 0600, only its owner may connect); the trader forwards it to the server
with ``ssh -R /remote/agent.sock:/local/agent.sock`` and the console there
signs through ``AgentSigner``. Each sign request is decoded by the
transaction policy with the venues' instruction decoders, refused outright if
it breaks the policy (a program off the allowlist, a durable nonce, a fee
payer that is not this signer), printed as a summary (venue, market, side,
size, price, fee payer, programs), then signed when the auto-approve policy
file allows it or the trader answers ``y``. Prompts are asked one at a time;
several consoles may be connected at once. A connection that drops, even in
the middle of a request, ends only that connection. The key never leaves:
replies carry public keys and signatures only.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
import os
import socket
import stat
import time
from collections.abc import Awaitable, Callable, Iterable
from pathlib import Path
from typing import Any

from quantdesk.signing import agent_wire as wire
from quantdesk.signing import policy
from quantdesk.signing.auto_approve import AutoApprove
from quantdesk.signing.base import Signer, SignerError

log = logging.getLogger(__name__)

# (summary lines, decoded view) -> approve?  May block (a terminal prompt runs in a thread) or be async.
Approver = Callable[[list[str], policy.TransactionView], bool | Awaitable[bool]]


class AgentServer:
    def __init__(
        self,
        signer: Signer,
        *,
        decoders: Iterable[policy.InstructionDecoder] = (),
        rules: policy.TransactionPolicy | None = None,
        approver: Approver | None = None,
        auto: AutoApprove | None = None,
        kind: str = "keypair",
        clock: Callable[[], int] = time.time_ns,
        say: Callable[[str], None] = print,
    ) -> None:
        self.signer = signer
        self.pubkey = str(signer.pubkey)
        self.kind = kind
        self.decoders = list(decoders)
        programs = {d.program_id for d in self.decoders} | (set(auto.allowed_programs) if auto else set())
        self.rules = rules if rules is not None else policy.TransactionPolicy.of(programs)
        self.approver = approver
        self.auto = auto
        self.clock = clock
        self.say = say
        self._ask = asyncio.Lock()  # one prompt at a time, whichever console asks
        self.served = 0  # requests answered (for tests and the status line)

    # -- the socket -------------------------------------------------------------------
    async def start(self, path: str | os.PathLike[str]) -> asyncio.AbstractServer:
        """Listen on ``path`` (mode 0600). An existing socket file is replaced; any other file is refused."""
        p = Path(path)
        if p.exists() or p.is_symlink():
            if not stat.S_ISSOCK(p.lstat().st_mode):
                raise SignerError(f"{p} exists and is not a socket; choose another --socket path")
            p.unlink()
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        old = os.umask(0o177)  # the socket file is born 0600: no moment where others could connect
        try:
            sock.bind(str(p))
        except OSError as exc:
            sock.close()
            raise SignerError(f"cannot create the agent socket {p}: {exc.strerror or exc}") from None
        finally:
            os.umask(old)
        os.chmod(p, 0o600)
        return await asyncio.start_unix_server(self._serve, sock=sock)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                try:
                    header = await reader.readexactly(wire.HEADER)
                except asyncio.IncompleteReadError:
                    return  # the console hung up (between requests, or inside a header)
                try:
                    n = wire.frame_length(header)
                except wire.WireError as exc:
                    await self._reply(writer, wire.error_reply(exc.code, str(exc)))
                    return  # the rest of the stream cannot be trusted to be frames
                try:
                    body = await reader.readexactly(n)
                except asyncio.IncompleteReadError:
                    log.info("a console dropped its connection in the middle of a request")
                    return
                reply = await self.handle(body)
                if not await self._reply(writer, reply):
                    return
        finally:
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()

    async def _reply(self, writer: asyncio.StreamWriter, reply: dict[str, Any]) -> bool:
        try:
            writer.write(wire.frame(reply))
            await writer.drain()
        except (ConnectionError, OSError):
            log.info("a console left before its reply was sent")
            return False
        self.served += 1
        return True

    # -- one request ------------------------------------------------------------------
    async def handle(self, body: bytes) -> dict[str, Any]:
        try:
            req = wire.parse_request(body)
        except wire.WireError as exc:
            return wire.error_reply(exc.code, str(exc))
        if req.op == "pubkey":
            return {"v": wire.VERSION, "ok": True, "pubkey": self.pubkey, "kind": self.kind}
        try:
            return await self._sign(req.message)
        except Exception:  # a request must never take the agent down
            log.exception("a sign request failed")
            return wire.error_reply("signer", "the agent could not handle this request; see the agent's log")

    async def _sign(self, message: bytes) -> dict[str, Any]:
        try:
            view = policy.decode(message, self.decoders)
        except policy.UndecodableTransaction as exc:
            return wire.error_reply("bad_request", f"{exc}; send the serialized transaction message")
        lines = policy.render(view, "Sign request")
        reasons = policy.refusals(view, self.rules, self.pubkey)
        if reasons:
            self.say("\n".join([*lines, "  REFUSED: " + "; ".join(reasons)]))
            return wire.error_reply("policy", "refused by the signer agent: " + "; ".join(reasons))
        async with self._ask:  # in order, one at a time: the hourly budget and the prompt are shared
            approved, why = (False, "no auto-approve policy")
            if self.auto is not None:
                approved, why = self.auto.decide(view, self.clock())
            if approved:
                self.say("\n".join([*lines, f"  auto-approved: {why}"]))
            else:
                if self.auto is not None:
                    lines = [*lines, f"  not auto-approved: {why}"]
                approved = await self._ask_trader(lines, view)
            if not approved:
                return wire.error_reply("refused", "the trader declined to sign at the signer agent")
            try:
                signature = await asyncio.to_thread(self.signer.sign_message, message)
            except SignerError as exc:
                return wire.error_reply("signer", str(exc))
            except Exception:
                log.exception("the agent's signer failed")
                return wire.error_reply("signer", "the signer failed; see the agent's log")
            if self.auto is not None:
                self.auto.record(view, self.clock())
        import base64

        return {"v": wire.VERSION, "ok": True, "signature": base64.b64encode(bytes(signature)).decode()}

    async def _ask_trader(self, lines: list[str], view: policy.TransactionView) -> bool:
        if self.approver is None:
            self.say("\n".join([*lines, "  REFUSED: no terminal to approve at (run the agent in a terminal)"]))
            return False
        answer = self.approver(lines, view)
        if inspect.isawaitable(answer):
            answer = await answer
        return bool(answer)


def terminal_approver(ask: Callable[[str], str] = input, say: Callable[[str], None] = print) -> Approver:
    """Print the summary and ask ``Sign? [y/N]`` on the agent's terminal (in a thread, so others keep being served)."""

    async def approve(lines: list[str], view: policy.TransactionView) -> bool:
        say("\n".join(lines))
        try:
            answer = await asyncio.to_thread(ask, "Sign this transaction? [y/N] ")
        except EOFError:
            return False
        return answer.strip().lower() in ("y", "yes")

    return approve
