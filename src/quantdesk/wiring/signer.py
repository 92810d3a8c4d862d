"""The trader's signer, opened once from the top-level ``signer`` setting and
handed to every venue that trades."""

from __future__ import annotations

from typing import Any

from quantdesk.signing.base import Signer, SignerError
from quantdesk.signing.spec import SignerSpec, SignerSpecError, open_signer, parse_signer


def configured_spec(settings: Any) -> SignerSpec:
    """The ``signer`` setting of ``settings`` (none without settings)."""
    return parse_signer(getattr(settings, "signer", None) if settings is not None else None)


def open_configured(settings: Any) -> tuple[Signer | None, str | None]:
    """(signer, problem): the configured signer, or None and the reason it
    cannot sign (shown by the venues instead of trading); (None, None) when
    the config names no signer."""
    try:
        return open_signer(configured_spec(settings)), None
    except (SignerError, SignerSpecError) as exc:
        return None, str(exc)
