"""A throwaway venue package, installed only by the registry tests: one
market, ``TOY-PERP``, with a fixed book, oracle and funding rate."""
