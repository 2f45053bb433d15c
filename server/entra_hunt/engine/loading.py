"""Loading exports into the local store: many files, one command, nothing lost.

Offers :func:`load_exports` (what ``entra-hunt load`` and the MCP ``load_export`` tool call),
:func:`expand_paths` (folders and glob patterns to files) and :func:`load_file` (one file).

Per file: its SHA-256 first (a file loaded before adds nothing); a zip archive is one file
whose members are extracted beside the database and read in turn. Then one transaction:

1. the fast path (:mod:`entra_hunt.engine.bulk`): DuckDB reads the file with an explicit
   column list and maps it in SQL;
2. if the fast path refuses anything, a rollback and the precise path
   (:func:`~entra_hunt.engine.readers.read_export`): the same rows mapped in Python, which
   either loads them, or stops at the first bad record naming the file, line and field, or
   (``skip_bad``) leaves bad records out, counted, in a reject file next to a summary.

Decision, measured by ``bench/load_bench.py`` on 1,000,000 wide SigninLogs rows (a shared
2-CPU machine; bench/RESULTS.md, "Loading"): the precise path alone maps 5,700 (CSV) to 7,000
(JSON lines) rows a second; the whole ``entra-hunt load`` command runs 34,000 (CSV) and 74,000
(JSON lines) rows a second, 1.18x and 1.39x the time of DuckDB's own ``read_csv`` /
``read_json`` filling a table from the same file, in about 1.1 GB. Errors stay exact because
the precise path, not DuckDB, words them; the fast path only decides that a file is clean.

All files of one command load into a shadow copy of the database that replaces it with one
atomic rename at the end (:mod:`entra_hunt.engine.shadow`). Guarantee: until that rename the
database file is byte-for-byte what it was, whatever happens (a bad file, an error, a SIGKILL);
after it, it holds every file that loaded. When a file fails, the files before it in the same
command are still swapped in and the failure is reported; a file that fails adds nothing.

Limits: a load needs free disk space for a copy of the database and, for a zip, its members.
"""

from __future__ import annotations

import contextlib
import csv
import glob
import io
import logging
import os
import tempfile
import threading
import time
import zipfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import duckdb

from entra_hunt.engine.bulk import (
    FastPathRefused,
    MixedTables,
    install_macros,
    load_fast,
)
from entra_hunt.engine.readers import ReadStats, Sniffed, check_format, read_export, sniff
from entra_hunt.engine.readers.source import TextSource
from entra_hunt.engine.rejects import RejectLog
from entra_hunt.engine.schema import table_schema
from entra_hunt.engine.shadow import Shadow, lock_file, writer_lock
from entra_hunt.engine.store import LoadReport, Store, file_sha256
from entra_hunt.errors import EntraHuntError, LoadError

__all__ = [
    "EXPORT_SUFFIXES",
    "LoadOptions",
    "LoadOutcome",
    "LoadProgress",
    "expand_paths",
    "load_exports",
    "load_file",
]

logger = logging.getLogger(__name__)

#: File names a folder is searched for (any case; ``.gz`` of each too).
EXPORT_SUFFIXES = (".csv", ".json", ".jsonl", ".ndjson", ".tsv", ".txt", ".zip")
_ZIP_MAGIC = b"PK\x03\x04"
_SAMPLE_CHARS = 1 << 20
_POLL_SECONDS = 0.25
_LOAD_MEMORY = os.environ.get("ENTRA_HUNT_LOAD_MEMORY", "1GB")


@dataclass(frozen=True)
class LoadOptions:
    """How to load.

    Attributes:
        format: force one of ``readers.FORMATS``; None recognises each file.
        skip_bad: leave bad records out (into a reject file) instead of stopping.
        fast: allow the DuckDB fast path (False: the precise path only, e.g. for tests).
    """

    format: str | None = None
    skip_bad: bool = False
    fast: bool = True


class LoadProgress(Protocol):
    """Receives progress while files load (the CLI draws a bar from it)."""

    def start(self, label: str, total_bytes: int) -> None:
        """A file starts loading."""

    def advance(self, done_bytes: int, rows: int, estimated: bool) -> None:
        """So much of the file is read, and about so many records (``estimated``)."""

    def done(self, report: LoadReport) -> None:
        """The file is loaded (or was loaded before)."""


