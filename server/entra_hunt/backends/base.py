"""The one interface every backend implements: run a rendered query, say how complete it was.

Backends translate their service's failures into :class:`~entra_hunt.errors.BackendError`
with a reason from the shared vocabulary once; nothing above this package sees SDK errors.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from entra_hunt.hunts.base import RenderedQuery
from entra_hunt.hunts.params import BackendName

__all__ = ["Backend", "QueryRun"]


@dataclass
class QueryRun:
    """Rows a backend returned for one query, keyed by output column, and their completeness."""

    table: str
    rows: list[dict[str, object]]
    complete: bool = True
    notes: list[str] = field(default_factory=list)
    rows_examined: int | None = None


class Backend(Protocol):
    """Runs KQL over a time window on one kind of data."""

    name: BackendName

    @property
    def dataset(self) -> str | None:
        """A label for the data this backend reads (a file, a workspace), if it has one."""
        ...

    @property
    def reference_now(self) -> datetime | None:
        """The instant lookbacks count back from, when not the wall clock (the demo data)."""
        ...

    async def available_tables(self) -> list[str]:
        """Tables this backend can query now."""
        ...

    async def run(self, query: RenderedQuery) -> QueryRun:
        """Run ``query``; raise BackendError with a vocabulary reason on failure."""
        ...

    async def coverage_note(self, table: str) -> str | None:
        """A sentence on the time range the table holds, for explaining an empty result."""
        ...
