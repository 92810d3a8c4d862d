"""What a recording may hold: the model's events, with no secret and no
signature in them.

Events carry numbers, venue and market names, and a few free-text fields: a
venue's status message, an order's reason, and the trader's order, client
and fill ids. Those texts are scrubbed before they are written:

- the configured secrets (Redis and database passwords, the API's JWT
  secret) and whatever the log redactor masks (passwords in URLs, tokens in
  queries, bearer tokens, JWTs) become ``***``, as do API keys in URL queries;
- anything shaped like a 64-byte value, which is what a transaction signature
  and an ed25519 secret key are (base58 of 64 or more characters, hex of 64 or
  more, a JSON array of 32 or more bytes), becomes ``sig:`` and a digest keyed
  by a random key that is never written: the same value stays the same
  within one recording (an id still matches its fills), and cannot be matched
  against the chain or across recordings.

Order and fill ids themselves stay: a replay must show the same orders.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets as _secrets
from collections.abc import Iterable
from typing import Any

import msgspec

from quantdesk.core.model import Fill, Order, VenueStatus
from quantdesk.wiring.logs import MASK, Redactor

TEXT_FIELDS: dict[type, tuple[str, ...]] = {
    VenueStatus: ("message",),
    Order: ("order_id", "client_id", "reason"),
    Fill: ("order_id", "fill_id"),
}
_API_KEY = re.compile(r"(?P<head>[?&](?:api[-_]?key|apikey|key|access[-_]?token|auth)=)[^&\s#]+", re.I)
_BASE58_LONG = re.compile(r"[1-9A-HJ-NP-Za-km-z]{64,}")
_HEX_LONG = re.compile(r"(?:0x)?[0-9A-Fa-f]{64,}")
_BYTE_ARRAY = re.compile(r"\[\s*[0-9]{1,3}(?:\s*,\s*[0-9]{1,3}){31,}\s*,?\s*\]")


class RecordPolicy:
    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._redactor = Redactor(secrets)
        self._key = _secrets.token_bytes(32)  # lives as long as the recorder; never written

    def _digest(self, m: re.Match[str]) -> str:
        return "sig:" + hmac.new(self._key, m.group(0).encode(), hashlib.sha256).hexdigest()[:16]

    def text(self, value: str) -> str:
        value = self._redactor.text(value)
        value = _API_KEY.sub(rf"\g<head>{MASK}", value)
        value = _BYTE_ARRAY.sub(MASK, value)
        value = _HEX_LONG.sub(self._digest, value)
        return _BASE58_LONG.sub(self._digest, value)

    def clean(self, event: Any) -> Any:
        """``event``, or a copy with its free text scrubbed."""
        names = TEXT_FIELDS.get(type(event))
        if names is None:
            return event
        changed: dict[str, str] = {}
        for name in names:
            value = getattr(event, name)
            if value:
                cleaned = self.text(value)
                if cleaned != value:
                    changed[name] = cleaned
        return msgspec.structs.replace(event, **changed) if changed else event
