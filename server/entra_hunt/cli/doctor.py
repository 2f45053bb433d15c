"""``entra-hunt doctor``: check each backend's configuration, credentials, access and tables."""

from __future__ import annotations

import json
import os
import sys
from typing import Annotated

import typer
from rich.table import Table
from rich.text import Text

from entra_hunt.cli._app import DatabaseOption, app, out, run_async, settings_for
from entra_hunt.hunts import CATALOGUE, BackendName

__all__ = ["doctor"]

_STYLE = {"ok": "green", "warn": "yellow", "fail": "bold red"}


def _default_backends() -> list[BackendName]:
    """Local and Sentinel always; Defender only when Azure credentials are configured.

    Defender has no setting of its own, so without AZURE_* variables a check would only make
    DefaultAzureCredential probe every source it knows (managed identity among them).
    """
    names = [BackendName.LOCAL, BackendName.SENTINEL]
    if any(os.environ.get(v) for v in ("AZURE_CLIENT_ID", "AZURE_TENANT_ID")):
        names.append(BackendName.DEFENDER)
    return names


@app.command()
def doctor(
    backend: Annotated[
        list[BackendName] | None,
        typer.Option("--backend", help="Check only this backend (repeatable). Default: all."),
    ] = None,
    database: DatabaseOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the checks as JSON.")] = False,
) -> None:
    """Say what works, what does not, and what to fix, for local, sentinel and defender.

    Without --backend: local and sentinel, and defender when AZURE_CLIENT_ID or
    AZURE_TENANT_ID is set. Exits 1 when any check fails.
    """
    from entra_hunt.backends.doctor import diagnose

    failed = False

    async def go() -> None:
        nonlocal failed
        names = backend or _default_backends()
        tables = {
            name: tuple(
                dict.fromkeys(t for h in CATALOGUE.values() for t in h.tables.get(name, ()))
            )
            for name in names
        }
        checks = await diagnose(settings_for(database), backends=names, tables=tables)
        failed = any(c.status == "fail" for c in checks)
        if as_json:
            sys.stdout.write(json.dumps([c.model_dump() for c in checks], indent=2) + "\n")
            return
        table = Table(show_lines=False)
        for column in ("status", "backend", "what", "fix"):
            table.add_column(column, overflow="fold")
        for check in checks:
            table.add_row(
                Text(check.status, style=_STYLE.get(check.status, "")),
                Text(check.backend),
                Text(check.what),
                Text(check.fix or ""),
            )
        out.print(table)

    run_async(go)
    if failed:
        raise typer.Exit(1)