@dataclass
class LoadOutcome:
    """What one load command did: a report per file, and the failure that stopped it, if any."""

    database: Path
    reports: list[LoadReport] = field(default_factory=list)
    error: EntraHuntError | None = None
    #: With an error: the file that failed and those after it, none of them loaded.
    not_loaded: list[Path] = field(default_factory=list)


@dataclass(frozen=True)
class _Member:
    path: Path
    label: str
    name: str


class _Restart(Exception):
    """Roll the file's transaction back and load it again, this member in ``mode``."""

    def __init__(self, mode: str) -> None:
        super().__init__(mode)
        self.mode = mode


def expand_paths(paths: Sequence[Path | str]) -> list[Path]:
    """The files to load: files as given, folders searched (recursively), globs expanded.

    Raises:
        LoadError: a path does not exist, or a folder or pattern holds no export.
    """
    files: list[Path] = []
    for given in paths:
        path = Path(given).expanduser()
        if path.is_dir():
            found = sorted(
                p
                for p in path.rglob("*")
                if p.is_file()
                and not any(part.startswith(".") for part in p.relative_to(path).parts)
                and _looks_like_export(p.name)
            )
            if not found:
                raise LoadError(
                    "the folder holds no export file",
                    where=str(path),
                    fix=f"Put CSV, JSON or zip exports in it ({', '.join(EXPORT_SUFFIXES)})",
                )
            files.extend(found)
        elif path.exists():
            files.append(path)
        elif glob.has_magic(str(given)):
            matched = sorted(Path(p) for p in glob.glob(str(path)) if Path(p).is_file())
            if not matched:
                raise LoadError(
                    "no file matches the pattern",
                    where=str(given),
                    fix="Check the pattern, or quote it so the shell does not expand it",
                )
            files.extend(matched)
        else:
            raise LoadError(
                "no such file",
                where=str(path),
                fix="Check the path; pass an exported sign-in file, a folder or a zip",
            )
    return files


def _looks_like_export(name: str) -> bool:
    lowered = name.lower().removesuffix(".gz")
    return lowered.endswith(EXPORT_SUFFIXES)


def load_file(database: Path, path: Path, input_format: str | None = None) -> LoadReport:
    """Load one export into ``database`` (created if absent); raises the failure, if any."""
    outcome = load_exports(database, [path], LoadOptions(format=input_format))
    if outcome.error is not None:
        raise outcome.error
    return outcome.reports[0]


def load_exports(
    database: Path,
    paths: Sequence[Path | str],
    options: LoadOptions | None = None,
    progress: LoadProgress | None = None,
) -> LoadOutcome:
    """Load export files into ``database``, each in one transaction, all swapped in at once.

    Args:
        database: the DuckDB file (created if absent).
        paths: files, folders (searched recursively) or glob patterns.
        options: format, skip_bad, fast path.
        progress: receives progress, if given.

    Returns:
        A report per file handled (loaded, or recognised as loaded before), and the error that
        stopped the command, if any: the files before it are loaded, it and those after are not.

    Raises:
        ParameterError: ``options.format`` is unknown.
        LoadError: a path does not exist (before anything is loaded).
    """
    options = options or LoadOptions()
    check_format(options.format)
    files = expand_paths(paths)
    outcome = LoadOutcome(database)
    created = _missing_folders(database.parent)
    try:
        _load_locked(database, files, options, progress, outcome)
    finally:
        if created and not database.exists():
            _remove_created(database, created)
    order = {str(path.resolve()): index for index, path in enumerate(files)}
    outcome.reports.sort(key=lambda r: (order.get(r.source, len(order)), r.already_loaded))
    return outcome


def _load_locked(
    database: Path,
    files: list[Path],
    options: LoadOptions,
    progress: LoadProgress | None,
    outcome: LoadOutcome,
) -> None:
    with writer_lock(database):
        todo = _not_yet_loaded(database, files, outcome, progress)
        if todo:
            shadow = Shadow(database)
            try:
                published = _load_into_shadow(shadow, todo, options, progress, outcome)
                if published:
                    shadow.swap()
                    for report, rejects in published:
                        if rejects is not None:
                            rejects.publish(database.parent / "rejects", report)
            except EntraHuntError as exc:
                outcome.error = exc
                outcome.reports = [r for r in outcome.reports if r.already_loaded]
                outcome.not_loaded = [path for path, _ in todo]
            finally:
                shadow.discard()


