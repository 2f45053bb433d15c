"""Reading Log Analytics exports of SigninLogs and AADNonInteractiveUserSignInLogs.

Offers :func:`read_csv` for the CSV the Sentinel / Log Analytics portal writes and
:class:`LogAnalyticsMapper` for the same rows as JSON objects (arrays or JSON lines, e.g. from
``az monitor log-analytics query``). Column names are the tables' own PascalCase names, with the
portal's decorations undone: ``CreatedDateTime [UTC]`` is ``CreatedDateTime``, and a dynamic
column split into ``DeviceDetail_dynamic`` / ``DeviceDetail_string`` is ``DeviceDetail`` (the
first non-empty of the plain, ``_dynamic`` and ``_string`` cells wins). ``TimeGenerated`` falls
back to ``CreatedDateTime``, which older exports carry alone.

Each row goes to the table its ``Type`` (or ``Category``) cell names, so an export of
``union SigninLogs, AADNonInteractiveUserSignInLogs`` splits correctly; without those cells a row
holding ``ProcessingTimeInMs`` or ``SignInEventTypes`` is non-interactive, any other is
``SigninLogs``.

Limits: service principal and managed identity sign-ins are skipped with a warning (there is no
local table for them); columns neither table has are ignored and logged once per file; times
exported in a zone other than UTC (``TimeGenerated [Local Time]``) are refused.
"""

from __future__ import annotations

import csv
import itertools
import logging
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import cache, lru_cache

from entra_hunt.engine.readers.rows import Cell, RowBuilder, SourceRow, show_value
from entra_hunt.engine.readers.source import TextSource
from entra_hunt.engine.schema import table_schema
from entra_hunt.errors import LoadError

__all__ = [
    "SIGNIN_TABLES",
    "FieldSpec",
    "LogAnalyticsMapper",
    "check_fields",
    "looks_like_loganalytics",
    "not_a_signin_export",
    "read_csv",
    "resolve_field",
]

logger = logging.getLogger(__name__)

#: The local tables sign-in exports load into.
SIGNIN_TABLES = ("SigninLogs", "AADNonInteractiveUserSignInLogs")
_NON_INTERACTIVE = "AADNonInteractiveUserSignInLogs"

_TABLE_BY_TYPE = {table: table for table in SIGNIN_TABLES}
_TABLE_BY_CATEGORY = {"SignInLogs": "SigninLogs", "NonInteractiveUserSignInLogs": _NON_INTERACTIVE}
_OTHER_SIGNINS = frozenset(
    {
        "AADServicePrincipalSignInLogs",
        "AADManagedIdentitySignInLogs",
        "ServicePrincipalSignInLogs",
        "ManagedIdentitySignInLogs",
    }
)
_NON_INTERACTIVE_MARKERS = ("ProcessingTimeInMs", "SignInEventTypes")
#: Same value, different column name in the two tables.
_RENAMED = {
    "ProcessingTimeInMilliseconds": "ProcessingTimeInMs",
    "ProcessingTimeInMs": "ProcessingTimeInMilliseconds",
}
_TIME_COLUMNS = ("TimeGenerated", "CreatedDateTime")
_WHO_COLUMNS = ("UserPrincipalName", "UserId", "AppId", "IPAddress")
_SPLIT_SUFFIXES = {"_dynamic": 1, "_string": 2}
_ZONE_SUFFIX = re.compile(r"(.+?)\s*\[([^\]]*)\]")
_PORTAL_CSV_MARKERS = frozenset({"Date (UTC)", "Request ID", "Sign-in error code"})
_PREVIEW_NAMES = 8
_MAX_IGNORED_SHOWN = 50


@dataclass(frozen=True)
class FieldSpec:
    """What an export's field name means: the column it fills, and how it was decorated.

    Attributes:
        column: the table column.
        rank: 0 for the plain name, 1 for ``_dynamic``, 2 for ``_string``; lower wins.
        zone: the bracketed time zone of a header other than ``[UTC]``, else None.
    """

    column: str
    rank: int
    zone: str | None = None


@cache
def _known_columns() -> frozenset[str]:
    return frozenset(name for table in SIGNIN_TABLES for name in table_schema(table).names)


