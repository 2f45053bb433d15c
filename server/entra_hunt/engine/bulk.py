"""The fast path: DuckDB reads a whole export itself and maps it in SQL.

Offers :func:`load_fast`, which renders a file's :class:`~entra_hunt.engine.readers.Layout` as
``INSERT INTO <table> SELECT <typed columns> FROM read_csv(...) | read_json(...)`` with an
explicit column list (CSV cells as text; JSON fields as text, or as JSON where a column needs
the JSON type: DuckDB never infers a type), and :func:`sql_value`, the same conversion for one
value (for the parity tests).

Why: the precise Python path (:func:`~entra_hunt.engine.readers.read_export`) maps 5,000 to
7,000 wide sign-in rows a second; through this module the same files load at 34,000 (CSV) to
74,000 (JSON lines) rows a second, within 1.4x of DuckDB's plain ``read_csv`` / ``read_json``
on the same file, with bounded memory (``bench/load_bench.py``; bench/RESULTS.md, "Loading").
Reading the text fields of JSON as text rather than as JSON, and typing over an inner query's
columns rather than over the raw expressions, is what brought it there.

How it stays exact: every conversion here mirrors :func:`~entra_hunt.engine.readers.rows.coerce`
and the layout's Python evaluation, but is narrower: whatever the SQL cannot decide exactly as
Python would (a value that does not fit, a slash date other than the export's own en-US form,
a float in a text column, a whitespace-padded ``Type``, an unknown ``Type``) raises an
``entra-hunt:`` error instead. The caller then rolls back and loads the file through the
precise path, which either loads the same rows or names the file, line and field of the first
bad record. The parity tests hold both paths to that, value by value and file by file.

A file whose records may go to more than one table is loaded in one pass into the table of its
first record, any other record stopping the pass; only then is the routing pre-scanned (cheap:
DuckDB reads just the routing fields) and the file loaded table by table.

Limits, where the fast path is more lenient than the precise one:

- DuckDB's JSON parser accepts trailing commas and NaN / Infinity, which are not JSON (no
  Microsoft exporter writes them); the fast path loads such files and cells, the precise path
  refuses them. Non-finite numbers are still refused in ``real`` and text columns.
- Fields no column takes are never read here, so they cannot stop the load; JSON objects with
  duplicate keys keep both keys (the precise path keeps the last); ``-0`` read into a text
  column stays ``-0`` (the precise path writes ``0``).

Graph response pages nested in an array, and pages over 64 MiB, go to the precise path.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from entra_hunt.engine.readers import Layout, Sniffed
from entra_hunt.engine.readers.layout import (
    LOCATION,
    ByEventType,
    ByLogType,
    Const,
    Field,
    JsonObject,
    LocationPart,
    Member,
    OneTable,
    Source,
    TableLayout,
    Translate,
)
from entra_hunt.engine.schema import table_schema
from entra_hunt.engine.store import drop_repeated, next_rowid

__all__ = [
    "FastPathRefused",
    "FastResult",
    "MixedTables",
    "install_macros",
    "load_fast",
    "sql_value",
]

logger = logging.getLogger(__name__)

#: Every error the fast path raises on purpose starts with this tag.
TAG = "entra-hunt:"
_ROUTE_TAG = "entra-hunt: route"
_MAX_PAGE_BYTES = 64 << 20
_MAX_CSV_LINE_BYTES = 16 << 20

_ISO = (
    r"[1-9][0-9]{3}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])"
    r"([T ]([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9](\.[0-9]{1,9})?)?"
    r"(Z|[+-]([01][0-9]|2[0-3]):[0-5][0-9])?)?"
)
_US = r"[0-9]{1,2}/[0-9]{1,2}/[0-9]{4}, [0-9]{1,2}:[0-9]{2}:[0-9]{2}\.[0-9]{3} [AP]M"
#: The older admin center download's form: no milliseconds, the comma optional.
_US_SECONDS = r"[0-9]{1,2}/[0-9]{1,2}/[0-9]{4},? [0-9]{1,2}:[0-9]{2}:[0-9]{2} [AP]M"
_REAL = r"[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?"
#: What Python's str.strip() removes: every character str.isspace() accepts.
_PY_SPACE = "".join(ch for ch in map(chr, range(0x3001)) if ch.isspace())
_PY_SPACE_CLASS = "[" + "".join(f"\\x{{{ord(ch):x}}}" for ch in _PY_SPACE) + "]"


def _lit(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


_MACROS = (
    f"eh_fail(what) AS error({_lit(TAG + ' ')} || what)",
    "eh_given(j) AS nullif(nullif(j, 'null'), '\"\"')",
    # Only values that start or end with white space pay for the regular expression.
    f"eh_strip(t) AS CASE WHEN strpos({_lit(_PY_SPACE)}, left(t, 1)) > 0 "
    f"OR strpos({_lit(_PY_SPACE)}, right(t, 1)) > 0 THEN regexp_replace(t, "
    f"{_lit('^' + _PY_SPACE_CLASS + '+|' + _PY_SPACE_CLASS + '+$')}, '', 'g') ELSE t END",
    "eh_str(j) AS CASE WHEN json_type(j) = 'VARCHAR' THEN j->>'$' ELSE CAST(j AS VARCHAR) END",
    # text -> typed; a time zone may carry a time past year 9999 or before year 1 in UTC
    "eh_year(x, what) AS CASE WHEN year(x) BETWEEN 1 AND 9999 THEN x ELSE eh_fail(what) END",
    "eh_time(t, what) AS CASE WHEN t IS NULL OR t = '' THEN NULL "
    f"WHEN regexp_full_match(t, {_lit(_ISO)}) "
    "THEN eh_year(coalesce(CAST(try_cast(t AS TIMESTAMPTZ) AS TIMESTAMP), eh_fail(what)), what) "
    f"WHEN regexp_full_match(t, {_lit(_US)}) "
    "THEN coalesce(try_strptime(t, '%m/%d/%Y, %I:%M:%S.%g %p'), eh_fail(what)) "
    f"WHEN regexp_full_match(t, {_lit(_US_SECONDS)}) THEN coalesce(try_strptime(t, "
    "['%m/%d/%Y, %I:%M:%S %p', '%m/%d/%Y %I:%M:%S %p']), eh_fail(what)) "
    "ELSE eh_fail(what) END",
    "eh_bool(t, what) AS CASE WHEN t IS NULL OR t = '' THEN NULL "
    "WHEN lower(t) IN ('true', '1') THEN true WHEN lower(t) IN ('false', '0') THEN false "
    "ELSE eh_fail(what) END",
    "eh_int(t, what) AS CASE WHEN t IS NULL OR t = '' THEN NULL "
    "WHEN regexp_full_match(t, '[+-]?[0-9]{1,10}') "
    "THEN coalesce(try_cast(t AS INTEGER), eh_fail(what)) ELSE eh_fail(what) END",
    "eh_long(t, what) AS CASE WHEN t IS NULL OR t = '' THEN NULL "
    "WHEN regexp_full_match(t, '[+-]?[0-9]{1,19}') "
    "THEN coalesce(try_cast(t AS BIGINT), eh_fail(what)) ELSE eh_fail(what) END",
    "eh_finite(x, what) AS CASE WHEN isfinite(x) THEN x ELSE eh_fail(what) END",
    "eh_real(t, what) AS CASE WHEN t IS NULL OR t = '' THEN NULL "
    f"WHEN regexp_full_match(t, {_lit(_REAL)}) THEN eh_finite(try_cast(t AS DOUBLE), what) "
    "ELSE eh_fail(what) END",
    # json() parses and re-renders compactly, as the store renders what Python parsed; text
    # that is not JSON stops the statement (and sends the file to the precise path).
    # An exponent of 100 or more may overflow a double (1e400): the precise path decides.
    "eh_huge(j, what) AS CASE WHEN regexp_matches(j, "
    "'(^|[:,\\[])-?[0-9]+(\\.[0-9]+)?[eE][+]?0*[1-9][0-9]{2}') "
    "THEN eh_fail(what) ELSE j END",
    "eh_dyn(t, what) AS CASE WHEN t IS NULL OR t = '' THEN NULL "
    "ELSE eh_huge(nullif(json(t), 'null'), what) END",
    # JSON value (missing, null and "" already NULL) -> typed
    "eh_text_j(j, what) AS CASE WHEN j IS NULL THEN NULL "
    "WHEN json_type(j) = 'VARCHAR' THEN nullif(j->>'$', '') "
    "WHEN json_type(j) IN ('BIGINT', 'UBIGINT', 'BOOLEAN') THEN j->>'$' "
    "WHEN json_type(j) IN ('OBJECT', 'ARRAY') THEN CAST(j AS VARCHAR) "
    "ELSE eh_fail(what) END",
    "eh_dyn_j(j, what) AS CASE WHEN j IS NULL THEN NULL "
    "WHEN json_type(j) = 'VARCHAR' THEN eh_dyn(j->>'$', what) ELSE eh_huge(j, what) END",
    "eh_time_j(j, what) AS CASE WHEN j IS NULL THEN NULL "
    "WHEN json_type(j) = 'VARCHAR' THEN eh_time(j->>'$', what) ELSE eh_fail(what) END",
    "eh_bool_j(j, what) AS CASE WHEN j IS NULL THEN NULL "
    "WHEN json_type(j) = 'BOOLEAN' THEN j->>'$' = 'true' "
    "WHEN json_type(j) IN ('BIGINT', 'UBIGINT') AND j->>'$' IN ('0', '1') THEN j->>'$' = '1' "
    "WHEN json_type(j) = 'VARCHAR' THEN eh_bool(j->>'$', what) ELSE eh_fail(what) END",
    "eh_int_j(j, what) AS CASE WHEN j IS NULL THEN NULL "
    "WHEN json_type(j) IN ('BIGINT', 'UBIGINT') "
    "THEN coalesce(try_cast(j->>'$' AS INTEGER), eh_fail(what)) "
    "WHEN json_type(j) = 'VARCHAR' THEN eh_int(j->>'$', what) ELSE eh_fail(what) END",
    "eh_long_j(j, what) AS CASE WHEN j IS NULL THEN NULL "
    "WHEN json_type(j) IN ('BIGINT', 'UBIGINT') "
    "THEN coalesce(try_cast(j->>'$' AS BIGINT), eh_fail(what)) "
    "WHEN json_type(j) = 'VARCHAR' THEN eh_long(j->>'$', what) ELSE eh_fail(what) END",
    "eh_real_j(j, what) AS CASE WHEN j IS NULL THEN NULL "
    "WHEN json_type(j) IN ('BIGINT', 'UBIGINT', 'DOUBLE') "
    "THEN eh_finite(try_cast(j->>'$' AS DOUBLE), what) "
    "WHEN json_type(j) = 'VARCHAR' THEN eh_real(j->>'$', what) ELSE eh_fail(what) END",
    # portal cells
    "eh_flag(t, what) AS CASE WHEN t IS NULL OR t = '' THEN NULL "
    "WHEN lower(trim(t)) IN ('true', 'yes', '1') THEN true "
    "WHEN lower(trim(t)) IN ('false', 'no', '0') THEN false ELSE eh_fail(what) END",
    "eh_whole(t, what) AS CASE WHEN t IS NULL OR t = '' THEN NULL "
    "WHEN regexp_full_match(trim(t), '[+-]?[0-9]{1,18}') THEN CAST(trim(t) AS BIGINT) "
    "ELSE eh_fail(what) END",
    "eh_place(t, part) AS CASE WHEN t IS NULL OR t = '' THEN t "
    f"WHEN regexp_full_match(t, {_lit(LOCATION)}) "
    f"THEN regexp_extract(t, {_lit('^' + LOCATION + '$')}, part) "
    "WHEN part = 3 THEN t ELSE '' END",
)

_TEXT_TYPED = {
    "string": "nullif({v}, '')",
    "dynamic": "eh_dyn({v}, {w})",
    "datetime": "eh_time({v}, {w})",
    "bool": "eh_bool({v}, {w})",
    "int": "eh_int({v}, {w})",
    "long": "eh_long({v}, {w})",
    "real": "eh_real({v}, {w})",
}
_JSON_TYPED = {
    "string": "eh_text_j({v}, {w})",
    "dynamic": "eh_dyn_j({v}, {w})",
    "datetime": "eh_time_j({v}, {w})",
    "bool": "eh_bool_j({v}, {w})",
    "int": "eh_int_j({v}, {w})",
    "long": "eh_long_j({v}, {w})",
    "real": "eh_real_j({v}, {w})",
}


class FastPathRefused(Exception):
    """The fast path stopped; the caller rolls back and uses the precise path.

    ``reason`` is for the log only: the precise path says what is wrong, where.
    """

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass
class FastResult:
    """What the fast path loaded from one file."""

    rows_by_table: dict[str, int] = field(default_factory=dict)
    not_kept: int = 0
    repeated: int = 0
    first: datetime | None = None
    last: datetime | None = None

    @property
    def rows(self) -> int:
        """Rows loaded across tables."""
        return sum(self.rows_by_table.values())


def install_macros(con: duckdb.DuckDBPyConnection) -> None:
    """Define the conversion macros on ``con`` (temporary: never stored in the database)."""
    con.execute("SET TimeZone = 'UTC'")
    for macro in _MACROS:
        con.execute(f"CREATE OR REPLACE TEMP MACRO {macro}")


def sql_value(kusto_type: str, json_value: bool, raw: str) -> str:
    """The SQL that types the raw value ``raw`` as :func:`coerce` would (for the tests)."""
    table = _JSON_TYPED if json_value else _TEXT_TYPED
    given = f"eh_given({raw})" if json_value else f"nullif({raw}, '')"
    return table[kusto_type].format(v=given, w="'value'")


# -- rendering ---------------------------------------------------------------------------------


class _Render:
    """Renders a layout's sources and route as SQL over the relation's raw columns."""

    def __init__(self, layout: Layout, ref: Callable[[str], str]) -> None:
        self.layout = layout
        self.ref = ref
        self.json_keys = json_keys(layout)

    def raw(self, source: Source) -> tuple[str, bool]:
        """The SQL of a source's raw value, and whether it is JSON (else text)."""
        if isinstance(source, Field):
            is_json = source.names[0] in self.json_keys
            if is_json:
                parts = [f"eh_given({self.ref(name)})" for name in source.names]
            else:
                parts = [f"nullif({self.ref(name)}, '')" for name in source.names]
            sql = parts[0] if len(parts) == 1 else f"coalesce({', '.join(parts)})"
            return sql, is_json
        if isinstance(source, Const):
            return _lit(source.value), False
        if isinstance(source, Member):
            value = self.ref(source.name)
            path = _lit(f'$."{source.key}"')
            return (
                f"CASE WHEN {value} IS NULL THEN NULL "
                f"WHEN json_type({value}) = 'OBJECT' THEN eh_given(json_extract({value}, {path}))"
                f" ELSE eh_fail('not an object') END",
                True,
            )
        if isinstance(source, Translate):
            value = self._text(source.source)
            cases = " ".join(f"WHEN {_lit(a)} THEN {_lit(b)}" for a, b in source.values)
            return f"CASE lower(trim({value})) {cases} ELSE {value} END", False
        if isinstance(source, LocationPart):
            return f"eh_place({self._text(source.source)}, {source.part})", False
        return self._object(source), True

    def _text(self, source: Field) -> str:
        sql, is_json = self.raw(source)
        if is_json:
            raise ValueError("portal-style sources read text cells only")
        return sql

    def _object(self, source: JsonObject) -> str:
        parts = []
        for key, member, kind in source.members:
            value, _ = self.raw(member)
            if kind == "text":
                value = f"coalesce({value}, '')"
            elif kind == "bool":
                value = f"eh_flag({value}, {_lit(key)})"
            else:
                value = f"eh_whole({value}, {_lit(key)})"
            parts.append(f"{_lit(key)}, {value}")
        return f"json_object({', '.join(parts)})"

    def typed(self, column: str, kusto_type: str, source: Source) -> tuple[str, str]:
        """The SQL of one column's raw value, and of the typed column over it.

        The typed SQL names the raw value ``{raw}``, to be bound to a column of an inner query.
        """
        value, is_json = self.raw(source)
        template = (_JSON_TYPED if is_json else _TEXT_TYPED)[kusto_type]
        return value, template.format(v="{raw}", w=_lit(column))

    def route(self) -> str:
        """The SQL naming each record's table ('' for a record not kept)."""
        route = self.layout.route
        if isinstance(route, OneTable):
            return _lit(route.table)
        if isinstance(route, ByEventType):
            return self._by_event_type(route)
        return self._by_log_type(route)

    def _route_text(self, source: Field) -> str:
        value, is_json = self.raw(source)
        return f"eh_strip(eh_str({value}))" if is_json else f"eh_strip({value})"

    def _by_log_type(self, route: ByLogType) -> str:
        branches = []
        if route.type_field is not None:
            kind = self._route_text(route.type_field)
            cases = " ".join(
                f"WHEN {_lit(value)} THEN {_lit(table or '')}" for value, table in route.by_type
            )
            branches.append(
                f"WHEN {kind} IS NOT NULL THEN CASE {kind} {cases} "
                "ELSE eh_fail('Type names another table') END"
            )
        if route.category_field is not None and route.by_category:
            kind = self._route_text(route.category_field)
            cases = " ".join(
                f"WHEN {_lit(value)} THEN {_lit(table or '')}" for value, table in route.by_category
            )
            known = ", ".join(_lit(value) for value, _ in route.by_category)
            branches.append(f"WHEN {kind} IN ({known}) THEN CASE {kind} {cases} END")
        if route.markers:
            present = " OR ".join(f"{self.raw(m)[0]} IS NOT NULL" for m in route.markers)
            branches.append(f"WHEN {present} THEN {_lit(route.marker_table)}")
        return f"CASE {' '.join(branches)} ELSE {_lit(route.default)} END"

    def _by_event_type(self, route: ByEventType) -> str:
        kinds = self.ref(route.event_types)
        flag = self.ref(route.is_interactive)
        interactive, non_interactive = _lit(route.interactive), _lit(route.non_interactive)
        return (
            f"CASE WHEN json_type({kinds}) = 'ARRAY' AND json_array_length({kinds}) > 0 THEN "
            f"CASE WHEN list_contains({kinds}->>'$[*]', 'interactiveUser') THEN {interactive} "
            f"WHEN list_contains({kinds}->>'$[*]', 'nonInteractiveUser') "
            f"THEN {non_interactive} ELSE '' END "
            f"WHEN json_type({kinds}) = 'VARCHAR' THEN CASE {kinds}->>'$' "
            f"WHEN 'interactiveUser' THEN {interactive} "
            f"WHEN 'nonInteractiveUser' THEN {non_interactive} ELSE '' END "
            f"WHEN json_type({flag}) = 'BOOLEAN' AND {flag}->>'$' = 'false' "
            f"THEN {non_interactive} "
            f"WHEN json_type({flag}) = 'VARCHAR' AND lower({flag}->>'$') = 'false' "
            f"THEN {non_interactive} "
            f"ELSE {interactive} END"
        )