def _missing_folders(folder: Path) -> list[Path]:
    """The folders up to ``folder`` that do not exist yet, outermost first."""
    missing = []
    while not folder.exists() and folder != folder.parent:
        missing.append(folder)
        folder = folder.parent
    return missing[::-1]


def _remove_created(database: Path, created: list[Path]) -> None:
    """Undo a first load that stored nothing: the lock file, then the folders made for it."""
    with contextlib.suppress(OSError):
        lock_file(database).unlink()
    for folder in reversed(created):
        try:
            folder.rmdir()
        except OSError:  # not empty: something else lives there now
            return


def _not_yet_loaded(
    database: Path,
    files: list[Path],
    outcome: LoadOutcome,
    progress: LoadProgress | None,
) -> list[tuple[Path, str]]:
    digests = [(path, file_sha256(path)) for path in files]
    loaded: set[str] = set()
    if database.exists():
        with Store(database, read_only=True) as store:
            loaded = {sha for _, sha in digests if store.is_loaded(sha)}
    todo = []
    for path, sha in digests:
        if sha in loaded:
            report = LoadReport(source=str(path.resolve()), sha256=sha, already_loaded=True)
            outcome.reports.append(report)
            if progress is not None:
                progress.done(report)
            continue
        loaded.add(sha)
        todo.append((path, sha))
    return todo


def _load_into_shadow(
    shadow: Shadow,
    todo: list[tuple[Path, str]],
    options: LoadOptions,
    progress: LoadProgress | None,
    outcome: LoadOutcome,
) -> list[tuple[LoadReport, RejectLog | None]]:
    shadow.prepare()
    published: list[tuple[LoadReport, RejectLog | None]] = []
    with Store(shadow.path) as store:
        _configure(store.connection, shadow.work_dir)
        for index, (path, sha) in enumerate(todo):
            try:
                report, rejects = _load_one(store, path, sha, options, shadow.work_dir, progress)
            except EntraHuntError as exc:
                if published:
                    store.checkpoint()
                    outcome.error = exc
                    outcome.not_loaded = [later for later, _ in todo[index:]]
                    return published
                raise
            outcome.reports.append(report)
            published.append((report, rejects))
            if progress is not None:
                progress.done(report)
        store.checkpoint()
    return published


def _configure(con: duckdb.DuckDBPyConnection, work_dir: Path) -> None:
    spill = work_dir / "duckdb-tmp"
    spill.mkdir(exist_ok=True)
    con.execute("SET temp_directory = ?", [str(spill)])
    con.execute("SET preserve_insertion_order = false")
    con.execute(f"SET memory_limit = '{_LOAD_MEMORY}'")
    con.execute("SET enable_progress_bar = true")
    con.execute("SET enable_progress_bar_print = false")
    install_macros(con)


# -- one file ----------------------------------------------------------------------------------


def _load_one(
    store: Store,
    path: Path,
    sha: str,
    options: LoadOptions,
    work_dir: Path,
    progress: LoadProgress | None,
) -> tuple[LoadReport, RejectLog | None]:
    """Load one file in one transaction; any failure becomes a LoadError naming the file."""
    try:
        return _load_one_file(store, path, sha, options, work_dir, progress)
    except EntraHuntError:
        raise
    except Exception as exc:
        logger.debug("unexpected failure loading %s", path, exc_info=True)
        raise LoadError(
            f"the file could not be loaded ({type(exc).__name__}); nothing from it was stored",
            where=str(path),
            fix="Check that it is an unedited sign-in or audit export; if it is, please "
            "report this error (not the file: it holds sign-ins)",
        ) from None


