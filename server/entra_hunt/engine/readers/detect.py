"""Recognising an export file's format and reading its sign-ins.

Offers :func:`read_export`, the readers' single entry point, and :data:`FORMATS`. The first
character that is not whitespace tells JSON (``[`` or ``{``) from CSV; the keys of the first JSON
record tell a Microsoft Graph ``signIn`` (camelCase ``createdDateTime``) from a Log Analytics row
(PascalCase ``TimeGenerated`` / ``CreatedDateTime``). Plain and gzip files are read alike.

Limits: the format is decided once per file, from its header or first record. Azure Monitor
diagnostic-settings archives (``time``/``category``/``properties`` records), Log Analytics query
API responses (``tables``/``rows``) and Entra admin center CSV downloads are recognised and
refused with a message, not read.
"""

from __future__ import annotations

import itertools
import logging
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

from entra_hunt.engine.readers.graph import GraphMapper, looks_like_graph
from entra_hunt.engine.readers.jsonstream import JsonRecords
from entra_hunt.engine.readers.loganalytics import (
    LogAnalyticsMapper,
    check_fields,
    looks_like_loganalytics,
    not_a_signin_export,
    read_csv,
)
from entra_hunt.engine.readers.rows import SourceRow
from entra_hunt.engine.readers.source import TextSource
from entra_hunt.errors import LoadError, ParameterError

__all__ = ["FORMATS", "read_export"]

logger = logging.getLogger(__name__)

#: The export formats :func:`read_export` reads; None asks it to recognise the format.
FORMATS: tuple[str, ...] = ("loganalytics-csv", "loganalytics-json", "graph-json")

_GRAPH_EXPECTED = "a Microsoft Graph signIn with createdDateTime and userPrincipalName or appId"


def read_export(path: Path, format: str | None = None) -> Iterator[SourceRow]:
    """The sign-ins of one exported file, streamed in file order.

    Args:
        path: a CSV or JSON export, optionally gzip-compressed.
        format: one of :data:`FORMATS`, or None to recognise it from the content.

    Returns:
        An iterator of rows; the file is opened on the first ``next`` and closed when the
        iterator is exhausted or closed.

    Raises:
        ParameterError: ``format`` is not one of :data:`FORMATS` (raised at once).
        LoadError: while iterating, when the file cannot be read as a sign-in export; the
            message names the file, the line and, for a bad value, the field.
    """
    if format is not None and format not in FORMATS:
        raise ParameterError(
            f"unknown export format {format!r}",
            where="format",
            fix=f"Use one of {', '.join(FORMATS)}, or leave it out to recognise the format",
        )
    return _read(path, format)


def _read(path: Path, format: str | None) -> Iterator[SourceRow]:
    counts: Counter[str] = Counter()
    with TextSource(path) as source:
        first = source.first_char()
        if first is None:
            raise LoadError(
                "the file is empty",
                where=source.label,
                fix="Export the sign-ins again; the file holds no data",
            )
        if format is None:
            format = "json" if first in "[{" else "loganalytics-csv"
        rows = read_csv(source) if format == "loganalytics-csv" else _read_json(source, format)
        for row in rows:
            counts[row.table] += 1
            yield row
    logger.info("read %s from %s", dict(counts) or "no sign-ins", source.label)


def _read_json(source: TextSource, format: str) -> Iterator[SourceRow]:
    records = JsonRecords(source.chunks(), source.label)
    stream = iter(records)
    first = next(stream, None)
    if first is None:
        logger.info("%s: the JSON holds no records", source.label)
        return
    record, line = first
    where = f"{source.label}, line {line}"
    if format == "json":
        format = _recognise(record, where)
    elif format == "graph-json" and not looks_like_graph(record):
        raise LoadError(
            "this is not a Microsoft Graph sign-in export",
            where=where,
            fix=f"Expected {_GRAPH_EXPECTED}; or pass another format",
        )
    elif format == "loganalytics-json":
        check_fields(list(record), where)

    if format == "graph-json":
        graph = GraphMapper(source.label)
        for record, line in itertools.chain([first], stream):
            row = graph.map(record, line)
            if row is not None:
                yield row
        graph.finish()
    else:
        mapper = LogAnalyticsMapper(source.label)
        for record, line in itertools.chain([first], stream):
            row = mapper.map(record.items(), line)
            if row is not None:
                yield row
        mapper.finish()
    if records.next_links:
        logger.warning(
            "%s: the Graph response names a next page (@odata.nextLink) that is not in this "
            "file; only the sign-ins in the file were read",
            source.label,
        )


def _recognise(record: dict[str, object], where: str) -> str:
    if looks_like_graph(record):
        return "graph-json"
    if looks_like_loganalytics(record):
        return "loganalytics-json"
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
    raise not_a_signin_export(list(record), where)
