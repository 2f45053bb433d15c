"""The demo dataset: reproducible, typed by the official schemas, and true to its planted cases."""

from __future__ import annotations

import gzip
import json
import zlib
from datetime import UTC, datetime, timedelta
from importlib import resources
from pathlib import Path

import pytest

from entra_hunt.engine.demo import (
    DEMO_END,
    DEMO_START,
    INSTRUCTION_USER_AGENT,
    PLANTED,
    PlantedCase,
    dataset_file_name,
    generate,
    write_dataset,
)
from entra_hunt.engine.schema import TABLES, table_schema

Tables = dict[str, list[dict[str, object]]]
SIGNIN_TABLES = ("SigninLogs", "EntraIdSignInEvents", "AADSignInEventsBeta")
SHIPPED = Path(str(resources.files("entra_hunt").joinpath("data", "demo")))


@pytest.fixture(scope="module")
def dataset() -> Tables:
    return generate()


@pytest.fixture(scope="module")
def fresh_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return write_dataset(tmp_path_factory.mktemp("demo"))


def _case(case_id: str) -> PlantedCase:
    return next(case for case in PLANTED if case.case_id == case_id)


def _time(table: str, row: dict[str, object]) -> datetime:
    value = row[table_schema(table).time_column]
    assert isinstance(value, datetime)
    return value


def _rows_of(dataset: Tables, table: str, correlation: str) -> list[dict[str, object]]:
    rows = [row for row in dataset[table] if row["CorrelationId"] == correlation]
    return sorted(rows, key=lambda row: _time(table, row))


# -- reproducibility ------------------------------------------------------------------------


def test_generating_twice_gives_the_same_rows(dataset: Tables) -> None:
    assert generate() == dataset


def test_the_seed_varies_the_background_but_not_the_planted_cases(dataset: Tables) -> None:
    other = generate(seed=1)
    planted = {case.correlation_id for case in PLANTED}

    def planted_rows(tables: Tables) -> list[dict[str, object]]:
        return [row for row in tables["SigninLogs"] if row["CorrelationId"] in planted]

    assert other["SigninLogs"] != dataset["SigninLogs"]
    assert planted_rows(other) == planted_rows(dataset)


def test_shipped_files_match_a_fresh_generation(fresh_files: dict[str, Path]) -> None:
    shipped = sorted(path.name for path in SHIPPED.glob("*.jsonl.gz"))
    assert shipped == sorted(dataset_file_name(table) for table in TABLES)
    for table, path in fresh_files.items():
        current = gzip.decompress(path.read_bytes())
        stored = gzip.decompress((SHIPPED / path.name).read_bytes())
        assert stored == current, (
            f"{path.name} is stale: run 'python -m entra_hunt.engine.demo "
            f"server/entra_hunt/data/demo' and commit the result ({table})"
        )


def test_written_files_are_byte_identical_to_the_shipped_ones(
    fresh_files: dict[str, Path],
) -> None:
    if "ng" in zlib.ZLIB_RUNTIME_VERSION:
        pytest.skip(f"zlib-ng ({zlib.ZLIB_RUNTIME_VERSION}) compresses to different bytes")
    for path in fresh_files.values():
        data = path.read_bytes()
        assert data[3:8] == b"\x00\x00\x00\x00\x00", "gzip header must carry no name or time"
        assert data == (SHIPPED / path.name).read_bytes()


def test_shipped_files_stay_small() -> None:
    total = sum(path.stat().st_size for path in SHIPPED.glob("*.jsonl.gz"))
    assert total < 1_500_000


def test_datetimes_are_written_like_log_analytics(fresh_files: dict[str, Path]) -> None:
    with gzip.open(fresh_files["SigninLogs"], "rt", encoding="utf-8") as lines:
        first = json.loads(next(lines))

    assert isinstance(first["TimeGenerated"], str)
    assert len(first["TimeGenerated"]) == len("2026-11-23T09:14:03.1234567Z")
    assert first["TimeGenerated"].endswith("Z")
    assert isinstance(first["DeviceDetail"], dict)