def _load_one_file(
    store: Store,
    path: Path,
    sha: str,
    options: LoadOptions,
    work_dir: Path,
    progress: LoadProgress | None,
) -> tuple[LoadReport, RejectLog | None]:
    started = time.monotonic()
    members = _members(path, work_dir)
    total = sum(m.path.stat().st_size for m in members)
    if progress is not None:
        progress.start(str(path), total)
    modes = ["fast" if options.fast else "precise"] * len(members)
    sniffs: dict[int, Sniffed] = {}

    while True:
        report = LoadReport(source=str(path.resolve()), sha256=sha)
        rejects = RejectLog(work_dir, path.name) if options.skip_bad else None
        store.begin()
        try:
            done = 0
            for index, member in enumerate(members):
                if index not in sniffs:
                    sniffs[index] = sniff(
                        member.path, options.format, label=member.label, name=member.name
                    )
                sniffed = sniffs[index]
                report.format = _join(report.format, sniffed.format)
                try:
                    _load_member(
                        store,
                        sniffed,
                        member,
                        modes[index],
                        report,
                        rejects,
                        progress,
                        done,
                        work_dir,
                    )
                except _Restart as restart:
                    modes[index] = restart.mode
                    raise
                done += member.path.stat().st_size
            report.rows_skipped = rejects.count if rejects is not None else 0
            report.seconds = time.monotonic() - started
            store.record_load(report)
            store.commit()
        except _Restart:
            store.rollback()
            if rejects is not None:
                rejects.close()
            continue
        except BaseException:
            store.rollback()
            if rejects is not None:
                rejects.close()
            raise
        if rejects is not None:
            rejects.close()
        logger.info(
            "loaded %s: %d rows (%s path) in %.1fs",
            path,
            report.rows,
            report.engine,
            report.seconds,
        )
        return report, rejects


def _load_member(
    store: Store,
    sniffed: Sniffed,
    member: _Member,
    mode: str,
    report: LoadReport,
    rejects: RejectLog | None,
    progress: LoadProgress | None,
    offset: int,
    work_dir: Path,
) -> None:
    """Load one file (or zip member) into the open transaction.

    Raises:
        _Restart: the fast path refused; the file must be loaded again, this member in the
            mode the exception names.
    """
    if not sniffed.has_records:
        report.engine = report.engine or "fast"
        return
    if mode != "precise":
        try:
            with _polling(store.connection, progress, offset, member, sniffed):
                result = load_fast(
                    store.connection, sniffed, member.path, by_table=mode == "by-table"
                )
        except MixedTables:
            logger.info("%s: records go to several tables; loading table by table", member.label)
            raise _Restart("by-table") from None
        except FastPathRefused as refused:
            logger.info(
                "%s: the fast path stopped (%s); reading it with the precise reader",
                member.label,
                refused.reason,
            )
            raise _Restart("precise") from None
        except duckdb.Error as err:
            raise LoadError(
                f"the database could not take the load ({type(err).__name__}: "
                f"{str(err).splitlines()[0][:200]})",
                where=member.label,
                fix="Check free disk space and memory next to the database, then load again",
            ) from None
        for table, count in result.rows_by_table.items():
            report.rows_by_table[table] = report.rows_by_table.get(table, 0) + count
        report.widen(result.first, result.last)
        report.rows_read += result.rows + result.not_kept + result.repeated
        report.rows_not_kept += result.not_kept
        report.rows_repeated += result.repeated
        report.engine = "fast" if report.engine in (None, "fast") else report.engine
        return

    stats = ReadStats()

    def advance(records: int, position: int) -> None:
        if progress is not None:
            progress.advance(offset + position, report.rows + records, False)

    rows = read_export(
        member.path,
        sniffed.format,
        on_bad=rejects.add if rejects is not None else None,
        label=member.label,
        name=member.name,
        on_progress=advance,
        stats=stats,
    )
    with tempfile.TemporaryDirectory(prefix="stage-", dir=work_dir) as staging_dir:
        staged = store.stage(((row.table, row.values) for row in rows), Path(staging_dir), report)
        store.insert_staged(staged, report)
    report.rows_read += stats.records
    report.rows_not_kept += stats.not_kept
    report.engine = "precise"


def _join(known: str | None, new: str) -> str:
    if known is None or new in known.split(", "):
        return known or new
    return f"{known}, {new}"


# -- zip archives ------------------------------------------------------------------------------


