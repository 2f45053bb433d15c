"""The loopback Log Analytics and Graph services, with the real cloud backends wired to them.

For tests outside ``tests/backends`` (the load test, the query validation of what backends
send): :func:`live_services` starts the two fake HTTPS services from
``tests/backends/azure_fakes.py`` on the bundled demo dataset, trusting a throwaway CA, and
yields them with factories for a :class:`SentinelBackend` and a :class:`DefenderBackend`
pointed at them. No network beyond 127.0.0.1; the credential is a fake.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import trustme

# azure_fakes lives with the backend tests, which import it by its bare name.
sys.path.insert(0, str(Path(__file__).parent / "backends"))

from azure_fakes import (  # noqa: E402
    WORKSPACE_ID,
    FakeCredential,
    Fault,
    GraphHuntingService,
    LogAnalyticsService,
    SignInData,
)

from entra_hunt.backends._cloud import RateLimiter, Retrying  # noqa: E402
from entra_hunt.backends.defender import DefenderBackend  # noqa: E402
from entra_hunt.backends.sentinel import SentinelBackend  # noqa: E402
from entra_hunt.engine.demo import DEMO_END  # noqa: E402

__all__ = ["Fault", "LiveServices", "live_services"]

#: The services' and Defender's "now": an hour after the demo dataset's last sign-in.
SERVICE_NOW = DEMO_END + timedelta(hours=1)


@dataclass
class LiveServices:
    """The two running services and backends that call them."""

    log_analytics: LogAnalyticsService
    graph: GraphHuntingService
    sentinel: Callable[[], SentinelBackend]
    defender: Callable[[], DefenderBackend]


@contextmanager
def live_services(tmp_path: Path, *, retries: Retrying | None = None) -> Iterator[LiveServices]:
    """Start both services on 127.0.0.1 (TLS, demo data); stop them when the block ends."""
    ca = trustme.CA()
    ca_file, server_file = tmp_path / "ca.pem", tmp_path / "server.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    ca.issue_cert("127.0.0.1").private_key_and_cert_chain_pem.write_to_path(str(server_file))
    retrying = retries or Retrying(max_retries=2, max_wait=5.0, backoff=0.05)
    data = SignInData(None)
    log_analytics = LogAnalyticsService(data, server_file, SERVICE_NOW)
    graph = GraphHuntingService(data, server_file, SERVICE_NOW)
    log_analytics.start()
    graph.start()

    def sentinel() -> SentinelBackend:
        return SentinelBackend(
            WORKSPACE_ID,
            credential=FakeCredential(),
            endpoint=log_analytics.url,
            server_timeout=5,
            client_timeout=5,
            retrying=retrying,
            connection_verify=str(ca_file),
        )

    def defender() -> DefenderBackend:
        return DefenderBackend(
            credential=FakeCredential(),
            graph_endpoint=graph.url,
            timeout=5,
            retrying=retrying,
            rate_limiter=RateLimiter(100_000, 60.0),
            verify=str(ca_file),
            clock=lambda: SERVICE_NOW,
        )

    try:
        yield LiveServices(log_analytics, graph, sentinel, defender)
    finally:
        log_analytics.stop()
        graph.stop()
