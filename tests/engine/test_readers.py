"""Behaviour of the export readers: formats recognised, values typed, failures located."""

from __future__ import annotations

import csv
import gzip
import io
import json
import logging
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from entra_hunt.engine.readers import GRAPH_TO_SIGNINLOGS, SourceRow, read_export
from entra_hunt.engine.readers.jsonstream import JsonRecords
from entra_hunt.engine.readers.rows import BadValue, coerce
from entra_hunt.engine.schema import table_schema
from entra_hunt.errors import LoadError, ParameterError

FIXTURES = Path(__file__).parent / "fixtures"
SENTINEL_CSV = FIXTURES / "AzureSentinelTrainingLab_SigninLogs_excerpt.csv"
GRAPH_JSON = FIXTURES / "MicrosoftGraph_signIn_beta_example.json"
NON_INTERACTIVE = "AADNonInteractiveUserSignInLogs"


def graph_signin(**changes: object) -> dict[str, object]:
    """A small Graph signIn, device code shaped, with ``changes`` applied."""
    record: dict[str, object] = {
        "id": "0b3c7f2e-0000-4000-8000-000000000001",
        "createdDateTime": "2026-11-30T08:15:00Z",
        "userPrincipalName": "victim@contoso.com",
        "userId": "26be570a-1111-5555-b4e2-a37c6808512d",
        "appId": "29d9ed98-a469-4536-ade2-f981bc1d605e",
        "ipAddress": "203.0.113.7",
        "authenticationProtocol": "deviceCode",
        "isInteractive": True,
        "status": {"errorCode": 50199, "failureReason": "Confirm you want to sign in"},
        "deviceDetail": {"deviceId": "", "isCompliant": None, "isManaged": None},
        "location": {"countryOrRegion": "NL", "city": "Amsterdam"},
        "autonomousSystemNumber": 64500,
        "processingTimeInMilliseconds": 12,
    }
    record.update(changes)
    return record


def as_text(value: object) -> str:
    assert isinstance(value, str), value
    return value


def read(path: Path, format: str | None = None) -> list[SourceRow]:
    return list(read_export(path, format))


def load_error(path: Path, format: str | None = None) -> str:
    with pytest.raises(LoadError) as caught:
        read(path, format)
    return str(caught.value)


