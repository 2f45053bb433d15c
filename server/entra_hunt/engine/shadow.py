"""Loading into a shadow copy of the database, swapped in with one atomic rename.

Offers :func:`writer_lock` (one loader at a time per database, an advisory lock on a file
beside it) and :class:`Shadow`: a copy of the database file next to it, into which a load
writes, checkpoints and closes, and which then replaces the database with ``os.replace``.

Why: DuckDB rolls an unfinished transaction back, but a big insert writes its row groups into
the database file before it commits ("optimistic writes"), so a load that fails or is killed
midway leaves the file's bytes changed even though its content is not. Writing into a copy
makes the stronger promise true: until the rename, the database file is not opened for writing
at all, so it stays byte-for-byte as it was, whatever happens to the loading process (error,
SIGKILL, power loss); after the rename it holds the complete load. Readers (hunts, the MCP
server) keep reading the old file meanwhile and see the new one on their next open.

Costs: copying the database once per ``entra-hunt load`` command (a reflink where the file
system offers one, else an in-kernel copy), and disk space for that copy while loading.

Limits: POSIX only for the lock and the rename semantics (on Windows ``os.replace`` fails while
a reader has the database open); a process killed midway leaves its shadow files behind, and
the next load removes them. A process that writes the database directly with DuckDB while a
load runs (not through entra-hunt) would lose its writes at the swap; entra-hunt's own writers
all take the lock.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import duckdb

from entra_hunt.errors import DataError, LoadError

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

__all__ = ["Shadow", "lock_file", "writer_lock"]

logger = logging.getLogger(__name__)

_FICLONE = 0x40049409  # Linux ioctl: share the source's blocks (btrfs, XFS)
_SHADOW_MARK = ".loading-"
_UNSUPPORTED = frozenset(
    {errno.EOPNOTSUPP, errno.EXDEV, errno.EINVAL, errno.ENOTTY, errno.ENOSYS, errno.EBADF}
)


def _sibling(database: Path, suffix: str) -> Path:
    return database.with_name(f".{database.name}{suffix}")


def lock_file(database: Path) -> Path:
    """The file :func:`writer_lock` locks, beside the database."""
    return _sibling(database, ".lock")


@contextlib.contextmanager
def writer_lock(database: Path) -> Iterator[None]:
    """Hold the database's writer lock; a second loader waits for it.

    Raises:
        DataError: the lock file cannot be created (the folder is not writable).
    """
    database.parent.mkdir(parents=True, exist_ok=True)
    lock_path = lock_file(database)
    try:
        handle = lock_path.open("a+b")
    except OSError as err:
        raise DataError(
            f"cannot create the database's lock file ({err.strerror})",
            where=str(lock_path),
            fix="Check that the database folder is writable, or pass another --database",
        ) from None
    with handle:
        if fcntl is not None:
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                logger.warning("another load into %s is running; waiting for it", database)
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            if fcntl is not None:
                fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


class Shadow:
    """A copy of the database that a load writes into, then swaps in atomically.

    Use under :func:`writer_lock`: :meth:`prepare`, load into :attr:`path`, close every
    connection to it, then :meth:`swap` (or :meth:`discard`).
    """

    def __init__(self, database: Path) -> None:
        """Plan a shadow of ``database`` (which need not exist yet)."""
        self.database = database
        self.path = _sibling(database, f"{_SHADOW_MARK}{os.getpid()}.duckdb")
        self.work_dir = _sibling(database, f"{_SHADOW_MARK}{os.getpid()}.d")

    def prepare(self) -> None:
        """Remove shadows a killed load left behind, and copy the database.

        Raises:
            LoadError: the copy failed (most often: not enough disk space).
            DataError: the database has a write-ahead log that cannot be folded in.
        """
        self._remove_stale()
        self.work_dir.mkdir()
        if not self.database.exists():
            return
        if _wal(self.database).exists():
            self._fold_wal()
        try:
            _copy(self.database, self.path)
        except OSError as err:
            self.discard()
            raise LoadError(
                f"cannot copy the database to load into it ({err.strerror})",
                where=str(self.path),
                fix="Free disk space next to the database (a load needs room for a copy of "
                "it), then load again",
            ) from None

    def swap(self) -> None:
        """Replace the database with the shadow: one atomic rename, made durable.

        Raises:
            DataError: the shadow still has a write-ahead log, or the database gained one
                (another process wrote it directly); nothing is replaced.
        """
        if _wal(self.path).exists() or _wal(self.database).exists():
            raise DataError(
                "the database was written by another process during the load; nothing was replaced",
                where=str(self.database),
                fix="Close other programs using the database file and load again",
            )
        _fsync(self.path)
        os.replace(self.path, self.database)
        _fsync_dir(self.database.parent)
        logger.info("swapped the loaded copy into %s", self.database)

    def discard(self) -> None:
        """Remove the shadow and its working folder (idempotent)."""
        for path in (self.path, _wal(self.path)):
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
        shutil.rmtree(self.work_dir, ignore_errors=True)

    def _remove_stale(self) -> None:
        prefix = f".{self.database.name}{_SHADOW_MARK}"
        for stale in self.database.parent.glob(f"{prefix}*"):
            logger.info("removing %s, left by an interrupted load", stale)
            if stale.is_dir():
                shutil.rmtree(stale, ignore_errors=True)
            else:
                with contextlib.suppress(FileNotFoundError):
                    stale.unlink()

    def _fold_wal(self) -> None:
        # A write-ahead log holds committed transactions not yet in the file: fold them in
        # before copying, or the copy would miss them.
        try:
            duckdb.connect(str(self.database)).close()
        except duckdb.Error as err:
            raise DataError(
                f"cannot open the database to fold in its write-ahead log ({type(err).__name__})",
                where=str(self.database),
                fix="Close other programs using the database file and load again",
            ) from None


def _wal(path: Path) -> Path:
    return path.with_name(path.name + ".wal")


def _copy(source: Path, target: Path) -> None:
    with source.open("rb") as src, target.open("xb") as dst:
        if not _clone(src.fileno(), dst.fileno()):
            shutil.copyfileobj(src, dst, 1 << 24)
    shutil.copymode(source, target)


def _clone(src: int, dst: int) -> bool:
    """Copy in the kernel: a reflink where offered, else copy_file_range; False if neither."""
    if fcntl is not None:
        try:
            fcntl.ioctl(dst, _FICLONE, src)
            return True
        except OSError as err:
            if err.errno not in _UNSUPPORTED:
                raise
    copy_range = getattr(os, "copy_file_range", None)
    if copy_range is None:
        return False
    try:
        while copy_range(src, dst, 1 << 30):
            pass
    except OSError as err:
        if err.errno not in _UNSUPPORTED or os.lseek(dst, 0, os.SEEK_CUR):
            raise
        return False
    return True


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_dir(directory: Path) -> None:
    with contextlib.suppress(OSError):  # some file systems refuse fsync on a folder
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
