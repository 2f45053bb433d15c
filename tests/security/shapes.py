"""The shape of a KQL text: the text with every literal's value masked, for cheap comparisons.

Two queries with the same shape differ only in literal values (strings, numbers, timespans,
datetimes, dynamic arrays) and comments. Microsoft's parser is the authority on structure
(``kusto_parser``); this lexer lets a test compare thousands of renderings in Python and send
only one query per shape to the parser. It reads KQL's ordinary literal forms: double- and
single-quoted strings with backslash escapes, ``datetime(...)``, ``dynamic([...])``, numbers
with an optional timespan unit, and ``//`` comments.
"""

from __future__ import annotations

import re

__all__ = ["shape", "tables_named"]

_TOKENS = re.compile(
    r"""
    (?P<string>"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*')
    |(?P<comment>//[^\n]*)
    |(?P<datetime>\bdatetime\([^)\n]*\))
    |(?P<number>\b\d+(?:\.\d+)?(?:d|h|m|s|ms|microsecond|tick)?\b)
    """,
    re.VERBOSE,
)
_DYNAMIC = re.compile(r"\bdynamic\(\[[^\]\n]*\]\)")
_MARKS = {"string": '"S"', "comment": "", "datetime": "datetime(D)", "number": "N"}


def shape(text: str) -> str:
    """``text`` with literal values and comments masked; a string literal's kind is kept."""
    masked = _TOKENS.sub(lambda m: _MARKS[m.lastgroup or "comment"], text)
    return _DYNAMIC.sub("dynamic([S])", masked)


def tables_named(text: str, tables: tuple[str, ...] | frozenset[str]) -> set[str]:
    """Names from ``tables`` the query mentions outside comments and string literals."""
    code = _TOKENS.sub(lambda m: m.group(0) if m.lastgroup in ("datetime", "number") else " ", text)
    return {table for table in tables if re.search(rf"\b{table}\b", code)}
