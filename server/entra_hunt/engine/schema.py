"""The official table schemas, and the DuckDB types the local store gives them.

Reads the JSON column lists shipped in ``engine/schemas`` (copied from Microsoft Learn, with
their sources inside each file). Every local table is created from these lists with explicit
types: Kusto ``dynamic`` becomes DuckDB ``JSON``, ``datetime`` becomes ``TIMESTAMP`` (UTC, no
zone), ``string`` stays text even where the values look like numbers or ids. Nothing is ever
typed by inference.

Limits: only the Log Analytics and Defender tables are tables here; the Graph and portal
schemas describe input formats and are read by the export readers.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib import resources

__all__ = [
    "TABLES",
    "Column",
    "TableSchema",
    "duckdb_type",
    "table_schema",
]

#: The tables the local store holds, by their service names.
TABLES: tuple[str, ...] = (
    "SigninLogs",
    "AADNonInteractiveUserSignInLogs",
    "EntraIdSignInEvents",
    "AADSignInEventsBeta",
    "AuditLogs",
)

_DUCKDB_TYPES = {
    "string": "VARCHAR",
    "dynamic": "JSON",
    "datetime": "TIMESTAMP",
    "bool": "BOOLEAN",
    "int": "INTEGER",
    "long": "BIGINT",
    "real": "DOUBLE",
}


@dataclass(frozen=True)
class Column:
    """One column of a service table, with its Kusto type name."""

    name: str
    type: str


@dataclass(frozen=True)
class TableSchema:
    """The columns of one table, in the order the service documents them."""

    name: str
    columns: tuple[Column, ...]
    time_column: str

    @property
    def names(self) -> tuple[str, ...]:
        """Column names in documented order."""
        return tuple(column.name for column in self.columns)

    def type_of(self, name: str) -> str:
        """The Kusto type of column ``name``; KeyError if the table has no such column."""
        for column in self.columns:
            if column.name == name:
                return column.type
        raise KeyError(name)


def duckdb_type(kusto_type: str) -> str:
    """The DuckDB type a Kusto column type is stored as."""
    return _DUCKDB_TYPES[kusto_type]


@cache
def _raw(name: str) -> dict[str, object]:
    text = resources.files(__package__).joinpath("schemas", f"{name}.json").read_text("utf-8")
    data: dict[str, object] = json.loads(text)
    return data


@cache
def table_schema(name: str) -> TableSchema:
    """The schema of table ``name`` (one of :data:`TABLES`)."""
    if name not in TABLES:
        raise KeyError(f"no local table {name!r}; known tables: {', '.join(TABLES)}")
    raw_columns = _raw(name)["columns"]
    assert isinstance(raw_columns, list)
    columns = tuple(Column(str(c["name"]), str(c["type"])) for c in raw_columns)
    names = {c.name for c in columns}
    time_column = "Timestamp" if "Timestamp" in names else "TimeGenerated"
    return TableSchema(name=name, columns=columns, time_column=time_column)


def raw_schema(name: str) -> dict[str, object]:
    """The whole shipped schema document ``name`` (including Graph and portal formats)."""
    return _raw(name)
