"""The Sentinel backend over the real azure-monitor-query client and a loopback Log Analytics.

Every fault the service can throw at a hunt ends as a BackendError with a vocabulary reason
and a message saying what to do, or as a result flagged incomplete with the service's reason.
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from azure_fakes import (
    STACK_TRACE,
    WORKSPACE_ID,
    FakeCredential,
    Fault,
    LogAnalyticsService,
    assert_actionable,
)
from conftest import FAST_RETRIES

from entra_hunt.backends._cloud import Retrying
from entra_hunt.backends.sentinel import SentinelBackend
from entra_hunt.engine.demo import DEMO_END
from entra_hunt.errors import BackendError, QueryError
from entra_hunt.hunts import DeviceCodeHunt, DeviceCodeParameters, RenderedQuery
from entra_hunt.runner import run_hunt

pytestmark = pytest.mark.anyio

START = DEMO_END - timedelta(days=14)
HUNT = DeviceCodeHunt()


def _query(start: datetime = START, end: datetime = DEMO_END) -> RenderedQuery:
    return HUNT.render(DeviceCodeParameters(), "SigninLogs", start, end, 1001)


def _failure(status: int, code: str, message: str = "Something failed.") -> Fault:
    return Fault(status=status, body={"error": {"code": code, "message": message}})


# -- answers -------------------------------------------------------------------------------


async def test_rows_come_back_keyed_by_column_with_aware_utc_times(
    sentinel: SentinelBackend,
) -> None:
    run = await sentinel.run(_query())

    assert run.complete and run.table == "SigninLogs" and run.rows
    first = run.rows[0]
    assert set(first) >= {"SignInTime", "User", "IPAddress", "AppId", "DeviceManaged"}
    assert isinstance(first["SignInTime"], datetime)
    assert first["SignInTime"].tzinfo is not None
    assert first["SignInTime"].utcoffset() == timedelta(0)


async def test_the_window_goes_as_timespan_and_the_server_timeout_as_prefer(
    sentinel: SentinelBackend, log_analytics: LogAnalyticsService
) -> None:
    await sentinel.run(_query(START + timedelta(microseconds=700), DEMO_END))

    sent = log_analytics.received[-1]
    assert sent.body["timespan"].startswith("2026-11-16T00:00:00")
    assert sent.body["timespan"].split("/")[1].startswith("2026-11-30T00:00:01")
    assert sent.prefer == "wait=5"


async def test_a_window_outside_the_data_returns_nothing_and_complete(
    sentinel: SentinelBackend,
) -> None:
    run = await sentinel.run(_query(DEMO_END + timedelta(days=1), DEMO_END + timedelta(days=2)))

    assert run.rows == [] and run.complete


async def test_the_token_is_asked_for_the_configured_endpoint(
    sentinel: SentinelBackend, credential: FakeCredential, log_analytics: LogAnalyticsService
) -> None:
    await sentinel.run(_query())

    assert credential.scopes == [f"{log_analytics.url}/.default"]


async def test_an_endpoint_written_with_its_api_version_is_accepted(
    log_analytics: LogAnalyticsService, tls: tuple[Path, Path], credential: FakeCredential
) -> None:
    backend = SentinelBackend(
        WORKSPACE_ID,
        credential=credential,
        endpoint=log_analytics.url + "/v1/",
        connection_verify=str(tls[0]),
    )

    run = await backend.run(_query())

    assert run.rows and credential.scopes == [f"{log_analytics.url}/.default"]


async def test_additional_workspaces_are_sent_with_the_query(
    log_analytics: LogAnalyticsService, tls: tuple[Path, Path], credential: FakeCredential
) -> None:
    backend = SentinelBackend(
        WORKSPACE_ID,
        credential=credential,
        endpoint=log_analytics.url,
        additional_workspaces=["contoso-emea-workspace"],
        connection_verify=str(tls[0]),
    )

    await backend.run(_query())

    assert log_analytics.received[-1].body["workspaces"] == ["contoso-emea-workspace"]
    assert "and 1 more" in backend.dataset


async def test_coverage_note_gives_the_time_range_the_table_holds(
    sentinel: SentinelBackend,
) -> None:
    note = await sentinel.coverage_note("SigninLogs")

    assert note is not None
    assert "SigninLogs in Log Analytics workspace" in note
    assert "2026-11-16" in note and "2026-11-29" in note


async def test_available_tables_lists_the_sign_in_tables_present(
    sentinel: SentinelBackend, log_analytics: LogAnalyticsService
) -> None:
    log_analytics.absent_tables.add("AADNonInteractiveUserSignInLogs")

    assert await sentinel.available_tables() == ["SigninLogs"]
    assert await sentinel.available_tables() == ["SigninLogs"]
    assert len(log_analytics.received) == 2, "probed once per table, then cached"


# -- faults --------------------------------------------------------------------------------


async def test_a_429_is_retried_after_the_time_the_service_asks(
    sentinel: SentinelBackend, log_analytics: LogAnalyticsService
) -> None:
    log_analytics.inject(
        Fault(
            status=429,
            headers={"Retry-After": "1"},
            body={"error": {"code": "ThrottledError", "message": "slow down"}},
        )
    )

    began = time.monotonic()
    run = await sentinel.run(_query())

    assert run.complete and run.rows
    assert time.monotonic() - began >= 1.0
    assert len(log_analytics.received) == 2


async def test_persistent_throttling_is_throttled_with_the_wait_to_respect(
    sentinel: SentinelBackend, log_analytics: LogAnalyticsService
) -> None:
    log_analytics.inject(
        Fault(
            status=429,
            headers={"Retry-After": "0"},
            times=10,
            body={"error": {"code": "ThrottledError", "message": "slow"}},
        )
    )

    with pytest.raises(BackendError) as caught:
        await sentinel.run(_query())

    assert caught.value.reason == "throttled"
    assert caught.value.retry_after_seconds == 0
    assert len(log_analytics.received) == 1 + FAST_RETRIES.max_retries
    assert_actionable(caught.value)


async def test_a_retry_after_past_the_wait_budget_is_not_waited_for(
    sentinel: SentinelBackend, log_analytics: LogAnalyticsService
) -> None:
    log_analytics.inject(
        Fault(
            status=429,
            headers={"Retry-After": "120"},
            body={"error": {"code": "ThrottledError", "message": "slow"}},
        )
    )

    with pytest.raises(BackendError) as caught:
        await sentinel.run(_query())

    assert caught.value.reason == "throttled"
    assert caught.value.retry_after_seconds == 120
    assert "120 s" in caught.value.message
    assert len(log_analytics.received) == 1


@pytest.mark.parametrize("status", [500, 503])
async def test_a_passing_server_error_is_retried(
    sentinel: SentinelBackend, log_analytics: LogAnalyticsService, status: int
) -> None:
    log_analytics.inject(_failure(status, "InternalServerError"))

    run = await sentinel.run(_query())

    assert run.complete and run.rows


@pytest.mark.parametrize("status", [500, 503])
async def test_a_lasting_server_error_is_unavailable(
    sentinel: SentinelBackend, log_analytics: LogAnalyticsService, status: int
) -> None:
    fault = _failure(status, "ServiceUnavailable", STACK_TRACE)
    fault.times = 10
    log_analytics.inject(fault)

    with pytest.raises(BackendError) as caught:
        await sentinel.run(_query())

    assert caught.value.reason == "unavailable"
    assert f"HTTP {status}" in caught.value.message
    assert_actionable(caught.value)


async def test_a_gateway_page_instead_of_json_is_still_unavailable(
    sentinel: SentinelBackend, log_analytics: LogAnalyticsService
) -> None:
    log_analytics.inject(
        Fault(status=502, times=10, raw=b"<html><body>502 Bad Gateway</body></html>")
    )

    with pytest.raises(BackendError) as caught:
        await sentinel.run(_query())

    assert caught.value.reason == "unavailable"
    assert_actionable(caught.value)


async def test_a_gateway_timeout_is_timed_out(
    sentinel: SentinelBackend, log_analytics: LogAnalyticsService
) -> None:
    log_analytics.inject(_failure(504, "GatewayTimeout"))

    with pytest.raises(BackendError) as caught:
        await sentinel.run(_query())

    assert caught.value.reason == "timed_out"
    assert "ENTRA_HUNT_SENTINEL_TIMEOUT" in caught.value.message


async def test_a_response_slower_than_the_timeout_is_timed_out(
    sentinel: SentinelBackend, log_analytics: LogAnalyticsService
) -> None:
    log_analytics.inject(Fault(delay=3.0))

    began = time.monotonic()
    with pytest.raises(BackendError) as caught:
        await sentinel.run(_query())

    assert caught.value.reason == "timed_out"
    assert time.monotonic() - began < 2.8
    assert_actionable(caught.value)


async def test_a_partial_result_is_flagged_with_the_services_reason_not_dropped(
    sentinel: SentinelBackend, log_analytics: LogAnalyticsService
) -> None:
    full = await sentinel.run(_query())
    log_analytics.inject(Fault(partial=True))

    run = await sentinel.run(_query())

    assert not run.complete
    assert 0 < len(run.rows) < len(full.rows)
    note = " ".join(run.notes)
    assert "partial result" in note
    assert "exceeded the internal record count limit" in note
    assert "PartialError" in note and "EngineError" in note


async def test_a_partial_result_reaches_the_hunt_result_as_incomplete(
    sentinel: SentinelBackend, log_analytics: LogAnalyticsService
) -> None:
    log_analytics.inject(Fault(partial=True, match="project"))

    result = await run_hunt(HUNT, DeviceCodeParameters(start=START, end=DEMO_END), sentinel)

    assert result.complete is False
    assert any("partial result" in note for note in result.notes)


@pytest.mark.parametrize(
    "fault",
    [
        Fault(raw=b'{"tables": [{"name": "PrimaryResult", "colu'),
        Fault(body={"unexpected": True}),
        Fault(
            body={
                "tables": [
                    {
                        "name": "PrimaryResult",
                        "columns": [{"name": "A", "type": "string"}],
                        "rows": [["a", "b"]],
                    }
                ]
            }
        ),
    ],
    ids=["truncated-json", "no-tables", "rows-wider-than-columns"],
)
async def test_a_malformed_body_is_a_bad_response(
    sentinel: SentinelBackend, log_analytics: LogAnalyticsService, fault: Fault
) -> None:
    log_analytics.inject(fault)

    with pytest.raises(BackendError) as caught:
        await sentinel.run(_query())

    assert caught.value.reason == "bad_response"
    assert_actionable(caught.value)


async def test_a_401_says_to_sign_in_again(
    sentinel: SentinelBackend, log_analytics: LogAnalyticsService
) -> None:
    log_analytics.inject(_failure(401, "InvalidTokenError", STACK_TRACE))

    with pytest.raises(BackendError) as caught:
        await sentinel.run(_query())

    assert caught.value.reason == "unauthorised"
    assert "az login" in caught.value.message
    assert_actionable(caught.value)


async def test_a_403_names_the_role_to_grant(
    sentinel: SentinelBackend, log_analytics: LogAnalyticsService
) -> None:
    log_analytics.inject(_failure(403, "InsufficientAccessError", STACK_TRACE))

    with pytest.raises(BackendError) as caught:
        await sentinel.run(_query())

    assert caught.value.reason == "forbidden"
    assert "Log Analytics Reader or Microsoft Sentinel Reader" in caught.value.message
    assert "InsufficientAccessError" in caught.value.message
    assert_actionable(caught.value)


async def test_an_unknown_workspace_is_not_found(
    log_analytics: LogAnalyticsService, tls: tuple[Path, Path], credential: FakeCredential
) -> None:
    backend = SentinelBackend(
        "99999999-2222-3333-4444-555555555555",
        credential=credential,
        endpoint=log_analytics.url,
        connection_verify=str(tls[0]),
    )

    with pytest.raises(BackendError) as caught:
        await backend.run(_query())

    assert caught.value.reason == "not_found"
    assert "ENTRA_HUNT_SENTINEL_WORKSPACE_ID" in caught.value.message
    assert_actionable(caught.value)


async def test_a_missing_table_is_not_found_with_the_connector_to_enable(
    sentinel: SentinelBackend, log_analytics: LogAnalyticsService
) -> None:
    log_analytics.absent_tables.add("SigninLogs")

    with pytest.raises(BackendError) as caught:
        await sentinel.run(_query())

    assert caught.value.reason == "not_found"
    assert "no table SigninLogs" in caught.value.message
    assert "data connector" in caught.value.message
    assert_actionable(caught.value)


async def test_a_workspace_without_sign_in_tables_stops_the_hunt_with_not_found(
    sentinel: SentinelBackend, log_analytics: LogAnalyticsService
) -> None:
    log_analytics.absent_tables.update({"SigninLogs", "AADNonInteractiveUserSignInLogs"})

    with pytest.raises(BackendError) as caught:
        await run_hunt(HUNT, DeviceCodeParameters(), sentinel)

    assert caught.value.reason == "not_found"
    assert_actionable(caught.value)


async def test_a_rejected_query_is_a_query_error_naming_the_service_code(
    sentinel: SentinelBackend, log_analytics: LogAnalyticsService
) -> None:
    log_analytics.inject(
        Fault(
            status=400,
            body={
                "error": {
                    "code": "BadArgumentError",
                    "message": "The request had some invalid properties",
                    "innererror": {
                        "code": "SyntaxError",
                        "message": f"A recognition error. {STACK_TRACE}",
                    },
                }
            },
        )
    )

    with pytest.raises(QueryError) as caught:
        await sentinel.run(_query())

    assert "BadArgumentError" in caught.value.message
    assert "report it" in caught.value.message


async def test_a_credential_that_cannot_sign_in_is_unauthorised_without_its_dump(
    log_analytics: LogAnalyticsService, tls: tuple[Path, Path]
) -> None:
    backend = SentinelBackend(
        WORKSPACE_ID,
        credential=FakeCredential(fail=True),
        endpoint=log_analytics.url,
        connection_verify=str(tls[0]),
    )

    with pytest.raises(BackendError) as caught:
        await backend.run(_query())

    assert caught.value.reason == "unauthorised"
    assert "AZURE_CLIENT_ID" in caught.value.message
    assert_actionable(caught.value, "no AZURE_CLIENT_SECRET")


async def test_an_unreachable_endpoint_is_unavailable(
    tls: tuple[Path, Path], credential: FakeCredential
) -> None:
    backend = SentinelBackend(
        WORKSPACE_ID,
        credential=credential,
        endpoint="https://127.0.0.1:9",
        connection_verify=str(tls[0]),
        retrying=Retrying(max_retries=0),
    )

    with pytest.raises(BackendError) as caught:
        await backend.run(_query())

    assert caught.value.reason == "unavailable"
    assert_actionable(caught.value)


async def test_the_backend_keeps_serving_after_a_fault(
    sentinel: SentinelBackend, log_analytics: LogAnalyticsService
) -> None:
    log_analytics.inject(_failure(403, "InsufficientAccessError"))
    with pytest.raises(BackendError):
        await sentinel.run(_query())

    run = await sentinel.run(_query())

    assert run.complete and run.rows


def test_a_workspace_name_instead_of_its_id_is_not_configured() -> None:
    with pytest.raises(BackendError) as caught:
        SentinelBackend("contoso-sentinel", credential=FakeCredential())

    assert caught.value.reason == "not_configured"
    assert "Overview page" in caught.value.message


async def test_aclose_leaves_a_credential_it_did_not_create_open(
    sentinel: SentinelBackend, credential: FakeCredential
) -> None:
    await sentinel.aclose()

    assert not credential.closed
