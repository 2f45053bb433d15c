"""The catalogue as data: each hunt's id, techniques, backends, tables, signals, parameters.

:func:`describe_catalogue` is what ``list_hunts`` returns, the ``entra-hunt://hunts`` resource
serves and ``entra-hunt hunts list`` prints. :func:`hunt_query` renders a hunt's exact KQL for
a backend and table without running it, to paste into the Sentinel or Defender portal.
"""

from __future__ import annotations

from datetime import UTC, datetime

from pydantic import BaseModel, ConfigDict, Field, JsonValue

from entra_hunt.errors import ParameterError
from entra_hunt.findings.models import Technique, TimeWindow
from entra_hunt.findings.triage import SIGNALS
from entra_hunt.hunts import CATALOGUE, Hunt, get_hunt
from entra_hunt.hunts.params import BackendName, HuntParameters

__all__ = [
    "HuntCatalogue",
    "HuntDescription",
    "HuntQuery",
    "SignalDescription",
    "TableCoverage",
    "describe",
    "describe_catalogue",
    "hunt_query",
]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TableCoverage(_Model):
    """Whether a hunt runs on one backend's table, what else it reads, what it cannot see."""

    backend: str = Field(description="'local', 'sentinel' or 'defender'.")
    table: str | None = Field(description="The main table; null when the backend cannot run it.")
    supported: bool
    also_reads: list[str] = Field(description="Other tables the query joins or unions.")
    cannot: str = Field(description="What this backend cannot see for this hunt ('' if none).")


class SignalDescription(_Model):
    """A triage signal a hunt can raise."""

    tag: str
    weight: int = Field(description="Usual weight: positive raises severity, negative lowers.")
    meaning: str


class HuntDescription(_Model):
    """One catalogue hunt, as an assistant needs it to choose and call it."""

    id: str = Field(description="Pass this as hunt_id to run_hunt and get_hunt_query.")
    title: str
    summary: str
    techniques: list[Technique]
    coverage: list[TableCoverage] = Field(description="Per backend and table.")
    signals: list[SignalDescription]
    parameters: dict[str, JsonValue] = Field(
        description="JSON Schema of the hunt's parameters (run_hunt's 'parameters')."
    )


class HuntCatalogue(_Model):
    """Every hunt entra-hunt runs."""

    hunts: list[HuntDescription]
    severity: str = Field(description="How signal weights become a severity.")
    confidence: str = Field(description="How signals become a confidence.")


class HuntQuery(_Model):
    """The exact KQL a hunt runs for one backend and table, to paste into a portal."""

    hunt_id: str
    backend: str
    table: str
    tables_read: list[str] = Field(description="Every table the query reads.")
    window: TimeWindow = Field(description="The window written into the query, UTC.")
    reads_from: datetime = Field(description="Earliest time the query reads (a baseline).")
    query: str
    parameters: dict[str, JsonValue]
    notes: list[str]


def describe(hunt: Hunt) -> HuntDescription:
    """The catalogue entry of ``hunt``."""
    return HuntDescription(
        id=hunt.id,
        title=hunt.title,
        summary=hunt.summary,
        techniques=list(hunt.techniques),
        coverage=[
            TableCoverage(
                backend=row.backend.value,
                table=row.table,
                supported=row.supported,
                also_reads=list(row.reads),
                cannot=row.note,
            )
            for row in hunt.support()
        ],
        signals=[
            SignalDescription(tag=tag, weight=SIGNALS[tag].weight, meaning=SIGNALS[tag].meaning)
            for tag in hunt.signals
        ],
        parameters=hunt.parameters.model_json_schema(),
    )


def describe_catalogue() -> HuntCatalogue:
    """Every hunt of the catalogue, described."""
    return HuntCatalogue(
        hunts=[describe(hunt) for hunt in CATALOGUE.values()],
        severity="The sum of the signal weights: 4 or more high, 2-3 medium, 1 low, 0 or less "
        "informational.",
        confidence="Strong signals (weight 2 or more) count 1, weak ones (weight 1) one half, "
        "benign patterns minus 1: 3 or more high, 2 to 2.5 medium, less low.",
    )


def hunt_query(hunt_id: str, params: HuntParameters, *, now: datetime | None = None) -> HuntQuery:
    """The KQL ``hunt_id`` would run with ``params`` on ``params.backend``, not run."""
    hunt = get_hunt(hunt_id)
    candidates = hunt.tables.get(params.backend, ())
    if not candidates:
        raise ParameterError(
            f"the hunt {hunt.id} cannot run on the {params.backend.value} backend",
            where="backend",
            fix=hunt.limits.get(params.backend, "")
            or f"Use one of: {', '.join(b.value for b in hunt.tables)}",
        )
    table = params.table or candidates[0]
    if table not in candidates:
        raise ParameterError(
            f"table {table!r} is not one the {params.backend.value} backend can hunt",
            where="table",
            fix=f"Use one of: {', '.join(candidates)}, or leave table empty",
        )
    start, end = params.window(now or datetime.now(UTC))
    query = hunt.render(params, table, start, end, 1000)
    notes = [
        "The window is written into the query as window_start and window_end (UTC); edit "
        "those two lines to move it. The query returns at most 1000 rows (the last line)."
    ]
    if params.backend is BackendName.LOCAL:
        notes.append("On the local backend, entra-hunt runs this text with duckdb-kql.")
    notes.extend(hunt.notes(params))
    return HuntQuery(
        hunt_id=hunt.id,
        backend=params.backend.value,
        table=table,
        tables_read=list(query.tables),
        window=TimeWindow(start=start, end=end),
        reads_from=query.start,
        query=query.text,
        parameters=params.model_dump(mode="json"),
        notes=notes,
    )
