"""Every query the follow-on hunts and the timeline can render is valid KQL for its tables.

Checked by Microsoft's parser (Kusto.Language) against the official schemas of every table a
query names, with the string-versus-number lint, and by the local engine (duckdb-kql) on
empty tables, so the same text runs here and in the portals. A hostile user value changes a
query's literals only, never its structure.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from entra_hunt.engine.schema import table_schema
from entra_hunt.engine.store import Store
from entra_hunt.hunts import CATALOGUE, BackendName, HuntParameters
from entra_hunt.hunts.signin import OUTPUT_COLUMNS
from entra_hunt.hunts.timeline import EVENT_COLUMNS, TimelineParameters, render_timeline
from kusto_parser import Analysis, analyse

START = datetime(2026, 11, 23, tzinfo=UTC)
END = datetime(2026, 11, 30, tzinfo=UTC)
FOLLOW_ON = [hunt_id for hunt_id in CATALOGUE if hunt_id != "device-code-unmanaged"]
CRAFTED = "o'neil''--#EXT#@contoso.example"
SHAPES: dict[str, list[dict[str, object]]] = {
    "device-code-one-source": [{"group_by": "ip"}, {"group_by": "subnet", "min_users": 3}],
}


def _render(hunt_id: str, table: str, shape: dict[str, object], users: list[str]) -> Any:
    hunt = CATALOGUE[hunt_id]
    params: HuntParameters = hunt.parameters.model_validate({**shape, "users": users})
    return hunt.render(params, table, START, END, 1001)


def _variants(users: list[str]) -> dict[str, tuple[tuple[str, ...], str]]:
    """Every hunt x table x shape; the user filter adds one let and one where line."""
    variants: dict[str, tuple[tuple[str, ...], str]] = {}
    for hunt_id in FOLLOW_ON:
        tables = sorted({t for ts in CATALOGUE[hunt_id].tables.values() for t in ts})
        for table, shape in itertools.product(tables, SHAPES.get(hunt_id, [{}])):
            query = _render(hunt_id, table, shape, users)
            key = f"{hunt_id}-{table}-users{len(users)}-{'-'.join(map(str, shape.values()))}"
            variants[key] = (query.tables, query.text)
    for table in ("SigninLogs", "EntraIdSignInEvents", "AADSignInEventsBeta"):
        params = TimelineParameters(user=users[0] if users else "a@b.example", around=START)
        query = render_timeline(params, table, 201)
        variants[f"timeline-{table}-users{len(users)}"] = (query.tables, query.text)
    return variants


VARIANTS = _variants(["alice@contoso.example"])


def _main_table(hunt_id: str) -> str:
    return CATALOGUE[hunt_id].tables[BackendName.SENTINEL][0]


HOSTILE = {
    f"hostile-{hunt_id}": _render(hunt_id, _main_table(hunt_id), {}, [CRAFTED]).text
    for hunt_id in FOLLOW_ON
}


@pytest.fixture(scope="module")
def analyses() -> dict[str, Analysis]:
    """One run of Microsoft's parser over every variant and the hostile renderings."""
    queries = {key: text for key, (_, text) in VARIANTS.items()}
    return analyse({**queries, **HOSTILE})


@pytest.mark.slow
def test_every_query_passes_microsofts_parser_against_the_tables_it_names(
    analyses: dict[str, Analysis],
) -> None:
    failures = [a.report() for a in analyses.values() if a.errors]

    assert not failures, "\n\n".join(failures)


@pytest.mark.slow
def test_columns_named_like_a_table_column_have_that_columns_type(
    analyses: dict[str, Analysis],
) -> None:
    for key, (tables, _) in VARIANTS.items():
        analysis = analyses[key]
        schemas = [table_schema(t) for t in tables]
        for column in analysis.columns:
            types = {s.type_of(column.name) for s in schemas if column.name in s.names}
            if types and column.name not in OUTPUT_COLUMNS:
                assert column.type in types, (key, column)


@pytest.fixture(scope="module")
def empty_store() -> Iterator[Store]:
    with Store(":memory:") as store:
        yield store


@pytest.mark.parametrize("key", sorted(VARIANTS))
def test_every_query_runs_on_the_local_engine(key: str, empty_store: Store) -> None:
    _, text = VARIANTS[key]

    columns, rows = empty_store.kql(text)

    assert rows == []
    if key.startswith("timeline"):
        assert tuple(columns) == EVENT_COLUMNS
    elif not key.startswith("device-code-one-source"):
        assert set(OUTPUT_COLUMNS) <= set(columns)


@pytest.mark.slow
@pytest.mark.parametrize("hunt_id", FOLLOW_ON)
def test_a_hostile_user_value_changes_literals_not_structure(
    hunt_id: str, analyses: dict[str, Analysis]
) -> None:
    shape = "ip" if hunt_id == "device-code-one-source" else ""
    plain = analyses[f"{hunt_id}-{_main_table(hunt_id)}-users1-{shape}"]
    hostile = analyses[f"hostile-{hunt_id}"]

    assert plain.fingerprint == hostile.fingerprint
    assert CRAFTED.lower() in {literal.value for literal in hostile.literals}