@lru_cache(maxsize=4096)  # bounded: JSON keys come from the file
def resolve_field(name: str) -> FieldSpec | None:
    """The column an export field name stands for, or None if neither sign-in table has it."""
    name = name.strip()
    zone: str | None = None
    decorated = _ZONE_SUFFIX.fullmatch(name)
    if decorated:
        name = decorated.group(1)
        if decorated.group(2).strip().upper() != "UTC":
            zone = decorated.group(2).strip()
    known = _known_columns()
    if name in known:
        return FieldSpec(name, 0, zone)
    for suffix, rank in _SPLIT_SUFFIXES.items():
        if name.endswith(suffix) and name[: -len(suffix)] in known:
            return FieldSpec(name[: -len(suffix)], rank, zone)
    return None


def looks_like_loganalytics(names: Iterable[str]) -> bool:
    """Whether field ``names`` include a sign-in time and a user, app or address column."""
    columns = {spec.column for spec in map(resolve_field, names) if spec is not None}
    return bool(columns.intersection(_TIME_COLUMNS) and columns.intersection(_WHO_COLUMNS))


def check_fields(names: list[str], where: str) -> None:
    """Refuse a header (or first record) that is not a Log Analytics sign-in export.

    Raises:
        LoadError: naming the columns that were expected and the first ones found.
    """
    if not looks_like_loganalytics(names):
        raise not_a_signin_export(names, where)


def not_a_signin_export(names: list[str], where: str) -> LoadError:
    """The error for a file whose columns (or keys) ``names`` are not a sign-in export's."""
    if _PORTAL_CSV_MARKERS.issubset(name.strip() for name in names):
        return LoadError(
            "this is a download from the Entra admin center, which entra-hunt does not read yet",
            where=where,
            fix="Export the sign-ins from Log Analytics (SigninLogs) or Microsoft Graph instead",
        )
    found = ", ".join(show_value(name) for name in names[:_PREVIEW_NAMES])
    if len(names) > _PREVIEW_NAMES:
        found += f" and {len(names) - _PREVIEW_NAMES} more"
    return LoadError(
        f"this is not a sign-in export: found the columns {found or 'none'}",
        where=where,
        fix=(
            f"Expected a Log Analytics export of {' or '.join(SIGNIN_TABLES)} with "
            f"{' or '.join(_TIME_COLUMNS)} and one of {', '.join(_WHO_COLUMNS)}, "
            "or a Microsoft Graph signIns JSON"
        ),
    )


