"""The one-source hunt: kits redeeming several victims' codes, and corporate egress look-alikes."""

from __future__ import annotations

from pathlib import Path

import anyio
import pytest
from pydantic import ValidationError

from entra_hunt.backends.local import LocalBackend
from entra_hunt.engine.demo import PLANTED
from entra_hunt.hunts import OneSourceHunt, OneSourceParameters
from entra_hunt.runner import run_hunt
from labelled_runs import run_labelled

HUNT = "device-code-one-source"


def _case_user(case_id: str) -> str:
    return next(c.user for c in PLANTED if c.case_id == case_id)


def _hunt(**arguments: object) -> list[tuple[str | None, list[str]]]:
    params = OneSourceParameters.model_validate({"lookback": "14d", **arguments})
    backend = LocalBackend(Path("/nonexistent/entra-hunt-tests/absent.duckdb"))
    result = anyio.run(run_hunt, OneSourceHunt(), params, backend)
    return [(f.location.ip_address, f.users) for f in result.findings]


def test_one_finding_per_source_lists_every_user_it_reached() -> None:
    result = run_labelled(HUNT, "SigninLogs")

    kit = next(f for f in result.findings if f.location.ip_address == "159.203.77.0/24")

    assert kit.subject == "source" and kit.user is None
    assert kit.users == sorted([_case_user("phish-1"), _case_user("phish-2")])
    assert kit.events == 2
    assert any("never completed" in reason for reason in kit.reasons), kit.reasons
    assert {"several-users-one-source", "hosting-provider-ip"} <= set(kit.tags)


def test_grouping_by_ip_misses_the_kit_that_rotated_addresses_in_its_slash_24() -> None:
    by_ip = _hunt(group_by="ip")
    by_subnet = _hunt(group_by="subnet")

    rotated = {_case_user("phish-subnet"), _case_user("broker-registration")}

    assert not any(rotated <= set(users) for _, users in by_ip)
    assert any(rotated <= set(users) and ip == "45.76.83.0/24" for ip, users in by_subnet)


def test_a_narrow_within_breaks_up_the_corporate_cluster() -> None:
    wide = _hunt(within="6h")
    narrow = _hunt(within="1h")

    assert any(ip == "193.57.108.20" for ip, _ in wide)
    assert not any(ip == "193.57.108.20" for ip, _ in narrow)
    assert any(ip == "159.203.77.142" for ip, _ in narrow), "the kit's victims were 51 min apart"


def test_a_user_filter_keeps_sources_that_reached_the_user_and_says_so() -> None:
    target = _case_user("phish-2")

    found = _hunt(users=[target])

    assert found and all(target in users for _, users in found)
    assert len(found[0][1]) >= 2


def test_min_users_is_bounded() -> None:
    with pytest.raises(ValidationError, match="min_users"):
        OneSourceParameters(min_users=1)
    with pytest.raises(ValidationError, match="within"):
        OneSourceParameters(within="8d")
