"""A real Sanic server holding channel blueprints, started in-process on a free port."""

from __future__ import annotations

import socket
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from rasa.core.channels.channel import InputChannel
from sanic import Sanic


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@asynccontextmanager
async def serving(channel: InputChannel, on_new_message: Any) -> AsyncIterator[str]:
    """Mount the channel as Rasa does (/webhooks/<name>/) and yield the server's base URL."""
    # Test mode lets several apps start in one process (Sanic rewrites its HTTP methods once).
    Sanic.test_mode = True
    app = Sanic(f"channels_test_{uuid.uuid4().hex[:8]}")
    app.blueprint(channel.blueprint(on_new_message), url_prefix="/webhooks/" + channel.url_prefix())
    async with serving_app(app) as url:
        yield url


@asynccontextmanager
async def serving_app(app: Sanic, port: int | None = None) -> AsyncIterator[str]:
    """Serve a Sanic app on 127.0.0.1 (`port`, or a free one) and yield its base URL."""
    Sanic.test_mode = True
    port = port or free_port()
    server = await app.create_server(
        host="127.0.0.1", port=port, return_asyncio_server=True, access_log=False
    )
    assert server is not None
    await server.startup()
    await server.before_start()
    await server.after_start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await server.before_stop()
        await server.close()
        await server.after_stop()
