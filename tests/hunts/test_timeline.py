"""The user timeline pivot on the demo dataset: sign-ins, device code use, registrations."""

from __future__ import annotations

from pathlib import Path

import anyio
import pytest
from pydantic import ValidationError

from entra_hunt.backends.local import LocalBackend
from entra_hunt.engine.demo import PLANTED
from entra_hunt.findings.pivots import UserTimeline
from entra_hunt.hunts.timeline import TimelineParameters
from entra_hunt.pivots import investigate_user

BROKER = next(c for c in PLANTED if c.case_id == "broker-registration")


def _timeline(**arguments: object) -> UserTimeline:
    params = TimelineParameters.model_validate(
        {"user": BROKER.user, "around": BROKER.first_seen, "span": "2h", **arguments}
    )
    backend = LocalBackend(Path("/nonexistent/entra-hunt-tests/absent.duckdb"))
    return anyio.run(investigate_user, params, backend)


def test_the_broker_victims_timeline_shows_the_phish_the_registration_and_the_new_device() -> None:
    timeline = _timeline()

    kinds = [event.kind for event in timeline.events]

    assert kinds.index("device code sign-in") < kinds.index("device registration")
    assert timeline.summary.device_code_sign_ins == 1
    assert timeline.summary.device_registrations == 1
    assert "DESKTOP-7QK2M4B" in timeline.summary.by_device
    assert BROKER.ip_address in timeline.summary.by_ip_address
    assert [e.time for e in timeline.events] == sorted(e.time for e in timeline.events)
    assert timeline.tables == ["SigninLogs", "AADNonInteractiveUserSignInLogs", "AuditLogs"]


def test_on_defender_tables_the_timeline_says_registrations_are_not_visible() -> None:
    timeline = _timeline(table="EntraIdSignInEvents")

    assert timeline.summary.device_registrations == 0
    assert timeline.summary.device_code_sign_ins == 1
    assert any("no AuditLogs" in note for note in timeline.notes)


def test_max_events_truncates_and_says_so() -> None:
    timeline = _timeline(max_events=3)

    assert len(timeline.events) == 3 and timeline.truncated
    assert any("max_events" in note for note in timeline.notes)


def test_span_and_user_are_validated() -> None:
    with pytest.raises(ValidationError, match="span"):
        TimelineParameters(user=BROKER.user, around=BROKER.first_seen, span="30d")
    with pytest.raises(ValidationError, match="user"):
        TimelineParameters(user="not a upn", around=BROKER.first_seen)