def json_keys(layout: Layout) -> frozenset[str]:
    """The JSON fields read as JSON: those a non-text column, an object key or the route needs.

    The others (most of a sign-in) are read as text, which DuckDB does faster. A JSON string
    read as text is its value, a number its text as written (the precise path keeps that text
    too), an object its compact JSON.
    """
    if not layout.json_values:
        return frozenset()
    needed: set[str] = set()
    fields: list[Field] = []
    for table in layout.tables:
        types = {c.name: c.type for c in table_schema(table.table).columns}
        for column, source in table.columns:
            if isinstance(source, Field):
                fields.append(source)
                if types[column] != "string":
                    needed.update(source.names)
            elif isinstance(source, Member):
                needed.add(source.name)
    if isinstance(layout.route, ByEventType):
        needed.update((layout.route.event_types, layout.route.is_interactive))
    changed = True
    while changed:  # a field read as JSON makes every field it is coalesced with JSON too
        changed = False
        for found in fields:
            names = set(found.names)
            if names & needed and not names <= needed:
                needed |= names
                changed = True
    return frozenset(needed)


# -- the relation ------------------------------------------------------------------------------


def _relation(sniffed: Sniffed, path: Path) -> tuple[str, list[object], Callable[[str], str]]:
    """The FROM clause reading ``path`` raw, its parameters, and how to refer to a field."""
    layout = sniffed.layout
    compression = "gzip" if sniffed.gzip else "none"
    if not layout.json_values:
        columns = "{" + ", ".join(f"{_lit(k)}: 'VARCHAR'" for k in layout.fields) + "}"
        sql = (
            "read_csv(?, header = true, auto_detect = false, delim = ?, quote = '\"', "
            "escape = '\"', strict_mode = true, null_padding = false, "
            f"max_line_size = {_MAX_CSV_LINE_BYTES}, compression = ?, columns = {columns})"
        )
        return sql, [str(path), sniffed.delimiter, compression], _ident
    shape = sniffed.json_shape
    as_json = json_keys(layout)

    def kind(key: str) -> str:
        return "JSON" if key in as_json else "VARCHAR"

    if shape == "pages":
        members = ", ".join(f"{_ident(k)} {kind(k)}" for k in layout.fields)
        columns = f"{{'value': {_lit(f'STRUCT({members})[]')}}}"
        sql = (
            "(SELECT unnest(CASE WHEN value IS NULL THEN eh_fail('not a page') ELSE value END)"
            " AS r FROM read_json(?, format = 'unstructured', records = true, "
            f"maximum_object_size = {_MAX_PAGE_BYTES}, compression = ?, columns = {columns}))"
        )
        return sql, [str(path), compression], lambda key: f"r.{_ident(key)}"
    if shape not in ("lines", "array", "stream"):
        raise FastPathRefused(f"JSON shape {shape} is read by the precise path")
    format = {"lines": "newline_delimited", "array": "array", "stream": "unstructured"}[shape]
    columns = "{" + ", ".join(f"{_lit(k)}: '{kind(k)}'" for k in layout.fields) + "}"
    sql = f"read_json(?, format = '{format}', records = true, compression = ?, columns = {columns})"
    return sql, [str(path), compression], _ident


