"""Layouts for exports whose fields carry the tables' own column names.

Log Analytics (SigninLogs, AADNonInteractiveUserSignInLogs, AuditLogs) and Defender advanced
hunting (EntraIdSignInEvents, AADSignInEventsBeta) export each column under its own name.
Offers :func:`resolve_field`, which undoes the Log Analytics portal's decorations
(``CreatedDateTime [UTC]`` is ``CreatedDateTime``; a dynamic column split into
``DeviceDetail_dynamic`` / ``DeviceDetail_string`` is ``DeviceDetail``, the plain name first,
then ``_dynamic``, then ``_string``), and :func:`named_layout`, which builds the
:class:`~entra_hunt.engine.readers.layout.Layout` of a file from its header (CSV) or from the
known column names (JSON).

Limits: a header naming a time zone other than UTC (``TimeGenerated [Local Time]``) is refused,
as its times cannot be placed.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from entra_hunt.engine.readers.layout import Field, Layout, Route, Source, TableLayout
from entra_hunt.engine.readers.rows import show_value
from entra_hunt.engine.schema import table_schema
from entra_hunt.errors import LoadError

__all__ = ["FieldSpec", "columns_in", "known_columns", "named_layout", "resolve_field"]

_SPLIT_SUFFIXES = {"_dynamic": 1, "_string": 2}
_ZONE_SUFFIX = re.compile(r"(.+?)\s*\[([^\]]*)\]")


@dataclass(frozen=True)
class FieldSpec:
    """What an exported field name means: the column it fills, and how it was decorated.

    Attributes:
        column: the table column.
        rank: 0 for the plain name, 1 for ``_dynamic``, 2 for ``_string``; lower wins.
        zone: the bracketed time zone of a header other than ``[UTC]``, else None.
    """

    column: str
    rank: int
    zone: str | None = None


def known_columns(tables: Sequence[str]) -> frozenset[str]:
    """Every column name of ``tables``."""
    return frozenset(name for table in tables for name in table_schema(table).names)


def resolve_field(name: str, known: frozenset[str]) -> FieldSpec | None:
    """The column of ``known`` an exported field name stands for, or None."""
    name = name.strip()
    zone: str | None = None
    decorated = _ZONE_SUFFIX.fullmatch(name)
    if decorated:
        name = decorated.group(1)
        if decorated.group(2).strip().upper() != "UTC":
            zone = decorated.group(2).strip()
    if name in known:
        return FieldSpec(name, 0, zone)
    for suffix, rank in _SPLIT_SUFFIXES.items():
        if name.endswith(suffix) and name[: -len(suffix)] in known:
            return FieldSpec(name[: -len(suffix)], rank, zone)
    return None


def columns_in(names: Sequence[str], known: frozenset[str]) -> set[str]:
    """The columns that exported field ``names`` fill."""
    return {spec.column for spec in (resolve_field(n, known) for n in names) if spec}


#: Builds the route once the fields are known: (field of a column, or None) -> route.
RouteBuilder = Callable[[Callable[[str], Field | None]], Route]


def named_layout(
    format: str,
    tables: Sequence[str],
    header: Sequence[str] | None,
    *,
    label: str,
    route: RouteBuilder,
    extra: Mapping[str, Mapping[str, Source]] | None = None,
    fallbacks: Mapping[str, tuple[str, ...]] | None = None,
    time_fields: Mapping[str, str] | None = None,
    json_keys: Sequence[str] = (),
) -> Layout:
    """The layout of an export whose fields carry the column names of ``tables``.

    Args:
        format: the export format name.
        tables: the tables the file may fill.
        header: the CSV header, or None for JSON (every known name is read, and its
            ``_dynamic`` / ``_string`` forms when ``json_keys`` has them).
        label: names the file in error messages.
        route: builds the route from a lookup of each column's field.
        extra: per table, columns filled from elsewhere (constants).
        fallbacks: column -> other columns whose fields stand in when it is empty, e.g.
            TimeGenerated -> (CreatedDateTime,).
        time_fields: per table, the exported names that give a record its time.
        json_keys: for JSON, the keys of the first record.

    Raises:
        LoadError: a time column is exported in a time zone other than UTC.
    """
    known = known_columns(tables)
    ranked: dict[str, list[tuple[int, int, str]]] = {}
    labels: dict[str, str] = {}
    ignored: list[str] = []
    if header is None:
        present = set(json_keys)
        for position, column in enumerate(sorted(known)):
            for rank, name in enumerate((column, f"{column}_dynamic", f"{column}_string")):
                if rank == 0 or name in present:
                    ranked.setdefault(column, []).append((rank, position, name))
                    labels[name] = name
    else:
        datetimes = {
            c.name for t in tables for c in table_schema(t).columns if c.type == "datetime"
        }
        for position, name in enumerate(header):
            key = f"c{position}"
            labels[key] = name
            spec = resolve_field(name, known)
            if spec is None:
                ignored.append(name)
                continue
            if spec.zone is not None and spec.column in datetimes:
                raise LoadError(
                    f"the times are exported in {show_value(spec.zone)}, not UTC, and cannot "
                    "be placed",
                    where=f"{label}, line 1, field {name}",
                    fix="Set the display time zone to UTC and export again",
                )
            ranked.setdefault(spec.column, []).append((spec.rank, position, key))

    keys = {column: tuple(k for _, _, k in sorted(found)) for column, found in ranked.items()}
    fallbacks = fallbacks or {}

    def field_of(column: str) -> Field | None:
        names = keys.get(column, ())
        for other in fallbacks.get(column, ()):
            names += keys.get(other, ())
        return Field(names) if names else None

    layouts = []
    for table in tables:
        added = (extra or {}).get(table, {})
        columns: list[tuple[str, Source]] = []
        for column in table_schema(table).names:
            source: Source | None = added.get(column) or field_of(column)
            if source is not None:
                columns.append((column, source))
        time_column = table_schema(table).time_column
        layouts.append(
            TableLayout(
                table,
                tuple(columns),
                (time_fields or {}).get(table, time_column),
            )
        )

    fields = tuple(labels)
    return Layout(
        format=format,
        tables=tuple(layouts),
        route=route(field_of),
        fields=fields,
        labels=labels,
        json_values=header is None,
        ignored=tuple(ignored),
        kept_keys=frozenset(fields),
    )
