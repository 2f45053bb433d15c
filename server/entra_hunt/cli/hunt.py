"""``entra-hunt hunt ...``: run a vetted hunt and print its result."""

from __future__ import annotations

import sys
from datetime import datetime
from enum import StrEnum
from typing import Annotated

import typer
from pydantic import ValidationError

from entra_hunt.cli._app import (
    DatabaseOption,
    fail,
    hunt_app,
    open_backend_for,
    out,
    run_async,
    settings_for,
)
from entra_hunt.hunts import BackendName, DeviceCodeHunt, DeviceCodeParameters, RiskFloor
from entra_hunt.hunts.params import parameter_error
from entra_hunt.render import render_markdown, render_table
from entra_hunt.runner import run_hunt

__all__ = ["OutputFormat", "hunt_device_code"]


class OutputFormat(StrEnum):
    """How hunt results are printed."""

    TABLE = "table"
    JSON = "json"
    MARKDOWN = "markdown"


@hunt_app.command("device-code")
def hunt_device_code(
    backend: Annotated[BackendName, typer.Option(help="Where to run.")] = BackendName.LOCAL,
    lookback: Annotated[
        str | None, typer.Option(help="How far back, e.g. 7d, 36h, 90m. Default 7d.")
    ] = None,
    start: Annotated[
        datetime | None, typer.Option(help="Window start (UTC unless an offset is given).")
    ] = None,
    end: Annotated[
        datetime | None, typer.Option(help="Window end (UTC unless an offset is given).")
    ] = None,
    risk: Annotated[RiskFloor, typer.Option(help="Minimum sign-in risk.")] = RiskFloor.ANY,
    exclude_broker: Annotated[
        bool, typer.Option(help="Drop Microsoft Authentication Broker sign-ins.")
    ] = False,
    user: Annotated[
        list[str] | None, typer.Option("--user", metavar="UPN", help="Only this UPN (repeatable).")
    ] = None,
    max_findings: Annotated[int, typer.Option(help="Most findings to show (1-500).")] = 50,
    table: Annotated[str | None, typer.Option(help="Override the table.")] = None,
    output: Annotated[
        OutputFormat, typer.Option("--format", "-f", help="Output format.")
    ] = OutputFormat.TABLE,
    database: DatabaseOption = None,
    workspace_id: Annotated[
        str | None,
        typer.Option(help="Sentinel workspace id (else ENTRA_HUNT_SENTINEL_WORKSPACE_ID)."),
    ] = None,
) -> None:
    """Successful device code sign-ins from unmanaged devices (Storm-2372)."""
    try:
        params = DeviceCodeParameters(
            backend=backend,
            lookback=lookback,
            start=start,
            end=end,
            risk=risk,
            exclude_broker=exclude_broker,
            users=user or [],
            max_findings=max_findings,
            table=table,
        )
    except ValidationError as exc:
        fail(parameter_error(exc, DeviceCodeParameters))

    async def go() -> None:
        settings = settings_for(database, sentinel_workspace_id=workspace_id)
        backend = open_backend_for(params.backend, settings)
        try:
            result = await run_hunt(DeviceCodeHunt(), params, backend)
        finally:
            close = getattr(backend, "aclose", None)
            if close is not None:
                await close()
        if output is OutputFormat.JSON:
            sys.stdout.write(result.model_dump_json(indent=2) + "\n")
        elif output is OutputFormat.MARKDOWN:
            sys.stdout.write(render_markdown(result))
        else:
            render_table(result, out)

    run_async(go)