# -- loading -----------------------------------------------------------------------------------


class MixedTables(Exception):
    """The file's records go to more than one table: roll back, load it with ``by_table``."""


def load_fast(
    con: duckdb.DuckDBPyConnection, sniffed: Sniffed, path: Path, *, by_table: bool = False
) -> FastResult:
    """Load the export at ``path``, described by ``sniffed``, inside the caller's transaction.

    Args:
        con: the database, with :func:`install_macros` run and a transaction open.
        sniffed: what the file is.
        path: the file to read (a zip member already extracted).
        by_table: pre-scan the routing and load table by table; otherwise every record must
            go to the table of the first record.

    Raises:
        MixedTables: without ``by_table``, a record goes to another table or is not kept.
        FastPathRefused: a record does not fit, or DuckDB cannot read the file as sniffed.
        duckdb.Error: anything else (out of disk space, out of memory).
    """
    relation, params, ref = _relation(sniffed, path)
    render = _Render(sniffed.layout, ref)
    result = FastResult()
    tables = [t.table for t in sniffed.layout.tables]
    try:
        if isinstance(sniffed.layout.route, OneTable):
            _insert(con, render, sniffed.layout.tables[0], relation, params, None, result)
            return result
        route = render.route()
        if not by_table:
            expected = sniffed.first_table or tables[0]
            guard = (
                f"CASE WHEN ({route}) = {_lit(expected)} THEN true "
                f"ELSE error({_lit(_ROUTE_TAG)}) END"
            )
            _insert(con, render, sniffed.layout.table(expected), relation, params, guard, result)
            return result
        counts = dict(
            con.execute(
                f"SELECT route, count(*) FROM (SELECT {route} AS route FROM {relation}) "
                "GROUP BY route",
                params,
            ).fetchall()
        )
        result.not_kept = int(counts.pop("", 0))
        for table in tables:
            if counts.get(table):
                where = f"({route}) = {_lit(table)}"
                _insert(con, render, sniffed.layout.table(table), relation, params, where, result)
    except duckdb.Error as err:
        if _ROUTE_TAG in str(err):
            raise MixedTables() from None
        raise _refused(err) from None
    return result


