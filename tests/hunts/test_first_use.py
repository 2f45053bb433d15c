"""The first-use hunt: a user's first device code sign-in against a baseline."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from entra_hunt.engine.demo import PLANTED
from entra_hunt.hunts import FirstUseParameters
from labelled_runs import run_labelled

HUNT = "device-code-first-use"


def _case_user(case_id: str) -> str:
    return next(c.user for c in PLANTED if c.case_id == case_id)


def test_habitual_device_code_users_are_not_reported() -> None:
    result = run_labelled(HUNT, "SigninLogs")
    habitual = {c.user for c in PLANTED if c.kind == "device-code-baseline"}

    assert habitual.isdisjoint({f.user for f in result.findings})
    assert any("baseline" in note for note in result.notes)


def test_new_ip_and_country_for_the_user_come_from_the_baseline_history() -> None:
    result = run_labelled(HUNT, "SigninLogs")

    night = next(f for f in result.findings if f.user == _case_user("phish-night"))
    admin = next(f for f in result.findings if f.user == _case_user("onboarding-admin"))

    assert {"new-ip-for-user", "new-country-for-user", "off-hours", "risky"} <= set(night.tags)
    assert "hosting-provider-ip" not in night.tags, "a residential proxy"
    assert "new-ip-for-user" not in admin.tags, "the admin always works from the office"
    assert "trusted-location" in admin.tags


def test_a_managed_device_cli_first_use_is_informational() -> None:
    result = run_labelled(HUNT, "SigninLogs")

    cli = next(f for f in result.findings if f.user == _case_user("cli-2"))

    assert "managed-device" in cli.tags and "unmanaged-device-code" not in cli.tags
    assert cli.severity.value == "informational"


def test_off_hours_follow_the_office_time_zone() -> None:
    from datetime import UTC, datetime

    from entra_hunt.hunts.signin import off_hours_signal

    tuesday_7_30_utc = datetime(2026, 11, 24, 7, 30, tzinfo=UTC)
    paris = FirstUseParameters(timezone="Europe/Paris").zone()
    new_york = FirstUseParameters(timezone="America/New_York").zone()

    assert off_hours_signal(tuesday_7_30_utc, paris) is None
    late = off_hours_signal(tuesday_7_30_utc, new_york)
    assert late is not None and "02:30" in late.reason


def test_defender_windows_must_fit_its_thirty_days() -> None:
    with pytest.raises(ValidationError, match="30 days"):
        FirstUseParameters.model_validate(
            {"backend": "defender", "lookback": "14d", "baseline": "21d"}
        )
    assert FirstUseParameters.model_validate(
        {"backend": "defender", "lookback": "7d", "baseline": "21d"}
    )
    with pytest.raises(ValidationError, match="timezone|time zone"):
        FirstUseParameters(timezone="Mars/Olympus")
