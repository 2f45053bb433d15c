"""Fixtures for the backend tests: test data, the two loopback services, backends wired to them.

The services start once per session; every test gets them reset (no faults, every table
present). The cloud backends are the real classes with the real SDK clients, trusting the
test CA and holding a :class:`~azure_fakes.FakeCredential`.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
import trustme
from azure_fakes import (
    WORKSPACE_ID,
    FakeCredential,
    GraphHuntingService,
    LogAnalyticsService,
    SignInData,
)

from entra_hunt.backends._cloud import RateLimiter, Retrying
from entra_hunt.backends.defender import DefenderBackend
from entra_hunt.backends.local import LocalBackend, demo_store
from entra_hunt.backends.sentinel import SentinelBackend
from entra_hunt.engine.demo import DEMO_END, generate
from entra_hunt.engine.store import Store

#: The services' and Defender's "now": an hour after the demo dataset's last sign-in.
SERVICE_NOW = DEMO_END + timedelta(hours=1)
#: Retries fast enough for tests, still bounded.
FAST_RETRIES = Retrying(max_retries=2, max_wait=5.0, backoff=0.05)


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


class _NoRealCredential:
    def __init__(self, **options: object) -> None:
        raise AssertionError(
            "a test reached DefaultAzureCredential, which would probe the network for a "
            "managed identity: pass a FakeCredential"
        )


@pytest.fixture(autouse=True)
def _no_real_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    """No test may build a real credential (it would try IMDS and the Azure CLI)."""
    import azure.identity.aio

    monkeypatch.setattr(azure.identity.aio, "DefaultAzureCredential", _NoRealCredential)


@pytest.fixture(scope="session")
def signin_data(tmp_path_factory: pytest.TempPathFactory) -> SignInData:
    """The bundled demo dataset; until its files ship, the same data written to a file."""
    if any(s.rows for s in demo_store().stats() if s.table == "SigninLogs"):
        return SignInData(None)
    database = tmp_path_factory.mktemp("data") / "demo.duckdb"
    with Store(database) as store:
        rows = ((table, row) for table, table_rows in generate().items() for row in table_rows)
        store.load(rows, source="demo", sha256="demo")
    return SignInData(database)


@pytest.fixture(scope="session")
def tls(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(CA bundle the clients trust, server key + certificate chain) for 127.0.0.1."""
    folder = tmp_path_factory.mktemp("tls")
    ca = trustme.CA()
    server = ca.issue_cert("127.0.0.1", "localhost")
    ca_file, server_file = folder / "ca.pem", folder / "server.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    server.private_key_and_cert_chain_pem.write_to_path(str(server_file))
    return ca_file, server_file


@pytest.fixture(scope="session")
def _log_analytics(
    signin_data: SignInData, tls: tuple[Path, Path]
) -> Iterator[LogAnalyticsService]:
    service = LogAnalyticsService(signin_data, tls[1], SERVICE_NOW)
    service.start()
    yield service
    service.stop()


@pytest.fixture(scope="session")
def _graph(signin_data: SignInData, tls: tuple[Path, Path]) -> Iterator[GraphHuntingService]:
    service = GraphHuntingService(signin_data, tls[1], SERVICE_NOW)
    service.start()
    yield service
    service.stop()


@pytest.fixture
def log_analytics(_log_analytics: LogAnalyticsService) -> Iterator[LogAnalyticsService]:
    _log_analytics.reset()
    yield _log_analytics
    _log_analytics.reset()


@pytest.fixture
def graph(_graph: GraphHuntingService) -> Iterator[GraphHuntingService]:
    _graph.reset()
    yield _graph
    _graph.reset()


@pytest.fixture
def credential() -> FakeCredential:
    return FakeCredential()


@pytest.fixture
def sentinel(
    log_analytics: LogAnalyticsService, tls: tuple[Path, Path], credential: FakeCredential
) -> SentinelBackend:
    return SentinelBackend(
        WORKSPACE_ID,
        credential=credential,
        endpoint=log_analytics.url,
        server_timeout=5,
        client_timeout=1.5,
        retrying=FAST_RETRIES,
        connection_verify=str(tls[0]),
    )


@pytest.fixture
def defender(
    graph: GraphHuntingService, tls: tuple[Path, Path], credential: FakeCredential
) -> DefenderBackend:
    return DefenderBackend(
        credential=credential,
        graph_endpoint=graph.url,
        timeout=1.5,
        retrying=FAST_RETRIES,
        rate_limiter=RateLimiter(1000, 60.0),
        verify=str(tls[0]),
        clock=lambda: SERVICE_NOW,
    )


@pytest.fixture
def local(signin_data: SignInData, tmp_path: Path) -> LocalBackend:
    if signin_data.database is None:
        return LocalBackend(tmp_path / "absent.duckdb")
    return LocalBackend(signin_data.database, use_demo_when_empty=False)
