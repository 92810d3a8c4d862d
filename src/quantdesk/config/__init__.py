"""Configuration: the settings schema, its loader and where user files live."""
