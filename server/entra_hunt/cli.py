"""The ``entra-hunt`` command: hunt, load, serve, doctor.

Results go to stdout (a table for people, JSON or Markdown for scripts and tickets); logs and
errors go to stderr, so stdout stays clean for the MCP stdio transport and for pipes. Exit
codes: 0 success, 1 a failure in the data or a backend, 2 bad parameters.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Awaitable, Callable
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated, NoReturn

import anyio
import typer
from pydantic import ValidationError
from rich.console import Console
from rich.text import Text

from entra_hunt.backends.base import Backend
from entra_hunt.config import DATABASE_ENV, default_database
from entra_hunt.errors import EntraHuntError, ParameterError
from entra_hunt.hunts import BackendName, DeviceCodeHunt, DeviceCodeParameters, RiskFloor
from entra_hunt.hunts.params import parameter_error
from entra_hunt.render import render_markdown, render_table
from entra_hunt.runner import run_hunt

__all__ = ["app", "main"]

logger = logging.getLogger("entra_hunt")

app = typer.Typer(
    name="entra-hunt",
    help="Hunt identity attacks in Microsoft Entra ID sign-in logs: device code phishing "
    "first. Runs on exported logs (local, the default), Microsoft Sentinel or Defender XDR.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)
hunt_app = typer.Typer(help="Run a vetted hunt.", no_args_is_help=True)
app.add_typer(hunt_app, name="hunt")

out = Console()
if not out.is_terminal:
    # Piped or redirected: a wide table rather than one folded to 80 columns.
    out = Console(width=180)
err = Console(stderr=True)


class OutputFormat(StrEnum):
    """How hunt results are printed."""

    TABLE = "table"
    JSON = "json"
    MARKDOWN = "markdown"


DatabaseOption = Annotated[
    Path | None,
    typer.Option(
        "--database",
        help=f"Local database file. Default: ${DATABASE_ENV}, else {default_database()}.",
        show_default=False,
    ),
]


@app.callback()
def _configure(
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="Log progress to stderr.")
    ] = False,
) -> None:
    logging.basicConfig(
        stream=sys.stderr,
        level=logging.INFO if verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )


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
        list[str] | None, typer.Option("--user", help="Only this UPN (repeatable).")
    ] = None,
    max_findings: Annotated[int, typer.Option(help="Most findings to show (1-500).")] = 50,
    table: Annotated[str | None, typer.Option(help="Override the table.")] = None,
    output: Annotated[
        OutputFormat, typer.Option("--format", "-f", help="Output format.")
    ] = OutputFormat.TABLE,
    database: DatabaseOption = None,
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
        _fail(parameter_error(exc, DeviceCodeParameters))

    async def go() -> None:
        result = await run_hunt(DeviceCodeHunt(), params, _open_backend(params.backend, database))
        if output is OutputFormat.JSON:
            sys.stdout.write(result.model_dump_json(indent=2) + "\n")
        elif output is OutputFormat.MARKDOWN:
            sys.stdout.write(render_markdown(result))
        else:
            render_table(result, out)

    _run(go)


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
            _fail(exc)
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


@app.command()
def serve(
    transport: Annotated[
        str, typer.Option(help="stdio (for desktop assistants) or http (streamable HTTP).")
    ] = "stdio",
    host: Annotated[str, typer.Option(help="HTTP bind address.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="HTTP port.")] = 8765,
    database: DatabaseOption = None,
) -> None:
    """Run the MCP server (stdio by default; streamable HTTP on 127.0.0.1 with --transport http)."""
    from entra_hunt.mcp.server import build_server

    server = build_server(lambda name: _open_backend(name, database))
    if transport == "stdio":
        server.run("stdio")
    elif transport == "http":
        if host not in ("127.0.0.1", "localhost", "::1"):
            _fail(
                ParameterError(
                    f"refusing to serve HTTP on {host} without authentication",
                    where="--host",
                    fix="Bind to 127.0.0.1 (the default); authenticated remote serving is not "
                    "available yet",
                )
            )
        server.run("streamable-http", host=host, port=port)
    else:
        _fail(
            ParameterError(
                f"unknown transport {transport!r}", where="--transport", fix="Use stdio or http"
            )
        )


def _open_backend(name: BackendName, database: Path | None) -> Backend:
    from entra_hunt.backends import open_backend

    return open_backend(name, database=database or default_database())


def _run(body: Callable[[], Awaitable[None]]) -> None:
    try:
        anyio.run(body)
    except EntraHuntError as exc:
        _fail(exc)


def _fail(exc: EntraHuntError) -> NoReturn:
    # The message may quote log or user text: print it as plain text, never as markup.
    err.print(Text.assemble(("error", "bold red"), ": ", exc.message), highlight=False)
    raise typer.Exit(2 if isinstance(exc, ParameterError) else 1)


def main() -> None:
    """Console-script entry point."""
    app()


if __name__ == "__main__":
    main()
