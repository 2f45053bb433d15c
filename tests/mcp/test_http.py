"""The HTTP transport's guards: exposure, Host and Origin, bearer tokens, OAuth, limits.

Each server runs on a free 127.0.0.1 port in a thread (``serving.serve_in_thread``); raw
requests go through httpx, MCP calls through the SDK's own client.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import anyio
import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from mcp import Client
from mcp.server.mcpserver import MCPServer

from entra_hunt.backends.base import QueryRun
from entra_hunt.backends.local import LocalBackend
from entra_hunt.errors import ParameterError
from entra_hunt.hunts import BackendName
from entra_hunt.hunts.base import RenderedQuery
from entra_hunt.mcp.auth import OAuthResourceServer, OAuthSettings, StaticToken
from entra_hunt.mcp.http import HttpLimits, HttpSettings, HuntGate, build_http_app, is_loopback
from entra_hunt.mcp.server import build_server
from serving import mcp_client, serve_in_thread

pytestmark = pytest.mark.anyio

TOOL = "hunt_device_code_signins"
TOKEN = "s3cr3t-" + "x" * 40
ISSUER = "https://login.example.test/tenant/v2.0"
RESOURCE = "https://hunt.example.test/mcp"
MCP_HEADERS = {"Accept": "application/json, text/event-stream"}
INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {
        "protocolVersion": "2025-06-18",
        "capabilities": {},
        "clientInfo": {"name": "test", "version": "0"},
    },
}


@pytest.fixture(autouse=True)
def _quiet_audit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ENTRA_HUNT_AUDIT_LOG", "off")


def _server(tmp_path: Path) -> MCPServer:
    return build_server(lambda name: LocalBackend(tmp_path / "absent.duckdb"))


@pytest.fixture
def loopback(tmp_path: Path) -> Iterator[str]:
    """A server with the default settings: loopback, no authentication."""
    app = build_http_app(_server(tmp_path), HttpSettings(port=0))
    with serve_in_thread(app) as url:
        yield url


def _post(url: str, headers: dict[str, str] | None = None, body: object = INITIALIZE) -> Any:
    return httpx.post(f"{url}/mcp", json=body, headers={**MCP_HEADERS, **(headers or {})})


# -- exposure ------------------------------------------------------------------------------


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "::1", "[::1]", "127.0.0.2"])
def test_loopback_addresses_are_recognised(host: str) -> None:
    assert is_loopback(host)


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "10.0.0.5", "hunt.example.test"])
def test_other_addresses_are_not_loopback(host: str) -> None:
    assert not is_loopback(host)


def test_a_public_address_without_authentication_is_refused() -> None:
    with pytest.raises(ParameterError, match="without authentication") as caught:
        HttpSettings(host="0.0.0.0").check()

    assert "ENTRA_HUNT_HTTP_TOKEN" in caught.value.message


def test_a_public_address_in_clear_text_is_refused() -> None:
    settings = HttpSettings(host="0.0.0.0", auth=StaticToken(TOKEN), allowed_hosts=("h:8765",))

    with pytest.raises(ParameterError, match="clear text"):
        settings.check()


def test_a_public_address_without_a_host_name_is_refused(tmp_path: Path) -> None:
    cert = tmp_path / "cert.pem"
    settings = HttpSettings(host="0.0.0.0", auth=StaticToken(TOKEN), tls_cert=cert, tls_key=cert)

    with pytest.raises(ParameterError, match="no Host name"):
        settings.check()


def test_a_public_address_with_a_token_behind_https_is_accepted() -> None:
    settings = HttpSettings(host="0.0.0.0", auth=StaticToken(TOKEN), public_url=RESOURCE)

    security = settings.check().transport_security()

    assert security.allowed_hosts == ["hunt.example.test"]
    assert security.allowed_origins == ["https://hunt.example.test"]


def test_a_certificate_without_its_key_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ParameterError, match="needs its key"):
        HttpSettings(tls_cert=tmp_path / "cert.pem").check()


# -- Host and Origin -----------------------------------------------------------------------


async def test_loopback_serves_a_hunt_without_a_token(loopback: str) -> None:
    async with mcp_client(f"{loopback}/mcp") as client:
        result = await client.call_tool(TOOL, {"lookback": "14d"})

    assert result.is_error is False
    assert result.structured_content is not None
    assert result.structured_content["rows_matched"] > 0


def test_a_foreign_host_header_is_refused(loopback: str) -> None:
    rebound = _post(loopback, {"Host": "attacker.example:8765"})

    assert rebound.status_code == 421


@pytest.mark.parametrize(
    ("origin", "status"),
    [("http://attacker.example", 403), ("null", 403), ("http://localhost:3000", 200)],
)
def test_only_loopback_origins_are_accepted(loopback: str, origin: str, status: int) -> None:
    response = _post(loopback, {"Origin": origin})

    assert response.status_code == status


# -- static token --------------------------------------------------------------------------


@pytest.fixture
def with_token(tmp_path: Path) -> Iterator[str]:
    app = build_http_app(_server(tmp_path), HttpSettings(port=0, auth=StaticToken(TOKEN)))
    with serve_in_thread(app) as url:
        yield url


@pytest.mark.parametrize(
    "authorization", [None, "Bearer wrong", f"Bearer {TOKEN}x", f"Basic {TOKEN}", "Bearer"]
)
def test_a_missing_or_wrong_static_token_is_401(with_token: str, authorization: str | None) -> None:
    headers = {"Authorization": authorization} if authorization else {}

    response = _post(with_token, headers)

    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer ")
    assert TOKEN not in response.text


async def test_the_static_token_lets_a_client_hunt(with_token: str) -> None:
    async with mcp_client(f"{with_token}/mcp", {"Authorization": f"Bearer {TOKEN}"}) as client:
        result = await client.call_tool(TOOL, {"lookback": "14d"})

    assert result.is_error is False


def test_refused_tokens_never_reach_the_log(
    with_token: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    guess = "Bearer guessed-" + "y" * 40

    _post(with_token, {"Authorization": guess})

    assert "refused" in caplog.text
    assert "guessed-" not in caplog.text and TOKEN not in caplog.text


def test_a_short_static_token_is_refused() -> None:
    with pytest.raises(ParameterError, match="at least 32"):
        StaticToken("password123")


def test_the_static_token_is_read_from_a_file_or_the_environment(tmp_path: Path) -> None:
    token_file = tmp_path / "token"
    token_file.write_text(TOKEN + "\n", encoding="utf-8")
    token_file.chmod(0o600)

    assert StaticToken.load(token_file, environ={}) is not None
    assert StaticToken.load(None, environ={"ENTRA_HUNT_HTTP_TOKEN": TOKEN}) is not None
    assert StaticToken.load(None, environ={}) is None
    with pytest.raises(ParameterError, match="both"):
        StaticToken.load(token_file, environ={"ENTRA_HUNT_HTTP_TOKEN": TOKEN})


# -- OAuth 2.1 resource server -------------------------------------------------------------


class Issuer:
    """A signing key pair standing in for an authorization server."""

    def __init__(self, kid: str = "key-1") -> None:
        self.kid = kid
        self.private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.public_pem = (
            self.private.public_key()
            .public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
            .decode()
        )

    def jwks(self) -> dict[str, Any]:
        key = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self.private.public_key()))
        return {"keys": [{**key, "kid": self.kid, "use": "sig", "alg": "RS256"}]}

    def token(self, **overrides: Any) -> str:
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": ISSUER,
            "aud": RESOURCE,
            "sub": "user-object-id",
            "azp": "assistant-app-id",
            "preferred_username": "analyst@contoso.example",
            "scp": "hunts.read",
            "iat": now,
            "nbf": now - 5,
            "exp": now + 600,
        }
        claims.update(overrides)
        claims = {k: v for k, v in claims.items() if v is not None}
        return jwt.encode(claims, self.private, algorithm="RS256", headers={"kid": self.kid})


@pytest.fixture(scope="module")
def issuer() -> Issuer:
    return Issuer()


def _oauth(tmp_path: Path, issuer: Issuer, **overrides: Any) -> OAuthResourceServer:
    jwks = tmp_path / "jwks.json"
    jwks.write_text(json.dumps(issuer.jwks()), encoding="utf-8")
    values: dict[str, Any] = {
        "issuer": ISSUER,
        "resource_url": RESOURCE,
        "required_scopes": ("hunts.read",),
        "jwks_file": jwks,
    }
    values.update(overrides)
    return OAuthResourceServer(OAuthSettings(**values))


async def test_a_valid_access_token_names_its_subject_client_and_scopes(
    tmp_path: Path, issuer: Issuer
) -> None:
    verifier = _oauth(tmp_path, issuer)

    access = await verifier.verify_token(issuer.token(roles=["Hunts.Run"]))

    assert access is not None
    assert (access.subject, access.client_id) == ("user-object-id", "assistant-app-id")
    assert access.scopes == ["Hunts.Run", "hunts.read"]
    assert access.claims is not None and access.claims["iss"] == ISSUER


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _forged(issuer: Issuer, case: str) -> str:
    """A token the server must refuse, built by hand where PyJWT would refuse to build it."""
    now = int(time.time())
    claims = {"iss": ISSUER, "aud": RESOURCE, "sub": "x", "scp": "hunts.read", "exp": now + 600}
    if case == "signed_by_another_key":
        return Issuer(kid=issuer.kid).token()
    if case == "garbage":
        return "not.a.jwt"
    algorithm = "none" if case == "unsigned" else "HS256"
    header = _b64(json.dumps({"alg": algorithm, "typ": "JWT", "kid": issuer.kid}).encode())
    payload = _b64(json.dumps(claims).encode())
    signing_input = f"{header}.{payload}".encode()
    if case == "unsigned":
        return f"{header}.{payload}."
    # The classic confusion: an HMAC keyed with the public key the server trusts.
    mac = hmac.new(issuer.public_pem.encode(), signing_input, hashlib.sha256).digest()
    return f"{header}.{payload}.{_b64(mac)}"


@pytest.mark.parametrize(
    ("case", "claims"),
    [
        ("expired", {"exp": int(time.time()) - 3600}),
        ("not_yet_valid", {"nbf": int(time.time()) + 3600}),
        ("wrong_audience", {"aud": "https://other.example.test/mcp"}),
        ("wrong_issuer", {"iss": "https://evil.example.test"}),
        ("no_expiry", {"exp": None}),
        ("no_subject", {"sub": None}),
    ],
)
async def test_tokens_with_bad_claims_are_refused(
    tmp_path: Path, issuer: Issuer, case: str, claims: dict[str, Any]
) -> None:
    verifier = _oauth(tmp_path, issuer)

    assert await verifier.verify_token(issuer.token(**claims)) is None, case


@pytest.mark.parametrize(
    "case", ["unsigned", "hmac_with_the_public_key", "signed_by_another_key", "garbage"]
)
async def test_forged_tokens_are_refused(tmp_path: Path, issuer: Issuer, case: str) -> None:
    verifier = _oauth(tmp_path, issuer)

    assert await verifier.verify_token(_forged(issuer, case)) is None


async def test_a_pem_public_key_can_stand_in_for_a_jwks(tmp_path: Path, issuer: Issuer) -> None:
    pem = tmp_path / "issuer.pem"
    pem.write_text(issuer.public_pem, encoding="utf-8")
    verifier = _oauth(tmp_path, issuer, jwks_file=None, public_key_file=pem)

    assert await verifier.verify_token(issuer.token()) is not None
    assert await verifier.verify_token(_forged(issuer, "signed_by_another_key")) is None


def test_oauth_settings_need_exactly_one_key_source_and_https(tmp_path: Path) -> None:
    with pytest.raises(ParameterError, match="exactly one"):
        OAuthSettings(issuer=ISSUER, resource_url=RESOURCE).checked()
    with pytest.raises(ParameterError, match="https"):
        OAuthSettings(
            issuer="http://idp.example.test", resource_url=RESOURCE, jwks_file=tmp_path
        ).checked()


@pytest.fixture
def with_oauth(tmp_path: Path, issuer: Issuer) -> Iterator[str]:
    settings = HttpSettings(port=0, auth=_oauth(tmp_path, issuer))
    with serve_in_thread(build_http_app(_server(tmp_path), settings)) as url:
        yield url


async def test_a_valid_access_token_lets_a_client_hunt(with_oauth: str, issuer: Issuer) -> None:
    headers = {"Authorization": f"Bearer {issuer.token()}"}
    async with mcp_client(f"{with_oauth}/mcp", headers) as client:
        result = await client.call_tool(TOOL, {"lookback": "14d"})

    assert result.is_error is False


def test_a_refused_token_points_the_client_at_the_resource_metadata(
    with_oauth: str, issuer: Issuer
) -> None:
    response = _post(with_oauth, {"Authorization": f"Bearer {issuer.token(exp=1)}"})

    assert response.status_code == 401
    challenge = response.headers["www-authenticate"]
    assert (
        'resource_metadata="https://hunt.example.test/.well-known/oauth-protected-resource/mcp"'
        in challenge
    )


def test_a_token_without_the_required_scope_is_403(with_oauth: str, issuer: Issuer) -> None:
    response = _post(with_oauth, {"Authorization": f"Bearer {issuer.token(scp='other')}"})

    assert response.status_code == 403
    assert "insufficient_scope" in response.headers["www-authenticate"]


@pytest.mark.parametrize(
    "path", ["/.well-known/oauth-protected-resource/mcp", "/.well-known/oauth-protected-resource"]
)
def test_protected_resource_metadata_names_the_issuer_and_scopes(
    with_oauth: str, path: str
) -> None:
    response = httpx.get(f"{with_oauth}{path}")

    assert response.status_code == 200
    metadata = response.json()
    assert metadata["resource"] == RESOURCE
    assert metadata["authorization_servers"] == [ISSUER]
    assert metadata["scopes_supported"] == ["hunts.read"]
    assert metadata["bearer_methods_supported"] == ["header"]


async def test_a_jwks_url_is_fetched_once_not_for_every_unknown_key(
    issuer: Issuer,
) -> None:
    fetches: list[str] = []

    async def jwks_app(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        fetches.append(scope["path"])
        body = json.dumps(issuer.jwks()).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-type", b"application/json")],
            }
        )
        await send({"type": "http.response.body", "body": body})

    with serve_in_thread(jwks_app) as url:
        verifier = OAuthResourceServer(
            OAuthSettings(issuer=ISSUER, resource_url=RESOURCE, jwks_url=f"{url}/keys")
        )
        first = await verifier.verify_token(issuer.token())
        again = await verifier.verify_token(issuer.token())
        stranger = Issuer(kid="unknown-key")
        refused = [await verifier.verify_token(stranger.token()) for _ in range(5)]

    assert first is not None and again is not None
    assert refused == [None] * 5
    assert fetches == ["/keys"], "fetched once; an unknown kid does not refetch every time"


async def test_a_rotated_signing_key_is_fetched_when_a_token_names_it(
    issuer: Issuer, monkeypatch: pytest.MonkeyPatch
) -> None:
    from entra_hunt.mcp import auth

    monkeypatch.setattr(auth, "JWKS_REFRESH_SECONDS", 0.0)
    rotated = Issuer(kid="key-2")
    served = [issuer.jwks()]

    async def jwks_app(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        body = json.dumps(served[-1]).encode()
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": body})

    with serve_in_thread(jwks_app) as url:
        verifier = OAuthResourceServer(
            OAuthSettings(issuer=ISSUER, resource_url=RESOURCE, jwks_url=f"{url}/keys")
        )
        before = await verifier.verify_token(rotated.token())
        served.append(rotated.jwks())
        after = await verifier.verify_token(rotated.token())

    assert before is None
    assert after is not None


# -- limits --------------------------------------------------------------------------------


def test_a_client_over_its_rate_is_told_when_to_retry(tmp_path: Path) -> None:
    limits = HttpLimits(requests_per_minute=60, burst=3)
    app = build_http_app(_server(tmp_path), HttpSettings(port=0, limits=limits))
    with serve_in_thread(app) as url:
        statuses = [_post(url).status_code for _ in range(5)]
        refused = _post(url)

    assert statuses[:3] == [200, 200, 200]
    assert statuses[3:] == [429, 429]
    assert refused.headers["retry-after"] == "1"
    assert refused.json()["error"] == "rate_limited"


async def test_rate_limits_are_kept_per_authenticated_subject(
    tmp_path: Path, issuer: Issuer
) -> None:
    limits = HttpLimits(requests_per_minute=60, burst=2)
    settings = HttpSettings(port=0, auth=_oauth(tmp_path, issuer), limits=limits)
    with serve_in_thread(build_http_app(_server(tmp_path), settings)) as url:
        alice = {"Authorization": f"Bearer {issuer.token(sub='alice')}"}
        bob = {"Authorization": f"Bearer {issuer.token(sub='bob')}"}
        alice_statuses = [_post(url, alice).status_code for _ in range(3)]
        bob_status = _post(url, bob).status_code

    assert alice_statuses == [200, 200, 429]
    assert bob_status == 200


def test_an_oversized_request_body_is_413(tmp_path: Path) -> None:
    limits = HttpLimits(max_request_bytes=2048)
    app = build_http_app(_server(tmp_path), HttpSettings(port=0, limits=limits))
    padded = {**INITIALIZE, "params": {"_meta": {"padding": "x" * 4096}}}
    with serve_in_thread(app) as url:
        response = _post(url, body=padded)
        small = _post(url)

    assert response.status_code == 413
    assert small.status_code == 200


class SlowBackend:
    """A local backend whose queries take ``delay`` seconds."""

    name = BackendName.LOCAL

    def __init__(self, tmp_path: Path, delay: float) -> None:
        self._inner = LocalBackend(tmp_path / "absent.duckdb")
        self.delay = delay

    @property
    def dataset(self) -> str | None:
        return self._inner.dataset

    @property
    def reference_now(self) -> datetime | None:
        return self._inner.reference_now

    async def available_tables(self) -> list[str]:
        return await self._inner.available_tables()

    async def run(self, query: RenderedQuery) -> QueryRun:
        await anyio.sleep(self.delay)
        return await self._inner.run(query)

    async def coverage_note(self, table: str) -> str | None:
        return None


async def test_hunts_beyond_the_cap_wait_then_are_told_the_server_is_busy(
    tmp_path: Path,
) -> None:
    server = build_server(lambda name: SlowBackend(tmp_path, delay=1.0))
    server.middleware.append(HuntGate(limit=1, wait_seconds=0.2))
    results: list[Any] = []

    async def call(client: Client) -> None:
        results.append(await client.call_tool(TOOL, {"lookback": "14d"}))

    async with Client(server) as client:
        async with anyio.create_task_group() as group:
            group.start_soon(call, client)
            group.start_soon(call, client)

    errors = [r for r in results if r.is_error]
    assert len(errors) == 1
    assert "busy" in errors[0].content[0].text
    assert len([r for r in results if not r.is_error]) == 1
