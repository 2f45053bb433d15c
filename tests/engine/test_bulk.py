"""The fast path types every value as the precise path does, or refuses it.

The rule the loader relies on: for any raw value, DuckDB's conversion either stops with an
``entra-hunt:`` error (and the precise path takes over) or gives exactly what
:func:`~entra_hunt.engine.readers.rows.coerce` gives. It may refuse more; it may never accept
something the precise path refuses, nor store it differently.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterator
from datetime import UTC, datetime

import duckdb
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from entra_hunt.engine.bulk import TAG, install_macros, sql_value
from entra_hunt.engine.readers.layout import location_part, member_value, translate
from entra_hunt.engine.readers.rows import BadValue, JsonText, coerce

TYPES = ("string", "dynamic", "datetime", "bool", "int", "long", "real")

TEXTS = [
    "",
    " ",
    "0",
    "1",
    "-0",
    "+5",
    "007",
    "1.0",
    "1.5",
    "1e3",
    "1E400",
    "2147483647",
    "2147483648",
    "-2147483649",
    "9223372036854775807",
    "9223372036854775808",
    "0x10",
    "1_000",
    ".5",
    "5.",
    "nan",
    "inf",
    "true",
    "TRUE",
    "True",
    " true",
    "false",
    "yes",
    "maybe",
    "2026-11-30T08:15:00Z",
    "2026-11-30T08:15:00.1234567Z",
    "2026-11-30T08:15:00.9999999+02:00",
    "2026-11-30 08:15:00",
    "2026-11-30T08:15Z",
    "2026-11-30",
    "2026-02-30T00:00:00Z",
    "2026-11-30T24:00:00Z",
    "0000-01-01T00:00:00Z",
    "4/28/2021, 2:08:45.221 PM",
    "4/28/2021, 12:08:45.221 AM",
    "4/28/2021, 0:08:45.221 PM",
    "4/28/2021, 13:08:45.221 PM",
    "4/28/2021 2:08 PM",
    "3/12/2025 7:22:01 AM",
    "3/12/2025, 12:22:01 PM",
    "13/12/2025 7:22:01 AM",
    "28/04/2021 14:08",
    "yesterday",
    '{"a": 1, "b": [1, 2.50, null, "x"]}',
    '{"a":1,}',
    "[1,]",
    '{"a": NaN}',
    "null",
    '""',
    '"text"',
    "[]",
    "{",
    '  {"a" : 1 }  ',
    '{"e": 1e-07, "f": 1E5}',
]


@pytest.fixture(scope="module")
def con() -> Iterator[duckdb.DuckDBPyConnection]:
    connection = duckdb.connect()
    install_macros(connection)
    yield connection
    connection.close()


def _python(raw: object, kusto_type: str) -> tuple[bool, object]:
    try:
        return True, coerce(raw, kusto_type)
    except BadValue:
        return False, None


def _sql(
    con: duckdb.DuckDBPyConnection, raw: str | None, kusto_type: str, as_json: bool
) -> tuple[bool, object]:
    # read_json hands a JSON column over minified, as json() does.
    value = "json(CAST(? AS VARCHAR))" if as_json else "CAST(? AS VARCHAR)"
    try:
        row = con.execute(f"SELECT {sql_value(kusto_type, as_json, value)}", [raw]).fetchone()
    except duckdb.Error as err:
        # Our own refusals, or DuckDB's for text that is not JSON: either sends the file to the
        # precise path. Anything else would be a bug in the SQL.
        assert TAG in str(err) or "Malformed JSON" in str(err), err
        return False, None
    assert row is not None
    return True, row[0]


def _same(kusto_type: str, python: object, sql: object) -> bool:
    if isinstance(python, JsonText):  # the store renders the object itself, as DuckDB does
        return bool(isinstance(sql, str) and json.loads(sql) == python.value)
    if kusto_type == "dynamic":
        stored = None if sql is None else json.loads(str(sql))
        return bool(stored == python)
    if kusto_type == "datetime":
        assert python is None or isinstance(python, datetime)
        expected = python.astimezone(UTC).replace(tzinfo=None) if python else None
        return bool(expected == sql)
    if kusto_type == "real" and isinstance(python, float) and isinstance(sql, float):
        return math.isclose(python, sql, rel_tol=0, abs_tol=0) or python == sql
    return bool(python == sql)


#: What DuckDB's JSON parser accepts and JSON is not: the fast path's documented leniency.
_NOT_JSON = re.compile(r"(?i),\s*[\]}]|nan|inf")


def _check(con: duckdb.DuckDBPyConnection, raw: str, kusto_type: str, as_json: bool) -> None:
    sql_ok, sql_value_ = _sql(con, raw, kusto_type, as_json)
    if not sql_ok:
        return  # refusing is always allowed: the precise path takes over
    if kusto_type == "dynamic" and _NOT_JSON.search(raw):
        return  # documented: DuckDB's JSON parser takes trailing commas and NaN / Infinity
    python_raw: object = json.loads(raw) if as_json else raw
    python_ok, python_value = _python(python_raw, kusto_type)
    assert python_ok, f"SQL accepted {raw!r} as {kusto_type} but Python refuses it"
    assert _same(kusto_type, python_value, sql_value_), (raw, kusto_type, python_value, sql_value_)


@pytest.mark.parametrize("kusto_type", TYPES)
@pytest.mark.parametrize("raw", TEXTS)
def test_a_csv_cell_is_typed_as_python_types_it_or_refused(
    con: duckdb.DuckDBPyConnection, raw: str, kusto_type: str
) -> None:
    _check(con, raw, kusto_type, as_json=False)


JSON_VALUES = [
    json.dumps(value)
    for value in (
        0,
        1,
        -5,
        2,
        1.0,
        2.5,
        1e20,
        18446744073709551615,
        True,
        False,
        None,
        "",
        "0",
        "true",
        "2026-11-30T08:15:00Z",
        "4/28/2021, 2:08:45.221 PM",
        '{"a": 1}',
        "[1,]",
        {"a": 'é\u2028"\\', "b": [1, 2.0, None], "c": {"d": 1e-7}},
        [],
        {},
        ["x"],
    )
]


@pytest.mark.parametrize("kusto_type", TYPES)
@pytest.mark.parametrize("raw", JSON_VALUES)
def test_a_json_value_is_typed_as_python_types_it_or_refused(
    con: duckdb.DuckDBPyConnection, raw: str, kusto_type: str
) -> None:
    _check(con, raw, kusto_type, as_json=True)


_ALPHABET = st.sampled_from(list("0123456789+-.eE:TZ /,APM \t{}[]\"'atrufsnl") + ["\u00a0"])


_SHARED: list[duckdb.DuckDBPyConnection] = []


@settings(max_examples=300, deadline=None)
@given(raw=st.text(_ALPHABET, max_size=30), kusto_type=st.sampled_from(TYPES))
def test_no_text_is_accepted_by_sql_and_refused_by_python(raw: str, kusto_type: str) -> None:
    if not _SHARED:
        _SHARED.append(duckdb.connect())
        install_macros(_SHARED[0])
    _check(_SHARED[0], raw, kusto_type, as_json=False)


@pytest.mark.parametrize(
    "cell",
    ["Device Code", " device code ", "DEVICE CODE", "deviceCode", "None", "", "Device Code Flow"],
)
def test_portal_display_values_translate_alike(con: duckdb.DuckDBPyConnection, cell: str) -> None:
    values = (("device code", "deviceCode"), ("none", "none"))
    row = con.execute(
        "SELECT CASE lower(trim(?)) WHEN 'device code' THEN 'deviceCode' "
        "WHEN 'none' THEN 'none' ELSE ? END",
        [cell, cell],
    ).fetchone()
    assert row is not None and row[0] == translate(cell, values)


@pytest.mark.parametrize(
    "cell",
    [
        "Amsterdam, Noord-Holland, NL",
        "Washington, D.C., District of Columbia, US",
        "NL",
        ", , ",
        "a, b",
    ],
)
@pytest.mark.parametrize("part", [1, 2, 3])
def test_portal_locations_split_alike(con: duckdb.DuckDBPyConnection, cell: str, part: int) -> None:
    row = con.execute("SELECT eh_place(?, ?)", [cell, part]).fetchone()
    assert row is not None and row[0] == location_part(cell, part)


@pytest.mark.parametrize("cell", ["True", "false", "Yes", " no ", "1", "", "maybe"])
def test_portal_flags_read_alike(con: duckdb.DuckDBPyConnection, cell: str) -> None:
    try:
        expected: object = member_value(cell or None, "bool")
    except ValueError:
        expected = "refused"
    try:
        row = con.execute("SELECT eh_flag(?, 'x')", [cell or None]).fetchone()
        found: object = row[0] if row else None
    except duckdb.Error:
        found = "refused"
    assert found == expected


def test_times_are_utc_whatever_the_offset(con: duckdb.DuckDBPyConnection) -> None:
    row = con.execute(
        f"SELECT {sql_value('datetime', False, 'CAST(? AS VARCHAR)')}",
        ["2026-11-30T10:15:00+02:00"],
    ).fetchone()

    assert row == (datetime(2026, 11, 30, 8, 15),)
