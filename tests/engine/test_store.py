"""The local store: explicit types from the schemas, all-or-nothing loads, no double loads."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from entra_hunt.engine.schema import TABLES, duckdb_type, table_schema
from entra_hunt.engine.store import Store


def _row(n: int) -> tuple[str, dict[str, object]]:
    return "SigninLogs", {
        "TimeGenerated": datetime(2026, 11, 25, 10, n, tzinfo=UTC),
        "ResultType": "0",
        "AutonomousSystemNumber": "0014061",
        "DeviceDetail": {"deviceId": "", "isManaged": False},
        "UserPrincipalName": f"user{n}@contoso.example",
    }


def test_tables_are_created_with_the_official_columns_and_explicit_types(tmp_path: Path) -> None:
    with Store(tmp_path / "db.duckdb") as store:
        for name in TABLES:
            described = store._con.execute(f'DESCRIBE "{name}"').fetchall()
            expected = [(c.name, duckdb_type(c.type)) for c in table_schema(name).columns]
            assert [(r[0], r[1]) for r in described] == expected


def test_id_like_text_keeps_its_leading_zeros_and_result_type_stays_text(tmp_path: Path) -> None:
    with Store(tmp_path / "db.duckdb") as store:
        store.load([_row(1)], source="a", sha256="a")
        columns, rows = store.kql("SigninLogs | project ResultType, AutonomousSystemNumber")

    assert rows == [("0", "0014061")]


def test_a_load_that_fails_midway_leaves_the_database_byte_for_byte_unchanged(
    tmp_path: Path,
) -> None:
    path = tmp_path / "db.duckdb"
    with Store(path) as store:
        store.load([_row(1), _row(2)], source="first", sha256="first")
    before = hashlib.sha256(path.read_bytes()).hexdigest()

    def failing() -> Iterator[tuple[str, dict[str, object]]]:
        yield _row(3)
        yield _row(4)
        raise ValueError("bad row 3 in the export")

    with Store(path) as store, pytest.raises(ValueError, match="bad row"):
        store.load(failing(), source="second", sha256="second")

    assert hashlib.sha256(path.read_bytes()).hexdigest() == before
    with Store(path, read_only=True) as store:
        assert [s.rows for s in store.stats() if s.table == "SigninLogs"] == [2]


def test_a_value_of_the_wrong_type_rolls_back_every_table_of_the_load(tmp_path: Path) -> None:
    path = tmp_path / "db.duckdb"
    good = ("AuditLogs", {"TimeGenerated": datetime(2026, 11, 25, tzinfo=UTC), "Id": "x"})
    bad = ("SigninLogs", {"TimeGenerated": "not a time"})

    with Store(path) as store:
        with pytest.raises(Exception, match="not a time|Could not convert|timestamp"):
            store.load([good, bad], source="mixed", sha256="mixed")
        assert all(s.rows == 0 for s in store.stats())
        assert store.sources() == []


def test_loading_the_same_file_twice_adds_nothing(tmp_path: Path) -> None:
    with Store(tmp_path / "db.duckdb") as store:
        first = store.load([_row(1)], source="f", sha256="same")
        second = store.load([_row(1)], source="f", sha256="same")
        rows = [s.rows for s in store.stats() if s.table == "SigninLogs"]

    assert (first.rows, second.already_loaded, rows) == (1, True, [1])


def test_opening_a_missing_database_read_only_says_how_to_create_it(tmp_path: Path) -> None:
    from entra_hunt.errors import DataError

    with pytest.raises(DataError, match="entra-hunt load"):
        Store(tmp_path / "absent.duckdb", read_only=True)
