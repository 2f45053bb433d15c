"""The data tools: ``list_datasets`` (read-only) and, when enabled, ``load_export``.

``list_datasets`` says what the local database holds: tables, row counts, time ranges and the
files loaded (the same model as ``entra-hunt datasets --format json``).

``load_export`` loads an export file or folder into the local database. It exists only when
``ENTRA_HUNT_MCP_LOAD_DIRS`` names one or more folders (``dir1:dir2``, the path separator of
the platform), and it reads only files inside them: the path is resolved (symlinks followed)
before the check, ``..`` is refused outright, and a folder's files are checked one by one. An
assistant can thus be let load the exports an analyst dropped into a folder, and nothing else
on the machine.

Limits: a load runs to the end once started (no cancellation); hunts on a server that read
the demo dataset before the first load may need a server restart to see the loaded data.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Annotated

import anyio.to_thread
from mcp.server.mcpserver import MCPServer
from mcp.types import ToolAnnotations
from pydantic import BaseModel, Field

from entra_hunt.engine.datasets import Datasets, describe
from entra_hunt.engine.readers import FORMATS
from entra_hunt.errors import LoadError, ParameterError
from entra_hunt.mcp._guard import guarded

__all__ = ["LOAD_DIRS_ENV", "DataSettings", "LoadResult", "register"]

#: Folders the MCP tool ``load_export`` may read from; unset or empty turns the tool off.
LOAD_DIRS_ENV = "ENTRA_HUNT_MCP_LOAD_DIRS"


@dataclass(frozen=True)
class DataSettings:
    """Where the data tools read and write.

    Attributes:
        database: the local DuckDB database.
        load_dirs: folders ``load_export`` may read; empty: the tool is not offered.
    """

    database: Path
    load_dirs: tuple[Path, ...] = ()

    @classmethod
    def from_env(
        cls, database: Path | None = None, environ: Mapping[str, str] | None = None
    ) -> DataSettings:
        """Settings from the environment; ``database`` overrides the configured one.

        Raises:
            ParameterError: a folder in ``ENTRA_HUNT_MCP_LOAD_DIRS`` does not exist.
        """
        environ = os.environ if environ is None else environ
        if database is None:
            from entra_hunt.backends.settings import BackendSettings

            database = BackendSettings.from_env().database
        dirs = []
        for part in environ.get(LOAD_DIRS_ENV, "").split(os.pathsep):
            if not part.strip():
                continue
            folder = Path(part.strip()).expanduser()
            if not folder.is_dir():
                raise ParameterError(
                    f"{LOAD_DIRS_ENV} names {folder}, which is not a folder",
                    where=LOAD_DIRS_ENV,
                    fix="Create the folder or remove it from the list",
                )
            dirs.append(folder.resolve())
        return cls(database=database, load_dirs=tuple(dirs))


class LoadedFile(BaseModel):
    """One file the load handled."""

    source: str = Field(description="The file (absolute path; 'archive.zip!member' inside).")
    already_loaded: bool = Field(
        description="True when this exact file (same SHA-256) was loaded before: nothing added."
    )
    format: str | None = Field(default=None, description="Export format recognised.")
    rows_read: int = Field(description="Records read from the file.")
    rows_loaded: int = Field(description="Rows added to the database.")
    rows_by_table: dict[str, int] = Field(description="Rows added per table.")
    rows_skipped: int = Field(
        description="Bad records left out (only with skip_bad); listed in reject_file."
    )
    rows_not_kept: int = Field(
        description="Service principal or managed identity sign-ins, which are not loaded."
    )
    first: datetime | None = Field(default=None, description="Earliest time loaded (UTC).")
    last: datetime | None = Field(default=None, description="Latest time loaded (UTC).")
    reject_file: str | None = Field(
        default=None, description="JSON lines of the skipped records, with line and reason."
    )


class LoadResult(BaseModel):
    """The outcome of ``load_export``."""

    database: str = Field(description="The local database loaded into.")
    files: list[LoadedFile] = Field(description="One entry per file, in load order.")


LIST_DESCRIPTION = (
    "List what the local database of loaded exports holds: each table (SigninLogs, "
    "AADNonInteractiveUserSignInLogs, EntraIdSignInEvents, AADSignInEventsBeta, AuditLogs) "
    "with its row count and UTC time range, and each file loaded (path, format, rows per "
    "table, rows skipped, time range). Read-only. Use it before a local hunt to pick a window "
    "the data covers. exists=false or no sign-ins means hunts on the local backend read the "
    "bundled demo dataset (notes say so)."
)

LOAD_DESCRIPTION = (
    "Load an export file, or every export in a folder, into the local database so that local "
    "hunts read it. Only paths inside the folders the operator configured are accepted. "
    "Formats are recognised (Log Analytics CSV/JSON of SigninLogs, "
    "AADNonInteractiveUserSignInLogs or AuditLogs; Microsoft Graph signIns JSON; Entra admin "
    "center download; Defender advanced hunting CSV; zip or gzip of these). Each file loads "
    "in one transaction; a file loaded before adds nothing. A record that does not fit stops "
    "that file with its line and field named, unless skip_bad is true."
)


def register(server: MCPServer, settings: DataSettings) -> None:
    """Add the data tools to ``server``: ``list_datasets``, and ``load_export`` if enabled."""

    @server.tool(
        name="list_datasets",
        title="List the loaded datasets",
        description=LIST_DESCRIPTION,
        annotations=ToolAnnotations(
            title="List the loaded datasets",
            read_only_hint=True,
            destructive_hint=False,
            idempotent_hint=True,
            open_world_hint=False,
        ),
    )
    async def list_datasets() -> Datasets:
        return await guarded(lambda: anyio.to_thread.run_sync(describe, settings.database))

    if not settings.load_dirs:
        return

    @server.tool(
        name="load_export",
        title="Load an export into the local database",
        description=LOAD_DESCRIPTION,
        annotations=ToolAnnotations(
            title="Load an export into the local database",
            read_only_hint=False,
            destructive_hint=False,
            idempotent_hint=True,
            open_world_hint=False,
        ),
    )
    async def load_export(
        path: Annotated[
            str,
            Field(
                description="An export file or a folder of exports: absolute, or relative to "
                "the first configured folder. It must lie inside a configured folder.",
                max_length=4096,
            ),
        ],
        format: Annotated[
            str | None,
            Field(description=f"Force a format: one of {', '.join(FORMATS)}. Default: recognise."),
        ] = None,
        skip_bad: Annotated[
            bool,
            Field(
                description="Leave out records that do not fit (counted, written to a reject "
                "file) instead of stopping the file's load."
            ),
        ] = False,
    ) -> LoadResult:
        async def run() -> LoadResult:
            files = allowed_files(path, settings.load_dirs)
            return await anyio.to_thread.run_sync(_load, settings.database, files, format, skip_bad)

        return await guarded(run)


def allowed_files(path: str, roots: tuple[Path, ...]) -> list[Path]:
    """The files ``path`` names, if every one lies inside ``roots`` (symlinks resolved).

    Raises:
        ParameterError: ``..`` in the path, or a file outside the configured folders.
        LoadError: nothing exists at the path.
    """
    given = Path(path)
    if ".." in given.parts:
        raise ParameterError(
            "the path contains '..'",
            where="path",
            fix="Give the path inside a configured folder without '..'",
        )
    if not given.is_absolute():
        given = roots[0] / given
    try:
        resolved = given.resolve(strict=True)
    except (FileNotFoundError, NotADirectoryError):
        raise LoadError(
            "no such file or folder",
            where=path,
            fix="Check the path; list the configured folder's files on the host",
        ) from None
    from entra_hunt.engine.loading import expand_paths

    files = [resolved] if resolved.is_file() else expand_paths([resolved])
    for file in files:
        real = file.resolve(strict=True)
        if not any(real.is_relative_to(root) for root in roots):
            raise ParameterError(
                f"{file} is outside the folders configured for loading",
                where="path",
                fix=f"Put the export in one of {', '.join(map(str, roots))}, or have the "
                f"operator add its folder to {LOAD_DIRS_ENV}",
            )
    return [file.resolve() for file in files]


def _load(database: Path, files: list[Path], format: str | None, skip_bad: bool) -> LoadResult:
    from entra_hunt.engine.loading import LoadOptions, load_exports

    outcome = load_exports(database, files, LoadOptions(format=format, skip_bad=skip_bad))
    loaded = [
        LoadedFile(
            source=r.source,
            already_loaded=r.already_loaded,
            format=r.format,
            rows_read=r.rows_read,
            rows_loaded=r.rows,
            rows_by_table=r.rows_by_table,
            rows_skipped=r.rows_skipped,
            rows_not_kept=r.rows_not_kept,
            first=r.first,
            last=r.last,
            reject_file=str(r.reject_file) if r.reject_file else None,
        )
        for r in outcome.reports
    ]
    if outcome.error is not None:
        done = [f.source for f in loaded if not f.already_loaded]
        if not done:
            raise outcome.error
        raise LoadError(
            f"{outcome.error.what.rstrip('.')} (loaded before it: {', '.join(done)})",
            where=outcome.error.where,
            fix=outcome.error.fix,
        )
    return LoadResult(database=str(database), files=loaded)
