"""The MCP server over streamable HTTP, with its guards: exposure, authentication and limits.

:func:`build_http_app` wraps the SDK's streamable HTTP app in, from the outside in: bearer
authentication (when configured, see :mod:`entra_hunt.mcp.auth`), a per-client rate limit,
the requirement to be authenticated, and the SDK's own checks (request body size, Host and
Origin against DNS rebinding, session count). It also caps how many hunts run at once
(:class:`HuntGate`, MCP server middleware). :func:`serve_http` runs it under uvicorn.

:meth:`HttpSettings.check` refuses to start a server that anyone off this machine could
reach without a credential, over plain HTTP, or under a Host name nobody declared.

Limits: the rate limit and the hunt cap hold per process; several workers behind one proxy
each apply their own. Clients are told apart by their authenticated subject, else by their
address, so unauthenticated clients on one machine share a budget.
"""

from __future__ import annotations

import ipaddress
import json
import logging
import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import anyio
import uvicorn
from mcp.server.auth.middleware.bearer_auth import (
    AuthenticatedUser,
    BearerAuthBackend,
    RequireAuthMiddleware,
)
from mcp.server.context import CallNext, HandlerResult, ServerRequestContext
from mcp.server.mcpserver import MCPServer
from mcp.server.transport_security import TransportSecuritySettings
from mcp.types import CallToolResult, TextContent
from starlette.middleware.authentication import AuthenticationMiddleware
from starlette.routing import Router
from starlette.types import ASGIApp, Receive, Scope, Send

from entra_hunt.errors import ParameterError
from entra_hunt.mcp.auth import Authentication

__all__ = [
    "HttpLimits",
    "HttpSettings",
    "HuntGate",
    "RateLimit",
    "build_http_app",
    "is_loopback",
    "serve_http",
]

logger = logging.getLogger(__name__)

_LOOPBACK_NAMES = ("127.0.0.1", "localhost", "::1")


@dataclass(frozen=True)
class HttpLimits:
    """How much one server takes on: per client, at once, and per request."""

    #: Requests per minute one client may make, sustained; 0 turns the limit off.
    requests_per_minute: int = 120
    #: Requests one client may make at once before the per-minute rate applies.
    burst: int = 30
    #: Hunts running at once, over all clients; further calls wait for a slot.
    max_concurrent_hunts: int = 4
    #: How long a hunt call waits for a slot before it is answered "busy".
    hunt_wait_seconds: float = 30.0
    #: Largest request body accepted, in bytes (a hunt call is well under 10 KiB).
    max_request_bytes: int = 64 * 1024
    #: Open MCP sessions at once (older clients keep one per connection).
    max_sessions: int = 100
    #: An idle session is closed after this many seconds.
    session_idle_seconds: float = 900.0
    #: Connections and in-flight requests at once before uvicorn answers 503.
    max_connections: int = 256

    def __post_init__(self) -> None:
        for name in ("burst", "max_concurrent_hunts", "max_request_bytes", "max_sessions"):
            if getattr(self, name) < 1:
                raise ParameterError(f"{name} must be at least 1", where=name)
        if self.requests_per_minute < 0:
            raise ParameterError("requests_per_minute cannot be negative", where="--rate-limit")


