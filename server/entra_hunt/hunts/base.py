"""What a hunt is: parameters, KQL per table, and how a matched row becomes a finding.

A hunt renders one query per target table from validated parameters and a UTC window. Every
rendering projects the same output columns (:data:`OUTPUT_COLUMNS`), so the code that turns a
row into a :class:`~entra_hunt.findings.models.Finding` does not care which table ran.
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
    """A query ready to run: its text, the table it reads and the window it filters on."""

    hunt_id: str
    table: str
    text: str
    start: datetime
    end: datetime
    row_limit: int


@dataclass(frozen=True)
class TableSupport:
    """Whether a hunt can run on a table, and if not, why (shown in the catalogue)."""

    table: str
    supported: bool
    note: str = ""


class Hunt(ABC):
    """A vetted hunt: identity, parameters, per-table KQL, and row-to-finding logic."""

    id: str
    title: str
    summary: str
    techniques: list[Technique]
    parameters: type[HuntParameters]
    context: ThreatContext
    #: Tables per backend, preferred first.
    tables: Mapping[BackendName, tuple[str, ...]]

    @abstractmethod
    def render(
        self, params: HuntParameters, table: str, start: datetime, end: datetime, row_limit: int
    ) -> RenderedQuery:
        """The KQL for ``table`` over ``[start, end]``, returning at most ``row_limit`` rows."""

    @abstractmethod
    def finding(self, row: Mapping[str, object], table: str) -> Finding:
        """One matched row (keyed by output column) as a triaged finding."""

    def notes(self, params: HuntParameters) -> list[str]:
        """What the result should say about how these parameters shaped the hunt."""
        return []
