"""``diagnose`` reports configuration, credentials, access and table coverage per backend."""

from __future__ import annotations

from pathlib import Path

import pytest
from azure_fakes import (
    WORKSPACE_ID,
    FakeCredential,
    Fault,
    GraphHuntingService,
    LogAnalyticsService,
    graph_error,
)

from entra_hunt.backends import BackendSettings
from entra_hunt.backends.doctor import Check, diagnose
from entra_hunt.hunts import BackendName

pytestmark = pytest.mark.anyio


@pytest.fixture
def settings(
    log_analytics: LogAnalyticsService,
    graph: GraphHuntingService,
    tls: tuple[Path, Path],
    tmp_path: Path,
) -> BackendSettings:
    return BackendSettings(
        database=tmp_path / "absent.duckdb",
        sentinel_workspace_id=WORKSPACE_ID,
        logs_endpoint=log_analytics.url,
        graph_endpoint=graph.url,
        ca_bundle=tls[0],
        max_retries=0,
    )


def _by(checks: list[Check], backend: str) -> list[Check]:
    return [c for c in checks if c.backend == backend]


async def test_a_healthy_setup_is_all_ok_with_each_tables_range(
    settings: BackendSettings, credential: FakeCredential
) -> None:
    checks = await diagnose(
        settings, backends=[BackendName.SENTINEL, BackendName.DEFENDER], credential=credential
    )

    assert [c.status for c in checks] == ["ok"] * len(checks)
    sentinel = _by(checks, "sentinel")
    assert "got a token" in sentinel[0].what
    assert any("SigninLogs" in c.what and "2026-11-16" in c.what for c in sentinel)
    defender = _by(checks, "defender")
    assert any("EntraIdSignInEvents" in c.what for c in defender)
    assert any("AADSignInEventsBeta" in c.what for c in defender)


async def test_local_without_a_database_warns_that_hunts_read_the_demo(
    settings: BackendSettings,
) -> None:
    checks = await diagnose(settings, backends=[BackendName.LOCAL])

    local = _by(checks, "local")
    assert [c.status for c in local] == ["warn"]
    assert local[0].fix is not None and "entra-hunt load" in local[0].fix


async def test_an_unconfigured_sentinel_is_a_warning_naming_the_variable(
    tmp_path: Path,
) -> None:
    settings = BackendSettings(database=tmp_path / "absent.duckdb")

    checks = await diagnose(settings, backends=[BackendName.SENTINEL])

    sentinel = _by(checks, "sentinel")
    assert [c.status for c in sentinel] == ["warn"]
    assert sentinel[0].fix is not None
    assert "ENTRA_HUNT_SENTINEL_WORKSPACE_ID" in sentinel[0].fix


async def test_a_credential_that_cannot_sign_in_fails_and_stops_that_backend(
    settings: BackendSettings,
) -> None:
    checks = await diagnose(
        settings, backends=[BackendName.SENTINEL], credential=FakeCredential(fail=True)
    )

    sentinel = _by(checks, "sentinel")
    assert [c.status for c in sentinel] == ["fail"]
    assert sentinel[0].fix is not None and "az login" in sentinel[0].fix


async def test_no_read_access_fails_with_the_role_to_grant(
    settings: BackendSettings, credential: FakeCredential, log_analytics: LogAnalyticsService
) -> None:
    log_analytics.inject(
        Fault(
            status=403,
            times=5,
            body={"error": {"code": "InsufficientAccessError", "message": "insufficient access"}},
        )
    )

    checks = await diagnose(settings, backends=[BackendName.SENTINEL], credential=credential)

    failed = [c for c in _by(checks, "sentinel") if c.status == "fail"]
    assert len(failed) == 1
    assert failed[0].fix is not None
    assert "Log Analytics Reader or Microsoft Sentinel Reader" in failed[0].fix


async def test_a_missing_signinlogs_fails_and_a_missing_optional_table_warns(
    settings: BackendSettings, credential: FakeCredential, log_analytics: LogAnalyticsService
) -> None:
    log_analytics.absent_tables.update({"SigninLogs", "AADNonInteractiveUserSignInLogs"})

    checks = await diagnose(settings, backends=[BackendName.SENTINEL], credential=credential)

    statuses = {c.what.split(" ")[0]: c.status for c in _by(checks, "sentinel")[1:]}
    assert statuses == {"SigninLogs": "fail", "AADNonInteractiveUserSignInLogs": "warn"}


async def test_defender_without_the_new_table_warns_and_uses_the_beta_one(
    settings: BackendSettings, credential: FakeCredential, graph: GraphHuntingService
) -> None:
    graph.absent_tables.add("EntraIdSignInEvents")

    checks = await diagnose(settings, backends=[BackendName.DEFENDER], credential=credential)

    defender = _by(checks, "defender")
    assert [c.status for c in defender] == ["ok", "warn", "ok"]


async def test_defender_without_either_table_fails(
    settings: BackendSettings, credential: FakeCredential, graph: GraphHuntingService
) -> None:
    graph.absent_tables.update({"EntraIdSignInEvents", "AADSignInEventsBeta"})

    checks = await diagnose(settings, backends=[BackendName.DEFENDER], credential=credential)

    assert _by(checks, "defender")[-1].status == "fail"


async def test_defender_without_the_permission_names_it(
    settings: BackendSettings, credential: FakeCredential, graph: GraphHuntingService
) -> None:
    graph.inject(Fault(status=403, times=5, body=graph_error("Forbidden", "denied")))

    checks = await diagnose(settings, backends=[BackendName.DEFENDER], credential=credential)

    failed = [c for c in _by(checks, "defender") if c.status == "fail"]
    assert failed and failed[0].fix is not None
    assert "ThreatHunting.Read.All" in failed[0].fix


async def test_checks_are_data_the_cli_can_print_as_json(settings: BackendSettings) -> None:
    checks = await diagnose(settings, backends=[BackendName.LOCAL])

    assert '"status":"warn"' in checks[-1].model_dump_json()
