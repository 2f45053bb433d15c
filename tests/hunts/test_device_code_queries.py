"""Every query the device code hunt can render is valid KQL for its real table.

Checked twice: by Microsoft's own parser (Kusto.Language) against the official schema of the
table, so an unknown column or a string compared with a number fails the build, and by the
local engine (duckdb-kql), so the same text really runs here.
"""

from __future__ import annotations

import itertools
from datetime import UTC, datetime

import pytest

from entra_hunt.engine.store import Store
from entra_hunt.hunts import DeviceCodeHunt, DeviceCodeParameters, RiskFloor
from kusto_parser import analyse

START = datetime(2026, 11, 23, tzinfo=UTC)
END = datetime(2026, 11, 30, tzinfo=UTC)
HUNT = DeviceCodeHunt()
TABLES = ("SigninLogs", "EntraIdSignInEvents", "AADSignInEventsBeta")


def _variants() -> dict[str, tuple[str, str]]:
    """Every table x every parameter combination that changes the query's shape."""
    variants = {}
    for table, risk, broker, users in itertools.product(
        TABLES, list(RiskFloor), (False, True), ([], ["alice@contoso.example", "o'neil@x.example"])
    ):
        params = DeviceCodeParameters(risk=risk, exclude_broker=broker, users=users)
        query = HUNT.render(params, table, START, END, 1001)
        variants[f"{table}-{risk.value}-broker{broker}-users{len(users)}"] = (table, query.text)
    return variants


VARIANTS = _variants()


@pytest.mark.slow
def test_every_rendered_query_passes_microsofts_parser_against_its_table() -> None:
    analyses = analyse({key: text for key, (_, text) in VARIANTS.items()})

    failures = [a.report() for a in analyses.values() if a.errors]

    assert not failures, "\n\n".join(failures)


@pytest.mark.slow
def test_each_query_reads_only_columns_of_the_table_it_names() -> None:
    analyses = analyse({key: text for key, (_, text) in VARIANTS.items()})

    for key, (table, _) in VARIANTS.items():
        from entra_hunt.engine.schema import table_schema

        schema = table_schema(table)
        read = {c.name for c in analyses[key].columns}
        source_columns = read - set(HUNT_OUTPUT)
        assert source_columns <= set(schema.names), (key, source_columns - set(schema.names))
        for column in analyses[key].columns:
            if column.name in schema.names and column.name not in HUNT_OUTPUT:
                assert column.type == schema.type_of(column.name), (key, column)


HUNT_OUTPUT = {
    "SignInTime",
    "User",
    "UserId",
    "AppName",
    "AppId",
    "ResourceName",
    "ResourceId",
    "IPAddress",
    "Country",
    "City",
    "AutonomousSystem",
    "DeviceId",
    "DeviceName",
    "DeviceOS",
    "Browser",
    "TrustType",
    "DeviceManaged",
    "DeviceCompliant",
    "RiskDuringSignIn",
    "RiskAggregated",
    "CorrelationId",
    "SessionId",
    "RequestId",
    "UserAgent",
    "NetworkLocations",
    "ResultCode",
    "FlowMarker",
}


@pytest.mark.parametrize("key", sorted(VARIANTS))
def test_every_rendered_query_runs_on_the_local_engine(key: str) -> None:
    table, text = VARIANTS[key]
    with Store(":memory:") as store:
        columns, rows = store.kql(text)

    assert columns == list(_output_columns())
    assert rows == []


def _output_columns() -> tuple[str, ...]:
    from entra_hunt.hunts.device_code import OUTPUT_COLUMNS

    return OUTPUT_COLUMNS


def test_result_type_is_compared_as_text_in_sentinel_and_as_a_number_in_defender() -> None:
    params = DeviceCodeParameters()

    sentinel = HUNT.render(params, "SigninLogs", START, END, 10).text
    defender = HUNT.render(params, "EntraIdSignInEvents", START, END, 10).text

    assert 'ResultType == "0"' in sentinel
    assert "ErrorCode == 0" in defender
    assert "Timestamp between" in defender and "TimeGenerated" not in defender
    assert "EntraIdDeviceId" in defender and "AadDeviceId" not in defender
    assert "AadDeviceId" in HUNT.render(params, "AADSignInEventsBeta", START, END, 10).text


def test_risk_floor_is_a_string_list_in_sentinel_and_a_number_in_defender() -> None:
    params = DeviceCodeParameters(risk=RiskFloor.MEDIUM)

    sentinel = HUNT.render(params, "SigninLogs", START, END, 10).text
    defender = HUNT.render(params, "AADSignInEventsBeta", START, END, 10).text

    assert 'let risk_levels = dynamic(["medium", "high"]);' in sentinel
    assert "let min_risk = 50;" in defender
