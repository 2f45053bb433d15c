"""The broker chain hunt: each step of the chain, what Defender cannot see, benign onboarding."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import anyio
import pytest
from pydantic import ValidationError

from entra_hunt.backends.local import LocalBackend
from entra_hunt.engine.demo import PLANTED
from entra_hunt.engine.store import Store
from entra_hunt.findings.models import Finding, HuntResult
from entra_hunt.hunts import BrokerChainHunt, BrokerChainParameters
from entra_hunt.runner import run_hunt
from labelled_runs import run_labelled

HUNT = "broker-chain"


def _chain(result: HuntResult, case_id: str) -> Finding:
    user = next(c.user for c in PLANTED if c.case_id == case_id)
    return next(f for f in result.findings if f.user == user)


def test_the_attackers_chain_shows_every_step_on_sentinel_tables() -> None:
    result = run_labelled(HUNT, "SigninLogs")

    chain = _chain(result, "broker-registration")

    assert [step.seen for step in chain.steps] == [True, True, True, True]
    assert "DESKTOP-7QK2M4B" in (chain.steps[2].detail or "")
    assert chain.steps[2].table == "AuditLogs"
    assert {"registered-device", "prt-from-new-device", "new-device-unmanaged"} <= set(chain.tags)
    assert chain.severity.value == "high" and chain.confidence.value == "high"
    assert chain.subject == "chain"
    assert result.tables_read == ["SigninLogs", "AADNonInteractiveUserSignInLogs", "AuditLogs"]


@pytest.mark.parametrize("table", ["EntraIdSignInEvents", "AADSignInEventsBeta"])
def test_on_defender_tables_the_registration_is_unseen_and_said_so(table: str) -> None:
    chain = _chain(run_labelled(HUNT, table), "broker-registration")

    registration, new_device = chain.steps[2], chain.steps[3]

    assert registration.seen is False
    assert "no AuditLogs" in (registration.detail or "")
    assert new_device.seen is True and "DESKTOP-7QK2M4B" in (new_device.detail or "")
    assert "registered-device" not in chain.tags
    assert chain.severity.value == "high"


def test_onboarding_a_meeting_room_panel_is_a_low_benign_chain() -> None:
    chain = _chain(run_labelled(HUNT, "SigninLogs"), "broker-onboarding")

    assert all(step.seen for step in chain.steps)
    assert {"device-enrolled", "trusted-location", "meeting-room-pattern"} <= set(chain.tags)
    assert "new-device-unmanaged" not in chain.tags
    assert chain.severity.value in ("low", "informational")
    assert chain.confidence.value == "low"


def test_follow_up_is_bounded() -> None:
    with pytest.raises(ValidationError, match="follow_up"):
        BrokerChainParameters(follow_up="9d")
    assert BrokerChainParameters(follow_up="10m").follow_up_span().total_seconds() == 600


def test_without_audit_logs_loaded_the_result_says_which_steps_it_could_not_see(
    tmp_path: Path,
) -> None:
    database = tmp_path / "signins.duckdb"
    demo = resources.files("entra_hunt").joinpath("data", "demo", "SigninLogs.jsonl.gz")
    with resources.as_file(demo) as path, Store(database) as store:
        store.load_jsonl("SigninLogs", path)
    params = BrokerChainParameters.model_validate(
        {"start": "2026-11-16T00:00:00Z", "end": "2026-11-30T00:00:00Z"}
    )

    result = anyio.run(run_hunt, BrokerChainHunt(), params, LocalBackend(database))

    assert any("AuditLogs" in note and "no rows" in note for note in result.notes)
    chain = next(f for f in result.findings if f.user and f.user.startswith("julien"))
    assert chain.steps[2].seen is False