def _refused(err: duckdb.Error) -> Exception:
    """A DuckDB error as the caller should treat it: refused (fall back) or a real failure."""
    text = str(err)
    if TAG not in text and isinstance(
        err, duckdb.IOException | duckdb.OutOfMemoryException | duckdb.FatalException
    ):
        return err
    return FastPathRefused(text.splitlines()[0][:300])


def _insert(
    con: duckdb.DuckDBPyConnection,
    render: _Render,
    layout: TableLayout,
    relation: str,
    params: list[object],
    where: str | None,
    result: FastResult,
) -> None:
    # Raw values are computed once in an inner query and typed over its columns in the outer
    # one: the typing macros name their argument several times, and over an inner column that
    # costs nothing, where over the raw expression it would multiply the plan.
    schema = table_schema(layout.table)
    types = {c.name: c.type for c in schema.columns}
    raws: dict[str, str] = {}
    names, values = [], []
    for column, source in layout.columns:
        raw, template = render.typed(column, types[column], source)
        alias = raws.setdefault(raw, f"r{len(raws)}")
        sql = template.replace("{raw}", alias)
        if column == schema.time_column:
            sql = f"coalesce({sql}, eh_fail('no time'))"
        names.append(_ident(column))
        values.append(sql)
    if schema.time_column not in dict(layout.columns):
        values.append("eh_fail('no time')")
        names.append(_ident(schema.time_column))
    inner = ", ".join(f"{raw} AS {alias}" for raw, alias in raws.items())
    if where is not None:
        inner += f", {where} AS keep"
    table = _ident(layout.table)
    before = next_rowid(con, layout.table)
    statement = (
        f"INSERT INTO {table} ({', '.join(names)}) SELECT {', '.join(values)} "
        f"FROM (SELECT {inner} FROM {relation})"
    )
    if where is not None:
        statement += " WHERE keep"
    con.execute(statement, params)
    result.repeated += drop_repeated(con, layout.table, before)
    _tally(con, layout.table, before, result)


def _tally(con: duckdb.DuckDBPyConnection, table: str, before: int, result: FastResult) -> None:
    time_column = _ident(table_schema(table).time_column)
    row = con.execute(
        f"SELECT count(*), min({time_column}), max({time_column}) FROM {_ident(table)} "
        "WHERE rowid >= ?",
        [before],
    ).fetchone()
    if row is None or not row[0]:
        return
    result.rows_by_table[table] = result.rows_by_table.get(table, 0) + int(row[0])
    for value in (row[1], row[2]):
        if isinstance(value, datetime):
            instant = value.replace(tzinfo=UTC) if value.tzinfo is None else value
            if result.first is None or instant < result.first:
                result.first = instant
            if result.last is None or instant > result.last:
                result.last = instant
