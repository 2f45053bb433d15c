"""The local backend keeps its database open while queries come, and lets go when idle."""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path

import anyio
import pytest

from entra_hunt.backends.local import LocalBackend
from entra_hunt.engine.store import Store
from entra_hunt.errors import DataError
from entra_hunt.hunts import DeviceCodeHunt, DeviceCodeParameters
from entra_hunt.runner import run_hunt

_START = datetime(2026, 11, 16, tzinfo=UTC)
_END = datetime(2026, 11, 30, tzinfo=UTC)


def _build(path: Path, copies: int = 1) -> Path:
    """A database holding the demo dataset's SigninLogs ``copies`` times."""
    demo = resources.files("entra_hunt").joinpath("data", "demo", "SigninLogs.jsonl.gz")
    with resources.as_file(demo) as source, Store(path) as store:
        for _ in range(copies):
            store.load_jsonl("SigninLogs", source)
    return path


@pytest.fixture
def database(tmp_path: Path) -> Path:
    return _build(tmp_path / "signins.duckdb")


def _writable(path: Path) -> bool:
    """Whether a writer (``entra-hunt load``) could open the file now."""
    try:
        Store(path).close()
    except DataError:
        return False
    return True


def _hunt(backend: LocalBackend) -> int:
    params = DeviceCodeParameters(start=_START, end=_END)
    return anyio.run(run_hunt, DeviceCodeHunt(), params, backend).rows_matched


def test_hunts_in_a_burst_read_the_same_open_file_and_find_the_same(database: Path) -> None:
    backend = LocalBackend(database, use_demo_when_empty=False, keep_open_seconds=60)

    first, second = _hunt(backend), _hunt(backend)

    assert first == second > 0
    assert not _writable(database), "the file stays open between the queries of a burst"
    anyio.run(backend.aclose)
    assert _writable(database)


def test_the_file_is_released_for_a_load_once_the_backend_is_idle(database: Path) -> None:
    backend = LocalBackend(database, use_demo_when_empty=False, keep_open_seconds=0.2)

    _hunt(backend)
    deadline = time.monotonic() + 5
    while not _writable(database) and time.monotonic() < deadline:
        time.sleep(0.05)

    assert _writable(database)
    assert _hunt(backend) > 0, "a later query opens the file again"


def test_with_no_idle_time_the_file_is_closed_after_every_query(database: Path) -> None:
    backend = LocalBackend(database, use_demo_when_empty=False, keep_open_seconds=0)

    _hunt(backend)

    assert _writable(database)


def test_a_load_that_replaces_the_file_is_seen_by_the_next_query_of_a_burst(
    database: Path, tmp_path: Path
) -> None:
    backend = LocalBackend(database, use_demo_when_empty=False, keep_open_seconds=60)
    before = _hunt(backend)

    # What `entra-hunt load` does: write a new file beside it, then rename it over the old.
    os.replace(_build(tmp_path / "shadow.duckdb", copies=2), database)
    after = _hunt(backend)
    anyio.run(backend.aclose)

    assert after == 2 * before


def test_a_backend_that_started_on_the_demo_switches_to_data_loaded_after_it(
    tmp_path: Path,
) -> None:
    path = tmp_path / "later.duckdb"
    backend = LocalBackend(path)
    assert backend.is_demo

    _build(path)

    assert not backend.is_demo
    assert backend.dataset == str(path)
    params = DeviceCodeParameters(start=_START, end=_END)
    result = anyio.run(run_hunt, DeviceCodeHunt(), params, backend)
    assert result.dataset == str(path) and result.findings
    anyio.run(backend.aclose)
