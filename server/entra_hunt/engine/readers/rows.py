"""Rows as the readers hand them to the store, and the coercion of raw cells to column types.

Offers :class:`SourceRow` (one sign-in for one table, with the line it starts on) and
:class:`RowBuilder`, which turns the raw cells of one record into typed values by the table's
official Kusto types: ``string`` stays text (ids and error codes such as ``ResultType`` ``'0'``
are never numbers), ``dynamic`` becomes parsed JSON, ``datetime`` an aware UTC datetime, ``bool``
a bool, ``int``/``long`` an int and ``real`` a float. A cell that does not fit its type raises
:class:`~entra_hunt.errors.LoadError` naming the file, line and field.

A JSON object or array bound for a ``string`` column becomes :class:`JsonText`: the compact
JSON text, which also carries the value itself so that the store renders it exactly as the
DuckDB fast path does (see :mod:`entra_hunt.engine.bulk`).

Limits: an empty cell (``""``) is NULL for every type, as a CSV cannot tell the two apart; slash
dates are read month first and only with AM/PM (the en-US form Log Analytics writes), since
``04/05/2021 14:00`` is ambiguous.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from entra_hunt.engine.schema import table_schema
from entra_hunt.errors import LoadError

__all__ = [
    "BadValue",
    "Cell",
    "JsonFloat",
    "JsonText",
    "RejectedRecord",
    "RowBuilder",
    "SourceRow",
    "coerce",
    "show_value",
]

#: One raw cell: the field name as the file spells it, and its value as read.
Cell = tuple[str, object]

_DATE_EXAMPLE = "a date like 2026-11-30T08:15:00Z or 4/28/2021, 2:08:45.221 PM"
_EXPECTED = {
    "string": "text",
    "dynamic": 'JSON, e.g. {"errorCode": 0}',
    "datetime": _DATE_EXAMPLE,
    "bool": "true or false (TRUE, True, 1 and 0 also work)",
    "int": "a whole number",
    "long": "a whole number",
    "real": "a number",
}
_INT_BOUNDS = {"int": 2**31, "long": 2**63}
_US_DATE = re.compile(
    r"(\d{1,2})/(\d{1,2})/(\d{4}),?\s+(\d{1,2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?"
    r"\s*([AaPp][Mm])"
)
_SLASH_DATE = re.compile(r"\d{1,2}/\d{1,2}/\d{2,4}\b")
_SHOWN_CHARS = 60
_SURROGATE = re.compile("[\ud800-\udfff]")


@dataclass(frozen=True)
class SourceRow:
    """One sign-in read from an export, ready for the store.

    Attributes:
        table: the local table it belongs to, e.g. ``SigninLogs``.
        values: typed values by column name; only columns of ``table``, absent means NULL.
        line: the 1-based physical line of the file where the record starts.
    """

    table: str
    values: dict[str, object]
    line: int


@dataclass(frozen=True)
class RejectedRecord:
    """A record left out by ``--skip-bad``: where it starts, why, and its raw content.

    Attributes:
        line: the 1-based line where the record starts.
        error: the error that refused it (its ``where`` names file, line and field).
        record: the raw fields as read (CSV cells by header, or the JSON object).
    """

    line: int
    error: LoadError
    record: Mapping[str, object]


class JsonFloat(float):
    """A JSON number with a fraction or exponent, keeping the text it was written as.

    A number read into a ``string`` column keeps that text (``1.50`` stays ``1.50``), as DuckDB
    keeps it when it reads the file itself.
    """

    text: str

    def __new__(cls, text: str) -> JsonFloat:
        """The number ``text`` spells."""
        number = super().__new__(cls, text)
        number.text = text
        return number


class JsonText(str):
    """Compact JSON text of an object or array read into a ``string`` column.

    ``value`` is the parsed object; the store writes that, not the text, so that DuckDB renders
    it the same way whichever path loaded the file.
    """

    value: object

    def __new__(cls, value: object) -> JsonText:
        """The text of ``value`` (a dict or list), keeping ``value`` alongside."""
        text = super().__new__(cls, json.dumps(value, ensure_ascii=False, separators=(",", ":")))
        text.value = value
        return text


class BadValue(ValueError):
    """A raw value that does not fit its column type; ``hint`` adds to the expected form."""

    def __init__(self, hint: str = "") -> None:
        super().__init__(hint)
        self.hint = hint


def coerce(raw: object, kusto_type: str) -> object:
    """Convert one raw cell to the Python value the store expects for ``kusto_type``.

    Args:
        raw: the value as read: text from a CSV, or any JSON value.
        kusto_type: the column's Kusto type (``string``, ``dynamic``, ``datetime``, ...).

    Returns:
        The typed value, or None for a missing or empty cell.

    Raises:
        BadValue: the value cannot be read as ``kusto_type``.
    """
    if raw is None or raw == "":
        return None
    if kusto_type == "string":
        return _to_text(raw)
    if kusto_type == "dynamic":
        return _to_dynamic(raw)
    if isinstance(raw, str):
        raw = raw.strip()
        if not raw:
            return None
    if kusto_type == "datetime":
        return _to_datetime(raw)
    if kusto_type == "bool":
        return _to_bool(raw)
    if kusto_type in _INT_BOUNDS:
        return _to_int(raw, _INT_BOUNDS[kusto_type])
    if kusto_type == "real":
        return _to_real(raw)
    raise ValueError(f"unknown Kusto type {kusto_type!r}")


def _to_text(raw: object) -> str:
    if isinstance(raw, str):
        if not raw.isascii() and _SURROGATE.search(raw):
            raise BadValue(_SURROGATE_HINT)
        return raw
    if isinstance(raw, bool):
        return "true" if raw else "false"
    if isinstance(raw, JsonFloat):
        return raw.text
    if isinstance(raw, int | float):
        return str(raw)
    _check_storable(raw)
    return JsonText(raw)


_SURROGATE_HINT = (
    "the text holds a lone UTF-16 surrogate (e.g. \\ud800), which is not valid Unicode"
)


def _to_dynamic(raw: object) -> object:
    if not isinstance(raw, str):
        _check_storable(raw)
        return raw
    try:
        value = json.loads(raw, parse_constant=_refuse_constant)
    except json.JSONDecodeError as err:
        raise BadValue(f"the text is not valid JSON ({err.msg} at character {err.pos})") from None
    except ValueError:  # an integer longer than Python's 4,300-digit limit
        raise BadValue("the JSON holds a number too long to read") from None
    except RecursionError:
        raise BadValue("the JSON is nested too deeply to read") from None
    _check_storable(value)
    return value


def _check_storable(value: object) -> None:
    """Refuse a parsed JSON value the store cannot write as JSON: inf, NaN, lone surrogates."""
    try:
        json.dumps(value, allow_nan=False, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        raise BadValue(_SURROGATE_HINT) from None
    except ValueError:
        raise BadValue(
            "the JSON holds a number too large for a double (e.g. 1e400); JSON has no infinity"
        ) from None
    except RecursionError:
        raise BadValue("the JSON is nested too deeply to store") from None


def _refuse_constant(name: str) -> object:
    raise BadValue(f"the text holds {name}, which is not a JSON number")


def _to_datetime(raw: object) -> datetime:
    if not isinstance(raw, str):
        raise BadValue()
    match = _US_DATE.fullmatch(raw)
    if match:
        parsed = _us_datetime(match)
    else:
        try:
            parsed = datetime.fromisoformat(raw)
        except ValueError:
            if _SLASH_DATE.match(raw):
                raise BadValue(
                    "slash dates are read only in the en-US form with AM/PM; set Log Analytics "
                    "to the en-US locale or export ISO 8601 times"
                ) from None
            raise BadValue() from None
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=UTC)
    try:
        return parsed.astimezone(UTC)
    except OverflowError:
        raise BadValue("in UTC the time falls outside the years 1 to 9999") from None


def _us_datetime(match: re.Match[str]) -> datetime:
    month, day, year, hour, minute = (int(match.group(i)) for i in range(1, 6))
    second = int(match.group(6) or 0)
    micro = int((match.group(7) or "0")[:6].ljust(6, "0"))
    if not 1 <= hour <= 12:
        raise BadValue("the hour of an AM/PM time is between 1 and 12")
    hour %= 12
    if match.group(8).upper() == "PM":
        hour += 12
    try:
        return datetime(year, month, day, hour, minute, second, micro)
    except ValueError as err:
        raise BadValue(f"there is no such date or time ({err})") from None


def _to_bool(raw: object) -> bool:
    if isinstance(raw, bool):
        return raw
    if isinstance(raw, int) and raw in (0, 1):
        return bool(raw)
    if isinstance(raw, str):
        lowered = raw.lower()
        if lowered in ("true", "1"):
            return True
        if lowered in ("false", "0"):
            return False
    raise BadValue()


def _to_int(raw: object, bound: int) -> int:
    value: int
    if isinstance(raw, bool):
        raise BadValue()
    if isinstance(raw, int):
        value = raw
    elif isinstance(raw, float) and raw.is_integer():
        value = int(raw)
    elif isinstance(raw, str):
        try:
            value = int(raw)
        except ValueError:
            number = _to_real(raw)
            if not number.is_integer():
                raise BadValue() from None
            value = int(number)
    else:
        raise BadValue()
    if not -bound <= value < bound:
        raise BadValue(f"the number is outside the column's range (±{bound})")
    return value


def _to_real(raw: object) -> float:
    if isinstance(raw, bool) or not isinstance(raw, str | int | float):
        raise BadValue()
    try:
        number = float(raw)
    except ValueError:
        raise BadValue() from None
    if not math.isfinite(number):
        raise BadValue("infinite and NaN values cannot be stored")
    return number


def show_value(raw: object) -> str:
    """A short, escaped rendering of a raw value for an error message.

    Values come from attacker-reachable fields (user agents, device names), so they are shown
    through ``repr`` (control characters escaped) and cut to a few dozen characters.
    """
    text = raw if isinstance(raw, str) else json.dumps(raw, default=str)
    if len(text) > _SHOWN_CHARS:
        return repr(text[:_SHOWN_CHARS]) + "..."
    return repr(text)


class RowBuilder:
    """Builds typed :class:`SourceRow` objects for one table from raw cells of one file."""

    def __init__(self, table: str, label: str, time_fields: str = "") -> None:
        """Prepare coercion for ``table``.

        Args:
            table: the local table.
            label: names the file in error messages.
            time_fields: the export fields that can give the row its time, for the message
                when none does (e.g. "TimeGenerated or CreatedDateTime").
        """
        self.table = table
        self.label = label
        schema = table_schema(table)
        self.types = {column.name: column.type for column in schema.columns}
        self.time_column = schema.time_column
        self.time_fields = time_fields or self.time_column

    def build(self, cells: Mapping[str, Cell], line: int) -> SourceRow:
        """Coerce the cells of the record starting on ``line`` into a row.

        Args:
            cells: raw cells by target column name; every key must be a column of the table.
            line: the 1-based line where the record starts.

        Returns:
            The typed row.

        Raises:
            LoadError: a value does not fit its column, or the record has no time at all.
        """
        values: dict[str, object] = {}
        for column, (field, raw) in cells.items():
            kusto_type = self.types[column]
            try:
                value = coerce(raw, kusto_type)
            except BadValue as bad:
                raise self._bad_value(line, field, column, kusto_type, raw, bad.hint) from None
            if value is not None:
                values[column] = value

        if values.get(self.time_column) is None:
            raise LoadError(
                f"the record has no time: {self.time_fields} is empty or missing",
                where=f"{self.label}, line {line}",
                fix=f"Export the records with {self.time_fields}",
            )
        return SourceRow(self.table, values, line)

    def _bad_value(
        self, line: int, field: str, column: str, kusto_type: str, raw: object, hint: str
    ) -> LoadError:
        what = f"the value {show_value(raw)} does not fit column {column} ({kusto_type})"
        if hint:
            what = f"{what}: {hint}"
        return LoadError(
            what,
            where=f"{self.label}, line {line}, field {field}",
            fix=f"Expected {_EXPECTED[kusto_type]}; correct the record or export it again",
        )
