"""Every query entra-hunt ships, for every backend and table, passes Microsoft's own parser.

Generic over the catalogue: for each hunt, for each backend and each table the hunt declares
there, the test renders the hunt with representative parameters built from its parameters
model (the defaults, each field's other values one at a time, and the fullest combination),
then checks every distinct query with Kusto.Language against the official schemas plus the
string-versus-number lint (``kusto_parser``). The queries a backend sends on its own (table
probes, coverage, row counts) are captured from the loopback services and checked the same way.
All queries of a test go through one node process.
"""

from __future__ import annotations

import itertools
import types
import typing
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import Enum
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel, ValidationError
from pydantic.fields import FieldInfo
from shapes import shape, tables_named

from entra_hunt.engine.schema import TABLES
from entra_hunt.engine.store import Store
from entra_hunt.hunts import CATALOGUE, BackendName, Hunt
from entra_hunt.hunts.base import RenderedQuery
from kusto_parser import Analysis, analyse

pytestmark = pytest.mark.slow

START = datetime(2026, 11, 16, tzinfo=UTC)
END = datetime(2026, 11, 30, tzinfo=UTC)
ROW_LIMIT = 1001
#: Fields that pick where and when a hunt runs rather than what its query looks like.
PLACEMENT = frozenset({"backend", "table", "lookback", "start", "end"})
#: Values tried for every string field; each field keeps the ones its model accepts.
STRING_SAMPLES = (
    "alice@contoso.example",
    "o'neil@contoso.example",
    "bob_fabrikam.com#EXT#@contoso.onmicrosoft.com",
    "Europe/Paris",
    "UTC",
    "90m",
    "1h",
    "6h",
    "24h",
    "48h",
    "7d",
    "14d",
    "21d",
    "30d",
)
#: Above this many combinations, a hunt gets one-at-a-time variants and the fullest one only.
FULL_PRODUCT_LIMIT = 64


@dataclass(frozen=True)
class Variant:
    """One rendering: which hunt, backend, table and parameters produced which query."""

    hunt: Hunt
    backend: BackendName
    table: str
    label: str
    query: RenderedQuery


def _kinds(annotation: Any) -> Iterator[Any]:
    """The base types an annotation allows: ``list[Upn] | None`` gives ``list``."""
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        for arg in typing.get_args(annotation):
            yield from _kinds(arg)
    elif origin is typing.Annotated:
        yield from _kinds(typing.get_args(annotation)[0])
    elif origin is not None:
        yield origin
    elif annotation is not type(None):
        yield annotation


def _accepts(model: type[BaseModel], name: str, value: object) -> bool:
    try:
        model.model_validate({name: value})
    except ValidationError:
        return False
    return True


def _short(value: object) -> str:
    if isinstance(value, Enum):
        return str(value.value)
    if isinstance(value, list):
        return f"[{len(value)}]"
    return str(value)


def _product(sizes: list[int]) -> int:
    total = 1
    for size in sizes:
        total *= size
    return total


def field_alternatives(model: type[BaseModel], name: str, info: FieldInfo) -> list[object]:
    """Values of field ``name`` other than its default that ``model`` accepts."""
    default = info.get_default(call_default_factory=True)
    candidates: list[object] = []
    for kind in _kinds(info.annotation):
        if isinstance(kind, type) and issubclass(kind, Enum):
            candidates += list(kind)
        elif kind is bool:
            candidates += [False, True]
        elif kind is int:
            candidates += [
                getattr(m, attr)
                for m in info.metadata
                for attr in ("ge", "le")
                if isinstance(getattr(m, attr, None), int)
            ]
        elif kind is str:
            candidates += list(STRING_SAMPLES)
        elif kind is list:
            accepted = [s for s in STRING_SAMPLES if _accepts(model, name, [s])]
            candidates += [[], accepted[:2]]
    found: list[object] = []
    for value in candidates:
        if value != default and value not in found and _accepts(model, name, value):
            found.append(value)
    strings = [v for v in found if isinstance(v, str)]
    return [v for v in found if not isinstance(v, str)] + strings[:2]


def combinations(hunt: Hunt) -> list[tuple[str, dict[str, object]]]:
    """Representative parameters: defaults, each alternative alone, and the fullest mix."""
    model = hunt.parameters
    alternatives = {
        name: values
        for name, info in model.model_fields.items()
        if name not in PLACEMENT and (values := field_alternatives(model, name, info))
    }
    chosen: list[tuple[str, dict[str, object]]] = [("defaults", {})]
    chosen += [
        (f"{name}={_short(value)}", {name: value})
        for name, values in alternatives.items()
        for value in values
    ]
    sizes = [len(values) + 1 for values in alternatives.values()]
    if sizes and _product(sizes) <= FULL_PRODUCT_LIMIT:
        options = [[None, *values] for values in alternatives.values()]
        for picked in itertools.product(*options):
            mix = {n: v for n, v in zip(alternatives, picked, strict=True) if v is not None}
            chosen.append(("mix " + ",".join(f"{n}={_short(v)}" for n, v in mix.items()), mix))
    else:
        chosen.append(("fullest", {name: values[-1] for name, values in alternatives.items()}))
    return chosen


