"""Who may call the HTTP transport: OAuth 2.1 access tokens, or one static bearer token.

Offers two ways to authenticate, each a :class:`mcp.server.auth.provider.TokenVerifier` that
the SDK's bearer middleware calls for every request:

- :class:`OAuthResourceServer` validates JWT access tokens as an OAuth 2.1 resource server:
  signature (keys from a JWKS file, a JWKS URL or a PEM public key; asymmetric algorithms
  only), issuer, audience, expiry and not-before, and reads the scopes from ``scp``, ``scope``
  and ``roles`` so the SDK can require the configured ones. It also publishes the protected
  resource metadata (RFC 9728) that tells a client which authorization server to ask.
- :class:`StaticToken` accepts one long random token, read from an environment variable or a
  file (never from the command line, where other users can see it), compared in constant time.

Verifiers never log a token; a refused token is logged by the reason only.

Limits: one issuer per server; tokens must carry ``exp``, ``iss``, ``aud`` and ``sub``. A JWKS
URL is fetched again for an unknown key id at most once per five minutes, so a new signing key
may be refused for up to five minutes; a removed key is dropped within the hour.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import anyio
import httpx
import jwt
from mcp.server.auth.provider import AccessToken
from mcp.server.auth.routes import build_resource_metadata_url, create_protected_resource_routes
from pydantic import AnyHttpUrl
from starlette.routing import Route

from entra_hunt.errors import ParameterError

__all__ = [
    "ASYMMETRIC_ALGORITHMS",
    "STATIC_TOKEN_CLIENT",
    "TOKEN_ENV",
    "Authentication",
    "OAuthResourceServer",
    "OAuthSettings",
    "StaticToken",
]

logger = logging.getLogger(__name__)

#: The environment variable holding the static bearer token.
TOKEN_ENV = "ENTRA_HUNT_HTTP_TOKEN"
#: The client id every static-token caller shares (they hold one credential).
STATIC_TOKEN_CLIENT = "static-token"
#: Signature algorithms accepted for access tokens: asymmetric only, so a public key can
#: never double as an HMAC secret.
ASYMMETRIC_ALGORITHMS = (
    "RS256",
    "RS384",
    "RS512",
    "PS256",
    "PS384",
    "PS512",
    "ES256",
    "ES384",
    "ES512",
    "EdDSA",
)
MIN_STATIC_TOKEN_LENGTH = 32
#: A longer bearer value is refused before parsing.
MAX_TOKEN_LENGTH = 16 * 1024
JWKS_REFRESH_SECONDS = 300.0
JWKS_RETRY_SECONDS = 30.0
JWKS_MAX_AGE_SECONDS = 3600.0
JWKS_TIMEOUT_SECONDS = 10.0
#: Claims copied into the audit log's idea of who called; none of them is a secret.
_IDENTITY_CLAIMS = ("iss", "oid", "tid", "azp", "appid", "preferred_username", "upn")


class StaticToken:
    """One shared bearer token, for simple deployments; compared in constant time."""

    kind = "static-token"
    required_scopes: list[str] = []
    resource_metadata_url: AnyHttpUrl | None = None

    def __init__(self, token: str) -> None:
        """Accept ``token`` (at least 32 characters) as the only valid credential."""
        token = token.strip()
        if len(token) < MIN_STATIC_TOKEN_LENGTH:
            raise ParameterError(
                f"the static token is {len(token)} characters; at least "
                f"{MIN_STATIC_TOKEN_LENGTH} are needed",
                where=TOKEN_ENV,
                fix="Generate one with: python -c 'import secrets; "
                "print(secrets.token_urlsafe(32))'",
            )
        self._digest = hashlib.sha256(token.encode()).digest()

    @classmethod
    def load(
        cls, token_file: Path | None, environ: Mapping[str, str] | None = None
    ) -> StaticToken | None:
        """The token from ``token_file`` or ``$ENTRA_HUNT_HTTP_TOKEN``; None when neither is set.

        Raises:
            ParameterError: both are set, the file is unreadable, or the token is too short.
        """
        environ = os.environ if environ is None else environ
        from_env = environ.get(TOKEN_ENV, "")
        if token_file is not None and from_env:
            raise ParameterError(
                f"both --token-file and {TOKEN_ENV} are set",
                where="--token-file",
                fix="Keep one of them",
            )
        if token_file is None:
            return cls(from_env) if from_env else None
        try:
            text = token_file.read_text(encoding="utf-8")
            mode = token_file.stat().st_mode
        except OSError as exc:
            raise ParameterError(
                f"cannot read the token file ({exc.strerror})",
                where=str(token_file),
                fix="Check the path and that this user may read it",
            ) from None
        if mode & 0o077:
            logger.warning("token file %s is readable by other users; chmod 600 it", token_file)
        return cls(text)

    async def verify_token(self, token: str) -> AccessToken | None:
        """The shared principal when ``token`` is the configured one, else None."""
        if len(token) > MAX_TOKEN_LENGTH:
            return None
        offered = hashlib.sha256(token.encode()).digest()
        if not hmac.compare_digest(offered, self._digest):
            logger.info("bearer token refused: not the configured static token")
            return None
        # The SDK keeps the AccessToken on the request; it holds no copy of the secret.
        return AccessToken(token="[static token]", client_id=STATIC_TOKEN_CLIENT, scopes=[])

    def routes(self) -> list[Route]:
        """No metadata to publish for a static token."""
        return []


@dataclass(frozen=True)
class OAuthSettings:
    """How to validate access tokens, and what to publish as protected resource metadata.

    Exactly one key source is needed: ``jwks_file``, ``jwks_url`` or ``public_key_file``.
    ``audiences`` defaults to the resource URL.
    """

    issuer: str
    resource_url: str
    audiences: tuple[str, ...] = ()
    required_scopes: tuple[str, ...] = ()
    jwks_file: Path | None = None
    jwks_url: str | None = None
    public_key_file: Path | None = None
    algorithms: tuple[str, ...] = ASYMMETRIC_ALGORITHMS
    leeway_seconds: float = 60.0

    def checked(self) -> OAuthSettings:
        """These settings, or a ParameterError naming the option to fix."""
        sources = [s for s in (self.jwks_file, self.jwks_url, self.public_key_file) if s]
        if len(sources) != 1:
            raise ParameterError(
                f"{len(sources)} signing key sources are configured; exactly one is needed",
                where="--oauth-jwks / --oauth-public-key",
                fix="Give the authorization server's JWKS (a file or an https URL) or its PEM "
                "public key",
            )
        _require_url(self.issuer, "--oauth-issuer")
        _require_url(self.resource_url, "--public-url")
        if self.jwks_url is not None:
            _require_url(self.jwks_url, "--oauth-jwks")
        unknown = set(self.algorithms) - set(ASYMMETRIC_ALGORITHMS)
        if unknown:
            raise ParameterError(
                f"algorithms {sorted(unknown)} are not accepted for access tokens",
                where="algorithms",
                fix=f"Use asymmetric ones: {', '.join(ASYMMETRIC_ALGORITHMS)}",
            )
        return self


class OAuthResourceServer:
    """Validates JWT access tokens for this server, as an OAuth 2.1 resource server."""

    kind = "oauth"

    def __init__(self, settings: OAuthSettings) -> None:
        """Validate tokens as ``settings`` say; reads a key file now, a JWKS URL on first use."""
        self.settings = settings.checked()
        self.required_scopes = list(settings.required_scopes)
        self.resource_metadata_url: AnyHttpUrl | None = build_resource_metadata_url(
            AnyHttpUrl(settings.resource_url)
        )
        self._audiences = settings.audiences or (settings.resource_url,)
        self._keys = _KeySource(settings)

    async def verify_token(self, token: str) -> AccessToken | None:
        """The caller's identity and scopes when ``token`` is valid for this server, else None."""
        if len(token) > MAX_TOKEN_LENGTH:
            logger.info("access token refused: longer than %d characters", MAX_TOKEN_LENGTH)
            return None
        try:
            header = jwt.get_unverified_header(token)
            key = await self._keys.key_for(header)
            claims = _decode(token, key, self.settings, self._audiences)
        except (jwt.PyJWTError, _KeyUnavailable) as exc:
            logger.info("access token refused: %s", _reason(exc))
            return None
        return _access_token(token, claims, self.settings.resource_url)

    def routes(self) -> list[Route]:
        """The protected resource metadata, at the RFC 9728 path and at the bare well-known path.

        Clients that read the metadata learn the authorization server (the issuer) and the
        scopes to request.
        """
        routes = create_protected_resource_routes(
            resource_url=AnyHttpUrl(self.settings.resource_url),
            authorization_servers=[AnyHttpUrl(self.settings.issuer)],
            scopes_supported=self.required_scopes or None,
            resource_name="entra-hunt",
        )
        bare = "/.well-known/oauth-protected-resource"
        if all(route.path != bare for route in routes):
            routes.append(Route(bare, endpoint=routes[0].endpoint, methods=["GET", "OPTIONS"]))
        return routes


