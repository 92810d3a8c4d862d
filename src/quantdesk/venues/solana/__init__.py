"""Solana plumbing shared by every venue on Solana: JSON-RPC value shapes and
websocket pubsub. Not a venue (no entry point); venues import it, it imports
no venue."""
