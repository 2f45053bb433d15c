"""What the local database holds: tables, row counts, time ranges and the files loaded.

Offers :func:`describe`, which opens the database read-only and returns a :class:`Datasets`,
the pydantic model that ``entra-hunt datasets --format json`` prints and the MCP tool
``list_datasets`` returns, so both say the same thing.

Limits: files loaded before entra-hunt recorded formats and time ranges show those as null.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from pydantic import BaseModel, Field

from entra_hunt.engine.store import Store

__all__ = ["Datasets", "LoadedFileInfo", "TableInfo", "describe"]


class TableInfo(BaseModel):
    """One table of the local database."""

    table: str = Field(description="Table name, as the service names it (e.g. SigninLogs).")
    rows: int = Field(description="Rows it holds; 0 when nothing was loaded into it.")
    first: datetime | None = Field(
        default=None, description="Earliest time in the table (UTC); null when empty."
    )
    last: datetime | None = Field(
        default=None, description="Latest time in the table (UTC); null when empty."
    )


class LoadedFileInfo(BaseModel):
    """One export file loaded into the database."""

    source: str = Field(description="The file's absolute path when it was loaded.")
    sha256: str = Field(description="SHA-256 of the file; the same file never loads twice.")
    format: str | None = Field(
        default=None, description="Export format, e.g. loganalytics-csv or graph-json."
    )
    loaded_at: datetime = Field(description="When it was loaded (UTC).")
    rows_by_table: dict[str, int] = Field(description="Rows it added, per table.")
    rows_read: int | None = Field(default=None, description="Records read from the file.")
    rows_skipped: int | None = Field(
        default=None,
        description="Bad records left out with --skip-bad (see the reject file); 0 otherwise.",
    )
    first: datetime | None = Field(default=None, description="Earliest time it covers (UTC).")
    last: datetime | None = Field(default=None, description="Latest time it covers (UTC).")


class Datasets(BaseModel):
    """What the local database holds."""

    database: str = Field(description="Path of the local DuckDB database.")
    exists: bool = Field(description="False when nothing was ever loaded: no database file.")
    tables: list[TableInfo] = Field(
        description="Every table, in a fixed order, with its row count and time range."
    )
    files: list[LoadedFileInfo] = Field(description="Files loaded, oldest first.")
    notes: list[str] = Field(
        description="What to know, e.g. that hunts read the bundled demo dataset while no "
        "sign-ins are loaded."
    )


def describe(database: Path) -> Datasets:
    """What ``database`` holds (read-only; a missing database is described, not created).

    Raises:
        DataError: the database exists but cannot be opened.
    """
    if not database.exists():
        return Datasets(
            database=str(database),
            exists=False,
            tables=[],
            files=[],
            notes=[
                "No database yet: nothing has been loaded. Hunts on the local backend read "
                "the bundled demo dataset; load exports with 'entra-hunt load FILE'."
            ],
        )
    with Store(database, read_only=True) as store:
        stats = store.stats()
        files = store.sources()
    notes = []
    if not any(s.rows for s in stats if s.table != "AuditLogs"):
        notes.append(
            "No sign-ins are loaded: hunts on the local backend read the bundled demo dataset."
        )
    return Datasets(
        database=str(database),
        exists=True,
        tables=[TableInfo(table=s.table, rows=s.rows, first=s.first, last=s.last) for s in stats],
        files=[
            LoadedFileInfo(
                source=f.source,
                sha256=f.sha256,
                format=f.format,
                loaded_at=f.loaded_at,
                rows_by_table=f.rows_by_table,
                rows_read=f.rows_read,
                rows_skipped=f.rows_skipped,
                first=f.first,
                last=f.last,
            )
            for f in files
        ],
        notes=notes,
    )