@dataclass(frozen=True)
class HttpSettings:
    """Where the server listens, who may call it, and its limits."""

    host: str = "127.0.0.1"
    port: int = 8765
    path: str = "/mcp"
    #: The URL clients use to reach the endpoint, e.g. https://hunt.example.com/mcp.
    public_url: str | None = None
    allowed_hosts: tuple[str, ...] = ()
    allowed_origins: tuple[str, ...] = ()
    auth: Authentication | None = field(default=None, repr=False)
    tls_cert: Path | None = None
    tls_key: Path | None = None
    limits: HttpLimits = field(default_factory=HttpLimits)

    def check(self) -> HttpSettings:
        """These settings, or a ParameterError saying why serving them would be unsafe."""
        if (self.tls_cert is None) != (self.tls_key is None):
            raise ParameterError(
                "a TLS certificate needs its key and the other way round",
                where="--tls-cert / --tls-key",
                fix="Give both, or neither",
            )
        if self.public_url is not None and urlsplit(self.public_url).scheme not in (
            "http",
            "https",
        ):
            raise ParameterError(
                f"{self.public_url!r} is not an http(s) URL",
                where="--public-url",
                fix="Give the URL clients use, e.g. https://hunt.example.com/mcp",
            )
        if is_loopback(self.host):
            return self
        if self.auth is None:
            raise ParameterError(
                f"refusing to serve HTTP on {self.host} without authentication",
                where="--host",
                fix="Bind to 127.0.0.1 (the default), or configure authentication: a static "
                "token in ENTRA_HUNT_HTTP_TOKEN or --token-file, or OAuth with --oauth-issuer, "
                "--public-url and --oauth-jwks",
            )
        encrypted = self.tls_cert is not None or (
            self.public_url is not None and self.public_url.startswith("https://")
        )
        if not encrypted:
            raise ParameterError(
                f"refusing to serve HTTP on {self.host} in clear text: bearer tokens would "
                "cross the network readable",
                where="--host",
                fix="Give --tls-cert and --tls-key, or run behind a TLS-terminating proxy and "
                "pass its https address as --public-url",
            )
        if not self.transport_security().allowed_hosts:
            raise ParameterError(
                "no Host name is allowed, so every request would be refused",
                where="--allowed-host",
                fix="Pass --public-url, or --allowed-host with the name clients use",
            )
        return self

    def transport_security(self) -> TransportSecuritySettings:
        """Host and Origin values to accept (anything else is refused: DNS rebinding)."""
        hosts = list(self.allowed_hosts)
        origins = list(self.allowed_origins)
        if is_loopback(self.host):
            for name in ("127.0.0.1", "localhost", "[::1]"):
                hosts += [name, f"{name}:*"]
                origins += [f"http://{name}", f"http://{name}:*"]
        if self.public_url is not None:
            parts = urlsplit(self.public_url)
            hosts.append(parts.netloc)
            origins.append(f"{parts.scheme}://{parts.netloc}")
        return TransportSecuritySettings(
            enable_dns_rebinding_protection=True,
            allowed_hosts=list(dict.fromkeys(hosts)),
            allowed_origins=list(dict.fromkeys(origins)),
        )


def is_loopback(host: str) -> bool:
    """True when ``host`` is an address only this machine can reach."""
    if host in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def build_http_app(server: MCPServer, settings: HttpSettings) -> ASGIApp:
    """The ASGI app serving ``server`` at ``settings.path`` with every guard in place.

    Adds :class:`HuntGate` to the server's middleware. Raises ParameterError when the
    settings are unsafe (see :meth:`HttpSettings.check`).
    """
    settings.check()
    limits = settings.limits
    server.middleware.append(HuntGate(limits.max_concurrent_hunts, limits.hunt_wait_seconds))
    mcp_app = server.streamable_http_app(
        streamable_http_path=settings.path,
        max_request_body_size=limits.max_request_bytes,
        max_sessions=limits.max_sessions,
        session_idle_timeout=limits.session_idle_seconds,
        transport_security=settings.transport_security(),
        host=settings.host,
    )

    auth = settings.auth
    guarded: ASGIApp = mcp_app
    if auth is not None:
        guarded = RequireAuthMiddleware(guarded, auth.required_scopes, auth.resource_metadata_url)
    guarded = RateLimit(guarded, limits.requests_per_minute, limits.burst)
    if auth is not None:
        guarded = AuthenticationMiddleware(guarded, backend=BearerAuthBackend(auth))
    public = Router(routes=list(auth.routes())) if auth is not None else None
    return _Front(mcp_app, guarded, public)


def serve_http(server: MCPServer, settings: HttpSettings) -> None:
    """Serve ``server`` over streamable HTTP until interrupted."""
    app = build_http_app(server, settings)
    config = uvicorn.Config(
        app,
        host=settings.host.strip("[]"),
        port=settings.port,
        ssl_certfile=str(settings.tls_cert) if settings.tls_cert else None,
        ssl_keyfile=str(settings.tls_key) if settings.tls_key else None,
        limit_concurrency=settings.limits.max_connections,
        server_header=False,
        access_log=False,
        log_config=None,
        log_level=None,
        timeout_graceful_shutdown=5,
    )
    scheme = "https" if settings.tls_cert else "http"
    logger.warning(
        "serving MCP on %s://%s:%d%s (%s)",
        scheme,
        settings.host,
        settings.port,
        settings.path,
        f"authentication: {settings.auth.kind}" if settings.auth else "loopback, no auth",
    )
    uvicorn.Server(config).run()