def csv_text(header: list[str], *records: list[str]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(records)
    return out.getvalue()


# -- the two real samples --------------------------------------------------------------------


def test_sentinel_csv_sample_reads_as_typed_signinlogs_rows() -> None:
    rows = read(SENTINEL_CSV)

    assert [row.table for row in rows] == ["SigninLogs"] * 4
    first = rows[0].values
    assert first["ResultType"] == "0"
    assert first["CreatedDateTime"] == datetime(2021, 4, 28, 14, 8, 45, 221000, tzinfo=UTC)
    assert first["TimeGenerated"] == first["CreatedDateTime"]
    assert first["DeviceDetail"] == {
        "operatingSystem": "Windows 10",
        "deviceId": "",
        "browser": "Edge 90.0.818",
    }
    assert first["IPAddress"] == "175.45.176.99"
    assert first["UserPrincipalName"] == "adelev@m365x816222.onmicrosoft.com"
    assert first["Status"] == {"errorCode": 0}
    assert first["IsInteractive"] is True
    assert first["DurationMs"] == 0
    assert first["ProcessingTimeInMilliseconds"] == "3535"
    assert isinstance(first["AuthenticationDetails"], str)
    assert json.loads(first["AuthenticationDetails"])[0]["succeeded"] is True


def test_sentinel_csv_rows_carry_the_line_their_multiline_record_starts_on() -> None:
    rows = read(SENTINEL_CSV)
    lines = SENTINEL_CSV.read_text(encoding="utf-8").splitlines()

    assert rows[0].line == 2
    for row in rows:
        assert lines[row.line - 1].startswith("7c759f10-811c-4db8-ad6d-f07d8ae3f8ea,Azure AD,")


def test_sentinel_csv_keeps_only_columns_of_the_table() -> None:
    names = set(table_schema("SigninLogs").names)

    for row in read(SENTINEL_CSV):
        assert set(row.values) <= names


def test_graph_sample_maps_to_signinlogs_columns() -> None:
    (row,) = read(GRAPH_JSON)

    assert row.table == "SigninLogs"
    assert row.line == 1
    values = row.values
    assert values["AppId"] == "de8bc8b5-5555-6666-a8ad-b748da725064"
    assert values["Status"] == {"errorCode": 0, "failureReason": None, "additionalDetails": None}
    assert values["ResultType"] == "0"
    assert values["TimeGenerated"] == datetime(2020, 3, 13, 19, 15, 41, 619583, tzinfo=UTC)
    assert values["CreatedDateTime"] == values["TimeGenerated"]
    device = values["DeviceDetail"]
    assert isinstance(device, dict)
    assert device["isCompliant"] is None
    assert device["deviceId"] == ""
    assert values["Location"] == "US"
    assert values["ResourceIdentity"] == "00000003-0000-0000-c000-000000000000"
    assert values["ProcessingTimeInMilliseconds"] == "541"
    assert isinstance(values["AuthenticationDetails"], str)
    assert len(json.loads(values["AuthenticationDetails"])) == 2
    policies = values["ConditionalAccessPolicies"]
    assert isinstance(policies, list)
    assert len(policies) == 2


# -- Graph shapes ----------------------------------------------------------------------------


def test_graph_page_streams_its_value_records_and_warns_of_the_next_page(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    page = {
        "@odata.context": "https://graph.microsoft.com/beta/$metadata#auditLogs/signIns",
        "value": [graph_signin(), graph_signin(id="second")],
        "@odata.nextLink": "https://graph.microsoft.com/beta/auditLogs/signIns?$skiptoken=x",
    }
    path = tmp_path / "page.json"
    path.write_text(json.dumps(page, indent=2), encoding="utf-8")
    text_lines = path.read_text(encoding="utf-8").splitlines()

    with caplog.at_level(logging.WARNING):
        rows = read(path)

    assert [row.values["Id"] for row in rows] == [graph_signin()["id"], "second"]
    assert text_lines[rows[0].line - 1].strip() == "{"
    assert rows[1].line > rows[0].line
    assert "@odata.nextLink" in caplog.text


def test_graph_json_lines_give_one_row_per_line(tmp_path: Path) -> None:
    path = tmp_path / "signins.jsonl"
    records = [graph_signin(id=f"id-{n}") for n in range(3)]
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")

    rows = read(path)

    assert [(row.values["Id"], row.line) for row in rows] == [
        ("id-0", 1),
        ("id-1", 2),
        ("id-2", 3),
    ]


def test_graph_array_of_signins_is_read(tmp_path: Path) -> None:
    path = tmp_path / "signins.json"
    path.write_text(json.dumps([graph_signin(), graph_signin()]), encoding="utf-8")

    rows = read(path)

    assert len(rows) == 2
    values = rows[0].values
    assert values["ResultType"] == "50199"
    assert values["ResultDescription"] == "Confirm you want to sign in"
    assert values["AuthenticationProtocol"] == "deviceCode"
    assert values["AutonomousSystemNumber"] == "64500"
    assert values["Location"] == "NL"


def test_offset_times_are_converted_to_utc(tmp_path: Path) -> None:
    path = tmp_path / "signin.json"
    path.write_text(json.dumps(graph_signin(createdDateTime="2026-11-30T10:15:00+02:00")))

    (row,) = read(path)

    assert row.values["TimeGenerated"] == datetime(2026, 11, 30, 8, 15, tzinfo=UTC)


def test_non_interactive_graph_signins_go_to_their_table_as_json_text(tmp_path: Path) -> None:
    path = tmp_path / "signins.jsonl"
    records = [
        graph_signin(signInEventTypes=["nonInteractiveUser"], isInteractive=False),
        graph_signin(isInteractive=False),
        graph_signin(signInEventTypes=["servicePrincipal"]),
    ]
    path.write_text("\n".join(json.dumps(r) for r in records), encoding="utf-8")

    rows = read(path)

    assert [row.table for row in rows] == [NON_INTERACTIVE, NON_INTERACTIVE]
    values = rows[0].values
    assert json.loads(as_text(values["DeviceDetail"])) == {
        "deviceId": "",
        "isCompliant": None,
        "isManaged": None,
    }
    assert json.loads(as_text(values["Status"]))["errorCode"] == 50199
    assert values["ProcessingTimeInMs"] == "12"
    assert values["SignInEventTypes"] == '["nonInteractiveUser"]'
    assert values["Type"] == NON_INTERACTIVE
    assert "ProcessingTimeInMilliseconds" not in values


def test_every_graph_mapping_target_is_a_sign_in_column() -> None:
    interactive = set(table_schema("SigninLogs").names)
    non_interactive = set(table_schema(NON_INTERACTIVE).names)

    for field in GRAPH_TO_SIGNINLOGS:
        assert field.column in interactive | non_interactive, field


# -- Log Analytics shapes --------------------------------------------------------------------


def test_loganalytics_union_csv_routes_rows_by_type(tmp_path: Path) -> None:
    header = [
        "TimeGenerated [UTC]",
        "UserPrincipalName",
        "ResultType",
        "DeviceDetail_dynamic",
        "DeviceDetail_string",
        "Type",
    ]
    path = tmp_path / "union.csv"
    path.write_text(
        csv_text(
            header,
            ["2026-11-30T08:15:00Z", "a@contoso.com", "0", '{"deviceId":""}', "", "SigninLogs"],
            [
                "2026-11-30T08:16:00Z",
                "a@contoso.com",
                "0",
                "",
                '{"deviceId":"d1"}',
                NON_INTERACTIVE,
            ],
        ),
        encoding="utf-8",
    )

    interactive, non_interactive = read(path)

    assert interactive.table == "SigninLogs"
    assert interactive.values["DeviceDetail"] == {"deviceId": ""}
    assert non_interactive.table == NON_INTERACTIVE
    assert non_interactive.values["DeviceDetail"] == '{"deviceId":"d1"}'
    assert non_interactive.line == 3


def test_loganalytics_csv_without_type_but_non_interactive_columns(tmp_path: Path) -> None:
    path = tmp_path / "noninteractive.csv"
    path.write_text(
        csv_text(
            ["TimeGenerated", "UserId", "ProcessingTimeInMs", "IsInteractive"],
            ["2026-11-30 08:15:00", "u1", "7", "FALSE"],
        ),
        encoding="utf-8",
    )

    (row,) = read(path)

    assert row.table == NON_INTERACTIVE
    assert row.values["TimeGenerated"] == datetime(2026, 11, 30, 8, 15, tzinfo=UTC)
    assert row.values["IsInteractive"] is False


def test_loganalytics_json_accepts_dynamic_as_object_or_json_text(tmp_path: Path) -> None:
    records = [
        {
            "TimeGenerated": "2026-11-30T08:15:00Z",
            "AppId": "a",
            "ResultType": 0,
            "DeviceDetail": {"deviceId": ""},
        },
        {
            "TimeGenerated": "2026-11-30T08:16:00Z",
            "AppId": "a",
            "ResultType": "50074",
            "DeviceDetail": '{"deviceId": ""}',
            "IsInteractive": "True",
        },
    ]
    path = tmp_path / "la.json"
    path.write_text(json.dumps(records, indent=1), encoding="utf-8")

    first, second = read(path)

    assert first.values["ResultType"] == "0"
    assert first.values["DeviceDetail"] == {"deviceId": ""}
    assert second.values["DeviceDetail"] == {"deviceId": ""}
    assert second.values["IsInteractive"] is True
    assert second.line > first.line


def test_gzip_export_reads_like_the_plain_file(tmp_path: Path) -> None:
    path = tmp_path / "signins.csv.gz"
    path.write_bytes(gzip.compress(SENTINEL_CSV.read_bytes()))

    assert read(path) == read(SENTINEL_CSV)


def test_utf8_bom_is_ignored(tmp_path: Path) -> None:
    path = tmp_path / "bom.csv"
    path.write_bytes(b"\xef\xbb\xbf" + SENTINEL_CSV.read_bytes())

    assert read(path) == read(SENTINEL_CSV)


def test_attacker_text_is_kept_verbatim_and_never_splits_a_record(tmp_path: Path) -> None:
    agent = "curl/8 \x0c\u2028\"; | where 1==1 =cmd|' /C calc'!A0"
    path = tmp_path / "agents.csv"
    path.write_text(
        csv_text(
            ["TimeGenerated", "UserPrincipalName", "UserAgent"],
            ["2026-11-30T08:15:00Z", "a@contoso.com", agent],
            ["2026-11-30T08:15:01Z", "b@contoso.com", "unquoted\u2028\x0c\x85agent"],
        ),
        encoding="utf-8",
    )

    first, second = read(path)

    assert first.values["UserAgent"] == agent
    assert second.values["UserAgent"] == "unquoted\u2028\x0c\x85agent"
    assert second.line == 3


def test_json_records_stream_without_reading_the_whole_file() -> None:
    consumed = 0

    def chunks() -> Iterator[str]:
        nonlocal consumed
        text = "[" + ",".join(json.dumps(graph_signin(id=str(n))) for n in range(500)) + "]"
        for start in range(0, len(text), 4096):
            consumed += 1
            yield text[start : start + 4096]

    records = iter(JsonRecords(chunks(), "big.json"))
    record, line = next(records)

    assert record["id"] == "0"
    assert line == 1
    assert consumed < 5


@pytest.mark.parametrize("size", [1, 3, 17, 65536])
def test_json_records_survive_any_chunk_boundary(size: int) -> None:
    text = json.dumps({"value": [graph_signin(id="x"), graph_signin(id="y")]}, indent=2)
    text += "\n" + json.dumps(graph_signin(id="z", ipAddress="2001:db8::1")) + "\n"
    pieces = iter([text[i : i + size] for i in range(0, len(text), size)])

    found = [(record["id"], line) for record, line in JsonRecords(pieces, "f.json")]

    assert [record_id for record_id, _ in found] == ["x", "y", "z"]
    assert found[-1][1] == text.count("\n")


# -- values ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("TRUE", True),
        ("true", True),
        ("True", True),
        ("1", True),
        (True, True),
        ("FALSE", False),
        ("false", False),
        ("0", False),
        (0, False),
    ],
)
def test_bools_accept_the_usual_spellings(raw: object, expected: bool) -> None:
    assert coerce(raw, "bool") is expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("4/28/2021, 2:08:45.221 PM", datetime(2021, 4, 28, 14, 8, 45, 221000, tzinfo=UTC)),
        ("1/2/2021, 12:05:00 AM", datetime(2021, 1, 2, 0, 5, tzinfo=UTC)),
        ("1/2/2021 12:05 PM", datetime(2021, 1, 2, 12, 5, tzinfo=UTC)),
        ("2021-04-28T14:08:45.2213421+00:00", datetime(2021, 4, 28, 14, 8, 45, 221342, tzinfo=UTC)),
        ("2021-04-28T09:08:45-05:00", datetime(2021, 4, 28, 14, 8, 45, tzinfo=UTC)),
    ],
)
def test_dates_in_export_forms_become_utc(raw: str, expected: datetime) -> None:
    assert coerce(raw, "datetime") == expected


