"""The embedded sign-in store: one DuckDB file, tables typed from the official schemas.

Offers :class:`Store`, which creates every table in :data:`~entra_hunt.engine.schema.TABLES`
with explicit types, loads rows in one transaction (staged as typed JSON lines and read back
with ``read_json`` under an explicit column list, so DuckDB never infers a type), and runs KQL
through duckdb-kql. A failed load rolls back: the database is left as it was. Each loaded file
is recorded with its SHA-256, so loading the same file twice adds nothing.

Limits: one writer at a time (DuckDB's own file lock); readers open the file read-only.
"""

from __future__ import annotations

import hashlib
import json
import logging
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import IO, Any

import duckdb
import duckdb_kql

from entra_hunt.engine.schema import TABLES, duckdb_type, table_schema
from entra_hunt.errors import DataError, QueryError

__all__ = ["LoadReport", "Store", "TableStats", "file_sha256"]

logger = logging.getLogger(__name__)

_LOADS_TABLE = "_entra_hunt_loads"


@dataclass(frozen=True)
class TableStats:
    """What one table holds."""

    table: str
    rows: int
    first: datetime | None
    last: datetime | None


@dataclass
class LoadReport:
    """The outcome of one load: rows per table, time range, and whether it was a repeat."""

    source: str
    sha256: str
    rows_by_table: dict[str, int] = field(default_factory=dict)
    first: datetime | None = None
    last: datetime | None = None
    already_loaded: bool = False

    @property
    def rows(self) -> int:
        """Rows loaded across all tables."""
        return sum(self.rows_by_table.values())


def _json_default(value: object) -> object:
    if isinstance(value, datetime):
        utc = value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)
        return utc.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    if isinstance(value, date):
        return value.isoformat()
    raise TypeError(f"cannot store a {type(value).__name__}")


