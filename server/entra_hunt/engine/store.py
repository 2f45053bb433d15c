"""The embedded sign-in store: one DuckDB file, tables typed from the official schemas.

Offers :class:`Store`, which creates every table in :data:`~entra_hunt.engine.schema.TABLES`
with explicit types, inserts rows the Python readers produce (staged as typed JSON lines and
read back with ``read_json`` under an explicit column list, so DuckDB never infers a type),
records each loaded file with its SHA-256 (so loading the same file twice adds nothing), runs
KQL through duckdb-kql, and describes what it holds (:meth:`Store.stats`,
:meth:`Store.sources`). :meth:`Store.load` is one file in one transaction; the loader in
:mod:`entra_hunt.engine.loading` drives the same pieces inside a shadow copy of the database.

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

from entra_hunt.engine.readers.rows import JsonText
from entra_hunt.engine.schema import TABLES, duckdb_type, table_schema
from entra_hunt.engine.translate import run_kql
from entra_hunt.errors import DataError, QueryError

__all__ = [
    "ID_COLUMNS",
    "LoadReport",
    "LoadedFile",
    "Store",
    "TableStats",
    "drop_repeated",
    "file_sha256",
    "next_rowid",
]

logger = logging.getLogger(__name__)

_LOADS_TABLE = "_entra_hunt_loads"
#: Columns of the loads table after the first release, added to older databases on open.
_LOADS_EXTRA = (
    ("format", "VARCHAR"),
    ("first_time", "TIMESTAMP"),
    ("last_time", "TIMESTAMP"),
    ("rows_read", "BIGINT"),
    ("rows_skipped", "BIGINT"),
)


#: The column that identifies one record of each table: a record whose id the table already
#: holds (or that an earlier record of the same file carries) is not stored again, so
#: overlapping exports do not count a sign-in twice. Defender's ReportId names one event.
ID_COLUMNS = {
    "SigninLogs": "Id",
    "AADNonInteractiveUserSignInLogs": "Id",
    "EntraIdSignInEvents": "ReportId",
    "AADSignInEventsBeta": "ReportId",
    "AuditLogs": "Id",
}


@dataclass(frozen=True)
class TableStats:
    """What one table holds."""

    table: str
    rows: int
    first: datetime | None
    last: datetime | None


@dataclass(frozen=True)
class LoadedFile:
    """One file loaded into the store, as recorded at the time."""

    source: str
    sha256: str
    loaded_at: datetime
    rows_by_table: dict[str, int]
    format: str | None
    first: datetime | None
    last: datetime | None
    rows_read: int | None
    rows_skipped: int | None


@dataclass
class LoadReport:
    """The outcome of one load.

    Attributes:
        source: the file (absolute path; ``a.zip!member`` inside an archive).
        sha256: the file's SHA-256, which recognises it when loaded again.
        format: the export format, e.g. ``loganalytics-csv`` (several for a zip).
        rows_by_table: rows loaded per table.
        first: the earliest time loaded (UTC), if any.
        last: the latest time loaded (UTC), if any.
        already_loaded: the file was loaded before; nothing was added.
        rows_read: records read from the file.
        rows_skipped: bad records left out with ``--skip-bad``.
        rows_not_kept: records of a kind no table holds (service principal sign-ins).
        rows_repeated: records whose id the database already held, or that repeat an
            earlier record of the same file (overlapping exports); not stored again.
        engine: ``fast`` (DuckDB read the file) or ``precise`` (the Python readers).
        seconds: how long the load took.
        reject_file: where the skipped records were written, if any.
        summary_file: the summary next to it.
    """

    source: str
    sha256: str
    format: str | None = None
    rows_by_table: dict[str, int] = field(default_factory=dict)
    first: datetime | None = None
    last: datetime | None = None
    already_loaded: bool = False
    rows_read: int = 0
    rows_skipped: int = 0
    rows_not_kept: int = 0
    rows_repeated: int = 0
    engine: str | None = None
    seconds: float = 0.0
    reject_file: Path | None = None
    summary_file: Path | None = None

    @property
    def rows(self) -> int:
        """Rows loaded across all tables."""
        return sum(self.rows_by_table.values())

    def widen(self, first: datetime | None, last: datetime | None) -> None:
        """Extend the time range covered to include ``first`` .. ``last``."""
        if first is not None and (self.first is None or first < self.first):
            self.first = first
        if last is not None and (self.last is None or last > self.last):
            self.last = last


def _json_default(value: object) -> object:
    if isinstance(value, datetime):
        utc = value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)
        return utc.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    if isinstance(value, date):
        return value.isoformat()
    raise TypeError(f"cannot store a {type(value).__name__}")


def _staged(values: dict[str, object]) -> dict[str, object]:
    # JSON text read into a text column is stored as DuckDB renders the object (see JsonText).
    return {k: v.value if isinstance(v, JsonText) else v for k, v in values.items()}


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
            _check_database_file(target)
            target.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._con = duckdb_kql.connect(self.path, read_only=read_only)
        except duckdb.Error as exc:
            raise _open_error(self.path, exc) from None
        if self.path != ":memory:":
            self._check_ours()
        if not read_only:
            self._create_tables()

    def _check_ours(self) -> None:
        """Refuse a DuckDB database that holds other tables but not entra-hunt's."""
        names = {
            row[0]
            for row in self._con.execute(
                "SELECT table_name FROM duckdb_tables() WHERE database_name = current_database()"
            ).fetchall()
        }
        if names and _LOADS_TABLE not in names:
            self._con.close()
            raise DataError(
                "the file is a DuckDB database, but not one entra-hunt created (it holds "
                f"other tables: {', '.join(sorted(names)[:5])})",
                where=self.path,
                fix="Pass --database a new file name or an entra-hunt database; entra-hunt "
                "does not write into other databases",
            )

    def close(self) -> None:
        """Close the database file."""
        self._con.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def connection(self) -> duckdb.DuckDBPyConnection:
        """The DuckDB connection, for the loader's fast path."""
        return self._con

    def _create_tables(self) -> None:
        for name in TABLES:
            schema = table_schema(name)
            columns = ", ".join(f'"{c.name}" {duckdb_type(c.type)}' for c in schema.columns)
            self._con.execute(f'CREATE TABLE IF NOT EXISTS "{name}" ({columns})')
        extra = "".join(f", {name} {kind}" for name, kind in _LOADS_EXTRA)
        self._con.execute(
            f"CREATE TABLE IF NOT EXISTS {_LOADS_TABLE} (sha256 VARCHAR PRIMARY KEY, "
            f"source VARCHAR, loaded_at TIMESTAMP, rows_by_table JSON{extra})"
        )
        present = {row[0] for row in self._con.execute(f"DESCRIBE {_LOADS_TABLE}").fetchall()}
        for name, kind in _LOADS_EXTRA:
            if name not in present:
                self._con.execute(f"ALTER TABLE {_LOADS_TABLE} ADD COLUMN {name} {kind}")

    # -- transactions ------------------------------------------------------------------------

    def begin(self) -> None:
        """Open a transaction."""
        self._con.execute("BEGIN TRANSACTION")

    def commit(self) -> None:
        """Commit the open transaction."""
        self._con.execute("COMMIT")

    def rollback(self) -> None:
        """Roll the open transaction back."""
        self._con.execute("ROLLBACK")

    def checkpoint(self) -> None:
        """Write everything into the database file (no write-ahead log left)."""
        self._con.execute("CHECKPOINT")

    # -- loading -----------------------------------------------------------------------------

    def is_loaded(self, sha256: str) -> bool:
        """Whether a file with this SHA-256 was loaded before."""
        seen = self._con.execute(
            f"SELECT count(*) FROM {_LOADS_TABLE} WHERE sha256 = ?", [sha256]
        ).fetchone()
        return bool(seen and seen[0])

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
        report = LoadReport(source=source, sha256=sha256, engine="precise")
        if self.is_loaded(sha256):
            report.already_loaded = True
            return report
        with self._staging_dir() as staging_dir:
            staged = self.stage(rows, Path(staging_dir), report)
            self.begin()
            try:
                self.insert_staged(staged, report)
                self.record_load(report)
                self.commit()
            except BaseException:
                self.rollback()
                raise
        logger.info("loaded %d rows from %s", report.rows, source)
        return report

    def _staging_dir(self) -> tempfile.TemporaryDirectory[str]:
        # Next to the database, not in /tmp: /tmp is often a RAM disk, and staged exports are big.
        where = None if self.path == ":memory:" else Path(self.path).parent
        return tempfile.TemporaryDirectory(prefix=".entra-hunt-stage-", dir=where)

    def stage(
        self, rows: Iterable[tuple[str, dict[str, object]]], directory: Path, report: LoadReport
    ) -> dict[str, Path]:
        """Write rows as typed JSON lines, one file per table, counting them into ``report``."""
        handles: dict[str, IO[str]] = {}
        paths: dict[str, Path] = {}
        try:
            for table, values in rows:
                if table not in handles:
                    table_schema(table)  # unknown tables fail before anything is written
                    paths[table] = directory / f"{table}.jsonl"
                    handles[table] = paths[table].open("w", encoding="utf-8")
                line = json.dumps(_staged(values), default=_json_default)
                handles[table].write(line + "\n")
                report.rows_by_table[table] = report.rows_by_table.get(table, 0) + 1
                instant = values.get(table_schema(table).time_column)
                if isinstance(instant, datetime):
                    report.widen(instant, instant)
        finally:
            for handle in handles.values():
                handle.close()
        return paths

    def insert_staged(self, staged: dict[str, Path], report: LoadReport | None = None) -> None:
        """Insert staged JSON-lines files into their tables (inside the caller's transaction).

        Records whose id the table already holds are left out, and counted into ``report``.
        """
        for table, path in staged.items():
            since = next_rowid(self._con, table)
            self._insert_staged(table, path)
            repeated = drop_repeated(self._con, table, since)
            if report is not None and repeated:
                report.rows_by_table[table] -= repeated
                report.rows_repeated += repeated

    def record_load(self, report: LoadReport) -> None:
        """Remember a loaded file, so that loading it again adds nothing."""
        self._con.execute(
            f"INSERT INTO {_LOADS_TABLE} (sha256, source, loaded_at, rows_by_table, format, "
            "first_time, last_time, rows_read, rows_skipped) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                report.sha256,
                report.source,
                datetime.now(UTC).replace(tzinfo=None),
                json.dumps(report.rows_by_table),
                report.format,
                _naive(report.first),
                _naive(report.last),
                report.rows_read,
                report.rows_skipped,
            ],
        )

    def load_jsonl(self, table: str, path: Path) -> None:
        """Load a JSON-lines file already in the table's shape (the shipped demo dataset)."""
        self.begin()
        try:
            self._insert_staged(table, path)
            self.commit()
        except BaseException:
            self.rollback()
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
            relation = run_kql(cursor, query)
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

    def sources(self) -> list[LoadedFile]:
        """The files loaded, oldest first."""
        present = {row[0] for row in self._con.execute(f"DESCRIBE {_LOADS_TABLE}").fetchall()}
        extra = ", ".join(
            name if name in present else f"NULL AS {name}" for name, _ in _LOADS_EXTRA
        )
        rows = self._con.execute(
            f"SELECT source, sha256, loaded_at, rows_by_table, {extra} FROM {_LOADS_TABLE} "
            "ORDER BY loaded_at, source"
        ).fetchall()
        return [
            LoadedFile(
                source=r[0],
                sha256=r[1],
                loaded_at=_utc(r[2]) or datetime.min.replace(tzinfo=UTC),
                rows_by_table=json.loads(r[3]),
                format=r[4],
                first=_utc(r[5]),
                last=_utc(r[6]),
                rows_read=r[7],
                rows_skipped=r[8],
            )
            for r in rows
        ]


