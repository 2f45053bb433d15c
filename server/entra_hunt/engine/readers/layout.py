"""Layouts: how the fields of one export fill the columns of the local tables.

A :class:`Layout` is data. For each table a file can fill it says which source gives each
column: a field (the first non-empty of several), one key of an object-valued field, a
constant, a display value translated to the API's spelling, a part of a ``City, State, CC``
cell, or a JSON object built from several fields. A route says which table each record
belongs to. The format modules (``loganalytics``, ``graph``, ``portal``, ``defender``) build
layouts from their mapping tables; two engines apply them:

- :class:`LayoutMapper`, here: record by record in Python, with errors that name the file,
  line and field (the precise path, also used by ``--skip-bad``);
- :mod:`entra_hunt.engine.bulk`: the same layout rendered as one DuckDB query (the fast path).

Raw records are mappings from a field key to its value: the JSON object itself, or for a CSV
``{"c0": cell, "c1": cell, ...}`` by position, so duplicated or oddly spaced headers never
clash and no header text ever reaches SQL. ``labels`` gives each key its name as exported.

Limits: :class:`Translate`, :class:`LocationPart` and :class:`JsonObject` read text cells
(the portal CSV); the JSON formats use :class:`Field`, :class:`Member` and :class:`Const`.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Literal

from entra_hunt.engine.readers.rows import Cell, RowBuilder, SourceRow, show_value
from entra_hunt.errors import LoadError

__all__ = [
    "LOCATION",
    "ByEventType",
    "ByLogType",
    "Const",
    "Field",
    "JsonObject",
    "Layout",
    "LayoutMapper",
    "LocationPart",
    "Member",
    "MemberKind",
    "OneTable",
    "Route",
    "Source",
    "TableLayout",
    "Translate",
    "is_empty",
]

logger = logging.getLogger(__name__)

#: ``City, State, CC`` as the portal writes a location: the city may itself hold commas.
LOCATION = r"(?:(.*), )?([^,]*), ([^,]*)"
_LOCATION = re.compile(LOCATION)
_WHOLE_NUMBER = re.compile(r"[+-]?[0-9]+")
_TRUE = frozenset({"true", "yes", "1"})
_FALSE = frozenset({"false", "no", "0"})
_MAX_IGNORED_SHOWN = 50

MemberKind = Literal["text", "bool", "int"]


def is_empty(raw: object) -> bool:
    """Whether a raw value counts as absent: missing, JSON null or an empty string."""
    return raw is None or raw == ""


@dataclass(frozen=True)
class Field:
    """The first of ``names`` (raw field keys) whose value is not empty."""

    names: tuple[str, ...]


@dataclass(frozen=True)
class Member:
    """The ``key`` of the object held by field ``name`` (Graph ``status.errorCode``)."""

    name: str
    key: str


@dataclass(frozen=True)
class Const:
    """A fixed value, e.g. the table name for ``Type``."""

    value: str


@dataclass(frozen=True)
class Translate:
    """A display value turned into the API's spelling, e.g. 'Device Code' into 'deviceCode'.

    Matched after trimming spaces and lower-casing; a value not in ``values`` passes unchanged.
    """

    source: Field
    values: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class LocationPart:
    """One part of a ``City, State, CC`` cell: 1 city, 2 state, 3 country or region.

    A cell without ``", "`` is taken to be only the country.
    """

    source: Field
    part: int


@dataclass(frozen=True)
class JsonObject:
    """A JSON object built from several cells, keys in the order given.

    Each member is ``(key, source, kind)``: ``text`` is the cell ("" when empty), ``bool``
    reads true/false/yes/no/1/0 (null when empty), ``int`` a whole number (null when empty).
    """

    members: tuple[tuple[str, Field | Translate | LocationPart, MemberKind], ...]


Source = Field | Member | Const | Translate | LocationPart | JsonObject


@dataclass(frozen=True)
class OneTable:
    """Every record goes to ``table``."""

    table: str


@dataclass(frozen=True)
class ByLogType:
    """Log Analytics routing: the ``Type`` cell, else ``Category``, else marker columns.

    Attributes:
        type_field: the ``Type`` field; a value not in ``by_type`` is an error.
        category_field: the ``Category`` field; a value not in ``by_category`` falls through.
        by_type: Type value -> table, or None for a kind of record that is not kept.
        by_category: Category value -> table, or None.
        markers: fields whose presence sends a record to ``marker_table``.
        marker_table: the table the markers point to.
        default: the table otherwise.
        tables: what the error says the file may hold, e.g. "SigninLogs and ...".
    """

    type_field: Field | None
    category_field: Field | None
    by_type: tuple[tuple[str, str | None], ...]
    by_category: tuple[tuple[str, str | None], ...]
    markers: tuple[Field, ...]
    marker_table: str
    default: str
    tables: str


@dataclass(frozen=True)
class ByEventType:
    """Graph routing: ``signInEventTypes``, else ``isInteractive``.

    A list holding ``interactiveUser`` goes to ``interactive``; one holding
    ``nonInteractiveUser`` to ``non_interactive``; any other non-empty list (service
    principal, managed identity) is not kept. Without the list, ``isInteractive`` false goes
    to ``non_interactive``, anything else to ``interactive``.
    """

    event_types: str
    is_interactive: str
    interactive: str
    non_interactive: str


Route = OneTable | ByLogType | ByEventType


@dataclass(frozen=True)
class TableLayout:
    """Which source fills each column of one table.

    Attributes:
        table: the local table.
        columns: ``(column, source)`` pairs in the table's documented order.
        time_fields: the exported names that can give a record its time, for messages.
    """

    table: str
    columns: tuple[tuple[str, Source], ...]
    time_fields: str


@dataclass(frozen=True)
class Layout:
    """How one export file fills the local tables.

    Attributes:
        format: the export format, one of ``readers.FORMATS``.
        tables: the table layouts, one per table the route can choose.
        route: which table a record belongs to.
        fields: every raw field key the layout reads (CSV: ``c0``.. in header order).
        labels: raw key -> the name as exported, for error messages.
        json_values: True when values are JSON values (JSON files), False for CSV text.
        ignored: exported names that no column takes (CSV), logged once per file.
        kept_keys: JSON keys that are read or knowingly dropped, so not logged as ignored.
    """

    format: str
    tables: tuple[TableLayout, ...]
    route: Route
    fields: tuple[str, ...]
    labels: Mapping[str, str]
    json_values: bool
    ignored: tuple[str, ...] = ()
    kept_keys: frozenset[str] = field(default_factory=frozenset)

    def table(self, name: str) -> TableLayout:
        """The layout of table ``name``."""
        for table in self.tables:
            if table.table == name:
                return table
        raise KeyError(name)

    def label(self, key: str) -> str:
        """The exported name of raw field ``key``."""
        return self.labels.get(key, key)


class LayoutMapper:
    """Applies a :class:`Layout` to the raw records of one file, in Python."""

    def __init__(self, layout: Layout, label: str) -> None:
        """Map records of the file named ``label`` (used in error messages)."""
        self.layout = layout
        self._label = label
        self._builders = {
            table.table: RowBuilder(table.table, label, table.time_fields)
            for table in layout.tables
        }
        self._ignored: set[str] = set()
        self.not_kept = 0

    def map(self, record: Mapping[str, object], line: int) -> SourceRow | None:
        """The typed row for the record starting on ``line``, or None for a kind not kept.

        Raises:
            LoadError: a value does not fit its column, an object field is not an object, or
                the record names a table the file should not hold.
        """
        if self.layout.json_values and len(self._ignored) < _MAX_IGNORED_SHOWN:
            self._note_ignored(record)
        table = self._route(record, line)
        if table is None:
            self.not_kept += 1
            return None
        layout = self.layout.table(table)
        cells: dict[str, Cell] = {}
        for column, source in layout.columns:
            cells[column] = self._value(source, record, line)
        return self._builders[table].build(cells, line)

    def finish(self) -> None:
        """Log, once per file, what was left out."""
        ignored = sorted(set(self.layout.ignored) | self._ignored)
        if ignored:
            logger.info(
                "%s: ignored fields that no table column takes: %s",
                self._label,
                ", ".join(show_value(name) for name in ignored[:_MAX_IGNORED_SHOWN]),
            )
        if self.not_kept:
            logger.warning(
                "%s: left out %d service principal or managed identity sign-ins "
                "(only user sign-ins are loaded)",
                self._label,
                self.not_kept,
            )

    # -- sources -------------------------------------------------------------------------------

    def _value(self, source: Source, record: Mapping[str, object], line: int) -> Cell:
        if isinstance(source, Field):
            return self._first(source, record)
        if isinstance(source, Const):
            return "(constant)", source.value
        if isinstance(source, Member):
            return self._member(source, record, line)
        if isinstance(source, Translate):
            name, raw = self._first(source.source, record)
            return name, translate(raw, source.values)
        if isinstance(source, LocationPart):
            name, raw = self._first(source.source, record)
            return name, location_part(raw, source.part)
        return self._object(source, record, line)

    def _first(self, source: Field, record: Mapping[str, object]) -> Cell:
        for key in source.names:
            raw = record.get(key)
            if not is_empty(raw):
                return self.layout.label(key), raw
        return self.layout.label(source.names[0]), None

    def _member(self, source: Member, record: Mapping[str, object], line: int) -> Cell:
        raw = record.get(source.name)
        where = f"{self.layout.label(source.name)}.{source.key}"
        if raw is None:
            return where, None
        if isinstance(raw, dict):
            return where, raw.get(source.key)
        raise LoadError(
            f"the value {show_value(raw)} is not an object with {source.key}",
            where=f"{self._label}, line {line}, field {self.layout.label(source.name)}",
            fix=f"Expected a JSON object in {self.layout.label(source.name)}",
        )

    def _object(self, source: JsonObject, record: Mapping[str, object], line: int) -> Cell:
        built: dict[str, object] = {}
        first = ""
        for key, member, kind in source.members:
            name, raw = self._value(member, record, line)
            first = first or name
            try:
                built[key] = member_value(raw, kind)
            except ValueError:
                expected = "true or false" if kind == "bool" else "a whole number"
                raise LoadError(
                    f"the value {show_value(raw)} does not fit {key} ({kind})",
                    where=f"{self._label}, line {line}, field {name}",
                    fix=f"Expected {expected}; correct the record or export it again",
                ) from None
        return first, built

    # -- routing -------------------------------------------------------------------------------

    def _route(self, record: Mapping[str, object], line: int) -> str | None:
        route = self.layout.route
        if isinstance(route, OneTable):
            return route.table
        if isinstance(route, ByEventType):
            return _route_by_event_type(route, record)
        return self._route_by_log_type(route, record, line)

    def _route_by_log_type(
        self, route: ByLogType, record: Mapping[str, object], line: int
    ) -> str | None:
        if route.type_field is not None:
            name, raw = self._first(route.type_field, record)
            if not is_empty(raw):
                kind = str(raw).strip()
                for value, table in route.by_type:
                    if kind == value:
                        return table
                raise LoadError(
                    f"the row belongs to table {show_value(kind)}, not to {route.tables}",
                    where=f"{self._label}, line {line}, field {name}",
                    fix=f"Export only {route.tables} rows into this file",
                )
        if route.category_field is not None:
            _, raw = self._first(route.category_field, record)
            if not is_empty(raw):
                kind = str(raw).strip()
                for value, table in route.by_category:
                    if kind == value:
                        return table
        for marker in route.markers:
            if not is_empty(self._first(marker, record)[1]):
                return route.marker_table
        return route.default

    def _note_ignored(self, record: Mapping[str, object]) -> None:
        kept = self.layout.kept_keys
        for key in record:
            if key not in kept and not key.startswith("@"):
                self._ignored.add(key)
                if len(self._ignored) >= _MAX_IGNORED_SHOWN:
                    return


def _route_by_event_type(route: ByEventType, record: Mapping[str, object]) -> str | None:
    kinds = record.get(route.event_types)
    if isinstance(kinds, str):
        kinds = [kinds]
    if isinstance(kinds, list) and kinds:
        if "interactiveUser" in kinds:
            return route.interactive
        if "nonInteractiveUser" in kinds:
            return route.non_interactive
        return None
    interactive = record.get(route.is_interactive)
    if interactive is False or str(interactive).lower() == "false":
        return route.non_interactive
    return route.interactive


def translate(raw: object, values: Iterable[tuple[str, str]]) -> object:
    """The API spelling of a display value; other values unchanged."""
    if not isinstance(raw, str):
        return raw
    key = raw.strip(" ").lower()
    for display, api in values:
        if key == display:
            return api
    return raw


def location_part(raw: object, part: int) -> object:
    """Part ``part`` (1 city, 2 state, 3 country) of a ``City, State, CC`` text."""
    if not isinstance(raw, str) or raw == "":
        return raw
    match = _LOCATION.fullmatch(raw)
    if match is None:
        return raw if part == 3 else ""
    return match.group(part) or ""


def member_value(raw: object, kind: MemberKind) -> object:
    """A JSON object member from a cell; ValueError when the cell does not fit ``kind``."""
    if kind == "text":
        return "" if raw is None else raw
    if is_empty(raw):
        return None
    text = str(raw).strip(" ")
    if kind == "bool":
        lowered = text.lower()
        if lowered in _TRUE:
            return True
        if lowered in _FALSE:
            return False
        raise ValueError(text)
    if _WHOLE_NUMBER.fullmatch(text) is None:
        raise ValueError(text)
    return int(text)
