"""Decoded Drift accounts held in memory, in the shape driftpy's client reads.

driftpy's instruction builders look markets and the trader's User account up
through an "account subscriber". This one is filled explicitly, from account
bytes fetched over RPC (``getMultipleAccounts``) or given by a caller, so
building an order needs no live subscription and is deterministic.
"""

from __future__ import annotations

from typing import Any

from quantdesk.venues.drift.idl import AccountDecodeError


class AccountStore:
    """Implements driftpy's DriftClientAccountSubscriber and UserAccountSubscriber reads."""

    def __init__(self, coder: Any) -> None:
        self._coder = coder  # anchorpy AccountsCoder of the program
        self.perp_markets: dict[int, Any] = {}
        self.spot_markets: dict[int, Any] = {}
        self.users: dict[str, Any] = {}  # user account pubkey -> decoded User
        self.slot = 0

    def add(self, data: bytes, slot: int = 0, address: str | None = None) -> str:
        """Decode and keep one account; returns its type name."""
        try:
            name = self._coder.discriminator_to_acc_name[bytes(data[:8])]
            value = self._coder.decode(bytes(data))
        except Exception:
            raise AccountDecodeError("account bytes do not decode as a Drift account") from None
        self.slot = max(self.slot, slot)
        if name == "PerpMarket":
            self.perp_markets[int(value.market_index)] = value
        elif name == "SpotMarket":
            self.spot_markets[int(value.market_index)] = value
        elif name == "User":
            if address is None:
                raise ValueError("a User account needs its address")
            self.users[address] = value
        return name

    # -- driftpy DriftClientAccountSubscriber ------------------------------------
    async def subscribe(self) -> None:
        return None

    async def fetch(self) -> None:
        return None

    def unsubscribe(self) -> None:
        return None

    def _wrap(self, value: Any) -> Any:
        from driftpy.accounts.types import DataAndSlot

        return None if value is None else DataAndSlot(self.slot, value)

    def get_state_account_and_slot(self) -> Any:
        return None

    def get_perp_market_and_slot(self, market_index: int) -> Any:
        return self._wrap(self.perp_markets.get(market_index))

    def get_spot_market_and_slot(self, market_index: int) -> Any:
        return self._wrap(self.spot_markets.get(market_index))

    def get_oracle_price_data_and_slot(self, oracle_id: Any) -> Any:
        return None

    # Oracle prices come from the markets' own last recorded oracle data
    # (``historical_oracle_data``): read-only views need no oracle accounts,
    # and every figure says which slot it is from.
    def _oracle(self, hist: Any) -> Any:
        from driftpy.types import OraclePriceData

        return self._wrap(
            OraclePriceData(
                price=int(hist.last_oracle_price),
                slot=self.slot,
                confidence=int(hist.last_oracle_conf),
                twap=int(hist.last_oracle_price_twap),
                twap_confidence=0,
                has_sufficient_number_of_data_points=True,
            )
        )

    def get_oracle_price_data_and_slot_for_perp_market(self, market_index: int) -> Any:
        m = self.perp_markets.get(market_index)
        return None if m is None else self._oracle(m.amm.historical_oracle_data)

    def get_oracle_price_data_and_slot_for_spot_market(self, market_index: int) -> Any:
        m = self.spot_markets.get(market_index)
        return None if m is None else self._oracle(m.historical_oracle_data)

    def get_market_accounts_and_slots(self) -> list[Any]:
        return [self._wrap(m) for _, m in sorted(self.perp_markets.items())]

    def get_spot_market_accounts_and_slots(self) -> list[Any]:
        return [self._wrap(m) for _, m in sorted(self.spot_markets.items())]

    def user_subscriber(self, address: str) -> _UserView:
        return _UserView(self, address)


class _UserView:
    """driftpy's UserAccountSubscriber over one User account in the store."""

    def __init__(self, store: AccountStore, address: str) -> None:
        self._store = store
        self._address = address

    async def subscribe(self) -> None:
        return None

    async def fetch(self) -> None:
        return None

    def unsubscribe(self) -> None:
        return None

    def get_user_account_and_slot(self) -> Any:
        return self._store._wrap(self._store.users.get(self._address))
