"""Reading a CSV export record by record, each record with the line it starts on.

Offers :class:`CsvRecords`: the header, then every record as a list of cells. The delimiter is
the first of comma, tab and semicolon found in the header line (comma when several are).
Quoting is the RFC 4180 kind every exporter writes: ``"`` around cells, ``""`` for a quote,
line breaks allowed inside quotes. A record cut short, a stray quote, or a file that ends inside
a quoted cell is a :class:`~entra_hunt.errors.LoadError` naming the line.

Limits: a cell may hold up to ``csv.field_size_limit()`` characters (128 KiB by default).
"""

from __future__ import annotations

import csv
import itertools
from collections.abc import Iterator

from entra_hunt.engine.readers.source import TextSource
from entra_hunt.errors import LoadError

__all__ = ["CsvRecords", "sniff_delimiter"]


def sniff_delimiter(header_line: str) -> str:
    """The delimiter a header line uses: comma, else tab, else semicolon."""
    if "," not in header_line:
        for candidate in ("\t", ";"):
            if candidate in header_line:
                return candidate
    return ","


class CsvRecords:
    """The header and the records of one CSV export, streamed."""

    def __init__(self, source: TextSource) -> None:
        """Read the header of ``source``, positioned at its start.

        Raises:
            LoadError: the file holds no header.
        """
        self._label = source.label
        lines = source.lines()
        first = next(lines, "")
        self.delimiter = sniff_delimiter(first)
        self._reader = csv.reader(
            itertools.chain([first], lines), delimiter=self.delimiter, strict=True
        )
        header = self._next(1)
        if not header:
            raise LoadError("the file has no header", where=self._label, fix="Export it again")
        self.header: list[str] = header

    def __iter__(self) -> Iterator[tuple[int, list[str]]]:
        """Yield ``(line, cells)`` per record; blank lines are skipped.

        Raises:
            LoadError: a record has more or fewer cells than the header (fatal only when the
                caller does not catch it: the reader can go on with the next record), or the
                CSV cannot be parsed.
        """
        while True:
            line = self._reader.line_num + 1
            record = self._next(line)
            if record is None:
                return
            if not record:
                continue
            yield line, record

    def check_width(self, cells: list[str], line: int) -> None:
        """Refuse a record whose cell count differs from the header's."""
        if len(cells) != len(self.header):
            raise LoadError(
                f"the record has {len(cells)} cells but the header has {len(self.header)}",
                where=f"{self._label}, line {line}",
                fix="Export the sign-ins again; the record is cut short or has stray delimiters",
            )

    def _next(self, line: int) -> list[str] | None:
        try:
            return next(self._reader)
        except StopIteration:
            return None
        except csv.Error as err:
            text = str(err)
            if "unexpected end of data" in text:
                what = "the file ends inside a quoted cell of the record that starts here"
                fix = "Export the sign-ins again; the file looks cut short"
            elif "field larger than field limit" in text:
                what = (
                    f"a cell of the record that starts here is longer than "
                    f"{csv.field_size_limit():,} characters, the most one cell may hold"
                )
                fix = (
                    "Shorten or empty that cell (no sign-in field is that long), or check "
                    "that its quotes are balanced, then load again"
                )
            else:
                what = f"the CSV cannot be parsed here ({text})"
                fix = "Check that the file is an unedited CSV export"
            raise LoadError(what, where=f"{self._label}, line {line}", fix=fix) from None
