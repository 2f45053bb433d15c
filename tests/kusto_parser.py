"""Checks KQL with Microsoft's own parser, for tests.

Runs ``tests/kusto/validate.js`` under Node.js: it loads Kusto.Language (npm
``@kusto/language-service-next``, pinned in ``tests/kusto/package.json``), the library behind
the Azure Data Explorer and Sentinel editors, and parses and analyses queries against the
official table schemas in ``entra_hunt/engine/schemas``. One ``analyse`` call is one node
process, whatever the number of queries (about 0.9 s to start, a few ms per query).

Each :class:`Analysis` holds Kusto's diagnostics, a structural fingerprint of the syntax tree
(literal values left out, so a test can prove a hostile value did not change the structure),
the literals with their decoded values, and the columns the query resolved with their types.

Limits: Kusto.Language accepts ``==``, ``!=``, ``in``, ``!in``, ``in~`` and ``!in~`` between a
string and a number (``ResultType == 0``), which the service refuses; :func:`lint_comparisons`
adds an ``EH-KQL001`` error for those. It flags ``>``, ``has``, ``between`` and ``=~`` itself.
It knows only the tables given to it: no Sentinel workspace functions, watchlists or parsers.
Requires Node.js on PATH and ``npm ci --prefix tests/kusto``.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from entra_hunt.engine.schema import TABLES, table_schema

__all__ = [
    "Analysis",
    "ColumnReference",
    "Comparison",
    "Diagnostic",
    "KustoParserError",
    "KustoParserUnavailable",
    "Literal",
    "Operand",
    "STRING_NUMBER_COMPARISON",
    "analyse",
    "lint_comparisons",
    "official_tables",
]

KUSTO_DIR = Path(__file__).parent / "kusto"
VALIDATOR = KUSTO_DIR / "validate.js"
PACKAGE = "@kusto/language-service-next"
INSTALL_HINT = f"run `npm ci --prefix {KUSTO_DIR}` (needs Node.js 18 or later on PATH)"
TIMEOUT_SECONDS = 120.0

#: The code of the lint error for a string compared with a number.
STRING_NUMBER_COMPARISON = "EH-KQL001"

_NUMBER_TYPES = frozenset({"int", "long", "real", "decimal"})


class KustoParserUnavailable(RuntimeError):
    """Node.js or the pinned Kusto.Language package is not installed."""


class KustoParserError(RuntimeError):
    """validate.js refused its input or failed; the message carries its stderr."""


@dataclass(frozen=True)
class Diagnostic:
    """One problem in a query, from Kusto.Language or from :func:`lint_comparisons`.

    ``start`` and ``length`` are offsets in the query text, in UTF-16 code units as Kusto counts
    them (Python's string indices unless the text holds characters beyond U+FFFF); ``line`` and
    ``column`` count from 1.
    """

    severity: str
    code: str
    message: str
    start: int
    length: int
    line: int | None
    column: int | None

    def __str__(self) -> str:
        where = f"line {self.line}, column {self.column}" if self.line else f"offset {self.start}"
        return f"{self.severity} {self.code} at {where}: {self.message}"


@dataclass(frozen=True)
class ColumnReference:
    """A name the parser resolved to a column, with its Kusto type."""

    name: str
    type: str
    start: int


@dataclass(frozen=True)
class Literal:
    """A literal token: its source text and, for strings, the value Kusto decodes from it."""

    kind: str
    text: str
    value: str
    start: int


@dataclass(frozen=True)
class Operand:
    """One side of a comparison; ``type`` is None when not a scalar (or a one-column table)."""

    text: str
    type: str | None
    column: str | None
    start: int


@dataclass(frozen=True)
class Comparison:
    """An ``==``, ``!=``, ``in``, ``!in``, ``in~`` or ``!in~`` expression and its operand types.

    ``right`` holds one operand for ``==`` and ``!=``, and each listed value for the ``in``
    family.
    """

    kind: str
    operator: str
    start: int
    length: int
    line: int | None
    column: int | None
    left: Operand
    right: tuple[Operand, ...]


@dataclass(frozen=True)
class Analysis:
    """What Kusto.Language made of one query."""

    query_id: str
    text: str
    diagnostics: tuple[Diagnostic, ...]
    fingerprint: tuple[str, ...]
    literals: tuple[Literal, ...]
    columns: tuple[ColumnReference, ...]
    comparisons: tuple[Comparison, ...]

    @property
    def errors(self) -> tuple[Diagnostic, ...]:
        """The diagnostics of severity Error: the service would refuse the query."""
        return tuple(d for d in self.diagnostics if d.severity == "Error")

    def report(self) -> str:
        """The query and its diagnostics, one a line, for an assertion message."""
        lines = [f"query {self.query_id!r}:", self.text, *(f"  {d}" for d in self.diagnostics)]
        return "\n".join(lines)


def official_tables(names: Iterable[str] = TABLES) -> dict[str, list[tuple[str, str]]]:
    """The (column, Kusto type) lists of the tables ``names``, from the shipped schemas."""
    return {
        name: [(column.name, column.type) for column in table_schema(name).columns]
        for name in names
    }


def analyse(
    queries: Mapping[str, str],
    tables: Mapping[str, Sequence[tuple[str, str]]] | None = None,
) -> dict[str, Analysis]:
    """Parse and analyse ``queries`` (by id) against ``tables`` in one node process.

    Args:
        queries: Query text by an id of the caller's choosing.
        tables: Columns as (name, Kusto type) by table name; types are string, dynamic,
            datetime, bool, int, long and real. None means every table of
            :func:`official_tables`.

    Returns:
        An :class:`Analysis` by query id, with :func:`lint_comparisons` findings appended to
        Kusto's diagnostics.

    Raises:
        KustoParserUnavailable: Node.js or the pinned npm package is missing.
        KustoParserError: validate.js refused the input (say, an unknown column type).
    """
    node = _node()
    if tables is None:
        tables = official_tables()
    request = {
        "tables": {name: [list(column) for column in columns] for name, columns in tables.items()},
        "queries": [{"id": query_id, "text": text} for query_id, text in queries.items()],
    }

    completed = subprocess.run(
        [node, str(VALIDATOR)],
        input=json.dumps(request),
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=TIMEOUT_SECONDS,
        check=False,
    )
    if completed.returncode != 0:
        raise KustoParserError(
            f"{VALIDATOR} exited with status {completed.returncode}: {completed.stderr.strip()}"
        )

    results: dict[str, Any] = json.loads(completed.stdout)["results"]
    return {
        query_id: _analysis(query_id, queries[query_id], raw) for query_id, raw in results.items()
    }


def lint_comparisons(comparisons: Iterable[Comparison]) -> list[Diagnostic]:
    """One error per comparison of a string with a number, which Kusto.Language lets through.

    The service refuses ``ResultType == 0`` (ResultType is a string) and ``ErrorCode == "0"``
    (ErrorCode is an int) with "Cannot compare values of types string and long". The ``in``
    family is flagged the same way (not yet checked against a live workspace). Dynamic
    operands are not flagged: they compare with either.
    """
    found: list[Diagnostic] = []
    for comparison in comparisons:
        left = comparison.left
        mismatched = [o for o in comparison.right if _string_and_number(left.type, o.type)]
        if not mismatched:
            continue

        subject = f"column {left.column}" if left.column else repr(left.text)
        values = ", ".join(f"{operand.text} ({operand.type})" for operand in mismatched)
        message = (
            f"{subject} ({left.type}) {comparison.operator} {values}: Kusto cannot compare a "
            f"string with a number; write both sides as the same type, e.g. "
            f'ResultType == "0" or toint(ResultType) == 0'
        )
        found.append(
            Diagnostic(
                severity="Error",
                code=STRING_NUMBER_COMPARISON,
                message=message,
                start=comparison.start,
                length=comparison.length,
                line=comparison.line,
                column=comparison.column,
            )
        )
    return found


def _node() -> str:
    node = shutil.which("node")
    if node is None:
        raise KustoParserUnavailable(f"node is not on PATH; install Node.js, then {INSTALL_HINT}")

    manifest = KUSTO_DIR / "node_modules" / PACKAGE / "package.json"
    if not manifest.is_file():
        raise KustoParserUnavailable(f"{PACKAGE} is not installed in {KUSTO_DIR}; {INSTALL_HINT}")
    pinned = json.loads((KUSTO_DIR / "package.json").read_text(encoding="utf-8"))
    wanted = pinned["dependencies"][PACKAGE]
    installed = json.loads(manifest.read_text(encoding="utf-8"))["version"]
    if installed != wanted:
        raise KustoParserUnavailable(
            f"{PACKAGE} {installed} is installed but {wanted} is pinned; {INSTALL_HINT}"
        )
    return node


def _analysis(query_id: str, text: str, raw: Mapping[str, Any]) -> Analysis:
    comparisons = tuple(
        Comparison(
            kind=c["kind"],
            operator=c["operator"],
            start=c["start"],
            length=c["length"],
            line=c["line"],
            column=c["column"],
            left=_operand(c["left"]),
            right=tuple(_operand(o) for o in c["right"]),
        )
        for c in raw["comparisons"]
    )
    kusto_diagnostics = tuple(
        Diagnostic(
            severity=d["severity"],
            code=d["code"],
            message=d["message"],
            start=d["start"],
            length=d["length"],
            line=d["line"],
            column=d["column"],
        )
        for d in raw["diagnostics"]
    )
    return Analysis(
        query_id=query_id,
        text=text,
        diagnostics=(*kusto_diagnostics, *lint_comparisons(comparisons)),
        fingerprint=tuple(raw["fingerprint"]),
        literals=tuple(Literal(**literal) for literal in raw["literals"]),
        columns=tuple(ColumnReference(**column) for column in raw["columns"]),
        comparisons=comparisons,
    )


def _operand(raw: Mapping[str, Any]) -> Operand:
    return Operand(text=raw["text"], type=raw["type"], column=raw["column"], start=raw["start"])


def _string_and_number(left: str | None, right: str | None) -> bool:
    return (left == "string" and right in _NUMBER_TYPES) or (
        left in _NUMBER_TYPES and right == "string"
    )
