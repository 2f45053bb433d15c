"""What a hunt is: parameters, KQL per table, and how a matched row becomes a finding.

A hunt renders one query per main table from validated parameters and a UTC window; the query
may join or union other tables (``companions``), and may read before the window (a baseline)
when its :class:`RenderedQuery` says so. Each hunt declares, per backend, the tables it runs on
and what it cannot see there (``limits``), which the catalogue shows. Each row the query
returns becomes one :class:`~entra_hunt.findings.models.Finding`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from entra_hunt.findings.models import Finding, Technique, ThreatContext
from entra_hunt.hunts.params import BackendName, HuntParameters

__all__ = ["Hunt", "RenderedQuery", "TableSupport"]


@dataclass(frozen=True)
class RenderedQuery:
    """A query ready to run: its text, the tables it reads and the span it reads.

    ``start`` and ``end`` bound every row the query reads (a baseline before the hunt's
    window included), which is the time span a cloud backend is asked for.
    """

    hunt_id: str
    table: str
    text: str
    start: datetime
    end: datetime
    row_limit: int
    reads: tuple[str, ...] = ()

    @property
    def tables(self) -> tuple[str, ...]:
        """The main table, then every other table the query reads."""
        return (self.table, *self.reads)


@dataclass(frozen=True)
class TableSupport:
    """Whether a hunt runs on a backend's table, what else it reads, what it cannot see."""

    backend: BackendName
    table: str | None
    supported: bool
    reads: tuple[str, ...] = ()
    note: str = ""


class Hunt(ABC):
    """A vetted hunt: identity, parameters, per-table KQL, and row-to-finding logic."""

    id: str
    title: str
    summary: str
    techniques: list[Technique]
    parameters: type[HuntParameters]
    context: ThreatContext
    #: Main tables per backend, preferred first.
    tables: Mapping[BackendName, tuple[str, ...]]
    #: Other tables a main table's query reads (joins, unions), by main table.
    companions: Mapping[str, tuple[str, ...]] = {}
    #: Per backend, what the hunt cannot see there (or why it cannot run there at all).
    limits: Mapping[BackendName, str] = {}
    #: Tags of the triage signals this hunt can raise (see findings.triage.SIGNALS).
    signals: tuple[str, ...] = ()

    @abstractmethod
    def render(
        self, params: HuntParameters, table: str, start: datetime, end: datetime, row_limit: int
    ) -> RenderedQuery:
        """The KQL for ``table`` over ``[start, end]``, returning at most ``row_limit`` rows."""

    @abstractmethod
    def finding(self, row: Mapping[str, object], table: str, params: HuntParameters) -> Finding:
        """One matched row (keyed by output column) as a triaged finding."""

    def notes(self, params: HuntParameters) -> list[str]:
        """What the result should say about how these parameters shaped the hunt."""
        return []

    def support(self) -> list[TableSupport]:
        """Per backend, each table the hunt runs on, or why it cannot run there."""
        rows: list[TableSupport] = []
        for backend in BackendName:
            note = self.limits.get(backend, "")
            tables = self.tables.get(backend, ())
            if not tables:
                rows.append(TableSupport(backend, None, False, note=note or "Not available."))
            rows.extend(
                TableSupport(backend, table, True, self.companions.get(table, ()), note)
                for table in tables
            )
        return rows
