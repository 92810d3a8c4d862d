"""The core: model, bus, book, cache, spreads, math. No I/O, no Textual, no pydantic."""
