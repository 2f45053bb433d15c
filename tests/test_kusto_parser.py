"""The KQL validator harness: it accepts good hunts and can fail on bad ones.

All queries of this module go through one node process (the ``analyses`` fixture).
"""

from __future__ import annotations

from pathlib import Path

import pytest

import kusto_parser
from kusto_parser import (
    STRING_NUMBER_COMPARISON,
    Analysis,
    ColumnReference,
    KustoParserError,
    KustoParserUnavailable,
    analyse,
)

pytestmark = pytest.mark.slow

BENIGN_VALUE = "alice@contoso.com"
HOSTILE_VALUES = {
    "quote_break": 'x" | take 1 //',
    "single_quote_break": "x' | take 1 //",
    "backslashes": "C:\\Users\\\\admin\\",
    "escaped_quote_break": 'x\\" | take 1 //',
    "newline_break": 'x"\n| take 1\n//',
    "carriage_return_and_tab": "a\r\nb\tc",
    "comment_openers": "/* // */ -- ;",
    "verbatim_and_multiline_openers": '@"x" ``` h"y" \'z\'',
    "unicode": "Zoë – 東京 ✓",
}
NAIVE_INJECTION = 'x" | take 1 //'

VALID_SIGNIN_HUNT = """
let lookback_start = datetime(2026-11-30T00:00:00Z);
let lookback_end = lookback_start + 1d;
let watched_users = dynamic(["alice@contoso.com", "bob@contoso.com"]);
SigninLogs
| where TimeGenerated between (lookback_start .. lookback_end)
| where AuthenticationProtocol has_any ("deviceCode")
| where UserPrincipalName in~ (watched_users)
| where ResultType == "0" or toint(ResultType) == 50199
| extend IsManaged = tostring(DeviceDetail.isManaged)
| where IsManaged != "true"
| project TimeGenerated, UserPrincipalName, IPAddress, IsManaged, ResultType
"""


def kql_string(value: str) -> str:
    """``value`` as a double-quoted KQL string literal."""
    escaped = (
        value.replace("\\", "\\\\")
        .replace('"', '\\"')
        .replace("\n", "\\n")
        .replace("\r", "\\r")
        .replace("\t", "\\t")
    )
    return f'"{escaped}"'


def lookup_by_user(literal: str) -> str:
    return f"SigninLogs | where UserPrincipalName == {literal} | project TimeGenerated, IPAddress"


QUERIES = {
    "unknown_column": 'SigninLogs | where NotAColumn == "x"',
    "string_column_equals_number": "SigninLogs | where ResultType == 0",
    "string_column_in_numbers": "SigninLogs | where ResultType in (0, 50199)",
    "int_column_equals_string": 'EntraIdSignInEvents | where ErrorCode == "0"',
    "string_column_equals_string": 'SigninLogs | where ResultType == "0"',
    "converted_string_equals_number": "SigninLogs | where toint(ResultType) != 0",
    "int_column_equals_number": "EntraIdSignInEvents | where ErrorCode in (0, 50199)",
    "dynamic_member_equals_bool": "SigninLogs | where DeviceDetail.isManaged == true",
    "string_column_greater_than_number": "SigninLogs | where ResultType > 0",
    "valid_signin_hunt": VALID_SIGNIN_HUNT,
    "renamed_device_id": "EntraIdSignInEvents | where isempty(AadDeviceId)",
    "old_device_id_on_beta": "AADSignInEventsBeta | where isempty(AadDeviceId)",
    "benign_literal": lookup_by_user(kql_string(BENIGN_VALUE)),
    "naive_injection": lookup_by_user(f'"{NAIVE_INJECTION}"'),
    **{
        f"hostile_{name}": lookup_by_user(kql_string(value))
        for name, value in HOSTILE_VALUES.items()
    },
}


@pytest.fixture(scope="module")
def analyses() -> dict[str, Analysis]:
    return analyse(QUERIES)


def error_codes(analysis: Analysis) -> list[str]:
    return [diagnostic.code for diagnostic in analysis.errors]


def test_every_query_gets_an_analysis(analyses: dict[str, Analysis]) -> None:
    assert analyses.keys() == QUERIES.keys()


