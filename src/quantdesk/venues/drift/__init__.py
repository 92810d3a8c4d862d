"""The Drift-v2 engine adapter, for Drift and its fork Velocity.

spec.py           the registry entry: names, config, factories, inspect, order desk
venue.py          DriftVenue: the Venue protocol, composing the parts below
config.py         DriftDeployment settings and the documented public defaults
market_data.py    DLOB WebSocket/REST books and trades, data-API funding, slot lag
wire.py           msgspec shapes of the DLOB server and data API, conversions to events
recent_keys.py    a bounded memory of fill record ids, so a replayed fill prints once
rest.py           HTTP with host failover and 429 handling (DLOB server, data API)
rpc_link.py       the deployment's Solana JSON-RPC (venues/solana/rpc.py) onto the health counters
health.py         feed and RPC counters for the health pane
idl.py            the program IDL and raw-account decoding with it
accounts.py       normalized views of decoded accounts (``quantdesk inspect``)
discovery.py      every listed perp and spot market from its on-chain account
market_list.py    the watchlist and per-market overrides against that listing (no I/O)
chain.py          driftpy's client for one authority, fed from RPC (account_store.py)
account_view.py   read-only positions, margin and market figures from chain
orders.py         order intents as driftpy OrderParams
execution.py      place/cancel/modify: preview, checked transaction, Signer, send
transaction.py    compose, allowlist/durable-nonce check, sign, decode
preview.py        a decoded transaction in human units with named accounts, for the trader
router_executor.py  the trading capability (TradingVenue): preview, confirm, sign, send
order_state.py    live order status from the User account and own fills (no I/O)
order_follower.py the User account over pubsub (venues/solana) and own fills, onto the bus
"""
