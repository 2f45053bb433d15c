"""``entra-hunt load`` and ``entra-hunt datasets``: bring exports in, and see what is loaded.

``load`` reports on stderr, per file: rows read, loaded, skipped and not kept, the time range
covered, the speed, and where rejected records went; on a terminal it draws a progress bar
with rows per second (estimated while DuckDB reads, exact when the file is done), and stays
quiet when stderr is piped. ``datasets`` prints what the database holds on stdout, as a table
or (``--format json``) as the same model the MCP tool ``list_datasets`` returns.
"""

from __future__ import annotations

import logging
import sys
import time
from enum import StrEnum
from pathlib import Path
from typing import Annotated, NoReturn

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table
from rich.text import Text

from entra_hunt.cli._app import DatabaseOption, app, err, out, settings_for
from entra_hunt.engine.readers import FORMATS
from entra_hunt.engine.store import LoadReport
from entra_hunt.errors import EntraHuntError, LoadError, ParameterError

__all__ = ["datasets", "load"]

logger = logging.getLogger(__name__)


class DatasetsFormat(StrEnum):
    """How ``datasets`` prints."""

    TABLE = "table"
    JSON = "json"


@app.command()
def load(
    paths: Annotated[
        list[Path],
        typer.Argument(
            help="Export files, folders (searched for exports) or glob patterns; zip and gzip "
            "files are read inside.",
            show_default=False,
        ),
    ],
    database: DatabaseOption = None,
    input_format: Annotated[
        str | None,
        typer.Option(
            "--format",
            help=f"Force the input format instead of recognising it: {', '.join(FORMATS)}.",
            show_default=False,
        ),
    ] = None,
    skip_bad: Annotated[
        bool,
        typer.Option(
            "--skip-bad",
            help="Leave out records that do not fit (counted, written to a reject file under "
            "<database folder>/rejects/) instead of stopping the file's load.",
        ),
    ] = False,
) -> None:
    """Load sign-in and audit exports into the local database.

    Reads Log Analytics exports (SigninLogs, AADNonInteractiveUserSignInLogs, AuditLogs; CSV
    or JSON), Microsoft Graph signIns JSON (pages, arrays, JSON lines), the Entra admin center
    download (CSV or JSON) and Defender advanced hunting CSV (EntraIdSignInEvents,
    AADSignInEventsBeta). Each file loads in one transaction: a bad record stops that file with
    its line and field named (unless --skip-bad), and the database is left as it was. Loading
    a file twice adds nothing.
    """
    from entra_hunt.engine.loading import LoadOptions, load_exports

    try:
        target = settings_for(database).database
        options = LoadOptions(format=input_format, skip_bad=skip_bad)
        with _Bar(err) as bar:
            outcome = load_exports(target, paths, options, bar)
    except EntraHuntError as exc:
        _fail(exc)
    except Exception as exc:  # the last net: a one-paragraph error, never a traceback
        logger.debug("load failed", exc_info=True)
        _fail(
            LoadError(
                f"the load stopped unexpectedly ({type(exc).__name__}); the database was left "
                "unchanged",
                where=", ".join(str(path) for path in paths),
                fix="Check that the files are unedited sign-in or audit exports; if they are, "
                "please report this error (not the files: they hold sign-ins)",
            )
        )
    for report in outcome.reports:
        _print_report(report)
    if any(not report.already_loaded for report in outcome.reports):
        _say(f"Database: {target}")
    if outcome.error is not None:
        not_loaded = ", ".join(str(path) for path in outcome.not_loaded)
        _fail(outcome.error, f"not loaded: {not_loaded}" if not_loaded else None)


@app.command()
def datasets(
    database: DatabaseOption = None,
    output: Annotated[
        DatasetsFormat, typer.Option("--format", "-f", help="Output format.")
    ] = DatasetsFormat.TABLE,
) -> None:
    """Show what the local database holds: tables, row counts, time ranges, files loaded."""
    from entra_hunt.engine.datasets import describe

    try:
        summary = describe(settings_for(database).database)
    except EntraHuntError as exc:
        _fail(exc)
    if output is DatasetsFormat.JSON:
        sys.stdout.write(summary.model_dump_json(indent=2) + "\n")
        return

    out.print(Text(f"Database: {_printable(summary.database)}"), highlight=False)
    if summary.tables:
        tables = Table("table", "rows", "from (UTC)", "to (UTC)", title="Tables")
        for info in summary.tables:
            tables.add_row(info.table, f"{info.rows:,}", _when(info.first), _when(info.last))
        out.print(tables)
    if summary.files:
        files = Table("file", "format", "rows", "skipped", "from (UTC)", "to (UTC)", "loaded")
        files.title = "Files loaded"
        for loaded in summary.files:
            files.add_row(
                Text(_printable(loaded.source)),
                loaded.format or "",
                f"{sum(loaded.rows_by_table.values()):,}",
                "" if loaded.rows_skipped is None else f"{loaded.rows_skipped:,}",
                _when(loaded.first),
                _when(loaded.last),
                _when(loaded.loaded_at),
            )
        out.print(files)
    for note in summary.notes:
        out.print(Text(note), highlight=False)


