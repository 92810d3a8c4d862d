"""Solana plumbing shared by every venue on Solana: the JSON-RPC client with
failover and batching (rpc.py), websocket pubsub (pubsub.py) and the RPC
value shapes both read (values.py). Not a venue (no entry point); venues
import it, it imports no venue."""
