"""The ``[venues.toy]`` section."""

from __future__ import annotations

from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field


class ToySettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    symbol: str = Field(default="TOY-PERP", min_length=1, description="the one market the toy venue lists")
    price: Decimal = Field(default=Decimal("12.5"), gt=0, description="mid price, USD")
    levels: int = Field(default=3, ge=1, le=20, description="book levels per side")