# -- schema fidelity ------------------------------------------------------------------------

_PYTHON_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "dynamic": (dict, list),
    "datetime": (datetime,),
    "bool": (bool,),
    "int": (int,),
    "long": (int,),
    "real": (float,),
}


def test_every_row_has_exactly_its_tables_columns_typed_by_the_schema(dataset: Tables) -> None:
    for table in TABLES:
        schema = table_schema(table)
        assert dataset[table], f"{table} is empty"
        for row in dataset[table]:
            assert tuple(row) == schema.names
            for column in schema.columns:
                value = row[column.name]
                if value is None:
                    assert column.type != "string", f"{table}.{column.name} is null"
                    continue
                assert isinstance(value, _PYTHON_TYPES[column.type]), (table, column.name)
                if column.type in ("int", "long"):
                    assert not isinstance(value, bool), (table, column.name)
                if isinstance(value, datetime):
                    assert value.tzinfo is not None and value.utcoffset() == timedelta(0)


def test_json_bearing_columns_are_text_in_the_non_interactive_table(dataset: Tables) -> None:
    row = dataset["AADNonInteractiveUserSignInLogs"][0]
    for column in ("DeviceDetail", "LocationDetails", "Status", "ConditionalAccessPolicies"):
        value = row[column]
        assert isinstance(value, str)
        json.loads(value)


def test_result_type_is_text_and_error_code_is_a_number(dataset: Tables) -> None:
    assert {type(row["ResultType"]) for row in dataset["SigninLogs"]} == {str}
    assert {type(row["ErrorCode"]) for row in dataset["EntraIdSignInEvents"]} == {int}


def test_every_event_lies_inside_the_demo_window(dataset: Tables) -> None:
    for table in TABLES:
        for row in dataset[table]:
            assert DEMO_START <= _time(table, row) < DEMO_END
    assert DEMO_END == datetime(2026, 11, 30, tzinfo=UTC)
    assert DEMO_END - DEMO_START == timedelta(days=14)


def test_the_background_is_an_ordinary_working_fortnight(dataset: Tables) -> None:
    rows = dataset["SigninLogs"]
    users = {row["UserPrincipalName"] for row in rows}
    corporate = [row for row in rows if row["IPAddress"] in ("193.57.108.20", "91.208.37.4")]
    failures = {row["ResultType"] for row in rows} - {"0"}

    assert 2_500 <= len(rows) <= 5_000
    assert len(users) == 60
    assert len(corporate) > len(rows) / 2
    assert {"50126", "50074", "50140", "53003"} <= failures


# -- planted cases --------------------------------------------------------------------------


def test_the_planted_table_lists_each_case_once_with_a_verdict() -> None:
    ids = [case.case_id for case in PLANTED]
    assert len(ids) == len(set(ids)) == 25
    assert {case.verdict for case in PLANTED} == {"malicious", "benign"}
    for case in PLANTED:
        assert (case.expected_severity is not None) == case.expected_found
        assert case.user.endswith("@contosopharma.example")


def test_each_planted_case_is_in_all_three_signin_tables_with_the_same_ids_and_times(
    dataset: Tables,
) -> None:
    for case in PLANTED:
        sentinel, entra, beta = (
            _rows_of(dataset, table, case.correlation_id) for table in SIGNIN_TABLES
        )
        assert sentinel, case.case_id
        assert len(sentinel) == len(entra) == len(beta), case.case_id
        for s_row, e_row, b_row in zip(sentinel, entra, beta, strict=True):
            assert _time("SigninLogs", s_row) == e_row["Timestamp"] == b_row["Timestamp"]
            assert s_row["Id"] == e_row["RequestId"] == b_row["RequestId"]
            assert s_row["SessionId"] == e_row["SessionId"] == b_row["SessionId"] == case.session_id
            assert int(str(s_row["ResultType"])) == e_row["ErrorCode"] == b_row["ErrorCode"]
            assert s_row["UserPrincipalName"] == e_row["AccountUpn"] == case.user
            assert s_row["IPAddress"] == b_row["IPAddress"] == case.ip_address
        assert _time("SigninLogs", sentinel[0]) == case.first_seen
        successes = [_time("SigninLogs", row) for row in sentinel if row["ResultType"] == "0"]
        assert successes[:1] == ([case.success_time] if case.success_time else [])