#: What the HTTP transport accepts as authentication.
Authentication = StaticToken | OAuthResourceServer


class _KeyUnavailable(Exception):
    """No key matches the token, or the key source could not be read."""


class _KeySource:
    """The issuer's signing keys: a PEM key, a JWKS file, or a JWKS URL fetched and cached.

    A JWKS URL is fetched on first use, again when a token names an unknown key id (at most
    once per five minutes, 30 seconds after a failed fetch) and when the copy is an hour old.
    """

    def __init__(self, settings: OAuthSettings) -> None:
        self.settings = settings
        self._pem: str | None = None
        self._jwks: jwt.PyJWKSet | None = None
        self._next_fetch = float("-inf")
        self._stale_at = float("-inf")
        self._lock: anyio.Lock | None = None
        if settings.public_key_file is not None:
            self._pem = _read(settings.public_key_file, "--oauth-public-key")
        elif settings.jwks_file is not None:
            text = _read(settings.jwks_file, "--oauth-jwks")
            self._jwks = _parse_jwks(text, str(settings.jwks_file))

    async def key_for(self, header: Mapping[str, Any]) -> Any:
        """The key that should have signed a token with ``header``."""
        if self._pem is not None:
            return self._pem
        kid = header.get("kid")
        if self.settings.jwks_url is not None:
            now = time.monotonic()
            unknown = self._find(kid) is None
            if now >= self._stale_at or (unknown and now >= self._next_fetch):
                await self._refresh()
        key = self._find(kid)
        if key is None:
            raise _KeyUnavailable(f"no signing key with kid {str(kid)[:64]!r}")
        return key

    def _find(self, kid: object) -> Any:
        if self._jwks is None:
            return None
        keys = [k for k in self._jwks.keys if k.public_key_use in (None, "sig")]
        if kid is None and len(keys) == 1:
            return keys[0].key
        return next((k.key for k in keys if k.key_id == kid), None)

    async def _refresh(self) -> None:
        if self._lock is None:
            self._lock = anyio.Lock()
        async with self._lock:
            now = time.monotonic()
            if now < self._next_fetch and now < self._stale_at:
                return  # another request refreshed while this one waited
            url = self.settings.jwks_url
            assert url is not None
            try:
                async with httpx.AsyncClient(timeout=JWKS_TIMEOUT_SECONDS) as client:
                    response = await client.get(url, headers={"Accept": "application/json"})
                response.raise_for_status()
                self._jwks = _parse_jwks(response.text, url)
            except (httpx.HTTPError, ParameterError) as exc:
                self._next_fetch = now + JWKS_RETRY_SECONDS
                logger.warning("could not fetch the JWKS from %s: %s", url, _reason(exc))
                return
            self._next_fetch = now + JWKS_REFRESH_SECONDS
            self._stale_at = now + JWKS_MAX_AGE_SECONDS
            logger.info("JWKS fetched from %s: %d keys", url, len(self._jwks.keys))


