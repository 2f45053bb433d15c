"""Recognising an export file's format, and reading its records in Python.

Offers :func:`sniff`, which opens a file, reads its header (CSV) or first records (JSON) and
returns a :class:`Sniffed`: the format, the :class:`~.layout.Layout` that maps it, and its
syntax (CSV delimiter; JSON lines, array, concatenated objects or Graph response pages). And
:func:`read_export`, the precise path: every record mapped in Python, errors naming the file,
line and field, optionally handing bad records to a callback instead of stopping.

The first character that is not whitespace tells JSON (``[`` or ``{``) from CSV. A CSV header
with ``Date (UTC)`` and ``Request ID`` is an Entra admin center download; one with the tables'
own column names is a Log Analytics export (sign-ins or AuditLogs) or a Defender advanced
hunting export. A JSON record with camelCase ``createdDateTime`` is a Graph ``signIn`` (the
admin center's JSON download is one too); PascalCase ``TimeGenerated`` / ``CreatedDateTime`` is
a Log Analytics row; ``Timestamp`` with ``AccountUpn`` a Defender row. Plain and gzip files are
read alike.

Limits: the format is decided once per file, from its header or first record. Azure Monitor
diagnostic-settings archives (``time``/``category``/``properties`` records) and Log Analytics
query API responses (``tables``/``rows``) are recognised and refused with a message.
"""

from __future__ import annotations

import itertools
import logging
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from entra_hunt.engine.readers.csvfile import CsvRecords
from entra_hunt.engine.readers.defender import (
    defender_layout,
    defender_table,
    looks_like_defender,
)
from entra_hunt.engine.readers.graph import graph_layout, looks_like_graph
from entra_hunt.engine.readers.jsonstream import JsonRecords
from entra_hunt.engine.readers.layout import Layout, LayoutMapper
from entra_hunt.engine.readers.loganalytics import (
    audit_layout,
    looks_like_auditlogs,
    looks_like_loganalytics,
    not_an_export,
    signin_layout,
)
from entra_hunt.engine.readers.portal import (
    legacy_portal_layout,
    looks_like_legacy_portal,
    looks_like_portal,
    portal_companion_error,
    portal_layout,
)
from entra_hunt.engine.readers.rows import RejectedRecord, SourceRow
from entra_hunt.engine.readers.source import TextSource
from entra_hunt.errors import LoadError, ParameterError

__all__ = ["FORMATS", "JsonShape", "ReadStats", "Sniffed", "check_format", "read_export", "sniff"]

logger = logging.getLogger(__name__)

#: The export formats the readers know; None asks them to recognise the format.
FORMATS: tuple[str, ...] = (
    "loganalytics-csv",
    "loganalytics-json",
    "graph-json",
    "portal-csv",
    "portal-json",
    "defender-csv",
    "defender-json",
)

#: How a JSON export holds its records: one per line, in one array, as concatenated
#: (possibly pretty-printed) objects, in Graph response pages, or in an array of pages.
JsonShape = Literal["lines", "array", "stream", "pages", "nested"]

#: Called with each record left out by ``--skip-bad``.
RejectSink = Callable[[RejectedRecord], None]

_GRAPH_EXPECTED = "a Microsoft Graph signIn with createdDateTime and userPrincipalName or appId"


@dataclass(frozen=True)
class Sniffed:
    """What one export file is, as far as its header or first records tell.

    Attributes:
        path: the file read.
        label: its name in messages (``a.zip!b.csv`` for a zip member).
        format: one of :data:`FORMATS`.
        layout: how its fields fill the tables.
        json_shape: for JSON, how it holds its records; None for CSV.
        delimiter: for CSV, the cell delimiter.
        gzip: whether the file is gzip-compressed.
        has_records: False when the JSON holds no record at all.
        first_table: the table the first record goes to (None when not kept or unknown).
    """

    path: Path
    label: str
    format: str
    layout: Layout
    json_shape: JsonShape | None
    delimiter: str
    gzip: bool
    has_records: bool
    first_table: str | None


@dataclass
class ReadStats:
    """Counts of one read, filled in as it goes.

    Attributes:
        records: records read (mapped, rejected or not kept).
        rejected: records handed to ``on_bad``.
        not_kept: records of a kind no table holds (service principal sign-ins).
    """

    records: int = 0
    rejected: int = 0
    not_kept: int = 0


def check_format(format: str | None) -> None:
    """Refuse an unknown ``format`` at once.

    Raises:
        ParameterError: ``format`` is not one of :data:`FORMATS`.
    """
    if format is not None and format not in FORMATS:
        raise ParameterError(
            f"unknown export format {format!r}",
            where="format",
            fix=f"Use one of {', '.join(FORMATS)}, or leave it out to recognise the format",
        )


