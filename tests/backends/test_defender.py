"""The Defender backend over httpx and a loopback Graph runHuntingQuery.

Covers the table fallback, the 30-day limit, the quotas (client-side rate, Retry-After, the
100,000-row cap) and every fault the service can answer with.
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from azure_fakes import (
    STACK_TRACE,
    FakeCredential,
    Fault,
    GraphHuntingService,
    assert_actionable,
    graph_error,
)
from conftest import FAST_RETRIES, SERVICE_NOW

from entra_hunt.backends._cloud import RateLimiter
from entra_hunt.backends.defender import SERVICE_ROW_CAP, DefenderBackend
from entra_hunt.engine.demo import DEMO_END
from entra_hunt.errors import BackendError, ParameterError, QueryError
from entra_hunt.hunts import DeviceCodeHunt, DeviceCodeParameters, RenderedQuery
from entra_hunt.runner import run_hunt

pytestmark = pytest.mark.anyio

START = DEMO_END - timedelta(days=14)
HUNT = DeviceCodeHunt()


def _query(
    table: str = "EntraIdSignInEvents", start: datetime = START, end: datetime = DEMO_END
) -> RenderedQuery:
    return HUNT.render(DeviceCodeParameters(), table, start, end, 1001)


def _backend(
    graph: GraphHuntingService,
    tls: tuple[Path, Path],
    credential: FakeCredential,
    **options: object,
) -> DefenderBackend:
    settings: dict[str, object] = {
        "credential": credential,
        "graph_endpoint": graph.url,
        "timeout": 1.5,
        "retrying": FAST_RETRIES,
        "rate_limiter": RateLimiter(1000, 60.0),
        "verify": str(tls[0]),
        "clock": lambda: SERVICE_NOW,
    }
    settings.update(options)
    return DefenderBackend(**settings)  # type: ignore[arg-type]  # options are per-test


# -- answers -------------------------------------------------------------------------------


async def test_rows_come_back_keyed_by_column_with_aware_utc_times(
    defender: DefenderBackend,
) -> None:
    run = await defender.run(_query())

    assert run.complete and run.rows
    first = run.rows[0]
    assert set(first) >= {"SignInTime", "User", "IPAddress", "AppId", "ResultCode"}
    assert isinstance(first["SignInTime"], datetime)
    assert first["SignInTime"].utcoffset() == timedelta(0)


async def test_the_request_carries_the_query_and_the_window_as_timespan(
    defender: DefenderBackend, graph: GraphHuntingService, credential: FakeCredential
) -> None:
    query = _query(start=START + timedelta(milliseconds=5))

    await defender.run(query)

    body = graph.received[-1].body
    assert body["Query"] == query.text
    assert body["Timespan"] == "2026-11-16T00:00:00Z/2026-11-30T00:00:01Z"
    assert credential.scopes == [f"{graph.url}/.default"]


async def test_both_tables_are_found_and_the_probe_is_cached(
    defender: DefenderBackend, graph: GraphHuntingService
) -> None:
    assert await defender.available_tables() == ["EntraIdSignInEvents", "AADSignInEventsBeta"]
    assert await defender.available_tables() == ["EntraIdSignInEvents", "AADSignInEventsBeta"]

    assert len(graph.received) == 2
    assert all(q.endswith("| take 0") for q in graph.queries())


async def test_a_tenant_without_either_table_is_not_found(
    defender: DefenderBackend, graph: GraphHuntingService
) -> None:
    graph.absent_tables.update({"EntraIdSignInEvents", "AADSignInEventsBeta"})

    with pytest.raises(BackendError) as caught:
        await run_hunt(HUNT, DeviceCodeParameters(), defender)

    assert caught.value.reason == "not_found"
    assert "backend=sentinel" in caught.value.message
    assert_actionable(caught.value)


async def test_coverage_note_gives_the_range_of_the_last_30_days(
    defender: DefenderBackend, graph: GraphHuntingService
) -> None:
    note = await defender.coverage_note("AADSignInEventsBeta")

    assert note is not None and "(last 30 days)" in note and "2026-11-29" in note
    assert graph.received[-1].body["Timespan"] == "P30D"


# -- the 30-day limit ----------------------------------------------------------------------


async def test_a_window_older_than_30_days_is_a_parameter_error_before_any_call(
    defender: DefenderBackend, graph: GraphHuntingService
) -> None:
    with pytest.raises(ParameterError) as caught:
        await defender.run(_query(start=SERVICE_NOW - timedelta(days=31), end=SERVICE_NOW))

    assert "lookback" in caught.value.message and "30 days" in caught.value.message
    assert "backend=sentinel" in caught.value.message
    assert graph.received == []


async def test_a_lookback_of_exactly_30_days_runs(defender: DefenderBackend) -> None:
    result = await run_hunt(HUNT, DeviceCodeParameters(lookback="30d"), defender, now=SERVICE_NOW)

    assert result.complete and result.findings


def test_the_30_day_limit_is_visible_to_callers() -> None:
    assert DefenderBackend.max_lookback == timedelta(days=30)


# -- quotas --------------------------------------------------------------------------------


async def test_a_429_is_retried_after_the_time_the_service_asks(
    defender: DefenderBackend, graph: GraphHuntingService
) -> None:
    graph.inject(
        Fault(
            status=429,
            headers={"Retry-After": "1"},
            body=graph_error("TooManyRequests", "Too many requests"),
        )
    )

    began = time.monotonic()
    run = await defender.run(_query())

    assert run.complete and run.rows
    assert time.monotonic() - began >= 1.0
    assert len(graph.received) == 2


async def test_persistent_throttling_is_throttled_and_names_the_quota(
    defender: DefenderBackend, graph: GraphHuntingService
) -> None:
    graph.inject(
        Fault(
            status=429,
            headers={"Retry-After": "0"},
            times=10,
            body=graph_error("TooManyRequests", "Query execution quota exceeded: CPU resources"),
        )
    )

    with pytest.raises(BackendError) as caught:
        await defender.run(_query())

    assert caught.value.reason == "throttled"
    assert caught.value.retry_after_seconds == 0
    assert "CPU resources" in caught.value.message
    assert len(graph.received) == 1 + FAST_RETRIES.max_retries
    assert_actionable(caught.value)


async def test_a_retry_after_past_the_wait_budget_is_reported_not_waited_for(
    defender: DefenderBackend, graph: GraphHuntingService
) -> None:
    graph.inject(
        Fault(
            status=429,
            headers={"Retry-After": "600"},
            body=graph_error("TooManyRequests", "Too many requests"),
        )
    )

    with pytest.raises(BackendError) as caught:
        await defender.run(_query())

    assert caught.value.reason == "throttled"
    assert caught.value.retry_after_seconds == 600
    assert len(graph.received) == 1


async def test_the_client_keeps_under_its_call_budget(
    graph: GraphHuntingService, tls: tuple[Path, Path], credential: FakeCredential
) -> None:
    backend = _backend(graph, tls, credential, rate_limiter=RateLimiter(2, 1.0))

    began = time.monotonic()
    for _ in range(3):
        await backend.run(_query(start=DEMO_END - timedelta(hours=1)))

    assert time.monotonic() - began >= 0.95


def test_the_rate_limiter_books_slots_a_period_apart() -> None:
    limiter = RateLimiter(40, 60.0)

    waits = [limiter.reserve() for _ in range(41)]

    assert waits[:40] == [0.0] * 40
    assert 59.0 < waits[40] <= 60.0


def test_more_than_44_calls_a_minute_is_refused() -> None:
    with pytest.raises(ValueError, match="45"):
        DefenderBackend(credential=FakeCredential(), calls_per_minute=45)


async def test_an_answer_at_the_row_cap_is_flagged_incomplete(
    defender: DefenderBackend, graph: GraphHuntingService
) -> None:
    capped = {
        "schema": [{"name": "N", "type": "Int64"}],
        "results": [{"N": n} for n in range(SERVICE_ROW_CAP)],
    }
    graph.inject(Fault(body=capped))

    run = await defender.run(_query())

    assert len(run.rows) == SERVICE_ROW_CAP
    assert not run.complete
    assert any("100,000 rows" in note for note in run.notes)


# -- faults --------------------------------------------------------------------------------


@pytest.mark.parametrize("status", [500, 503])
async def test_a_passing_server_error_is_retried(
    defender: DefenderBackend, graph: GraphHuntingService, status: int
) -> None:
    graph.inject(Fault(status=status, body=graph_error("ServiceUnavailable", "busy")))

    run = await defender.run(_query())

    assert run.complete and run.rows


@pytest.mark.parametrize("status", [500, 503])
async def test_a_lasting_server_error_is_unavailable(
    defender: DefenderBackend, graph: GraphHuntingService, status: int
) -> None:
    graph.inject(Fault(status=status, times=10, body=graph_error("UnknownError", STACK_TRACE)))

    with pytest.raises(BackendError) as caught:
        await defender.run(_query())

    assert caught.value.reason == "unavailable"
    assert f"HTTP {status}" in caught.value.message
    assert_actionable(caught.value)


async def test_a_response_slower_than_the_timeout_is_timed_out(
    defender: DefenderBackend, graph: GraphHuntingService
) -> None:
    graph.inject(Fault(delay=3.0))

    began = time.monotonic()
    with pytest.raises(BackendError) as caught:
        await defender.run(_query())

    assert caught.value.reason == "timed_out"
    assert time.monotonic() - began < 2.8
    assert_actionable(caught.value)


@pytest.mark.parametrize(
    "fault",
    [
        Fault(raw=b"<html><body>Sign in to continue</body></html>"),
        Fault(body={"unexpected": True}),
        Fault(body={"schema": [{"name": "A", "type": "String"}], "results": ["not a row"]}),
    ],
    ids=["html", "no-schema", "rows-not-objects"],
)
async def test_a_malformed_body_is_a_bad_response(
    defender: DefenderBackend, graph: GraphHuntingService, fault: Fault
) -> None:
    graph.inject(fault)

    with pytest.raises(BackendError) as caught:
        await defender.run(_query())

    assert caught.value.reason == "bad_response"
    assert_actionable(caught.value)


async def test_a_401_is_unauthorised(defender: DefenderBackend, graph: GraphHuntingService) -> None:
    graph.inject(Fault(status=401, body=graph_error("InvalidAuthenticationToken", STACK_TRACE)))

    with pytest.raises(BackendError) as caught:
        await defender.run(_query())

    assert caught.value.reason == "unauthorised"
    assert "AZURE_TENANT_ID" in caught.value.message
    assert_actionable(caught.value)


async def test_a_403_names_the_graph_permission(
    defender: DefenderBackend, graph: GraphHuntingService
) -> None:
    graph.inject(Fault(status=403, body=graph_error("Forbidden", STACK_TRACE)))

    with pytest.raises(BackendError) as caught:
        await defender.run(_query())

    assert caught.value.reason == "forbidden"
    assert "ThreatHunting.Read.All" in caught.value.message
    assert_actionable(caught.value)


async def test_a_table_the_tenant_lacks_is_not_found(
    defender: DefenderBackend, graph: GraphHuntingService
) -> None:
    graph.absent_tables.add("AADSignInEventsBeta")

    with pytest.raises(BackendError) as caught:
        await run_hunt(
            HUNT,
            DeviceCodeParameters(table="AADSignInEventsBeta", lookback="7d"),
            defender,
            now=SERVICE_NOW,
        )

    assert caught.value.reason == "not_found"
    assert "no table AADSignInEventsBeta" in caught.value.message
    assert_actionable(caught.value)


async def test_a_rejected_query_is_a_query_error(
    defender: DefenderBackend, graph: GraphHuntingService
) -> None:
    graph.inject(Fault(status=400, body=graph_error("BadRequest", "Syntax error near '|'")))

    with pytest.raises(QueryError) as caught:
        await defender.run(_query())

    assert "Syntax error" in caught.value.message and "report it" in caught.value.message


async def test_a_credential_that_cannot_sign_in_names_what_to_set(
    graph: GraphHuntingService, tls: tuple[Path, Path]
) -> None:
    backend = _backend(graph, tls, FakeCredential(fail=True))

    with pytest.raises(BackendError) as caught:
        await backend.run(_query())

    assert caught.value.reason == "unauthorised"
    assert "ThreatHunting.Read.All" in caught.value.message
    assert graph.received == []
    assert_actionable(caught.value, "no AZURE_CLIENT_SECRET")


async def test_an_unreachable_endpoint_is_unavailable(
    graph: GraphHuntingService, tls: tuple[Path, Path], credential: FakeCredential
) -> None:
    backend = _backend(graph, tls, credential, graph_endpoint="https://127.0.0.1:9")

    with pytest.raises(BackendError) as caught:
        await backend.run(_query())

    assert caught.value.reason == "unavailable"
    assert_actionable(caught.value)


async def test_the_backend_keeps_serving_after_a_fault(
    defender: DefenderBackend, graph: GraphHuntingService
) -> None:
    graph.inject(Fault(status=403, body=graph_error("Forbidden", "no")))
    with pytest.raises(BackendError):
        await defender.run(_query())

    run = await defender.run(_query())

    assert run.complete and run.rows
