"""While the Ledger waits for the trader the terminal says so, with the
transaction's summary; the prompt goes when the device answers, and Escape
gives up on the signature so nothing signed late is ever sent."""

from __future__ import annotations

import asyncio
import threading

import pytest

from quantdesk.console.app import QuantDeskApp
from quantdesk.console.device_prompt import DevicePromptScreen
from quantdesk.signing.base import SignerError
from quantdesk.signing.spec import open_signer, parse_signer

from support.app import paused_session
from support.ledger_double import LedgerDouble
from support.wait import wait_until


@pytest.fixture
def device():
    d = LedgerDouble()
    yield d
    d.close()


def _app(device: LedgerDouble) -> tuple[QuantDeskApp, object]:
    ledger = open_signer(parse_signer(f"ledger-tcp:127.0.0.1:{device.port}:44'/501'/0'/0'"))
    session = paused_session()
    session.signer = ledger
    return QuantDeskApp(session), ledger


def _screen_text(app: QuantDeskApp) -> str:
    return " ".join(str(w.render()) for w in app.screen.query("Static"))


async def test_the_prompt_shows_while_the_device_waits_and_goes_when_it_answers(device):
    app, ledger = _app(device)
    async with app.run_test(size=(120, 40)) as pilot:
        app.trading._last_summary = "BUY 1 SOL-PERP @ market on drift"
        device.hold = threading.Event()
        signing = asyncio.ensure_future(asyncio.to_thread(ledger.sign_message, b"\x80" + bytes(300)))
        assert await wait_until(lambda: isinstance(app.screen, DevicePromptScreen), 5)
        await pilot.pause()
        text = _screen_text(app)
        assert "Confirm on your Ledger" in text and "BUY 1 SOL-PERP" in text
        device.hold.set()
        sig = await signing
        assert len(sig) == 64
        assert await wait_until(lambda: not isinstance(app.screen, DevicePromptScreen), 5)


async def test_escape_discards_the_signature_whatever_the_device_answers(device):
    app, ledger = _app(device)
    async with app.run_test(size=(120, 40)) as pilot:
        device.hold = threading.Event()
        signing = asyncio.ensure_future(asyncio.to_thread(ledger.sign_message, b"\x80" + bytes(40)))
        assert await wait_until(lambda: isinstance(app.screen, DevicePromptScreen), 5)
        await pilot.press("escape")
        assert await wait_until(lambda: not isinstance(app.screen, DevicePromptScreen), 5)
        device.hold.set()  # the trader approves on the device after all
        with pytest.raises(SignerError, match="cancelled at the terminal"):
            await signing
