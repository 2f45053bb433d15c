"""``entra-hunt load``: bring exported sign-in logs into the local database."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from entra_hunt.cli._app import DatabaseOption, app, err, fail
from entra_hunt.config import default_database
from entra_hunt.errors import EntraHuntError

__all__ = ["load"]


@app.command()
def load(
    paths: Annotated[list[Path], typer.Argument(help="Export files to load.", show_default=False)],
    database: DatabaseOption = None,
    input_format: Annotated[
        str | None,
        typer.Option("--format", help="Force the input format instead of detecting it."),
    ] = None,
) -> None:
    """Load sign-in exports (Log Analytics CSV/JSON, Graph signIns JSON) into the database.

    Each file loads in one transaction: a bad row stops that file's load with its line and
    field named, and the database is left as it was. Loading a file twice adds nothing.
    """
    from entra_hunt.engine.loading import load_file

    target = database or default_database()
    for path in paths:
        try:
            report = load_file(target, path, input_format)
        except EntraHuntError as exc:
            fail(exc)
        if report.already_loaded:
            err.print(
                f"{path}: already loaded (same SHA-256); nothing added.",
                markup=False,
                highlight=False,
            )
            continue
        span = (
            f", {report.first:%Y-%m-%d %H:%M} to {report.last:%Y-%m-%d %H:%M} UTC"
            if report.first and report.last
            else ""
        )
        tables = ", ".join(f"{t} {n}" for t, n in sorted(report.rows_by_table.items()))
        err.print(
            f"{path}: loaded {report.rows} rows ({tables or 'none'}){span} into {target}",
            markup=False,
            highlight=False,
        )