def _when(value: object) -> str:
    return f"{value:%Y-%m-%d %H:%M}" if value is not None else ""


def _print_report(report: LoadReport) -> None:
    name = report.source
    if report.already_loaded:
        _say(f"{name}: already loaded (same SHA-256); nothing added.")
        return
    tables = ", ".join(f"{t} {n:,}" for t, n in sorted(report.rows_by_table.items()))
    span = (
        f", {report.first:%Y-%m-%d %H:%M} to {report.last:%Y-%m-%d %H:%M} UTC"
        if report.first and report.last
        else ""
    )
    speed = f", {report.rows_read / report.seconds:,.0f} rows/s" if report.seconds >= 1 else ""
    _say(
        f"{name}: loaded {report.rows:,} of {report.rows_read:,} records read "
        f"({tables or 'none'}){span} [{report.format}, {report.engine} path{speed}]"
    )
    if report.rows_not_kept:
        _say(
            f"  {report.rows_not_kept:,} service principal or managed identity sign-ins not "
            "kept (only user sign-ins are loaded)"
        )
    if report.rows_repeated:
        _say(
            f"  {report.rows_repeated:,} records already in the database (overlapping exports) "
            "or repeated in the file: not stored again"
        )
    if report.rows_skipped:
        _say(
            f"  {report.rows_skipped:,} bad records skipped: {report.reject_file} "
            f"(summary: {report.summary_file})"
        )


def _say(line: str) -> None:
    # Plain text, never markup (paths and messages may hold brackets), never wrapped.
    err.print(Text(_printable(line)), highlight=False, soft_wrap=True)


def _printable(text: str) -> str:
    """``text`` with control characters escaped: a file name must not drive the terminal."""
    if text.isprintable():
        return text
    return "".join(char if char.isprintable() else repr(char)[1:-1] for char in text)


def _fail(exc: EntraHuntError, then: str | None = None) -> NoReturn:
    # As fail(), with the message's paths made printable, and a line after it.
    message = Text.assemble(("error", "bold red"), ": ", _printable(exc.message))
    err.print(message, highlight=False)
    if then is not None:
        _say(then)
    raise typer.Exit(2 if isinstance(exc, ParameterError) else 1)


class _Bar:
    """A rich progress bar on stderr when it is a terminal; silent otherwise."""

    def __init__(self, console: Console) -> None:
        self._enabled = console.is_terminal
        self._progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            DownloadColumn(),
            TextColumn("{task.fields[rate]}"),
            TimeElapsedColumn(),
            console=console,
            transient=True,
        )
        self._task: TaskID | None = None
        self._started = 0.0

    def __enter__(self) -> _Bar:
        if self._enabled:
            self._progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._enabled:
            self._progress.stop()

    def start(self, label: str, total_bytes: int) -> None:
        """A file starts loading."""
        if not self._enabled:
            return
        if self._task is not None:
            self._progress.remove_task(self._task)
        self._started = time.monotonic()
        name = _printable(Path(label).name)
        self._task = self._progress.add_task(name, total=total_bytes, rate="")

    def advance(self, done_bytes: int, rows: int, estimated: bool) -> None:
        """So much of the file is read, and about so many records."""
        if not self._enabled or self._task is None:
            return
        elapsed = max(time.monotonic() - self._started, 1e-6)
        rate = f"{'~' if estimated else ''}{rows / elapsed:,.0f} rows/s" if rows else ""
        self._progress.update(self._task, completed=done_bytes, rate=rate)

    def done(self, report: LoadReport) -> None:
        """The file is loaded (or was loaded before)."""
        if not self._enabled or self._task is None:
            return
        self._progress.remove_task(self._task)
        self._task = None