#: Bytes 8 to 12 of every DuckDB database file.
_DUCKDB_MAGIC = b"DUCK"


def _check_database_file(target: Path) -> None:
    """Refuse a folder, or a file that is not a DuckDB database, before DuckDB opens it."""
    if target.is_dir():
        raise DataError(
            "this is a folder, not a database file",
            where=str(target),
            fix=f"Pass --database a file path, e.g. {target / 'signins.duckdb'}",
        )
    try:
        with target.open("rb") as handle:
            head = handle.read(12)
    except FileNotFoundError:
        return
    except OSError as err:
        raise DataError(
            f"the database file cannot be read ({err.strerror})",
            where=str(target),
            fix="Check the file's permissions, or pass another --database path",
        ) from None
    if head and head[8:12] != _DUCKDB_MAGIC:
        raise DataError(
            "the file is not a DuckDB database",
            where=str(target),
            fix="Pass --database the entra-hunt database file, or a new file name; nothing "
            "was written to this one",
        )


def _open_error(path: str, exc: duckdb.Error) -> DataError:
    """What a failure to open the database means, in our words."""
    text = str(exc)
    if "lock" in text.lower():
        return DataError(
            "the database is open for writing in another process",
            where=path,
            fix="Close other entra-hunt processes writing to it (a load, a server), or pass "
            "another --database path",
        )
    if "version" in text.lower():
        return DataError(
            "the database was written by another DuckDB version than this entra-hunt's",
            where=path,
            fix="Open it with the entra-hunt version that created it, or load the exports "
            "again into a new --database path",
        )
    return DataError(
        f"the database file is damaged or cut short ({type(exc).__name__})",
        where=path,
        fix="Restore it from a backup, or load the exports again into a new --database path",
    )