def _decode(
    token: str, key: Any, settings: OAuthSettings, audiences: Sequence[str]
) -> dict[str, Any]:
    """The verified claims: signature, issuer, audience, expiry and not-before all checked."""
    claims: dict[str, Any] = jwt.decode(
        token,
        key,
        algorithms=list(settings.algorithms),
        audience=list(audiences),
        issuer=settings.issuer,
        leeway=settings.leeway_seconds,
        options={"require": ["exp", "iss", "aud", "sub"]},
    )
    return claims


def _access_token(token: str, claims: Mapping[str, Any], resource_url: str) -> AccessToken:
    scopes: list[str] = []
    for name in ("scp", "scope"):
        value = claims.get(name)
        if isinstance(value, str):
            scopes += value.split()
    roles = claims.get("roles")
    if isinstance(roles, list):
        scopes += [r for r in roles if isinstance(r, str)]
    subject = str(claims["sub"])
    client = claims.get("azp") or claims.get("appid") or claims.get("client_id") or subject
    identity = {k: str(claims[k])[:256] for k in _IDENTITY_CLAIMS if k in claims}
    expires = claims.get("exp")
    return AccessToken(
        token=token,
        client_id=str(client),
        scopes=sorted(set(scopes)),
        expires_at=int(expires) if isinstance(expires, int | float) else None,
        resource=resource_url,
        subject=subject,
        claims=identity,
    )


def _parse_jwks(text: str, where: str) -> jwt.PyJWKSet:
    try:
        return jwt.PyJWKSet.from_dict(json.loads(text))
    except (ValueError, jwt.PyJWKSetError, jwt.PyJWKError) as exc:
        raise ParameterError(
            f"not a JSON Web Key Set ({type(exc).__name__})",
            where=where,
            fix='Point at the authorization server\'s jwks_uri document, {"keys": [...]}',
        ) from None


def _read(path: Path, option: str) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ParameterError(
            f"cannot read {path} ({exc.strerror})", where=option, fix="Check the path"
        ) from None


def _require_url(url: str, option: str) -> None:
    parts = urlsplit(url)
    loopback = parts.hostname in ("127.0.0.1", "localhost", "::1")
    if parts.scheme != "https" and not (parts.scheme == "http" and loopback):
        raise ParameterError(
            f"{url!r} is not an https URL",
            where=option,
            fix="Use https (plain http is accepted only for 127.0.0.1 and localhost)",
        )


def _reason(exc: Exception) -> str:
    """Why a token or key was refused, without echoing the token."""
    if isinstance(exc, _KeyUnavailable | ParameterError):
        return str(exc)
    return f"{type(exc).__name__}: {str(exc)[:120]}"
