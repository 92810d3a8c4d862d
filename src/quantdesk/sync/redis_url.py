"""Redis URL rules for the sync services (workspace, team desk, feed publisher).

They live in ``quantdesk.venues.redis_conn``, the lowest layer that opens Redis
(the relay venue reads a feed there); the sync services use the same
validation, client construction and redaction.
"""

from quantdesk.venues.redis_conn import (
    MASK,
    RedisURLError,
    client,
    close_quietly,
    describe_error,
    is_cluster,
    is_sentinel,
    pubsub_of,
    raise_if_cancelled,
    redact,
    redis_errors,
    scrub,
    secrets_of,
    validate,
)

__all__ = [
    "MASK",
    "RedisURLError",
    "client",
    "close_quietly",
    "describe_error",
    "is_cluster",
    "is_sentinel",
    "pubsub_of",
    "raise_if_cancelled",
    "redact",
    "redis_errors",
    "scrub",
    "secrets_of",
    "validate",
]