class _Front:
    """Lifespan to the SDK app, public metadata to its routes, everything else through guards."""

    def __init__(self, mcp_app: ASGIApp, guarded: ASGIApp, public: Router | None) -> None:
        self._mcp_app = mcp_app
        self._guarded = guarded
        self._public = public
        self._public_paths = (
            {getattr(r, "path", "") for r in public.routes} if public is not None else set()
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._mcp_app(scope, receive, send)
        elif self._public is not None and scope.get("path") in self._public_paths:
            await self._public(scope, receive, send)
        else:
            await self._guarded(scope, receive, send)


class RateLimit:
    """ASGI middleware: a token bucket per client; over budget is 429 with Retry-After.

    A client is its authenticated subject (issuer and ``sub``) when it has one, else its
    address. Buckets that have refilled are forgotten, so memory stays bounded.
    """

    _MAX_CLIENTS = 10_000

    def __init__(self, app: ASGIApp, per_minute: int, burst: int) -> None:
        """Allow ``burst`` requests at once and ``per_minute`` sustained, per client."""
        self.app = app
        self.per_second = per_minute / 60.0
        self.burst = float(burst)
        self._buckets: dict[str, tuple[float, float]] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass the request on, or answer 429 when its client is over budget."""
        if scope["type"] != "http" or self.per_second <= 0:
            await self.app(scope, receive, send)
            return
        client = _client_key(scope)
        wait = self._take(client, time.monotonic())
        if wait <= 0:
            await self.app(scope, receive, send)
            return
        logger.info("rate limit: refused a request from %s for %.1f s", client, wait)
        body = json.dumps(
            {
                "error": "rate_limited",
                "error_description": f"More than {self.per_second * 60:g} requests a minute; "
                f"retry in {math.ceil(wait)} s.",
            }
        ).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 429,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    (b"retry-after", str(math.ceil(wait)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})

    def _take(self, client: str, now: float) -> float:
        """Spend one token of ``client``'s bucket: 0 when allowed, else seconds to wait."""
        tokens, last = self._buckets.get(client, (self.burst, now))
        tokens = min(self.burst, tokens + (now - last) * self.per_second)
        if tokens < 1.0:
            self._buckets[client] = (tokens, now)
            return (1.0 - tokens) / self.per_second
        self._buckets[client] = (tokens - 1.0, now)
        if len(self._buckets) > self._MAX_CLIENTS:
            self._forget_full(now)
        return 0.0

    def _forget_full(self, now: float) -> None:
        refill = self.burst / self.per_second
        self._buckets = {k: v for k, v in self._buckets.items() if now - v[1] < refill}


def _client_key(scope: Scope) -> str:
    user = scope.get("user")
    if isinstance(user, AuthenticatedUser) and user.access_token.subject:
        issuer = (user.access_token.claims or {}).get("iss", "")
        return f"subject {issuer}#{user.access_token.subject}"
    address = scope.get("client")
    return f"address {address[0]}" if address else "address unknown"


class HuntGate:
    """MCP server middleware: at most ``limit`` tool calls run at once, the rest queue.

    A call that waits longer than ``wait_seconds`` for a slot is answered with a tool error
    saying the server is busy, so the assistant can retry instead of hanging.
    """

    def __init__(self, limit: int, wait_seconds: float) -> None:
        """Run ``limit`` tool calls at once; let others wait up to ``wait_seconds``."""
        self.limit = limit
        self.wait_seconds = wait_seconds
        self._slots: anyio.Semaphore | None = None

    async def __call__(
        self, ctx: ServerRequestContext[Any, Any], call_next: CallNext
    ) -> HandlerResult:
        """Run a tool call when a slot is free; other messages pass straight through."""
        if ctx.method != "tools/call":
            return await call_next(ctx)
        if self._slots is None:
            self._slots = anyio.Semaphore(self.limit)
        slots = self._slots
        acquired = False
        with anyio.move_on_after(self.wait_seconds):
            await slots.acquire()
            acquired = True
        if acquired:
            try:
                return await call_next(ctx)
            finally:
                slots.release()
        logger.warning(
            "hunt refused: %d hunts running for over %g s", self.limit, self.wait_seconds
        )
        return CallToolResult(
            content=[
                TextContent(
                    type="text",
                    text=f"entra-hunt is busy: {self.limit} hunts are running and this one "
                    f"waited {self.wait_seconds:g} s for a slot. Retry in a minute, or narrow "
                    "the window so hunts finish sooner.",
                )
            ],
            is_error=True,
        )
