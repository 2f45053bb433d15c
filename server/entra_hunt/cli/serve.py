"""``entra-hunt serve``: the MCP server over stdio or streamable HTTP.

Over HTTP it listens on 127.0.0.1 by default. Any other address needs authentication (a static
token from ``$ENTRA_HUNT_HTTP_TOKEN`` or ``--token-file``, or OAuth access tokens), TLS (its
own certificate or an https ``--public-url`` in front) and the Host names clients use; the
checks live in :mod:`entra_hunt.mcp.http`. Every tool call is audited (``$ENTRA_HUNT_AUDIT_LOG``).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from entra_hunt.cli._app import DatabaseOption, app, fail, settings_for
from entra_hunt.errors import EntraHuntError, ParameterError

if TYPE_CHECKING:
    from entra_hunt.mcp.http import HttpSettings

__all__ = ["serve"]

_HTTP = "HTTP transport"
_AUTH = "HTTP authentication"
_LIMITS = "HTTP limits"


@app.command()
def serve(
    transport: Annotated[
        str, typer.Option(help="stdio (for desktop assistants) or http (streamable HTTP).")
    ] = "stdio",
    host: Annotated[
        str,
        typer.Option(
            help="HTTP bind address. Anything but loopback needs authentication and TLS.",
            rich_help_panel=_HTTP,
        ),
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="HTTP port.", rich_help_panel=_HTTP)] = 8765,
    database: DatabaseOption = None,
    public_url: Annotated[
        str | None,
        typer.Option(
            help="The URL clients use, e.g. https://hunt.example.com/mcp: its host is allowed, "
            "and it names this server in OAuth metadata.",
            rich_help_panel=_HTTP,
        ),
    ] = None,
    allowed_host: Annotated[
        list[str] | None,
        typer.Option(
            help="Another Host header value to accept (repeatable).",
            metavar="HOST",
            rich_help_panel=_HTTP,
        ),
    ] = None,
    allowed_origin: Annotated[
        list[str] | None,
        typer.Option(
            help="A browser Origin to accept, e.g. https://app.example.com (repeatable).",
            metavar="ORIGIN",
            rich_help_panel=_HTTP,
        ),
    ] = None,
    tls_cert: Annotated[
        Path | None, typer.Option(help="TLS certificate chain (PEM).", rich_help_panel=_HTTP)
    ] = None,
    tls_key: Annotated[
        Path | None, typer.Option(help="TLS private key (PEM).", rich_help_panel=_HTTP)
    ] = None,
    token_file: Annotated[
        Path | None,
        typer.Option(
            help="File holding the static bearer token (or set ENTRA_HUNT_HTTP_TOKEN; never "
            "on the command line).",
            rich_help_panel=_AUTH,
        ),
    ] = None,
    oauth_issuer: Annotated[
        str | None,
        typer.Option(
            help="Accept OAuth access tokens from this issuer, e.g. "
            "https://login.microsoftonline.com/TENANT/v2.0.",
            rich_help_panel=_AUTH,
        ),
    ] = None,
    oauth_audience: Annotated[
        list[str] | None,
        typer.Option(
            help="Accepted token audience (repeatable; default: --public-url).",
            metavar="AUDIENCE",
            rich_help_panel=_AUTH,
        ),
    ] = None,
    oauth_jwks: Annotated[
        str | None,
        typer.Option(
            help="The issuer's signing keys: a JWKS file or its https jwks_uri.",
            rich_help_panel=_AUTH,
        ),
    ] = None,
    oauth_public_key: Annotated[
        Path | None,
        typer.Option(help="The issuer's signing key as a PEM file.", rich_help_panel=_AUTH),
    ] = None,
    oauth_scope: Annotated[
        list[str] | None,
        typer.Option(
            help="A scope every token must carry (repeatable).",
            metavar="SCOPE",
            rich_help_panel=_AUTH,
        ),
    ] = None,
    rate_limit: Annotated[
        int,
        typer.Option(help="Requests per minute per client (0: no limit).", rich_help_panel=_LIMITS),
    ] = 120,
    max_concurrent_hunts: Annotated[
        int, typer.Option(help="Hunts running at once; others wait.", rich_help_panel=_LIMITS)
    ] = 4,
    max_request_bytes: Annotated[
        int, typer.Option(help="Largest request body accepted.", rich_help_panel=_LIMITS)
    ] = 64 * 1024,
) -> None:
    """Run the MCP server (stdio by default; streamable HTTP on 127.0.0.1 with --transport http).

    Tool calls are audited as JSON lines to stderr, or to the file ENTRA_HUNT_AUDIT_LOG names
    ('off' for none).
    """
    from entra_hunt.backends import BackendPool
    from entra_hunt.mcp.data_tools import DataSettings
    from entra_hunt.mcp.server import build_server

    if transport not in ("stdio", "http"):
        fail(
            ParameterError(
                f"unknown transport {transport!r}", where="--transport", fix="Use stdio or http"
            )
        )
    try:
        http: HttpSettings | None = None
        if transport == "http":
            http = _http_settings(
                host=host,
                port=port,
                public_url=public_url,
                allowed_hosts=tuple(allowed_host or ()),
                allowed_origins=tuple(allowed_origin or ()),
                tls_cert=tls_cert,
                tls_key=tls_key,
                token_file=token_file,
                oauth_issuer=oauth_issuer,
                oauth_audiences=tuple(oauth_audience or ()),
                oauth_jwks=oauth_jwks,
                oauth_public_key=oauth_public_key,
                oauth_scopes=tuple(oauth_scope or ()),
                rate_limit=rate_limit,
                max_concurrent_hunts=max_concurrent_hunts,
                max_request_bytes=max_request_bytes,
            )
        # One backend per name for the server's life: table probes and tokens are reused.
        settings = settings_for(database)
        pool = BackendPool(settings)
        server = build_server(pool.get, DataSettings.from_env(settings.database))
    except EntraHuntError as exc:
        fail(exc)

    if http is None:
        server.run("stdio")
        return
    from entra_hunt.mcp.http import serve_http

    try:
        serve_http(server, http)
    except EntraHuntError as exc:
        fail(exc)


def _http_settings(
    *,
    host: str,
    port: int,
    public_url: str | None,
    allowed_hosts: tuple[str, ...],
    allowed_origins: tuple[str, ...],
    tls_cert: Path | None,
    tls_key: Path | None,
    token_file: Path | None,
    oauth_issuer: str | None,
    oauth_audiences: tuple[str, ...],
    oauth_jwks: str | None,
    oauth_public_key: Path | None,
    oauth_scopes: tuple[str, ...],
    rate_limit: int,
    max_concurrent_hunts: int,
    max_request_bytes: int,
) -> HttpSettings:
    """The checked HTTP settings the options describe; ParameterError when they are unsafe."""
    from entra_hunt.mcp.auth import (
        Authentication,
        OAuthResourceServer,
        OAuthSettings,
        StaticToken,
    )
    from entra_hunt.mcp.http import HttpLimits, HttpSettings

    auth: Authentication | None = StaticToken.load(token_file)
    if oauth_issuer is not None:
        if auth is not None:
            raise ParameterError(
                "both a static token and OAuth are configured",
                where="--oauth-issuer",
                fix="Use one: unset ENTRA_HUNT_HTTP_TOKEN / --token-file, or drop the --oauth-* "
                "options",
            )
        if public_url is None:
            raise ParameterError(
                "OAuth needs the URL clients use, to name this resource",
                where="--public-url",
                fix="Pass --public-url https://your.host/mcp",
            )
        jwks_url = oauth_jwks if oauth_jwks and "://" in oauth_jwks else None
        jwks_file = Path(oauth_jwks) if oauth_jwks and jwks_url is None else None
        auth = OAuthResourceServer(
            OAuthSettings(
                issuer=oauth_issuer,
                resource_url=public_url,
                audiences=oauth_audiences,
                required_scopes=oauth_scopes,
                jwks_file=jwks_file,
                jwks_url=jwks_url,
                public_key_file=oauth_public_key,
            )
        )
    elif oauth_audiences or oauth_jwks or oauth_public_key or oauth_scopes:
        raise ParameterError(
            "--oauth-* options are set but --oauth-issuer is not",
            where="--oauth-issuer",
            fix="Give the issuer whose tokens to accept",
        )

    limits = HttpLimits(
        requests_per_minute=rate_limit,
        max_concurrent_hunts=max_concurrent_hunts,
        max_request_bytes=max_request_bytes,
    )
    return HttpSettings(
        host=host,
        port=port,
        public_url=public_url,
        allowed_hosts=allowed_hosts,
        allowed_origins=allowed_origins,
        auth=auth,
        tls_cert=tls_cert,
        tls_key=tls_key,
        limits=limits,
    ).check()
