"""The same hunt on the same data gives the same findings on sentinel, defender and local.

Sentinel and Defender run through the real SDK clients against the loopback services, which
execute the received KQL on the embedded engine; local runs it directly. Any drift in how a
backend passes the window, converts types or reads rows shows up as a different finding set.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from azure_fakes import GraphHuntingService

from entra_hunt.backends.base import Backend
from entra_hunt.backends.defender import DefenderBackend
from entra_hunt.backends.local import LocalBackend
from entra_hunt.backends.sentinel import SentinelBackend
from entra_hunt.engine.demo import DEMO_END, DEMO_START
from entra_hunt.findings.models import HuntResult
from entra_hunt.hunts import DeviceCodeHunt, DeviceCodeParameters
from entra_hunt.runner import run_hunt

pytestmark = pytest.mark.anyio

Key = tuple[str | None, str, str | None, str | None, str]


def _params(table: str | None = None) -> DeviceCodeParameters:
    return DeviceCodeParameters(start=DEMO_START, end=DEMO_END, max_findings=500, table=table)


async def _hunt(backend: Backend, table: str | None = None) -> HuntResult:
    return await run_hunt(DeviceCodeHunt(), _params(table), backend)


def _keys(result: HuntResult) -> set[Key]:
    return {
        (f.user, f.time.isoformat(), f.location.ip_address, f.app.id, f.severity.value)
        for f in result.findings
    }


def _sign_ins(result: HuntResult) -> set[tuple[str | None, str, str | None, str | None]]:
    return {(u, t, ip, app) for u, t, ip, app, _ in _keys(result)}


async def test_sentinel_finds_exactly_what_local_finds_in_signinlogs(
    sentinel: SentinelBackend, local: LocalBackend
) -> None:
    remote = await _hunt(sentinel)
    here = await _hunt(local, "SigninLogs")

    assert remote.table == here.table == "SigninLogs"
    assert remote.complete and here.complete
    assert remote.findings, "the demo dataset holds device code phishing to find"
    assert _keys(remote) == _keys(here)
    assert remote.summary == here.summary


async def test_defender_finds_exactly_what_local_finds_in_entraidsigninevents(
    defender: DefenderBackend, local: LocalBackend
) -> None:
    remote = await _hunt(defender)
    here = await _hunt(local, "EntraIdSignInEvents")

    assert remote.table == "EntraIdSignInEvents"
    assert remote.complete
    assert _keys(remote) == _keys(here)


async def test_defender_on_aadsignineventsbeta_by_parameter_matches_local(
    defender: DefenderBackend, local: LocalBackend
) -> None:
    remote = await _hunt(defender, "AADSignInEventsBeta")
    here = await _hunt(local, "AADSignInEventsBeta")

    assert remote.table == "AADSignInEventsBeta"
    assert _keys(remote) == _keys(here)


async def test_defender_falls_back_to_the_beta_table_and_says_why(
    defender: DefenderBackend, graph: GraphHuntingService, local: LocalBackend
) -> None:
    graph.absent_tables.add("EntraIdSignInEvents")

    remote = await _hunt(defender)
    here = await _hunt(local, "AADSignInEventsBeta")

    assert remote.table == "AADSignInEventsBeta"
    assert _keys(remote) == _keys(here)
    assert any("could not resolve EntraIdSignInEvents" in note for note in remote.notes)


async def test_every_backend_and_table_reports_the_same_sign_ins(
    sentinel: SentinelBackend, defender: DefenderBackend, local: LocalBackend
) -> None:
    sentinel_run = await _hunt(sentinel)
    entra = await _hunt(defender)
    beta = await _hunt(defender, "AADSignInEventsBeta")
    here = await _hunt(local)

    assert _sign_ins(sentinel_run) == _sign_ins(entra) == _sign_ins(beta) == _sign_ins(here)


async def test_the_window_sent_to_the_service_contains_the_hunt_window(
    sentinel: SentinelBackend, defender: DefenderBackend, graph: GraphHuntingService
) -> None:
    start = DEMO_END - timedelta(days=3, microseconds=250)
    params = DeviceCodeParameters(start=start, end=DEMO_END - timedelta(microseconds=1))

    await run_hunt(DeviceCodeHunt(), params, defender)

    sent = graph.received[-1].body["Timespan"]
    assert sent == "2026-11-26T23:59:59Z/2026-11-30T00:00:00Z"
