"""The local backend: KQL on the embedded DuckDB store, or on the bundled demo dataset.

Reads the database file given (read-only, opened per query so a concurrent ``entra-hunt load``
is never blocked for long). When that file is absent or holds no sign-ins, the hunt runs on
the bundled demo dataset of a fictional tenant, built in memory once per process, and the
result says so. Queries run in a worker thread so the MCP event loop keeps serving.
"""

from __future__ import annotations

import logging
import threading
from datetime import datetime
from importlib import resources
from pathlib import Path

import anyio.to_thread

from entra_hunt.backends.base import QueryRun
from entra_hunt.engine.schema import TABLES, table_schema
from entra_hunt.engine.store import Store
from entra_hunt.errors import DataError
from entra_hunt.hunts.base import RenderedQuery
from entra_hunt.hunts.params import BackendName

__all__ = ["DEMO_LABEL", "LocalBackend", "demo_store"]

logger = logging.getLogger(__name__)

DEMO_LABEL = "bundled demo dataset (fictional tenant Contoso Pharma)"

_demo: Store | None = None
_demo_lock = threading.Lock()


def demo_store() -> Store:
    """The bundled demo dataset in an in-memory store, built on first use."""
    global _demo
    with _demo_lock:
        if _demo is None:
            store = Store(":memory:")
            folder = resources.files("entra_hunt").joinpath("data", "demo")
            for table in TABLES:
                entry = folder.joinpath(f"{table}.jsonl.gz")
                if entry.is_file():
                    with resources.as_file(entry) as path:
                        store.load_jsonl(table, path)
            _demo = store
        return _demo


class LocalBackend:
    """Runs hunts on a local database file, falling back to the demo dataset."""

    name = BackendName.LOCAL

    def __init__(self, database: Path | None, *, use_demo_when_empty: bool = True) -> None:
        """Read ``database``; with no sign-ins there, read the demo dataset if allowed."""
        self._database = database
        self._demo = use_demo_when_empty and not _has_signins(database)
        if not self._demo and (database is None or not database.exists()):
            raise DataError(
                f"no local database at {database}",
                where="local backend",
                fix="Load an export with 'entra-hunt load FILE', or allow the demo dataset",
            )

    @property
    def dataset(self) -> str:
        """The database file, or the demo dataset's label."""
        return DEMO_LABEL if self._demo else str(self._database)

    @property
    def is_demo(self) -> bool:
        """True when hunts read the bundled demo dataset."""
        return self._demo

    @property
    def reference_now(self) -> datetime | None:
        """The demo dataset's fixed 'now'; None (the wall clock) for real data."""
        if not self._demo:
            return None
        from entra_hunt.engine.demo import DEMO_END

        return DEMO_END

    async def available_tables(self) -> list[str]:
        """Tables holding at least one row."""
        stats = await anyio.to_thread.run_sync(self._stats)
        return [table for table, rows, _, _ in stats if rows]

    async def run(self, query: RenderedQuery) -> QueryRun:
        """Run the hunt's KQL, and count the rows the window held for context."""
        time_column = table_schema(query.table).time_column
        examined = (
            f"{query.table}\n| where {time_column} between "
            f"(datetime({query.start.strftime('%Y-%m-%dT%H:%M:%S.%fZ')}) .. "
            f"datetime({query.end.strftime('%Y-%m-%dT%H:%M:%S.%fZ')}))\n| count"
        )

        def work() -> QueryRun:
            with self._open() as store:
                columns, rows = store.kql(query.text)
                _, counted = store.kql(examined)
            records = [dict(zip(columns, row, strict=True)) for row in rows]
            return QueryRun(table=query.table, rows=records, rows_examined=int(counted[0][0]))

        result = await anyio.to_thread.run_sync(work)
        logger.info(
            "local query: table=%s window=%s..%s rows=%d examined=%s",
            query.table,
            query.start.isoformat(),
            query.end.isoformat(),
            len(result.rows),
            result.rows_examined,
        )
        return result

    async def coverage_note(self, table: str) -> str | None:
        """The time range ``table`` holds, or that it is empty."""
        for name, rows, first, last in await anyio.to_thread.run_sync(self._stats):
            if name == table:
                if not rows or first is None or last is None:
                    return f"{table} in {self.dataset} holds no rows."
                return (
                    f"{table} in {self.dataset} holds {rows} sign-ins from "
                    f"{first.isoformat()} to {last.isoformat()}."
                )
        return None

    def _stats(self) -> list[tuple[str, int, datetime | None, datetime | None]]:
        with self._open() as store:
            return [(s.table, s.rows, s.first, s.last) for s in store.stats()]

    def _open(self) -> _Borrowed:
        if self._demo:
            return _Borrowed(demo_store(), owned=False)
        assert self._database is not None
        return _Borrowed(Store(self._database, read_only=True), owned=True)


class _Borrowed:
    """A store for one operation: closed afterwards unless it is the shared demo store."""

    def __init__(self, store: Store, *, owned: bool) -> None:
        self.store = store
        self.owned = owned

    def __enter__(self) -> Store:
        return self.store

    def __exit__(self, *exc: object) -> None:
        if self.owned:
            self.store.close()


def _has_signins(database: Path | None) -> bool:
    if database is None or not database.exists():
        return False
    with Store(database, read_only=True) as store:
        return any(s.rows for s in store.stats() if s.table != "AuditLogs")