class Store:
    """A DuckDB database holding sign-in tables, queried with KQL."""

    def __init__(self, path: Path | str, *, read_only: bool = False) -> None:
        """Open (and on first use create) the database at ``path``; ':memory:' for none."""
        self.path = str(path)
        if self.path != ":memory:":
            target = Path(self.path)
            if read_only and not target.exists():
                raise DataError(
                    f"no database at {target}",
                    where="local backend",
                    fix="Load an export with 'entra-hunt load FILE' first",
                )
            target.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._con = duckdb_kql.connect(self.path, read_only=read_only)
        except duckdb.Error as exc:
            raise DataError(
                f"cannot open the local database: {type(exc).__name__}",
                where=self.path,
                fix="Close other entra-hunt processes writing to it, or pass another "
                "--database path",
            ) from exc
        if not read_only:
            self._create_tables()

    def close(self) -> None:
        """Close the database file."""
        self._con.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _create_tables(self) -> None:
        for name in TABLES:
            schema = table_schema(name)
            columns = ", ".join(f'"{c.name}" {duckdb_type(c.type)}' for c in schema.columns)
            self._con.execute(f'CREATE TABLE IF NOT EXISTS "{name}" ({columns})')
        self._con.execute(
            f"CREATE TABLE IF NOT EXISTS {_LOADS_TABLE} (sha256 VARCHAR PRIMARY KEY, "
            "source VARCHAR, loaded_at TIMESTAMP, rows_by_table JSON)"
        )

    # -- loading -----------------------------------------------------------------------------

    def load(
        self,
        rows: Iterable[tuple[str, dict[str, object]]],
        *,
        source: str,
        sha256: str,
    ) -> LoadReport:
        """Load ``(table, values)`` rows from one source file in a single transaction.

        ``values`` are typed as the readers produce them (text, dict/list for dynamic,
        aware datetimes, bools, numbers). Any error rolls the whole load back.
        """
        report = LoadReport(source=source, sha256=sha256)
        seen = self._con.execute(
            f"SELECT count(*) FROM {_LOADS_TABLE} WHERE sha256 = ?", [sha256]
        ).fetchone()
        if seen is not None and seen[0]:
            report.already_loaded = True
            return report

        with tempfile.TemporaryDirectory(prefix="entra-hunt-load-") as staging_dir:
            staged = self._stage(rows, Path(staging_dir), report)
            self._con.execute("BEGIN TRANSACTION")
            try:
                for table, path in staged.items():
                    self._insert_staged(table, path)
                self._con.execute(
                    f"INSERT INTO {_LOADS_TABLE} VALUES (?, ?, ?, ?)",
                    [
                        sha256,
                        source,
                        datetime.now(UTC).replace(tzinfo=None),
                        json.dumps(report.rows_by_table),
                    ],
                )
                self._con.execute("COMMIT")
            except BaseException:
                self._con.execute("ROLLBACK")
                raise
        logger.info("loaded %d rows from %s", report.rows, source)
        return report

    def _stage(
        self, rows: Iterable[tuple[str, dict[str, object]]], directory: Path, report: LoadReport
    ) -> dict[str, Path]:
        handles: dict[str, IO[str]] = {}
        paths: dict[str, Path] = {}
        try:
            for table, values in rows:
                if table not in handles:
                    table_schema(table)  # unknown tables fail before anything is written
                    paths[table] = directory / f"{table}.jsonl"
                    handles[table] = paths[table].open("w", encoding="utf-8")
                handles[table].write(json.dumps(values, default=_json_default) + "\n")
                report.rows_by_table[table] = report.rows_by_table.get(table, 0) + 1
                self._widen(report, table, values)
        finally:
            for handle in handles.values():
                handle.close()
        return paths

    @staticmethod
    def _widen(report: LoadReport, table: str, values: dict[str, object]) -> None:
        instant = values.get(table_schema(table).time_column)
        if isinstance(instant, datetime):
            if report.first is None or instant < report.first:
                report.first = instant
            if report.last is None or instant > report.last:
                report.last = instant

    def load_jsonl(self, table: str, path: Path) -> None:
        """Load a JSON-lines file already in the table's shape (the shipped demo dataset)."""
        self._con.execute("BEGIN TRANSACTION")
        try:
            self._insert_staged(table, path)
            self._con.execute("COMMIT")
        except BaseException:
            self._con.execute("ROLLBACK")
            raise

    def _insert_staged(self, table: str, path: Path) -> None:
        schema = table_schema(table)
        columns = (
            "{" + ", ".join(f"'{c.name}': '{duckdb_type(c.type)}'" for c in schema.columns) + "}"
        )
        self._con.execute(
            f'INSERT INTO "{table}" BY NAME SELECT * FROM read_json(?, '
            f"format='newline_delimited', columns={columns})",
            [str(path)],
        )

    # -- reading -----------------------------------------------------------------------------

    def kql(self, query: str) -> tuple[list[str], list[tuple[Any, ...]]]:
        """Run KQL on the store; returns column names and rows.

        Raises:
            QueryError: the engine refused the query (a defect in a shipped hunt).
        """
        cursor = self._con.cursor()
        try:
            relation = duckdb_kql.kql(cursor, query, allow_write=False)
            columns = list(relation.columns)
            return columns, relation.fetchall()
        except (duckdb_kql.KqlError, duckdb.Error) as exc:
            raise QueryError(
                f"the local engine refused the query ({type(exc).__name__}: "
                f"{str(exc).splitlines()[0][:300]})",
                where="local backend",
                fix="This is a defect in the hunt; please report it with the query text",
            ) from exc
        finally:
            cursor.close()

    def stats(self) -> list[TableStats]:
        """Row counts and time ranges of every table."""
        out = []
        cursor = self._con.cursor()
        try:
            for name in TABLES:
                column = table_schema(name).time_column
                row = cursor.execute(
                    f'SELECT count(*), min("{column}"), max("{column}") FROM "{name}"'
                ).fetchone()
                assert row is not None
                out.append(TableStats(name, int(row[0]), _utc(row[1]), _utc(row[2])))
        finally:
            cursor.close()
        return out

    def sources(self) -> list[tuple[str, str, datetime, dict[str, int]]]:
        """Loaded files: source, sha256, when, and rows per table."""
        rows = self._con.execute(
            f"SELECT source, sha256, loaded_at, rows_by_table FROM {_LOADS_TABLE} "
            "ORDER BY loaded_at"
        ).fetchall()
        return [(r[0], r[1], _utc(r[2]) or datetime.min, json.loads(r[3])) for r in rows]


def _utc(value: object) -> datetime | None:
    if isinstance(value, datetime):
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    return None


def file_sha256(path: Path) -> str:
    """SHA-256 of a file's bytes, read in blocks."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
