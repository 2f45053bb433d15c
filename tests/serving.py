"""Serve an ASGI app on 127.0.0.1 in a thread, for tests that need a real HTTP server.

:func:`serve_in_thread` binds a free loopback port, runs uvicorn with the app's lifespan (the
MCP session manager needs it), and stops the server when the block ends. :func:`mcp_client`
connects the SDK's own client to a URL with extra headers (a bearer token).
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager

import httpx2
import uvicorn
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from starlette.types import ASGIApp

START_TIMEOUT = 10.0


@contextmanager
def serve_in_thread(app: ASGIApp, *, limit_concurrency: int | None = None) -> Iterator[str]:
    """Run ``app`` on a free 127.0.0.1 port; yields its base URL (``http://127.0.0.1:PORT``)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(
        app,
        log_config=None,
        log_level=None,
        access_log=False,
        lifespan="on",
        limit_concurrency=limit_concurrency,
        timeout_graceful_shutdown=2,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + START_TIMEOUT
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test server did not start")
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


@asynccontextmanager
async def mcp_client(url: str, headers: dict[str, str] | None = None) -> AsyncIterator[Client]:
    """The SDK client connected to ``url`` over streamable HTTP, sending ``headers``."""
    timeout = httpx2.Timeout(60.0, read=120.0)
    async with (
        httpx2.AsyncClient(headers=headers or {}, timeout=timeout) as http,
        Client(streamable_http_client(url, http_client=http)) as client,
    ):
        yield client
