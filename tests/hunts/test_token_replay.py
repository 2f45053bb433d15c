"""The token replay hunt: phished tokens used from elsewhere, and a laptop taken home."""

from __future__ import annotations

from pathlib import Path

import anyio
import pytest
from pydantic import ValidationError

from entra_hunt.backends.local import LocalBackend
from entra_hunt.engine.demo import PLANTED
from entra_hunt.hunts import TokenReplayHunt, TokenReplayParameters
from entra_hunt.runner import run_hunt
from labelled_runs import run_labelled

HUNT = "device-code-token-replay"


def _case(case_id: str) -> object:
    return next(c for c in PLANTED if c.case_id == case_id)


def test_each_finding_is_one_session_used_from_one_new_place_with_its_origin() -> None:
    result = run_labelled(HUNT, "AADNonInteractiveUserSignInLogs")
    phish = next(c for c in PLANTED if c.case_id == "phish-1")

    [finding] = [f for f in result.findings if f.session_id == phish.session_id]

    assert finding.subject == "session"
    assert finding.location.ip_address == "65.21.149.8"
    assert finding.events == 4
    assert finding.steps[0].table == "SigninLogs" and phish.ip_address in (
        finding.steps[0].detail or ""
    )
    assert {"token-ip-changed", "token-country-changed", "unmanaged-device-code"} <= set(
        finding.tags
    )
    assert result.tables_read == ["AADNonInteractiveUserSignInLogs", "SigninLogs"]


def test_a_managed_laptop_refreshing_from_home_is_informational() -> None:
    result = run_labelled(HUNT, "AADNonInteractiveUserSignInLogs")
    home = next(c for c in PLANTED if c.case_id == "cli-2")

    [finding] = [f for f in result.findings if f.session_id == home.session_id]

    assert "token-ip-changed" in finding.tags and "managed-device" in finding.tags
    assert "token-country-changed" not in finding.tags
    assert finding.severity.value == "informational"


def test_refreshes_from_the_sign_ins_own_address_are_not_reported() -> None:
    result = run_labelled(HUNT, "AADNonInteractiveUserSignInLogs")
    same_place = {c.session_id for c in PLANTED if c.case_id in ("cli-1", "room-managed-1")}

    assert not same_place & {f.session_id for f in result.findings}


def test_an_origin_older_than_origin_lookback_is_not_compared_and_the_note_says_so() -> None:
    old = next(c for c in PLANTED if c.case_id == "phish-old")
    backend = LocalBackend(Path("/nonexistent/entra-hunt-tests/absent.duckdb"))

    def hunt(origin: str) -> set[str | None]:
        params = TokenReplayParameters(lookback="7d", origin_lookback=origin)
        result = anyio.run(run_hunt, TokenReplayHunt(), params, backend)
        assert any("origin_lookback" in note for note in result.notes)
        return {f.session_id for f in result.findings}

    assert old.session_id in hunt("14d")
    assert old.session_id not in hunt("1d")


def test_on_defender_the_window_and_origin_lookback_must_fit_thirty_days() -> None:
    with pytest.raises(ValidationError, match="30 days"):
        TokenReplayParameters.model_validate({"backend": "defender", "lookback": "20d"})
    assert TokenReplayParameters.model_validate({"backend": "defender", "lookback": "7d"})
