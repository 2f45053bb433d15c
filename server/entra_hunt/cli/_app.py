"""The typer application and what every command shares: consoles, options, error exits.

Results go to stdout (a table for people, JSON or Markdown for scripts and tickets); logs and
errors go to stderr, so stdout stays clean for the MCP stdio transport and for pipes. Exit
codes: 0 success, 1 a failure in the data or a backend, 2 bad parameters.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Annotated, NoReturn

import anyio
import typer
from rich.console import Console
from rich.text import Text

from entra_hunt.backends.base import Backend
from entra_hunt.backends.settings import BackendSettings
from entra_hunt.config import DATABASE_ENV, default_database
from entra_hunt.errors import EntraHuntError, ParameterError
from entra_hunt.hunts import BackendName

__all__ = [
    "DatabaseOption",
    "app",
    "err",
    "fail",
    "hunt_app",
    "open_backend_for",
    "out",
    "run_async",
    "settings_for",
]

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


def settings_for(database: Path | None, **overrides: object) -> BackendSettings:
    """Backend settings from the config file and environment, with the CLI's options on top."""
    from entra_hunt.backends import BackendSettings

    values = {k: v for k, v in overrides.items() if v is not None}
    if database is not None:
        values["database"] = database
    settings = BackendSettings.from_env()
    return settings.override(**values) if values else settings


def open_backend_for(name: BackendName, settings: BackendSettings) -> Backend:
    """The backend ``name`` configured by ``settings``."""
    from entra_hunt.backends import open_backend

    return open_backend(name, settings)


def run_async(body: Callable[[], Awaitable[None]]) -> None:
    try:
        anyio.run(body)
    except EntraHuntError as exc:
        fail(exc)


def fail(exc: EntraHuntError) -> NoReturn:
    # The message may quote log or user text: print it as plain text, never as markup.
    err.print(Text.assemble(("error", "bold red"), ": ", exc.message), highlight=False)
    raise typer.Exit(2 if isinstance(exc, ParameterError) else 1)
