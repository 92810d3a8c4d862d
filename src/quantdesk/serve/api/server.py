"""Running the data API: a Uvicorn server over a started session."""

from __future__ import annotations

from typing import Any

import uvicorn

from quantdesk.serve.api.app import ApiOptions, DataApi
from quantdesk.venues.session import Session


def uvicorn_server(api: DataApi, host: str, port: int, **tls: Any) -> uvicorn.Server:
    """``tls``: Uvicorn's ``ssl_certfile``, ``ssl_keyfile`` ... options."""
    config = uvicorn.Config(
        api.app(),
        host=host,
        port=port,
        log_level="warning",
        access_log=False,  # request lines would carry nothing useful and cost time
        ws_ping_interval=20.0,
        ws_ping_timeout=20.0,
        ws_max_size=api.options.max_request_bytes,
        lifespan="on",
        **tls,
    )
    return uvicorn.Server(config)


async def serve(session: Session, secret: str, host: str, port: int, options: ApiOptions, **tls: Any) -> None:
    api = DataApi(session.cache, session.bus, secret, options)
    server = uvicorn_server(api, host, port, **tls)
    await server.serve()
