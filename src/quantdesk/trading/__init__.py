"""Trading: ticket arithmetic, builders, risk engine, order router, journal."""
