"""The ``[sim]`` section: the embedded simulated venues."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class SimSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)

    seed: int = Field(default=7, ge=0, le=2**63 - 1, description="same seed, same simulated market")
    rate: float = Field(default=200.0, ge=0, le=1_000_000, description="simulated events per second, all markets")
