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
from datetime import UTC, datetime

__all__ = [
    "Binding",
    "datetime_literal",
    "dynamic_strings",
    "let_block",
    "string_literal",
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
