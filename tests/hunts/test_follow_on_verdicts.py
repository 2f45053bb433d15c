"""Every follow-on hunt on the labelled demo dataset: what it reports, and in which order.

For each hunt and each local table it runs on: the users it reports are exactly the planted
cases' ``found_by`` (no background user, no case it must leave out); every finding about a
malicious case ranks above every finding about only benign ones; malicious findings are high
or medium severity.
"""

from __future__ import annotations

import pytest

from entra_hunt.hunts import CATALOGUE, BackendName
from labelled_runs import LABELLED_RUNS, expected_users, run_labelled, verdicts

RUNS = [
    (hunt_id, table)
    for hunt_id in LABELLED_RUNS
    for table in CATALOGUE[hunt_id].tables[BackendName.LOCAL]
]
IDS = [f"{hunt_id}-{table}" for hunt_id, table in RUNS]


@pytest.mark.parametrize(("hunt_id", "table"), RUNS, ids=IDS)
def test_each_hunt_reports_exactly_the_labelled_users(hunt_id: str, table: str) -> None:
    result = run_labelled(hunt_id, table)

    reported = {user for finding in result.findings for user in finding.users}

    assert reported == set(expected_users(hunt_id))
    assert result.complete is True
    assert result.findings_truncated is False


@pytest.mark.parametrize(("hunt_id", "table"), RUNS, ids=IDS)
def test_every_malicious_finding_ranks_above_every_benign_one(hunt_id: str, table: str) -> None:
    result = run_labelled(hunt_id, table)

    malicious = ["malicious" in verdicts(f, hunt_id) for f in result.findings]

    assert malicious == sorted(malicious, reverse=True), [
        (f.users, f.severity.value, f.score) for f in result.findings
    ]
    for finding, bad in zip(result.findings, malicious, strict=True):
        if bad:
            assert finding.severity.value in ("high", "medium"), finding.reasons
        else:
            assert finding.severity.value != "high", finding.reasons


@pytest.mark.parametrize(("hunt_id", "table"), RUNS, ids=IDS)
def test_every_finding_explains_its_severity_and_confidence(hunt_id: str, table: str) -> None:
    result = run_labelled(hunt_id, table)

    for finding in result.findings:
        assert finding.reasons and finding.confidence_reason
        assert len(finding.reasons) == len(finding.tags)
        assert set(finding.tags) <= set(CATALOGUE[hunt_id].signals), finding.tags
    assert sum(result.summary.by_severity.values()) == result.rows_matched
    assert sum(result.summary.by_confidence.values()) == result.rows_matched