def test_device_code_appears_only_in_planted_cases(dataset: Tables) -> None:
    planted = {case.correlation_id for case in PLANTED}
    device_code = [r for r in dataset["SigninLogs"] if r["AuthenticationProtocol"] == "deviceCode"]
    cmsi = [r for r in dataset["EntraIdSignInEvents"] if r["EndpointCall"] == "Cmsi:Cmsi"]

    assert {row["CorrelationId"] for row in device_code} == planted
    assert {row["CorrelationId"] for row in cmsi} <= planted
    assert {row["OriginalTransferMethod"] for row in device_code} == {"deviceCodeFlow"}


def _found(dataset: Tables, lookback: timedelta) -> dict[str, set[object]]:
    start = DEMO_END - lookback
    sentinel = {
        row["CorrelationId"]
        for row in dataset["SigninLogs"]
        if row["ResultType"] == "0"
        and row["AuthenticationProtocol"] == "deviceCode"
        and isinstance(row["DeviceDetail"], dict)
        and row["DeviceDetail"]["deviceId"] == ""
        and _time("SigninLogs", row) >= start
    }
    beta = {
        row["CorrelationId"]
        for row in dataset["AADSignInEventsBeta"]
        if row["ErrorCode"] == 0
        and row["EndpointCall"] == "Cmsi:Cmsi"
        and row["AadDeviceId"] == ""
        and _time("AADSignInEventsBeta", row) >= start
    }
    return {"SigninLogs": sentinel, "AADSignInEventsBeta": beta}


def test_a_successful_unmanaged_device_code_hunt_finds_exactly_the_expected_cases(
    dataset: Tables,
) -> None:
    expected = {case.correlation_id for case in PLANTED if case.expected_found}
    old = _case("phish-old").correlation_id

    for found in _found(dataset, timedelta(days=14)).values():
        assert found == expected
    for found in _found(dataset, timedelta(days=7)).values():
        assert found == expected - {old}


def test_planted_cases_fall_in_the_last_seven_days_except_the_old_phish_and_baselines() -> None:
    for case in PLANTED:
        age = DEMO_END - case.first_seen
        if case.case_id == "phish-old" or case.kind == "device-code-baseline":
            assert timedelta(days=7) < age < timedelta(days=14)
        else:
            assert age < timedelta(days=7), case.case_id
        assert case.first_seen <= case.last_seen < DEMO_END


def test_phished_users_tokens_are_refreshed_from_another_address(dataset: Tables) -> None:
    for case in PLANTED:
        if case.kind != "device-code-phishing":
            continue
        refreshes = [
            row
            for row in dataset["AADNonInteractiveUserSignInLogs"]
            if row["SessionId"] == case.session_id
        ]
        assert len(refreshes) >= 3, case.case_id
        for row in refreshes:
            assert row["OriginalTransferMethod"] == "deviceCodeFlow"
            assert row["IncomingTokenType"] == "refreshToken"
            assert row["IPAddress"] != case.ip_address
            assert isinstance(row["DeviceDetail"], str)
            assert json.loads(row["DeviceDetail"])["deviceId"] == ""


def test_one_source_address_phished_several_users() -> None:
    assert _case("phish-1").ip_address == _case("phish-2").ip_address
    assert _case("phish-1").user != _case("phish-2").user


