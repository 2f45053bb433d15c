"""Running KQL on a DuckDB cursor: translation by duckdb-kql, cached, with a quiet cursor.

:func:`run_kql` does what ``duckdb_kql.kql`` does (UTC session, SQL translated against the
connection's schema, declared parameters bound by DuckDB) with two differences measured in
``bench/``: the translation is cached by query text and schema, since it is pure Python (an
ANTLR parser) and costs tens of milliseconds for a hunt's projection, while a page of results
or a repeated explicit window runs the same text again; and DuckDB's progress bar is off,
because DuckDB draws it on stdout for any query past two seconds, which corrupts the MCP stdio
stream and the JSON the CLI prints.

Limits: the cache holds the last 64 query texts; a query whose text differs only in a literal
(a lookback's window) is translated again.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import duckdb
import duckdb_kql
import duckdb_kql.engine

__all__ = ["run_kql"]

_SchemaKey = tuple[tuple[str, tuple[str, ...]], ...]


def run_kql(cursor: duckdb.DuckDBPyConnection, query: str) -> duckdb.DuckDBPyRelation:
    """The relation of read-only KQL ``query`` on ``cursor`` (a connection of its own).

    Raises:
        duckdb_kql.KqlError: the query is not valid or not supported KQL.
        duckdb.Error: DuckDB refused the translated SQL.
    """
    cursor.execute("SET enable_progress_bar = false")
    cursor.execute("SET TimeZone = 'UTC'")
    schema = duckdb_kql.engine.schema(cursor)
    key = tuple(sorted((table, tuple(columns)) for table, columns in schema.items()))
    sql, parameters = _translate(query, key)
    return cursor.sql(sql, params=parameters) if parameters else cursor.sql(sql)


@lru_cache(maxsize=64)
def _translate(query: str, schema: _SchemaKey) -> tuple[str, dict[str, Any]]:
    translated = duckdb_kql.to_sql(
        query, schema={table: list(columns) for table, columns in schema}, allow_write=False
    )
    if translated.unbound:
        raise duckdb_kql.KqlSchemaError(
            ", ".join(translated.unbound),
            hint="declared query parameter with no value and no default",
        )
    return str(translated), dict(translated.parameters)
