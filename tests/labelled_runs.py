"""The labelled runs of the follow-on hunts on the demo dataset, and their expected truth.

Each follow-on hunt is judged over one run, the one the planted cases' ``found_by`` describes:
14 days for the broker chain, token replay and one source (grouped by /24), the last 7 days
against the baseline before them for first use. A finding involves the planted cases of its
users (several for a source finding); its verdict is theirs.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import anyio

from entra_hunt.backends.local import LocalBackend
from entra_hunt.engine.demo import PLANTED
from entra_hunt.findings.models import Finding, HuntResult
from entra_hunt.hunts import CATALOGUE
from entra_hunt.runner import run_hunt

__all__ = ["LABELLED_RUNS", "expected_users", "run_labelled", "verdicts"]

LABELLED_RUNS: dict[str, dict[str, object]] = {
    "broker-chain": {"lookback": "14d"},
    "device-code-one-source": {"lookback": "14d", "group_by": "subnet"},
    "device-code-token-replay": {"lookback": "14d"},
    "device-code-first-use": {"lookback": "7d"},
}


@cache
def run_labelled(hunt_id: str, table: str) -> HuntResult:
    """The labelled run of ``hunt_id`` on ``table`` of the demo dataset (cached per process)."""
    hunt = CATALOGUE[hunt_id]
    params = hunt.parameters.model_validate(
        {**LABELLED_RUNS[hunt_id], "table": table, "max_findings": 500}
    )
    backend = LocalBackend(Path("/nonexistent/entra-hunt-tests/absent.duckdb"))
    return anyio.run(run_hunt, hunt, params, backend)


def expected_users(hunt_id: str) -> dict[str, set[str]]:
    """The users the hunt must report, with the verdicts of their cases it covers."""
    expected: dict[str, set[str]] = {}
    for case in PLANTED:
        if hunt_id in case.found_by:
            expected.setdefault(case.user, set()).add(case.verdict)
    return expected


def verdicts(finding: Finding, hunt_id: str) -> set[str]:
    """The verdicts of the planted cases a finding involves (empty: none planted)."""
    expected = expected_users(hunt_id)
    return {v for user in finding.users for v in expected.get(user, set())}