def test_the_broker_case_registers_a_device_and_then_signs_in_with_it(dataset: Tables) -> None:
    case = _case("broker-registration")
    assert case.success_time is not None
    registrations = [
        row
        for row in dataset["AuditLogs"]
        if row["OperationName"] == "Register device"
        and isinstance(row["InitiatedBy"], dict)
        and row["InitiatedBy"]["user"]["userPrincipalName"] == case.user
    ]
    assert len(registrations) == 1
    registered_at = _time("AuditLogs", registrations[0])
    assert timedelta(0) < registered_at - case.success_time < timedelta(minutes=10)

    after = [
        row
        for row in dataset["SigninLogs"]
        if row["UserPrincipalName"] == case.user
        and row["IPAddress"] == case.ip_address
        and row["AuthenticationProtocol"] == "none"
    ]
    assert after
    for row in after:
        assert isinstance(row["DeviceDetail"], dict)
        assert row["DeviceDetail"]["trustType"] == "Azure AD registered"
        assert row["DeviceDetail"]["deviceId"] != ""
        assert row["DeviceDetail"]["isManaged"] is False


def test_the_instruction_like_user_agent_is_kept_verbatim(dataset: Tables) -> None:
    case = _case("phish-injected-ua")
    for table in SIGNIN_TABLES:
        agents = {row["UserAgent"] for row in _rows_of(dataset, table, case.correlation_id)}
        assert agents == {INSTRUCTION_USER_AGENT}
    assert case.verdict == "malicious" and case.expected_found


def test_risk_is_a_word_in_sentinel_and_a_number_in_defender(dataset: Tables) -> None:
    case = _case("phish-3")
    sentinel = _rows_of(dataset, "SigninLogs", case.correlation_id)
    beta = _rows_of(dataset, "AADSignInEventsBeta", case.correlation_id)
    assert {row["RiskLevelDuringSignIn"] for row in sentinel} == {"medium"}
    assert {row["RiskLevelDuringSignIn"] for row in beta} == {50}


def test_follow_on_expectations_name_catalogue_hunts_only() -> None:
    from entra_hunt.hunts import CATALOGUE

    named = {hunt for case in PLANTED for hunt in case.found_by}

    assert named == set(CATALOGUE) - {"device-code-unmanaged"}
    for case in PLANTED:
        if case.success_time is None:
            assert case.found_by == (), case.case_id


def test_the_onboarding_panel_registers_a_device_that_is_managed_when_it_signs_in(
    dataset: Tables,
) -> None:
    case = _case("broker-onboarding")
    registered = [
        row
        for row in dataset["AuditLogs"]
        if row["OperationName"] == "Register device"
        and isinstance(row["InitiatedBy"], dict)
        and row["InitiatedBy"]["user"]["userPrincipalName"] == case.user
    ]
    assert len(registered) == 1
    later = [
        row
        for row in dataset["SigninLogs"]
        if row["UserPrincipalName"] == case.user
        and row["IncomingTokenType"] == "primaryRefreshToken"
    ]
    assert later
    for row in later:
        assert isinstance(row["DeviceDetail"], dict)
        assert row["DeviceDetail"]["displayName"] == "MTR-RHONE-02"
        assert row["DeviceDetail"]["isManaged"] is True


def test_the_subnet_phish_shares_the_broker_cases_slash_24_a_few_hours_later() -> None:
    subnet, broker = _case("phish-subnet"), _case("broker-registration")

    assert subnet.ip_address != broker.ip_address
    assert subnet.ip_address.rsplit(".", 1)[0] == broker.ip_address.rsplit(".", 1)[0]
    assert abs(subnet.first_seen - broker.first_seen) < timedelta(hours=6)


def test_the_night_phish_happens_on_a_weekend_night_in_paris() -> None:
    case = _case("phish-night")
    paris = case.first_seen + timedelta(hours=1)

    assert paris.weekday() == 5 and paris.hour < 6


def test_habitual_users_have_device_code_sign_ins_in_the_first_week() -> None:
    first_week_end = DEMO_START + timedelta(days=7)
    habitual = {c.user for c in PLANTED if c.kind == "device-code-baseline"}

    for case in PLANTED:
        if case.kind == "device-code-baseline":
            assert case.first_seen < first_week_end
            assert case.verdict == "benign" and not case.found_by
    assert {"thomas.girard@contosopharma.example", "room-lyon-rhone@contosopharma.example"} <= (
        habitual
    )
