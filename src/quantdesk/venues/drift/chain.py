"""driftpy's client for one authority and subaccount, fed from RPC on demand.

``DriftChain`` owns a ``DriftClient`` and a ``DriftUser`` whose account reads
go to an ``AccountStore``; ``load`` fetches the User account and every market
it touches with ``getMultipleAccounts``. Both the order path and the
read-only account view use it, so a trader can watch any wallet without its
key (the authority is only a public key here).
"""

from __future__ import annotations

from typing import Any

from quantdesk.venues.base import TradingUnavailable, VenueError
from quantdesk.venues.drift.account_store import AccountStore
from quantdesk.venues.drift.config import DriftDeployment
from quantdesk.venues.solana.rpc import SolanaRpc

QUOTE_SPOT_MARKET_INDEX = 0


class NoUserAccount(TradingUnavailable):
    pass


class _PubkeyWallet:
    """What driftpy's client needs of a wallet: the authority's public key.
    Signing goes through the QuantDesk Signer, never through this object."""

    def __init__(self, pubkey: Any) -> None:
        self.public_key = pubkey

    def __repr__(self) -> str:
        return f"_PubkeyWallet({self.public_key})"


def _load_idl(deployment: DriftDeployment) -> Any:
    from anchorpy_core.idl import Idl

    from quantdesk.venues.drift.idl import IdlError, idl_path_for

    path = idl_path_for(deployment)
    try:
        return Idl.from_json(path.read_text())
    except OSError as exc:
        raise VenueError(f"cannot read the IDL file {path}: {exc.strerror or exc}; check idl_path") from None
    except IdlError as exc:
        raise VenueError(str(exc)) from None
    except Exception:
        raise VenueError(f"{path} is not an Anchor IDL driftpy can use (legacy, pre-0.30 format)") from None


class DriftChain:
    def __init__(
        self, deployment: DriftDeployment, authority: Any, rpc: SolanaRpc | None, *, sub_account_id: int = 0
    ) -> None:
        if not deployment.has_idl:
            raise TradingUnavailable(
                f"{deployment.id}: reading on-chain accounts needs the program IDL (set venues.{deployment.id}.idl_path); "
                "market data still works"
            )
        from driftpy.account_subscription_config import AccountSubscriptionConfig
        from driftpy.drift_client import DriftClient
        from driftpy.drift_user import DriftUser
        from solana.rpc.async_api import AsyncClient
        from solders.pubkey import Pubkey

        if isinstance(authority, str):
            try:
                authority = Pubkey.from_string(authority)
            except Exception:
                raise VenueError(f"{authority!r} is not a Solana public key") from None
        self.deployment = deployment
        self.authority = authority
        self.rpc = rpc
        self.sub_account_id = sub_account_id
        cached = AccountSubscriptionConfig("cached")
        self.client = DriftClient(
            AsyncClient(deployment.rpc_urls[0]),
            _PubkeyWallet(authority),  # type: ignore[arg-type]  # driftpy reads only the wallet's public_key; signing never goes through it
            env="mainnet",
            account_subscription=cached,
            active_sub_account_id=sub_account_id,
            sub_account_ids=[sub_account_id],
        )
        if not deployment.uses_bundled_idl:
            # A fork (or a newer Drift) decodes with its own IDL at its own program id;
            # driftpy derives every PDA from ``program_id``.
            from anchorpy import Program

            pid = Pubkey.from_string(deployment.program_id)
            self.client.program = Program(_load_idl(deployment), pid, self.client.program.provider)
            self.client.program_id = pid
        self.store = AccountStore(self.client.program.coder.accounts)
        self.client.account_subscriber = self.store
        self.user_address = self.client.get_user_account_public_key(sub_account_id)
        self.user = DriftUser(self.client, self.user_address, cached)
        self.user.account_subscriber = self.store.user_subscriber(str(self.user_address))
        self.client.users[sub_account_id] = self.user
        self.program_id = str(self.client.program_id)

    def user_account(self) -> Any:
        return self.store.users.get(str(self.user_address))

    def _wanted(self, perp_indexes: set[int]) -> tuple[set[int], set[int]]:
        user = self.user_account()
        perps = set(perp_indexes)
        spots = {QUOTE_SPOT_MARKET_INDEX}
        if user is not None:
            perps |= {
                int(p.market_index)
                for p in user.perp_positions
                if int(p.base_asset_amount) or int(p.open_orders) or int(p.quote_asset_amount)
            }
            spots |= {int(s.market_index) for s in user.spot_positions if int(s.scaled_balance) or int(s.open_orders)}
        return perps, spots

    async def load(self, perp_indexes: set[int], *, refresh: bool = False, need_user: bool = True) -> None:
        """Fetch the User account and every market it or ``perp_indexes`` name.

        ``refresh`` refetches what is already held (a polling view); otherwise
        only what is missing is fetched (the order path).
        """
        from driftpy.addresses import get_perp_market_public_key, get_spot_market_public_key

        pid = self.client.program_id
        user_key = str(self.user_address)
        fetched: set[str] = set()
        for _ in range(2):  # the User account may name more markets on the second round
            perps, spots = self._wanted(perp_indexes)
            keys = []
            if need_user and (refresh or self.user_account() is None):
                keys.append(user_key)
            keys += [str(get_perp_market_public_key(pid, i)) for i in sorted(perps)
                     if refresh or i not in self.store.perp_markets]
            keys += [str(get_spot_market_public_key(pid, i)) for i in sorted(spots)
                     if refresh or i not in self.store.spot_markets]
            keys = [k for k in keys if k not in fetched]
            if not keys:
                break
            if self.rpc is None:
                raise TradingUnavailable(f"{self.deployment.id}: no RPC to load on-chain accounts")
            slot, datas = await self.rpc.get_multiple_accounts(keys)
            for key, data in zip(keys, datas):
                fetched.add(key)
                if data is None:
                    if key == user_key:
                        raise NoUserAccount(
                            f"no Drift account for {self.authority} (subaccount {self.sub_account_id}); "
                            "create one in the Drift app first"
                        )
                    raise VenueError(f"Drift market account {key} not found on chain")
                self.store.add(data, slot=slot, address=key)
        perps, spots = self._wanted(perp_indexes)
        missing_perps = sorted(perps - set(self.store.perp_markets))
        missing_spots = sorted(spots - set(self.store.spot_markets))
        if missing_perps or missing_spots:
            raise VenueError(f"Drift markets could not be loaded: perp {missing_perps}, spot {missing_spots}")