def variants() -> list[Variant]:
    """Every (hunt, backend, table, parameters) rendering the catalogue allows."""
    found: list[Variant] = []
    for hunt in CATALOGUE.values():
        for label, values in combinations(hunt):
            for backend, tables in hunt.tables.items():
                for table in tables:
                    try:
                        params = hunt.parameters.model_validate(
                            {**values, "backend": backend, "table": table}
                        )
                    except ValidationError:
                        continue  # fields that exclude each other
                    query = hunt.render(params, table, START, END, ROW_LIMIT)
                    found.append(Variant(hunt, backend, table, label, query))
    return found


VARIANTS = variants()
#: One query per shape (same text up to literal values) goes to the parser.
BY_SHAPE = {shape(v.query.text): v for v in reversed(VARIANTS)}


@pytest.fixture(scope="module")
def analyses() -> dict[str, Analysis]:
    """The parser's analysis of each shape, by shape."""
    found = analyse({f"q{i}": v.query.text for i, v in enumerate(BY_SHAPE.values())})
    return {shape(a.text): a for a in found.values()}


def test_every_hunt_renders_for_every_backend_and_table_it_declares() -> None:
    for hunt in CATALOGUE.values():
        declared = {(b, t) for b, tables in hunt.tables.items() for t in tables}
        rendered = {(v.backend, v.table) for v in VARIANTS if v.hunt is hunt}
        assert rendered == declared, hunt.id
        assert any(v.label != "defaults" for v in VARIANTS if v.hunt is hunt), hunt.id


@pytest.mark.parametrize("hunt_id", sorted(CATALOGUE))
def test_every_shipped_query_passes_microsofts_parser_and_the_lint(
    analyses: dict[str, Analysis], hunt_id: str
) -> None:
    failures = [
        f"{v.backend.value}/{v.table} [{v.label}]\n{analyses[shape(v.query.text)].report()}"
        for v in VARIANTS
        if v.hunt.id == hunt_id and analyses[shape(v.query.text)].errors
    ]

    assert not failures, "\n\n".join(failures)


@pytest.mark.parametrize("hunt_id", sorted(CATALOGUE))
def test_every_query_reads_only_the_tables_it_declares(hunt_id: str) -> None:
    for variant in (v for v in VARIANTS if v.hunt.id == hunt_id):
        read = tables_named(variant.query.text, TABLES)

        assert read <= set(variant.query.tables), (variant.label, variant.table, read)
        assert variant.table in read


@pytest.mark.parametrize(("hunt_id", "table"), sorted({(v.hunt.id, v.table) for v in VARIANTS}))
def test_the_fullest_query_of_each_table_runs_on_the_local_engine(hunt_id: str, table: str) -> None:
    fullest = [v for v in VARIANTS if (v.hunt.id, v.table) == (hunt_id, table)][-1]

    with Store(":memory:") as store:
        store.kql(fullest.query.text)


@pytest.mark.anyio
async def test_queries_the_backends_send_on_their_own_pass_the_parser(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from entra_hunt.backends.local import LocalBackend
    from loopback_services import live_services

    sent: list[str] = []
    original = Store.kql

    def recording(self: Store, query: str) -> Any:
        sent.append(query)
        return original(self, query)

    monkeypatch.setattr(Store, "kql", recording)
    with live_services(tmp_path) as services:
        for backend in (services.sentinel(), services.defender(), LocalBackend(None)):
            await _exercise(backend)
            if hasattr(backend, "aclose"):
                await backend.aclose()
        # What the services received; the local engine's own queries were recorded above.
        sent += services.log_analytics.queries() + services.graph.queries()

    hunts = {v.query.text for v in VARIANTS}
    own = {text for text in sent if text not in hunts}
    assert own, "the backends sent no query of their own"
    found = analyse({f"q{i}": text for i, text in enumerate(sorted(own))})

    failures = [a.report() for a in found.values() if a.errors]
    assert not failures, "\n\n".join(failures)


async def _exercise(backend: Any) -> None:
    """Make ``backend`` send its own queries: table probes, coverage, the local row count."""
    tables = await backend.available_tables()
    declared = {t for hunt in CATALOGUE.values() for t in hunt.tables.get(backend.name, ())}
    for table in sorted(declared):
        await backend.coverage_note(table)
    if backend.name is BackendName.LOCAL:
        hunt = next(h for h in CATALOGUE.values() if BackendName.LOCAL in h.tables)
        table = next(t for t in hunt.tables[BackendName.LOCAL] if t in tables)
        params = hunt.parameters.model_validate({"table": table})
        await backend.run(hunt.render(params, table, START, END, ROW_LIMIT))


def test_table_names_are_read_from_code_not_from_comments_or_strings() -> None:
    text = (
        "// a user's AuditLogs\n"
        'let x = dynamic(["SigninLogs", "o\'neil // AuditLogs"]);\n'
        "AADSignInEventsBeta | take 1"
    )

    assert tables_named(text, TABLES) == {"AADSignInEventsBeta"}


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"
