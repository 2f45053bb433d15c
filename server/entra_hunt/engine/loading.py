"""Loading an export file into the local store: detect, read, load in one transaction.

Glue between the readers (which know the formats) and :class:`~entra_hunt.engine.store.Store`
(which knows the tables). A reader error stops the load before the transaction commits, so a
failed load leaves the database exactly as it was.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from entra_hunt.engine.readers import read_export
from entra_hunt.engine.store import LoadReport, Store, file_sha256
from entra_hunt.errors import LoadError

__all__ = ["load_file"]


def load_file(database: Path, path: Path, input_format: str | None = None) -> LoadReport:
    """Load the export at ``path`` into ``database`` (created if absent)."""
    if not path.is_file():
        raise LoadError(
            "no such file",
            where=str(path),
            fix="Check the path; pass a Log Analytics or Graph sign-in export",
        )
    digest = file_sha256(path)

    def rows() -> Iterator[tuple[str, dict[str, object]]]:
        for row in read_export(path, input_format):
            yield row.table, row.values

    with Store(database) as store:
        return store.load(rows(), source=str(path.resolve()), sha256=digest)