def sniff(
    path: Path, format: str | None = None, *, label: str | None = None, name: str | None = None
) -> Sniffed:
    """Recognise the export at ``path`` from its header or first records.

    Args:
        path: a CSV or JSON export, optionally gzip-compressed.
        format: one of :data:`FORMATS` to force it, or None to recognise it.
        label: the file's name in messages (default: the path).
        name: the file name that tells an admin center download's table (default: the
            path's name).

    Raises:
        ParameterError: ``format`` is unknown.
        LoadError: the file is empty, unreadable or not an export these readers know.
    """
    check_format(format)
    with TextSource(path, label) as source:
        opened = _Opened(source, format, name or path.name)
        return opened.sniffed


def read_export(
    path: Path,
    format: str | None = None,
    *,
    on_bad: RejectSink | None = None,
    label: str | None = None,
    name: str | None = None,
    on_progress: Callable[[int, int], None] | None = None,
    stats: ReadStats | None = None,
) -> Iterator[SourceRow]:
    """The records of one export, mapped in Python and streamed in file order.

    Args:
        path: a CSV or JSON export, optionally gzip-compressed.
        format: one of :data:`FORMATS`, or None to recognise it from the content.
        on_bad: if given, a record that cannot be mapped (a value that does not fit its
            column, a CSV record of the wrong width, a row naming another table) is passed to
            it and reading goes on; otherwise it stops the read.
        label: the file's name in messages (default: the path).
        name: the file name that tells an admin center download's table.
        on_progress: called now and then with (records read, bytes of the file read).
        stats: if given, filled with the counts of the read.

    Returns:
        An iterator of rows; the file is opened on the first ``next`` and closed when the
        iterator is exhausted or closed.

    Raises:
        ParameterError: ``format`` is unknown (raised at once).
        LoadError: while iterating, when the file cannot be read as an export; the message
            names the file, the line and, for a bad value, the field.
    """
    check_format(format)
    return _read(path, format, on_bad, label, name or path.name, on_progress, stats)


def _read(
    path: Path,
    format: str | None,
    on_bad: RejectSink | None,
    label: str | None,
    name: str,
    on_progress: Callable[[int, int], None] | None,
    stats: ReadStats | None,
) -> Iterator[SourceRow]:
    counts: Counter[str] = Counter()
    stats = stats or ReadStats()
    with TextSource(path, label) as source:
        opened = _Opened(source, format, name)
        mapper = LayoutMapper(opened.sniffed.layout, source.label)
        for line, record in opened.records():
            stats.records += 1
            if on_progress is not None and stats.records % 4096 == 0:
                on_progress(stats.records, source.position())
            try:
                opened.check(record, line)
                row = mapper.map(record, line)
            except LoadError as err:
                if on_bad is None:
                    raise
                stats.rejected += 1
                on_bad(RejectedRecord(line, err, opened.shown(record)))
                continue
            if row is not None:
                counts[row.table] += 1
                yield row
        stats.not_kept = mapper.not_kept
        mapper.finish()
        opened.finish()
    logger.info("read %s from %s", dict(counts) or "no records", source.label)


