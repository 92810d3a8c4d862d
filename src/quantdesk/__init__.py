"""QuantDesk: a keyboard-driven trading console for Solana perpetual futures."""

__version__ = "0.1.0"
