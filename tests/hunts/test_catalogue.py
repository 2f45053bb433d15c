"""The catalogue: every hunt registered, described per backend, with its KQL on demand."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from entra_hunt.errors import ParameterError
from entra_hunt.hunts import CATALOGUE, BackendName, get_hunt
from entra_hunt.hunts.catalogue import describe_catalogue, hunt_query

NOW = datetime(2026, 11, 30, tzinfo=UTC)


def test_the_catalogue_holds_the_five_hunts_by_id() -> None:
    assert set(CATALOGUE) == {
        "device-code-unmanaged",
        "broker-chain",
        "device-code-one-source",
        "device-code-token-replay",
        "device-code-first-use",
    }
    with pytest.raises(ParameterError, match="broker-chain"):
        get_hunt("no-such-hunt")


def test_every_hunt_describes_every_backend_and_what_defender_cannot_see() -> None:
    catalogue = describe_catalogue()

    for hunt in catalogue.hunts:
        assert {row.backend for row in hunt.coverage} == {b.value for b in BackendName}
        defender = [row for row in hunt.coverage if row.backend == "defender"]
        assert all(row.cannot for row in defender), hunt.id
        assert hunt.techniques and hunt.signals
        assert "properties" in hunt.parameters
    broker = next(h for h in catalogue.hunts if h.id == "broker-chain")
    assert any("AuditLogs" in row.cannot for row in broker.coverage if row.backend == "defender")
    sentinel = next(row for row in broker.coverage if row.backend == "sentinel")
    assert sentinel.also_reads == ["AADNonInteractiveUserSignInLogs", "AuditLogs"]


def test_a_hunt_query_is_rendered_for_the_backend_asked_without_running() -> None:
    hunt = CATALOGUE["device-code-token-replay"]
    params = hunt.parameters.model_validate({"backend": "defender", "lookback": "7d"})

    rendered = hunt_query(hunt.id, params, now=NOW)

    assert rendered.table == "EntraIdSignInEvents"
    assert "Timestamp between" in rendered.query and "TimeGenerated" not in rendered.query
    assert rendered.window.end == NOW
    assert rendered.reads_from < rendered.window.start


def test_asking_for_a_table_the_backend_does_not_hunt_names_the_right_ones() -> None:
    hunt = CATALOGUE["broker-chain"]
    params = hunt.parameters.model_validate({"backend": "sentinel", "table": "AuditLogs"})

    with pytest.raises(ParameterError, match="SigninLogs"):
        hunt_query(hunt.id, params, now=NOW)