def test_string_columns_keep_numbers_as_text() -> None:
    assert coerce(0, "string") == "0"
    assert coerce("0", "string") == "0"
    assert coerce(["a"], "string") == '["a"]'
    assert coerce("", "string") is None


@pytest.mark.parametrize(
    ("raw", "kusto_type"),
    [
        ("maybe", "bool"),
        ("1.5", "long"),
        (True, "int"),
        (2**40, "int"),
        ("x", "real"),
        ("28/04/2021 14:08", "datetime"),
        ("13/28/2021, 2:08 PM", "datetime"),
        ("{", "dynamic"),
        ('{"a": NaN}', "dynamic"),
        ("nan", "real"),
    ],
)
def test_values_that_do_not_fit_are_refused(raw: object, kusto_type: str) -> None:
    with pytest.raises(BadValue):
        coerce(raw, kusto_type)


# -- failures --------------------------------------------------------------------------------


def test_wrong_typed_csv_value_names_file_line_and_field(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(
        csv_text(
            ["CreatedDateTime [UTC]", "UserPrincipalName", "IsInteractive"],
            ["4/28/2021, 2:08:45.221 PM", "a@contoso.com", "TRUE"],
            ["4/28/2021, 2:08:46.221 PM", "a@contoso.com", "maybe"],
        ),
        encoding="utf-8",
    )

    message = load_error(path)

    assert f"{path}, line 3, field IsInteractive:" in message
    assert "'maybe'" in message
    assert "true or false" in message


def test_bad_csv_date_names_the_header_as_exported(tmp_path: Path) -> None:
    path = tmp_path / "bad_date.csv"
    path.write_text(
        csv_text(["CreatedDateTime [UTC]", "UserId"], ["yesterday", "u1"]), encoding="utf-8"
    )

    message = load_error(path)

    assert f"{path}, line 2, field CreatedDateTime [UTC]:" in message
    assert "2026-11-30T08:15:00Z or 4/28/2021, 2:08:45.221 PM" in message


def test_wrong_typed_graph_value_names_the_property(tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl"
    lines = [json.dumps(graph_signin()), json.dumps(graph_signin(createdDateTime=12))]
    path.write_text("\n".join(lines), encoding="utf-8")

    message = load_error(path)

    assert f"{path}, line 2, field createdDateTime:" in message


def test_invalid_json_in_a_dynamic_cell_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "dyn.csv"
    path.write_text(
        csv_text(["TimeGenerated", "UserId", "Status_dynamic"], ["2026-11-30", "u", '{"error"']),
        encoding="utf-8",
    )

    message = load_error(path)

    assert f"{path}, line 2, field Status_dynamic:" in message
    assert "not valid JSON" in message


def test_truncated_json_array_names_the_record_line(tmp_path: Path) -> None:
    path = tmp_path / "cut.json"
    text = json.dumps([graph_signin(), graph_signin()], indent=2)
    path.write_text(text[: len(text) * 3 // 4], encoding="utf-8")
    second_start = text.index("\n  {", 10)

    message = load_error(path)

    assert f"{path}, line {text.count(chr(10), 0, second_start) + 2}:" in message
    assert "before the JSON record that starts here is complete" in message


def test_truncated_csv_inside_a_quoted_cell_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "cut.csv"
    text = SENTINEL_CSV.read_text(encoding="utf-8")
    path.write_text(text[: text.index("authenticationMethod", 3000)], encoding="utf-8")

    message = load_error(path)

    assert f"{path}, line " in message
    assert "ends inside a quoted cell" in message


def test_non_finite_json_numbers_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "nan.jsonl"
    path.write_text(json.dumps(graph_signin()) + "\n" + '{"id": NaN}\n', encoding="utf-8")

    message = load_error(path)

    assert f"{path}, line 2:" in message
    assert "NaN" in message


def test_syntax_error_in_json_names_its_line(tmp_path: Path) -> None:
    path = tmp_path / "broken.jsonl"
    path.write_text(json.dumps(graph_signin()) + '\n{"id": 1,, "x": 2}\n', encoding="utf-8")

    message = load_error(path)

    assert f"{path}, line 2:" in message
    assert "not valid" in message


def test_invalid_utf8_names_line_and_byte(tmp_path: Path) -> None:
    path = tmp_path / "latin1.csv"
    good = csv_text(["TimeGenerated", "UserPrincipalName"], ["2026-11-30T08:15:00Z", "a@x"])
    bad = b"2026-11-30T08:15:00Z,j\xe9r\xf4me@x\r\n"
    path.write_bytes(good.encode() + bad)

    message = load_error(path)

    assert f"{path}, line 3:" in message
    assert f"byte offset {len(good.encode()) + len('2026-11-30T08:15:00Z,j')}" in message
    assert "UTF-8" in message


def test_invalid_utf8_after_the_first_chunk_is_located(tmp_path: Path) -> None:
    path = tmp_path / "late.jsonl"
    line = (json.dumps(graph_signin()) + "\n").encode()
    count = 70000 // len(line) + 1
    path.write_bytes(line * count + b'{"id": "\xff"}\n')

    message = load_error(path)

    assert f"{path}, line {count + 1}:" in message
    assert f"byte offset {len(line) * count + 8}" in message


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("people.csv", "Name,Email\r\nAda,ada@example.com\r\n"),
        ("people.json", '[{"name": "Ada", "email": "ada@example.com"}]'),
    ],
)
def test_unknown_format_says_which_columns_were_expected(
    tmp_path: Path, name: str, text: str
) -> None:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")

    message = load_error(path)

    assert f"{path}, line 1:" in message
    assert "not a sign-in export" in message
    assert "TimeGenerated or CreatedDateTime" in message
    assert "Microsoft Graph" in message


def test_times_exported_in_local_time_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "local.csv"
    path.write_text(
        csv_text(["TimeGenerated [Local Time]", "UserId"], ["4/28/2021, 2:08:45.221 PM", "u"]),
        encoding="utf-8",
    )

    message = load_error(path)

    assert "field TimeGenerated [Local Time]" in message
    assert "UTC" in message


def test_row_with_missing_cells_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "short.csv"
    path.write_text("TimeGenerated,UserId,AppId\r\n2026-11-30,u\r\n", encoding="utf-8")

    message = load_error(path)

    assert f"{path}, line 2:" in message
    assert "2 cells but the header has 3" in message


def test_empty_file_and_unknown_format_parameter_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "empty.csv"
    path.write_text("  \n", encoding="utf-8")

    assert "empty" in load_error(path)
    with pytest.raises(ParameterError):
        read_export(path, "splunk")


def test_missing_file_is_a_load_error(tmp_path: Path) -> None:
    assert "does not exist" in load_error(tmp_path / "nope.csv")


def test_a_long_run_of_whitespace_between_records_is_read_in_linear_time() -> None:
    blank = " " * 65536

    def chunks() -> Iterator[str]:
        yield "[" + json.dumps(graph_signin(id="a")) + ","
        for _ in range(2048):  # 128 MiB of spaces
            yield blank
        yield json.dumps(graph_signin(id="b")) + "]"

    started = time.monotonic()
    records = [record["id"] for record, _ in JsonRecords(chunks(), "spaced.json")]

    assert records == ["a", "b"]
    assert time.monotonic() - started < 10


def test_a_csv_line_over_the_limit_is_refused_with_its_line_and_the_limit(
    tmp_path: Path,
) -> None:
    path = tmp_path / "one-line.csv"
    good = csv_text(
        ["CreatedDateTime [UTC]", "UserPrincipalName"], ["4/28/2021, 2:08:45.221 PM", "a@b.c"]
    )
    path.write_text(good + "x" * (17 << 20), encoding="utf-8")

    message = load_error(path)

    assert f"{path}, line 3: the line is longer than 16 Mi characters" in message
    assert "CSV export" in message


def test_a_csv_cell_over_the_cell_limit_says_the_limit_and_what_to_do(tmp_path: Path) -> None:
    path = tmp_path / "long-cell.csv"
    path.write_text(
        csv_text(
            ["CreatedDateTime [UTC]", "UserPrincipalName", "UserAgent"],
            ["4/28/2021, 2:08:45.221 PM", "a@contoso.com", "x" * 140_000],
        ),
        encoding="utf-8",
    )

    message = load_error(path)

    assert f"{path}, line 2:" in message and "131,072 characters" in message
    assert "Shorten or empty that cell" in message
    assert "Check that the file is a sign-in export" not in message