def _naive(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value.astimezone(UTC).replace(tzinfo=None) if value.tzinfo else value


def _utc(value: object) -> datetime | None:
    if isinstance(value, datetime):
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    return None


def next_rowid(con: duckdb.DuckDBPyConnection, table: str) -> int:
    """The row id the next row inserted into ``table`` gets (inside one transaction)."""
    row = con.execute(f'SELECT coalesce(max(rowid) + 1, 0) FROM "{table}"').fetchone()
    return int(row[0]) if row else 0


def drop_repeated(con: duckdb.DuckDBPyConnection, table: str, since: int) -> int:
    """Delete the rows inserted from ``since`` on that repeat a sign-in already stored.

    A new row repeats when its id (:data:`ID_COLUMNS`) is held by an older row, or by a new
    row inserted before it. Rows without an id are kept. Returns how many were deleted.
    """
    column = f'"{ID_COLUMNS[table]}"'
    # The usual load repeats nothing: one grouping pass proves it, and skips the costly delete.
    repeats = con.execute(
        f'SELECT count(*) FROM (SELECT {column} FROM "{table}" WHERE {column} IS NOT NULL '
        f"AND {column} <> '' GROUP BY {column} HAVING count(*) > 1)"
    ).fetchone()
    if not repeats or not repeats[0]:
        return 0
    found = con.execute(
        f'DELETE FROM "{table}" AS n WHERE n.rowid >= $since AND n.{column} IS NOT NULL '
        f"AND n.{column} <> '' AND (EXISTS (SELECT 1 FROM \"{table}\" AS o "
        f"WHERE o.rowid < $since AND o.{column} = n.{column}) OR n.rowid > "
        f'(SELECT min(f.rowid) FROM "{table}" AS f WHERE f.rowid >= $since '
        f"AND f.{column} = n.{column}))",
        {"since": since},
    ).fetchone()
    return int(found[0]) if found else 0


def file_sha256(path: Path) -> str:
    """SHA-256 of a file's bytes, read in blocks."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
