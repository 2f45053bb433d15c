"""Ad-hoc KQL for the optional run_kql tool: checked to be a read-only query, then capped.

The text comes from an assistant, not from a catalogue hunt, so it is never trusted: it must
be a query (not a control command), name at least one of the sign-in or audit tables, and
stay inside this tenant's data (no external data, plugins or cross-cluster calls, no request
options such as ``set notruncation``). The check reads the text with string literals and
comments blanked out, so a forbidden word inside a string is no violation and one hidden
after a comment marker is still seen. The row cap is a ``take`` appended to the last
statement.

Known limits: this is a policy check, not a parser; a query it accepts can still fail on the
backend (reported as a query error). The local engine runs fewer KQL operators than Kusto.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from entra_hunt.engine.schema import TABLES
from entra_hunt.errors import ParameterError
from entra_hunt.hunts.base import RenderedQuery

__all__ = ["MAX_QUERY_LENGTH", "check_adhoc", "render_adhoc"]

MAX_QUERY_LENGTH = 10_000

#: Words that reach outside the workspace or run code, with the reason each is refused.
_FORBIDDEN = {
    "externaldata": "reads data from outside the workspace",
    "external_table": "reads data from outside the workspace",
    "evaluate": "runs a plugin (some call out to the network or run code)",
    "cluster": "queries another cluster",
    "database": "queries another database",
    "workspace": "queries another workspace",
    "app": "queries an Application Insights resource",
    "resource": "queries another Azure resource",
    "adx": "queries Azure Data Explorer",
    "arg": "queries Azure Resource Graph",
    "alias": "redefines a database name",
}
_CALLS = {"cluster", "database", "workspace", "app", "resource", "adx", "arg"}
# Kusto's string literals, verbatim ones first: in @"..." a backslash is itself and "" is a
# quote. An h or H prefix (obfuscated strings) is part of the literal.
_STRING = re.compile(
    r"""(?:[hH]?@"(?:[^"\n]|"")*")|(?:[hH]?@'(?:[^'\n]|'')*')"""
    r"""|(?:[hH]?"(?:[^"\\\n]|\\.)*")|(?:[hH]?'(?:[^'\\\n]|\\.)*')|(?:```.*?```)""",
    re.DOTALL,
)
#: Line ends other than \n, where Kusto may end a comment that this check would not.
_ODD_LINE_ENDS = frozenset("\r\x85\u2028\u2029\x0b\x0c")
_COMMENT = re.compile(r"//[^\n]*")
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@dataclass(frozen=True)
class _Code:
    """The query with strings and comments blanked to spaces (offsets unchanged)."""

    text: str

    @classmethod
    def of(cls, query: str) -> _Code:
        def blank(match: re.Match[str]) -> str:
            return re.sub(r"[^\n]", " ", match.group(0))

        # Strings first, so '//' inside a string is not read as a comment.
        out: list[str] = []
        position = 0
        pattern = re.compile(f"{_STRING.pattern}|{_COMMENT.pattern}", re.DOTALL)
        for match in pattern.finditer(query):
            out.append(query[position : match.start()])
            out.append(blank(match))
            position = match.end()
        out.append(query[position:])
        return cls("".join(out))


def _where(query: str, offset: int) -> str:
    line = query.count("\n", 0, offset) + 1
    column = offset - (query.rfind("\n", 0, offset) + 1) + 1
    return f"query, line {line}, column {column}"


def check_adhoc(query: str) -> str:
    """The first catalogue table ``query`` reads, once it passes the read-only policy.

    Raises:
        ParameterError: the query is empty, too long, a control command, reaches outside
            the workspace, sets request options, or names no known table; the message says
            where (line and column) and what to send instead.
    """
    if not query.strip():
        raise ParameterError("the query is empty", where="query", fix="Send a KQL query")
    if len(query) > MAX_QUERY_LENGTH:
        raise ParameterError(
            f"the query is {len(query)} characters long",
            where="query",
            fix=f"Keep it under {MAX_QUERY_LENGTH} characters",
        )
    for offset, ch in enumerate(query):
        if (ord(ch) < 32 and ch not in "\t\n") or ord(ch) == 127 or ch in _ODD_LINE_ENDS:
            raise ParameterError(
                f"the query holds the control character U+{ord(ch):04X}",
                where=_where(query, offset),
                fix="Remove it",
            )

    code = _Code.of(query).text
    first = len(code) - len(code.lstrip())
    if code[first:].startswith("."):
        raise ParameterError(
            "control commands (text starting with '.') are refused: run_kql is read-only",
            where=_where(query, first),
            fix="Send a query that reads a table, e.g. 'SigninLogs | take 10'",
        )
    for statement in re.finditer(r"(?:^|;)\s*(\.|set\b)", code):
        word = statement.group(1)
        raise ParameterError(
            "control commands and request options ('set ...') are refused"
            if word == "set"
            else "control commands are refused: run_kql is read-only",
            where=_where(query, statement.start(1)),
            fix="Send only let statements and one tabular query",
        )
    for match in _WORD.finditer(code):
        word = match.group(0).lower()
        if word not in _FORBIDDEN:
            continue
        if word in _CALLS and not code[match.end() :].lstrip().startswith("("):
            continue  # a column or binding named like the function, not a call
        raise ParameterError(
            f"'{match.group(0)}' is refused: it {_FORBIDDEN[word]}",
            where=_where(query, match.start()),
            fix="Query only the sign-in and audit tables of this workspace",
        )

    named = [m.group(0) for m in _WORD.finditer(code) if m.group(0) in TABLES]
    if not named:
        raise ParameterError(
            "the query names none of the tables entra-hunt reads",
            where="query",
            fix=f"Read one of: {', '.join(TABLES)}",
        )
    return named[0]


def render_adhoc(query: str, start: datetime, end: datetime, row_limit: int) -> RenderedQuery:
    """``query`` checked, with ``| take row_limit`` appended to its last statement."""
    table = check_adhoc(query)
    body = query.rstrip().rstrip(";").rstrip()
    text = f"{body}\n| take {int(row_limit)}"
    return RenderedQuery("run-kql", table, text, start, end, row_limit)