def test_unknown_column_is_flagged_where_it_stands(analyses: dict[str, Analysis]) -> None:
    [error] = analyses["unknown_column"].errors

    assert error.code == "KS142"
    assert "NotAColumn" in error.message
    assert (error.line, error.column, error.length) == (1, 20, len("NotAColumn"))


@pytest.mark.parametrize(
    "query_id",
    ["string_column_equals_number", "string_column_in_numbers", "int_column_equals_string"],
)
def test_string_compared_with_number_is_flagged_by_our_lint(
    analyses: dict[str, Analysis], query_id: str
) -> None:
    # Kusto.Language 12.4.1 lets ==, != and in pass between string and number; only the lint
    # catches them. If this starts failing with a KS code too, the lint may be redundant.
    analysis = analyses[query_id]

    assert error_codes(analysis) == [STRING_NUMBER_COMPARISON], analysis.report()


def test_string_number_lint_names_the_column_and_both_types(
    analyses: dict[str, Analysis],
) -> None:
    [error] = analyses["int_column_equals_string"].errors

    assert error.message.startswith('column ErrorCode (int) == "0" (string)')
    assert (error.line, error.column) == (1, len("EntraIdSignInEvents | where ") + 1)


@pytest.mark.parametrize(
    "query_id",
    [
        "string_column_equals_string",
        "converted_string_equals_number",
        "int_column_equals_number",
        "dynamic_member_equals_bool",
    ],
)
def test_comparisons_of_like_types_pass(analyses: dict[str, Analysis], query_id: str) -> None:
    assert analyses[query_id].errors == (), analyses[query_id].report()


def test_kusto_itself_flags_ordering_a_string_against_a_number(
    analyses: dict[str, Analysis],
) -> None:
    assert error_codes(analyses["string_column_greater_than_number"]) == ["KS106"]


def test_valid_signin_hunt_has_no_diagnostics(analyses: dict[str, Analysis]) -> None:
    analysis = analyses["valid_signin_hunt"]

    assert analysis.diagnostics == (), analysis.report()


def test_resolved_columns_carry_their_schema_types(analyses: dict[str, Analysis]) -> None:
    columns = set(analyses["valid_signin_hunt"].columns)
    resolved = {(column.name, column.type) for column in columns}

    assert ("DeviceDetail", "dynamic") in resolved
    assert ("ResultType", "string") in resolved
    assert ("TimeGenerated", "datetime") in resolved
    assert all(isinstance(column, ColumnReference) for column in columns)


def test_device_id_under_its_old_name_is_flagged_on_entra_id_sign_in_events(
    analyses: dict[str, Analysis],
) -> None:
    [error] = analyses["renamed_device_id"].errors

    assert error.code == "KS142"
    assert "AadDeviceId" in error.message
    assert analyses["old_device_id_on_beta"].errors == ()


@pytest.mark.parametrize("name", HOSTILE_VALUES)
def test_escaped_hostile_literal_keeps_the_query_structure(
    analyses: dict[str, Analysis], name: str
) -> None:
    benign = analyses["benign_literal"]
    hostile = analyses[f"hostile_{name}"]

    assert hostile.errors == (), hostile.report()
    assert hostile.fingerprint == benign.fingerprint
    assert [literal.value for literal in hostile.literals] == [HOSTILE_VALUES[name]]


def test_unescaped_quote_break_changes_the_query_structure(
    analyses: dict[str, Analysis],
) -> None:
    injected = analyses["naive_injection"]

    assert injected.errors == (), "the injected query is valid KQL, so only structure shows it"
    assert injected.fingerprint != analyses["benign_literal"].fingerprint
    assert any(entry.endswith(":TakeOperator") for entry in injected.fingerprint)


def test_unknown_column_type_is_refused_with_the_column_named() -> None:
    with pytest.raises(KustoParserError, match=r"table T, column c: unknown Kusto type \"str\""):
        analyse({"q": "T"}, {"T": [("c", "str")]})


def test_missing_node_says_how_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", "")

    with pytest.raises(KustoParserUnavailable, match=r"node is not on PATH.*npm ci --prefix"):
        analyse({"q": "SigninLogs"})


def test_missing_node_modules_says_how_to_install(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(kusto_parser, "KUSTO_DIR", tmp_path)

    with pytest.raises(KustoParserUnavailable, match=r"not installed in .*npm ci --prefix"):
        analyse({"q": "SigninLogs"})
