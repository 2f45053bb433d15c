"""run_kql's policy: read-only queries of the known tables, capped; everything else refused."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from entra_hunt.errors import ParameterError
from entra_hunt.hunts.adhoc import check_adhoc, render_adhoc

NOW = datetime(2026, 11, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("query", "said"),
    [
        (".drop table SigninLogs", "control commands"),
        ("  // a comment first\n.show tables", "control commands"),
        ("let x = 1;\n.set-or-append T <| SigninLogs", "control commands"),
        ("set notruncation;\nSigninLogs | take 10", "request options"),
        ('externaldata(x:string)["https://example.invalid/a.csv"] | take 1', "outside"),
        ('SigninLogs | evaluate http_request("https://example.invalid")', "plugin"),
        ('cluster("other").database("db").SigninLogs | take 1', "another cluster"),
        ('workspace("00000000-0000-0000-0000-000000000000").SigninLogs', "another workspace"),
        ("StormEvents | take 10", "none of the tables"),
        ("", "empty"),
        ("SigninLogs\x00 | take 1", "control character"),
        ("SigninLogs | where x == 1" + " " * 10_000, "characters long"),
    ],
)
def test_anything_but_a_read_only_query_of_known_tables_is_refused(query: str, said: str) -> None:
    with pytest.raises(ParameterError) as refused:
        check_adhoc(query)

    assert said in refused.value.message
    assert refused.value.fix


def test_a_refusal_names_the_line_and_column() -> None:
    with pytest.raises(ParameterError) as refused:
        check_adhoc("SigninLogs\n| take 1;\n  .drop table T")

    assert refused.value.where == "query, line 3, column 3"


@pytest.mark.parametrize(
    "query",
    [
        'SigninLogs | where UserAgent has "evaluate" | take 5',
        "SigninLogs // .drop table is only a comment\n| take 5",
        "let app = 1;\nSigninLogs | extend cluster = app | project cluster",
        'AuditLogs | where OperationName == "set"',
    ],
)
def test_forbidden_words_inside_strings_comments_or_names_are_no_violation(query: str) -> None:
    assert check_adhoc(query) in ("SigninLogs", "AuditLogs")


def test_the_row_cap_is_appended_to_the_last_statement() -> None:
    rendered = render_adhoc("let t = SigninLogs;\nt | project UserPrincipalName;", NOW, NOW, 11)

    assert rendered.text.endswith("t | project UserPrincipalName\n| take 11")
    assert rendered.table == "SigninLogs"
