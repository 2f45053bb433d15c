"""``entra-hunt serve``: the MCP server over stdio or streamable HTTP."""

from __future__ import annotations

from typing import Annotated

import typer

from entra_hunt.cli._app import DatabaseOption, app, fail, settings_for
from entra_hunt.errors import ParameterError

__all__ = ["serve"]


@app.command()
def serve(
    transport: Annotated[
        str, typer.Option(help="stdio (for desktop assistants) or http (streamable HTTP).")
    ] = "stdio",
    host: Annotated[str, typer.Option(help="HTTP bind address.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="HTTP port.")] = 8765,
    database: DatabaseOption = None,
) -> None:
    """Run the MCP server (stdio by default; streamable HTTP on 127.0.0.1 with --transport http)."""
    from entra_hunt.backends import BackendPool
    from entra_hunt.mcp.server import build_server

    # One backend per name for the server's life: table probes and tokens are reused.
    pool = BackendPool(settings_for(database))
    server = build_server(pool.get)
    if transport == "stdio":
        server.run("stdio")
    elif transport == "http":
        if host not in ("127.0.0.1", "localhost", "::1"):
            fail(
                ParameterError(
                    f"refusing to serve HTTP on {host} without authentication",
                    where="--host",
                    fix="Bind to 127.0.0.1 (the default); authenticated remote serving is not "
                    "available yet",
                )
            )
        server.run("streamable-http", host=host, port=port)
    else:
        fail(
            ParameterError(
                f"unknown transport {transport!r}", where="--transport", fix="Use stdio or http"
            )
        )
