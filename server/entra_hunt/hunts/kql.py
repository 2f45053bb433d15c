"""KQL text building: the one place a value becomes part of a query.

Every user-supplied value reaches a query as a literal in a ``let`` statement at the top, built
here: strings are double-quoted with Kusto's escapes, lists become ``dynamic([...])`` of such
strings, instants become ``datetime(...)`` in UTC. The pipeline below the ``let`` block only
names those bindings, so no value can change the query's structure. The same text runs on
Sentinel, Defender XDR and the local engine, and can be pasted into either portal.

Limits: control characters other than tab, newline and carriage return have no Kusto escape;
:func:`string_literal` refuses them (parameter validation rejects them earlier).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

__all__ = [
    "Binding",
    "compose",
    "datetime_literal",
    "dynamic_strings",
    "let_block",
    "long_literal",
    "string_literal",
    "timespan_literal",
]

_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t"}


def string_literal(value: str) -> str:
    """``value`` as a double-quoted KQL string literal that reads back as exactly ``value``.

    Raises:
        ValueError: ``value`` holds a control character Kusto strings cannot escape.
    """
    out: list[str] = []
    for ch in value:
        if ch in _ESCAPES:
            out.append(_ESCAPES[ch])
        elif ord(ch) < 32 or ord(ch) == 127:
            raise ValueError(f"control character U+{ord(ch):04X} cannot appear in a KQL string")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def dynamic_strings(values: Iterable[str]) -> str:
    """A ``dynamic([...])`` array literal of strings."""
    return "dynamic([" + ", ".join(string_literal(v) for v in values) + "])"


def datetime_literal(instant: datetime) -> str:
    """A ``datetime(...)`` literal for ``instant`` in UTC, to the microsecond."""
    if instant.tzinfo is None:
        raise ValueError("instants must be timezone-aware")
    utc = instant.astimezone(UTC)
    return f"datetime({utc.strftime('%Y-%m-%dT%H:%M:%S.%f')}Z)"


def timespan_literal(span: timedelta) -> str:
    """A timespan literal such as ``6h`` or ``90m``, in the largest unit that is exact."""
    seconds = int(span.total_seconds())
    if seconds <= 0 or span != timedelta(seconds=seconds):
        raise ValueError(f"timespan {span!r} is not a positive whole number of seconds")
    for unit, size in (("d", 86_400), ("h", 3_600), ("m", 60)):
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def long_literal(value: int) -> str:
    """An integer literal (refuses booleans, which are ints in Python)."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{value!r} is not an integer")
    return str(value)


@dataclass(frozen=True)
class Binding:
    """One ``let name = <literal>;`` line: a name the pipeline reads and its literal text."""

    name: str
    literal: str

    def __post_init__(self) -> None:
        if not self.name.isidentifier() or not self.name.isascii():
            raise ValueError(f"binding name {self.name!r} is not a plain identifier")


def let_block(bindings: Iterable[Binding]) -> str:
    """The ``let`` statements that open a query, one per line."""
    return "".join(f"let {b.name} = {b.literal};\n" for b in bindings)


def compose(comment: str, bindings: Iterable[Binding], body: str) -> str:
    """A whole query: a ``//`` comment line, the ``let`` block, then the fixed pipeline."""
    if "\n" in comment or "\r" in comment:
        raise ValueError("the comment must be one line")
    return f"// {comment}\n" + let_block(bindings) + body
