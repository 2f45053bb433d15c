"""The device code hunt's verdict on every planted case of the bundled demo dataset.

Runs the real hunt through the runner on the real local engine, on each of the three tables
the hunt supports, and checks each planted case: phishing found, benign look-alikes either not
found or ranked below every malicious finding, failed attempts not found.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import anyio
import pytest

from entra_hunt.backends.local import LocalBackend
from entra_hunt.engine.demo import DEMO_END, INSTRUCTION_USER_AGENT, PLANTED
from entra_hunt.findings.models import HuntResult
from entra_hunt.hunts import DeviceCodeHunt, DeviceCodeParameters
from entra_hunt.runner import run_hunt

TABLES = ("SigninLogs", "EntraIdSignInEvents", "AADSignInEventsBeta")
BROKER = "29d9ed98-a469-4536-ade2-f981bc1d605e"


def _hunt(tmp_path: Path, **arguments: object) -> HuntResult:
    params = DeviceCodeParameters.model_validate(arguments)
    backend = LocalBackend(tmp_path / "absent.duckdb")
    return anyio.run(run_hunt, DeviceCodeHunt(), params, backend)


@pytest.fixture(scope="module", params=TABLES)
def fortnight(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> HuntResult:
    """The hunt over all 14 days of the demo dataset, on one table."""
    return _hunt(
        tmp_path_factory.mktemp("db"), lookback="14d", max_findings=500, table=request.param
    )


def _by_user(result: HuntResult) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for finding in result.findings:
        found.setdefault(finding.user or "", []).append(finding.severity.value)
    return found


@pytest.mark.parametrize("case", PLANTED, ids=[c.case_id for c in PLANTED])
def test_each_planted_case_is_found_exactly_when_expected(
    fortnight: HuntResult, case: object
) -> None:
    from entra_hunt.engine.demo import PlantedCase

    assert isinstance(case, PlantedCase)
    found = [
        f
        for f in fortnight.findings
        if f.user == case.user
        and case.success_time is not None
        and abs(f.time - case.success_time) < timedelta(seconds=1)
    ]

    assert bool(found) == case.expected_found, case.notes
    if found and fortnight.table == "SigninLogs":
        assert found[0].severity.value == case.expected_severity, found[0].reasons


def test_the_hunt_finds_nothing_but_the_planted_cases(fortnight: HuntResult) -> None:
    planted = {(c.user, c.success_time) for c in PLANTED if c.expected_found}

    reported = {
        (f.user, f.time.replace(microsecond=f.time.microsecond // 1000 * 1000))
        for f in fortnight.findings
    }

    assert {user for user, _ in reported} == {user for user, _ in planted}
    assert fortnight.rows_matched == len(planted)
    assert fortnight.complete is True


def test_every_malicious_finding_ranks_above_every_benign_one(fortnight: HuntResult) -> None:
    verdict = {c.user: c.verdict for c in PLANTED if c.expected_found}

    order = [verdict[f.user or ""] for f in fortnight.findings]

    assert order == sorted(order, key=lambda v: v != "malicious"), order
    malicious = [f for f in fortnight.findings if verdict[f.user or ""] == "malicious"]
    assert all(f.severity.value in ("high", "medium") for f in malicious)


def test_the_broker_case_is_tagged_and_excluding_it_says_so(
    fortnight: HuntResult, tmp_path: Path
) -> None:
    broker = [f for f in fortnight.findings if f.app.id == BROKER]
    assert broker and all("broker-client" in f.tags for f in broker)

    without = _hunt(tmp_path, lookback="14d", exclude_broker=True, table=fortnight.table)

    assert all(f.app.id != BROKER for f in without.findings)
    assert without.rows_matched == fortnight.rows_matched - len(broker)
    assert any("Authentication Broker" in note and "excluded" in note for note in without.notes)


def test_an_instruction_in_a_user_agent_is_reported_as_data(fortnight: HuntResult) -> None:
    injected = [f for f in fortnight.findings if f.user_agent == INSTRUCTION_USER_AGENT]

    assert injected, "the finding is still reported"
    assert injected[0].severity.value in ("high", "medium")
    assert "user_agent" in fortnight.untrusted_fields
    assert INSTRUCTION_USER_AGENT not in " ".join(injected[0].reasons)


def test_the_default_seven_day_lookback_leaves_out_the_older_case(tmp_path: Path) -> None:
    old = next(c for c in PLANTED if c.case_id == "phish-old")

    week = _hunt(tmp_path)

    assert week.window.end == DEMO_END
    assert week.window.start == DEMO_END - timedelta(days=7)
    assert old.user not in {f.user for f in week.findings}
    assert any("demo dataset" in note for note in week.notes)


def test_a_risk_floor_keeps_only_risky_sign_ins(tmp_path: Path) -> None:
    risky = _hunt(tmp_path, lookback="14d", risk="medium")

    assert risky.findings
    assert all("risky" in f.tags for f in risky.findings)
    assert all(
        f.risk_during_sign_in in ("medium", "high") or f.risk_aggregated in ("medium", "high")
        for f in risky.findings
    )


def test_a_user_filter_returns_only_that_user(tmp_path: Path) -> None:
    target = next(c for c in PLANTED if c.case_id == "phish-3").user

    result = _hunt(tmp_path, lookback="14d", users=[target.upper()])

    assert {f.user for f in result.findings} == {target}


def test_max_findings_truncates_the_list_but_not_the_counts(tmp_path: Path) -> None:
    result = _hunt(tmp_path, lookback="14d", max_findings=2)

    assert len(result.findings) == 2
    assert result.findings_truncated is True
    assert sum(result.summary.by_severity.values()) == result.rows_matched > 2
    assert any("max_findings" in note for note in result.notes)
