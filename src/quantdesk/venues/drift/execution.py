"""Orders on the Drift deployment: driftpy instructions, a checked v0
transaction, the configured Signer, then RPC ``sendTransaction``.

driftpy's ``DriftClient`` builds the instructions (accounts, remaining
accounts, argument encoding); its account reads are served from an
``AccountStore`` filled over RPC, so no live subscription is needed. In
``dry_run`` mode the transaction is built and signed but not sent, and the
decoded transaction is kept in ``last_preview``.

QuantDesk order ids map to Drift's one-byte ``user_order_id`` (1-255), so
cancel and modify address the order by that id.

``prepare_place`` returns the checked, unsigned transaction with its decoded
preview, for a confirmation step; ``submit_order`` then signs and sends it.
``place`` does both.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable
from typing import Any, NamedTuple

import msgspec

from quantdesk.core.model import Order, OrderIntent
from quantdesk.signing.base import Signer
from quantdesk.venues.base import TradingUnavailable, VenueError
from quantdesk.venues.drift import transaction as txn
from quantdesk.venues.drift.chain import DriftChain
from quantdesk.venues.drift.config import COMPUTE_BUDGET_PROGRAM_ID, DRIFT_PROGRAM_ID, DriftDeployment
from quantdesk.venues.drift.instructions import DriftInstructionDecoder
from quantdesk.venues.drift.orders import OrderRejected, order_params
from quantdesk.venues.solana.rpc import SolanaRpc


class Prepared(NamedTuple):
    """A checked, unsigned transaction and its decoded preview (shown before signing)."""

    message: Any  # solders MessageV0
    preview: dict[str, Any]
    order: Order | None = None
    user_order_id: int = 0


class DriftExecutor:
    def __init__(
        self,
        deployment: DriftDeployment,
        signer: Signer,
        rpc: SolanaRpc | None = None,
        *,
        sub_account_id: int = 0,
        compute_units: int = 600_000,
        priority_fee_micro_lamports: int = 0,
        allow_durable_nonce: bool = False,
        allowed_programs: Iterable[str] = (),
        dry_run: bool = False,
        clock: Callable[[], int] = time.time_ns,
    ) -> None:
        if deployment.program_id != DRIFT_PROGRAM_ID:
            # driftpy derives the State account from the "drift_state" seed; Velocity's differs.
            raise TradingUnavailable(
                f"{deployment.id}: orders are built with driftpy, which supports only the Drift deployment"
            )
        self.deployment = deployment
        self.signer = signer
        self.rpc = rpc
        self.sub_account_id = sub_account_id
        self.compute_units = compute_units
        self.priority_fee = priority_fee_micro_lamports
        self.allow_durable_nonce = allow_durable_nonce
        self.dry_run = dry_run
        self.clock = clock
        self.chain = DriftChain(deployment, signer.pubkey, rpc, sub_account_id=sub_account_id)
        self.client = self.chain.client
        self.store = self.chain.store
        self.user_address = self.chain.user_address
        self.program_id = str(self.client.program_id)
        self.allowed_programs = {self.program_id, COMPUTE_BUDGET_PROGRAM_ID, *allowed_programs}
        self._ix_coders = {self.program_id: self.client.program.coder.instruction}
        self._names = {self.program_id: deployment.id, COMPUTE_BUDGET_PROGRAM_ID: "ComputeBudget"}
        self.decoders = [DriftInstructionDecoder(deployment)]  # the transaction policy's reading of our program
        self.orders: dict[str, tuple[int, Order]] = {}  # QuantDesk order id -> (user_order_id, order)
        self.signatures: dict[str, str] = {}
        self.last_preview: dict[str, Any] | None = None
        self.last_signed_tx: Any = None  # the latest signed solders VersionedTransaction

    # -- accounts --------------------------------------------------------------
    def add_account(self, data: bytes, address: str | None = None, slot: int = 0) -> str:
        return self.store.add(data, slot=slot, address=address)

    def _user(self) -> Any:
        return self.chain.user_account()

    async def load_accounts(self, perp_indexes: set[int]) -> None:
        """Fetch the User account and every market the instructions will reference."""
        await self.chain.load(perp_indexes)

    # -- instructions ------------------------------------------------------------
    def _market_index(self, market: str) -> int:
        spec = self.deployment.market(market)
        if spec is None:
            raise OrderRejected(f"{market} is not a market of {self.deployment.id}")
        return spec.index

    def _next_user_order_id(self) -> int:
        used = {uid for uid, o in self.orders.values() if o.status in ("pending", "open", "triggered")}
        user = self._user()
        if user is not None:
            used |= {int(o.user_order_id) for o in user.orders if type(o.status).__name__ == "Open"}
        for uid in range(1, 256):
            if uid not in used:
                return uid
        raise OrderRejected("all 255 Drift user order ids are in use; cancel some orders first")

    def place_instructions(self, intent: OrderIntent, user_order_id: int) -> list[Any]:
        params = order_params(intent, self._market_index(intent.market), user_order_id)
        return [self.client.get_place_perp_order_ix(params, self.sub_account_id)]

    def cancel_instructions(self, user_order_id: int) -> list[Any]:
        return [self.client.get_cancel_order_by_user_id_ix(user_order_id, self.sub_account_id)]

    def cancel_all_instructions(self, market: str | None) -> list[Any]:
        from driftpy.types import MarketType

        if market is None:
            return [self.client.get_cancel_orders_ix(None, None, None, self.sub_account_id)]  # type: ignore[arg-type]  # driftpy defaults these to None (every market, both sides) but annotates them without Optional
        return [self.client.get_cancel_orders_ix(MarketType.Perp(), self._market_index(market), None, self.sub_account_id)]  # type: ignore[arg-type]  # None: both sides, driftpy's default, annotated without Optional

    def modify_instructions(self, user_order_id: int, *, price: int | None, size: int | None) -> list[Any]:
        from driftpy.types import ModifyOrderParams

        if price is None and size is None:
            raise OrderRejected("modify needs a new price or size")
        params = ModifyOrderParams(price=price, base_asset_amount=size)
        return [self.client.get_modify_order_by_user_id_ix(user_order_id, params, self.sub_account_id)]

    # -- transactions ----------------------------------------------------------------
    async def _blockhash(self) -> str:
        if self.rpc is None:
            raise TradingUnavailable(f"{self.deployment.id}: no RPC for a recent blockhash")
        return await self.rpc.get_latest_blockhash()

    def message(self, instructions: list[Any], blockhash: Any) -> Any:
        """A v0 message with the compute budget, checked against the allowlist (unsigned)."""
        ixs = txn.compute_budget_ixs(self.compute_units, self.priority_fee) + list(instructions)
        message = txn.compose(self.signer.pubkey, ixs, blockhash)
        txn.check(message, self.allowed_programs, allow_durable_nonce=self.allow_durable_nonce,
                  signer=self.signer.pubkey, decoders=self.decoders)
        return message

    def policy_view(self, tx_or_message: Any) -> Any:
        """The transaction policy's decoded view (order summary, compute budget, programs)."""
        from quantdesk.signing.policy import decode

        return decode(tx_or_message, self.decoders)

    def signed_transaction(self, instructions: list[Any], blockhash: Any) -> Any:
        return txn.sign(self.message(instructions, blockhash), self.signer)

    def describe(self, tx_or_message: Any) -> dict[str, Any]:
        return txn.decode(tx_or_message, self._ix_coders, self._names)

    async def prepare(self, instructions: list[Any], blockhash: Any = None) -> Prepared:
        """The transaction preview: what will be signed, decoded, before the signer sees it."""
        message = self.message(instructions, blockhash if blockhash is not None else await self._blockhash())
        return Prepared(message, self.describe(message))

    async def submit(self, prepared: Prepared) -> str | None:
        """Sign a prepared message and send it; None in dry-run mode (signed, not sent)."""
        # in a thread: a signer agent or a Ledger waits for the trader, and the console must stay live meanwhile
        tx = await asyncio.to_thread(txn.sign, prepared.message, self.signer)
        self.last_signed_tx = tx
        self.last_preview = self.describe(tx)
        if self.dry_run:
            return None
        if self.rpc is None:
            raise TradingUnavailable(f"{self.deployment.id}: no RPC to send the transaction")
        return await self.rpc.send_transaction(bytes(tx))

    # -- the Venue trading calls -----------------------------------------------------
    async def prepare_place(self, intent: OrderIntent, order_id: str, *, blockhash: Any = None) -> Prepared:
        index = self._market_index(intent.market)
        await self.load_accounts({index})
        uid = self._next_user_order_id()
        prepared = await self.prepare(self.place_instructions(intent, uid), blockhash)
        order = Order(
            venue=self.deployment.id,
            market=intent.market,
            order_id=order_id,
            side=intent.side,
            type=intent.type,
            size=intent.size,
            price=intent.price,
            trigger_price=intent.trigger_price,
            status="pending",
            post_only=intent.post_only,
            reduce_only=intent.reduce_only,
            ioc=intent.ioc,
            client_id=intent.client_id,
            ts=self.clock(),
        )
        return prepared._replace(order=order, user_order_id=uid)

    async def place(self, intent: OrderIntent, order_id: str, *, blockhash: Any = None) -> Order:
        prepared = await self.prepare_place(intent, order_id, blockhash=blockhash)
        return await self.submit_order(prepared)

    async def submit_order(self, prepared: Prepared) -> Order:
        """Sign and send a prepared order; the order is tracked once it was sent."""
        assert prepared.order is not None
        sig = await self.submit(prepared)
        if sig is None:
            return msgspec.structs.replace(prepared.order, reason="dry run: signed, not sent")
        self.orders[prepared.order.order_id] = (prepared.user_order_id, prepared.order)
        self.signatures[prepared.order.order_id] = sig
        return prepared.order

    def _uid(self, order_id: str) -> tuple[int, Order]:
        try:
            return self.orders[order_id]
        except KeyError:
            raise VenueError(f"order {order_id} is not a Drift order placed in this session") from None

    async def cancel(self, order_id: str, *, blockhash: Any = None) -> None:
        uid, order = self._uid(order_id)
        await self.load_accounts({self._market_index(order.market)})
        await self.submit(await self.prepare(self.cancel_instructions(uid), blockhash))

    async def cancel_all(self, market: str | None = None, *, blockhash: Any = None) -> None:
        await self.load_accounts({self._market_index(market)} if market else set())
        await self.submit(await self.prepare(self.cancel_all_instructions(market), blockhash))

    async def modify(
        self, order_id: str, *, price: int | None = None, size: int | None = None, blockhash: Any = None
    ) -> Order:
        uid, order = self._uid(order_id)
        await self.load_accounts({self._market_index(order.market)})
        sig = await self.submit(await self.prepare(self.modify_instructions(uid, price=price, size=size), blockhash))
        changes: dict[str, Any] = {}
        if price is not None:
            changes["price"] = price
        if size is not None:
            changes["size"] = size
        updated = msgspec.structs.replace(order, **changes)
        if sig is not None:
            self.orders[order_id] = (uid, updated)
        return updated
