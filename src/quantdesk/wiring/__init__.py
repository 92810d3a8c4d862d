"""Builds sessions, trading and team services from the configuration."""