class _Opened:
    """A file whose format is recognised, positioned to read its records on."""

    def __init__(self, source: TextSource, format: str | None, name: str) -> None:
        self._source = source
        self._label = source.label
        self._csv: CsvRecords | None = None
        self._json: JsonRecords | None = None
        self._held: list[tuple[dict[str, object], int]] = []
        self._json_iter: Iterator[tuple[dict[str, object], int]] | None = None

        first = source.first_char()
        if first is None:
            raise LoadError(
                "the file is empty",
                where=source.label,
                fix="Export the sign-ins again; the file holds no data",
            )
        forced_json = format is not None and format.endswith("-json")
        forced_csv = format is not None and format.endswith("-csv")
        if (first in "[{" and not forced_csv) or forced_json:
            self.sniffed = self._sniff_json(first, format)
        else:
            self.sniffed = self._sniff_csv(format, name)

    # -- CSV -----------------------------------------------------------------------------------

    def _sniff_csv(self, format: str | None, name: str) -> Sniffed:
        records = CsvRecords(self._source)
        self._csv = records
        header = records.header
        where = f"{self._label}, line 1"
        layout = _csv_layout(header, format, name, self._label, where)
        return Sniffed(
            path=self._source.path,
            label=self._label,
            format=layout.format,
            layout=layout,
            json_shape=None,
            delimiter=records.delimiter,
            gzip=self._source.is_gzip,
            has_records=True,
            first_table=None,
        )

    # -- JSON ----------------------------------------------------------------------------------

    def _sniff_json(self, first: str, format: str | None) -> Sniffed:
        records = JsonRecords(self._source.chunks(), self._label)
        self._json = records
        stream = iter(records)
        self._json_iter = stream
        self._held = list(itertools.islice(stream, 2))
        if not self._held:
            logger.info("%s: the JSON holds no records", self._label)
            layout = graph_layout(format or "graph-json")
            return self._json_sniffed(layout, None, has_records=False)

        record, line = self._held[0]
        where = f"{self._label}, line {line}"
        layout = _json_layout(record, format, self._label, where)
        if records.pages:
            shape: JsonShape = "nested" if first == "[" else "pages"
        elif first == "[":
            shape = "array"
        elif line == 1 and len(self._held) == 2 and self._held[1][1] == 2:
            shape = "lines"
        else:
            shape = "stream"
        mapper = LayoutMapper(layout, self._label)
        try:
            row = mapper.map(record, line)
            table = row.table if row is not None else None
        except LoadError:
            table = None
        return self._json_sniffed(layout, shape, has_records=True, first_table=table)

    def _json_sniffed(
        self,
        layout: Layout,
        shape: JsonShape | None,
        *,
        has_records: bool,
        first_table: str | None = None,
    ) -> Sniffed:
        return Sniffed(
            path=self._source.path,
            label=self._label,
            format=layout.format,
            layout=layout,
            json_shape=shape,
            delimiter=",",
            gzip=self._source.is_gzip,
            has_records=has_records,
            first_table=first_table,
        )

    # -- records -------------------------------------------------------------------------------

    def records(self) -> Iterator[tuple[int, Mapping[str, object]]]:
        """``(line, raw record)`` for every record, from the first."""
        if self._csv is not None:
            csv_records = self._csv
            for line, cells in csv_records:
                yield line, _CsvRecord(cells)
            return
        assert self._json_iter is not None
        for record, line in itertools.chain(self._held, self._json_iter):
            yield line, record

    def check(self, record: Mapping[str, object], line: int) -> None:
        """Refuse a CSV record whose width differs from the header's."""
        if self._csv is not None and isinstance(record, _CsvRecord):
            self._csv.check_width(record.cells, line)

    def shown(self, record: Mapping[str, object]) -> Mapping[str, object]:
        """A rejected record as the reject file shows it: CSV cells by header."""
        if isinstance(record, _CsvRecord) and self._csv is not None:
            shown: dict[str, object] = {}
            for name, cell in zip(self._csv.header, record.cells, strict=False):
                key = name
                while key in shown:
                    key += " (again)"
                shown[key] = cell
            extra = record.cells[len(self._csv.header) :]
            if extra:
                shown["(extra cells)"] = extra
            return shown
        return record

    def finish(self) -> None:
        """Warn of what the file announces but does not hold."""
        if self._json is not None and self._json.last_page_has_next_link:
            logger.warning(
                "%s: the last Graph response page names a next page (@odata.nextLink) that is "
                "not in this file; if that page is not loaded too, the sign-ins after it are "
                "missing",
                self._label,
            )


class _CsvRecord(dict[str, object]):
    """The cells of one CSV record by position: ``c0``, ``c1``, ..."""

    def __init__(self, cells: list[str]) -> None:
        super().__init__((f"c{i}", cell) for i, cell in enumerate(cells))
        self.cells = cells


def _csv_layout(header: list[str], format: str | None, name: str, label: str, where: str) -> Layout:
    if format in (None, "portal-csv"):
        if looks_like_portal(header):
            return portal_layout(header, name, label)
        if looks_like_legacy_portal(header):
            return legacy_portal_layout(header, name)
    if format in (None, "defender-csv") and looks_like_defender(header):
        return defender_layout("defender-csv", header, defender_table(header), label)
    if format in (None, "loganalytics-csv"):
        if looks_like_loganalytics(header):
            return signin_layout("loganalytics-csv", header, label)
        if looks_like_auditlogs(header):
            return audit_layout("loganalytics-csv", header, label)
    companion = portal_companion_error(header, label)
    if companion is not None:
        raise companion
    if format == "portal-csv":
        raise LoadError(
            "this is not an Entra admin center sign-in download",
            where=where,
            fix="Expected the Date (UTC), Request ID and Username columns; or pass another format",
        )
    raise not_an_export(header, where)


def _json_layout(record: dict[str, object], format: str | None, label: str, where: str) -> Layout:
    keys = list(record)
    if format in ("graph-json", "portal-json"):
        if not looks_like_graph(record):
            raise LoadError(
                "this is not a Microsoft Graph sign-in export",
                where=where,
                fix=f"Expected {_GRAPH_EXPECTED}; or pass another format",
            )
        return graph_layout(format)
    if format is None and looks_like_graph(record):
        return graph_layout()
    if format in (None, "defender-json") and looks_like_defender(keys):
        return defender_layout("defender-json", None, defender_table(keys), label, keys)
    if format in (None, "loganalytics-json"):
        if looks_like_loganalytics(keys):
            return signin_layout("loganalytics-json", None, label, keys)
        if looks_like_auditlogs(keys):
            return audit_layout("loganalytics-json", None, label, keys)
    if {"category", "properties"} <= record.keys():
        raise LoadError(
            "this is an Azure Monitor diagnostic-settings archive, which entra-hunt does not "
            "read yet",
            where=where,
            fix="Export the sign-ins from Log Analytics or Microsoft Graph instead",
        )
    if "tables" in record:
        raise LoadError(
            "this is a Log Analytics query API response (tables and rows), which entra-hunt "
            "does not read yet",
            where=where,
            fix="Save the rows as a JSON array of objects, one per sign-in",
        )
    raise not_an_export(keys, where)