def _members(path: Path, work_dir: Path) -> list[_Member]:
    """The files to read for ``path``: itself, or the exports inside a zip archive."""
    try:
        with path.open("rb") as handle:
            magic = handle.read(4)
    except OSError as err:
        raise LoadError(
            f"the file cannot be opened ({err.strerror})",
            where=str(path),
            fix="Check the file's permissions",
        ) from None
    if not magic.startswith(_ZIP_MAGIC):
        return [_Member(path, str(path), path.name)]
    return _extract(path, work_dir)


def _extract(path: Path, work_dir: Path) -> list[_Member]:
    try:
        archive = zipfile.ZipFile(path)
    except zipfile.BadZipFile:
        raise LoadError(
            "the zip archive is damaged or cut short",
            where=str(path),
            fix="Download or compress the export again",
        ) from None
    with archive:
        entries = [
            info
            for info in archive.infolist()
            if not info.is_dir()
            and not any(part.startswith((".", "__MACOSX")) for part in info.filename.split("/"))
        ]
        if not entries:
            raise LoadError(
                "the zip archive holds no file", where=str(path), fix="Check the archive"
            )
        needed = sum(info.file_size for info in entries)
        free = _free_bytes(work_dir)
        if needed > free:
            raise LoadError(
                f"the zip archive unpacks to {needed >> 20} MiB but only {free >> 20} MiB "
                "are free next to the database",
                where=str(path),
                fix="Free disk space, or unpack the archive elsewhere and load its files",
            )
        target_dir = Path(tempfile.mkdtemp(prefix="zip-", dir=work_dir))
        members = []
        for number, info in enumerate(entries):
            target = target_dir / f"{number}"
            try:
                with archive.open(info) as src, target.open("wb") as dst:
                    while block := src.read(1 << 20):
                        dst.write(block)
            except (zipfile.BadZipFile, OSError, EOFError) as err:
                raise LoadError(
                    f"a file in the zip archive cannot be read ({type(err).__name__})",
                    where=f"{path}!{info.filename}",
                    fix="Download or compress the export again",
                ) from None
            name = info.filename.rsplit("/", 1)[-1]
            members.append(_Member(target, f"{path}!{info.filename}", name))
        return members


def _free_bytes(directory: Path) -> int:
    stats = os.statvfs(directory)
    return stats.f_bavail * stats.f_frsize


# -- progress ----------------------------------------------------------------------------------


@contextmanager
def _polling(
    con: duckdb.DuckDBPyConnection,
    progress: LoadProgress | None,
    offset: int,
    member: _Member,
    sniffed: Sniffed,
) -> Iterator[None]:
    """Report DuckDB's progress through the file while the fast path runs."""
    if progress is None:
        yield
        return
    size = member.path.stat().st_size
    estimate = _estimate_records(member, sniffed)
    stop = threading.Event()

    def poll() -> None:
        while not stop.wait(_POLL_SECONDS):
            try:
                percent = con.query_progress()
            except duckdb.Error:
                continue
            if percent >= 0:
                fraction = min(percent, 100.0) / 100
                progress.advance(offset + int(size * fraction), int(estimate * fraction), True)

    thread = threading.Thread(target=poll, name="entra-hunt-load-progress", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


def _estimate_records(member: _Member, sniffed: Sniffed) -> int:
    """About how many records the file holds, from its first MiB (for progress only)."""
    try:
        with TextSource(member.path, member.label) as source:
            text = ""
            for chunk in source.chunks():
                text += chunk
                if len(text) >= _SAMPLE_CHARS:
                    break
            read = max(source.position(), 1)
    except LoadError:
        return 0
    if sniffed.layout.json_values:
        table = sniffed.layout.tables[0].table
        key = "createdDateTime" if "graph" in sniffed.format else _time_column(table)
        found = text.count(f'"{key}"') or text.count("\n")
    else:
        records = csv.reader(io.StringIO(text), delimiter=sniffed.delimiter)
        try:
            found = sum(1 for _ in records) - 2  # the header, and a record cut by the sample
        except csv.Error:
            found = text.count("\n") - 1
    return int(max(found, 1) * member.path.stat().st_size / read)


def _time_column(table: str) -> str:
    return table_schema(table).time_column