class LogAnalyticsMapper:
    """Turns the fields of one Log Analytics record into a row of the right table."""

    def __init__(self, label: str) -> None:
        """Map records of the file named ``label``."""
        self._label = label
        self._builders = {table: RowBuilder(table, label) for table in SIGNIN_TABLES}
        self._ignored: set[str] = set()
        self.skipped = 0

    def map(self, fields: Iterable[tuple[str, object]], line: int) -> SourceRow | None:
        """The typed row for the record on ``line``, or None for a sign-in kind not kept.

        Raises:
            LoadError: a value does not fit its column, or the row names a non-sign-in table.
        """
        chosen: dict[str, tuple[int, Cell]] = {}
        for name, raw in fields:
            if raw is None or raw == "":
                continue
            spec = resolve_field(name)
            if spec is None:
                self._ignore(name)
                continue
            if spec.zone is not None and spec.column in _TIME_COLUMNS:
                raise _zone_error(spec.zone, f"{self._label}, line {line}, field {name}")
            held = chosen.get(spec.column)
            if held is None or spec.rank < held[0]:
                chosen[spec.column] = (spec.rank, (name, raw))

        table = self._route(chosen, line)
        if table is None:
            self.skipped += 1
            return None
        builder = self._builders[table]
        cells: dict[str, Cell] = {}
        moved: dict[str, Cell] = {}
        for column, (_, cell) in chosen.items():
            if column in builder.types:
                cells[column] = cell
            elif _RENAMED.get(column) in builder.types:
                moved[_RENAMED[column]] = cell
            else:
                self._ignore(cell[0])
        for column, cell in moved.items():
            cells.setdefault(column, cell)
        return builder.build(cells, line)

    def _ignore(self, name: str) -> None:
        if len(self._ignored) < _MAX_IGNORED_SHOWN:
            self._ignored.add(name)

    def finish(self) -> None:
        """Log, once per file, what was left out."""
        if self._ignored:
            logger.info(
                "%s: ignored fields that the sign-in tables lack: %s",
                self._label,
                ", ".join(show_value(name) for name in sorted(self._ignored)),
            )
        if self.skipped:
            logger.warning(
                "%s: skipped %d service principal or managed identity sign-ins "
                "(only user sign-ins are loaded)",
                self._label,
                self.skipped,
            )

    def _route(self, chosen: dict[str, tuple[int, Cell]], line: int) -> str | None:
        if "Type" in chosen:
            field, raw = chosen["Type"][1]
            kind = str(raw).strip()
            if kind in _TABLE_BY_TYPE:
                return _TABLE_BY_TYPE[kind]
            if kind in _OTHER_SIGNINS:
                return None
            raise LoadError(
                f"the row belongs to table {show_value(kind)}, not to a user sign-in table",
                where=f"{self._label}, line {line}, field {field}",
                fix=f"Export only {' and '.join(SIGNIN_TABLES)} rows",
            )
        if "Category" in chosen:
            kind = str(chosen["Category"][1][1]).strip()
            if kind in _TABLE_BY_CATEGORY:
                return _TABLE_BY_CATEGORY[kind]
            if kind in _OTHER_SIGNINS:
                return None
        if any(marker in chosen for marker in _NON_INTERACTIVE_MARKERS):
            return _NON_INTERACTIVE
        return "SigninLogs"


def _zone_error(zone: str, where: str) -> LoadError:
    return LoadError(
        f"the times are exported in {show_value(zone)}, not UTC, and cannot be placed",
        where=where,
        fix="Set the Log Analytics display time zone to UTC and export again",
    )


def read_csv(source: TextSource) -> Iterator[SourceRow]:
    """The sign-ins of a Log Analytics CSV export, one row per record, streamed.

    Args:
        source: the opened file, positioned at its start.

    Yields:
        One row per CSV record; blank lines are skipped.

    Raises:
        LoadError: the header is not a sign-in export, a record is cut short or has extra
            cells, the file ends inside a quoted cell, or a value does not fit its column.
    """
    lines = source.lines()
    first = next(lines, "")
    reader = csv.reader(itertools.chain([first], lines), delimiter=_delimiter(first), strict=True)
    header = _next_record(reader, source.label, 1)
    if header is None:
        raise LoadError("the file has no header", where=source.label, fix="Export it again")
    check_fields(header, f"{source.label}, line 1")

    mapper = LogAnalyticsMapper(source.label)
    while True:
        line = reader.line_num + 1
        record = _next_record(reader, source.label, line)
        if record is None:
            break
        if not record:
            continue
        if len(record) != len(header):
            raise LoadError(
                f"the record has {len(record)} cells but the header has {len(header)}",
                where=f"{source.label}, line {line}",
                fix="Export the sign-ins again; the record is cut short or has stray delimiters",
            )
        row = mapper.map(zip(header, record, strict=True), line)
        if row is not None:
            yield row
    mapper.finish()


def _delimiter(header_line: str) -> str:
    if "," not in header_line:
        for candidate in ("\t", ";"):
            if candidate in header_line:
                return candidate
    return ","


def _next_record(reader: Iterator[list[str]], label: str, line: int) -> list[str] | None:
    try:
        return next(reader)
    except StopIteration:
        return None
    except csv.Error as err:
        text = str(err)
        if "unexpected end of data" in text:
            what = "the file ends inside a quoted cell of the record that starts here"
            fix = "Export the sign-ins again; the file looks cut short"
        elif "field larger than field limit" in text:
            what = f"a cell is longer than {csv.field_size_limit()} characters"
            fix = "Check that the file is a sign-in export"
        else:
            what = f"the CSV cannot be parsed here ({text})"
            fix = "Check that the file is an unedited Log Analytics CSV export"
        raise LoadError(what, where=f"{label}, line {line}", fix=fix) from None
