"""Fixtures of the paper-trading terminal tests; the App itself is built by
support.paper_app."""

from __future__ import annotations

from decimal import Decimal

import pytest

from quantdesk.trading.risk import RiskLimits


@pytest.fixture
def tight_limits() -> RiskLimits:
    return RiskLimits(max_order_notional=Decimal(100))
