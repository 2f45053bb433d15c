"""Loading exports: every format finds the same device code cases, and nothing is ever lost.

Fixtures are the demo dataset's device code flows (and some background), rendered by
``export_formats`` the way each exporter writes them. Each is loaded through the fast path,
hunted with the real device code hunt, and loaded again through the precise path to check that
both paths store the same rows.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import signal
import subprocess
import sys
import time
import zipfile
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import anyio
import duckdb
import export_formats as ef
import pytest

from entra_hunt.backends.local import LocalBackend
from entra_hunt.engine import loading
from entra_hunt.engine.demo import DEMO_END, DEMO_START, PLANTED
from entra_hunt.engine.loading import LoadOptions, load_exports
from entra_hunt.engine.schema import TABLES
from entra_hunt.errors import LoadError
from entra_hunt.hunts import DeviceCodeHunt, DeviceCodeParameters
from entra_hunt.runner import run_hunt

Rows = dict[str, list[dict[str, object]]]
Writer = Callable[[Rows, Path], list[Path]]


@pytest.fixture(scope="module")
def rows() -> Rows:
    return ef.sample()


def _write(name: str, text: str | bytes) -> Writer:
    def write(rows: Rows, folder: Path) -> list[Path]:
        path = folder / name
        path.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8"))
        return [path]

    return write


def _signins(rows: Rows) -> Rows:
    return {"SigninLogs": rows["SigninLogs"], ef.NON_INTERACTIVE: rows[ef.NON_INTERACTIVE]}


def _graph(rows: Rows) -> list[dict[str, object]]:
    return ef.graph_signins(_signins(rows))


def _one(name: str, render: Callable[[Rows], str | bytes]) -> Writer:
    def write(rows: Rows, folder: Path) -> list[Path]:
        return _write(name, render(rows))(rows, folder)

    return write


def _page_files(rows: Rows, folder: Path) -> list[Path]:
    pages = folder / "pages"
    pages.mkdir()
    records = _graph(rows)
    for number, start in enumerate(range(0, len(records), 40)):
        page = ef.graph_page(records[start : start + 40], next_link=start + 40 < len(records))
        (pages / f"page-{number:03d}.json").write_text(json.dumps(page), encoding="utf-8")
    return [pages]


def _zipped(rows: Rows, folder: Path) -> list[Path]:
    path = folder / "SignInLogs_download.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(
            "InteractiveSignIns_2026-11-16_2026-11-30.csv", ef.portal_csv(rows["SigninLogs"])
        )
        archive.writestr(
            "NonInteractiveSignIns_2026-11-16_2026-11-30.csv",
            ef.portal_csv(rows["SigninLogs"][:5]).replace(
                "Device Code", "None"
            ),  # the non-interactive tab: no device code sign-in of its own
        )
    return [path]


FORMATS: dict[str, Writer] = {
    "loganalytics-csv": _one(
        "signins.csv", lambda r: ef.loganalytics_csv({"SigninLogs": r["SigninLogs"]})
    ),
    "loganalytics-csv-union": _one("union.csv", lambda r: ef.loganalytics_csv(_signins(r))),
    "loganalytics-csv-gzip": _one(
        "signins.csv.gz",
        lambda r: gzip.compress(ef.loganalytics_csv({"SigninLogs": r["SigninLogs"]}).encode()),
    ),
    "loganalytics-json-lines": _one(
        "signins.jsonl",
        lambda r: ef.loganalytics_json_lines(r["SigninLogs"] + r[ef.NON_INTERACTIVE]),
    ),
    "loganalytics-json-array": _one(
        "signins.json", lambda r: ef.loganalytics_json_array(r["SigninLogs"])
    ),
    "graph-page": _one("page.json", lambda r: json.dumps(ef.graph_page(_graph(r)), indent=2)),
    "graph-pages-in-one-file": _one(
        "pages.json",
        lambda r: "\n".join(
            json.dumps(ef.graph_page(_graph(r)[i : i + 30], next_link=True), indent=1)
            for i in range(0, len(_graph(r)), 30)
        ),
    ),
    "graph-page-files": _page_files,
    "graph-array": _one("signins.json", lambda r: json.dumps(_graph(r), indent=2)),
    "graph-json-lines": _one(
        "signins.jsonl", lambda r: "".join(json.dumps(x) + "\n" for x in _graph(r))
    ),
    "portal-csv": _one(
        "InteractiveSignIns_2026-11-16_2026-11-30.csv", lambda r: ef.portal_csv(r["SigninLogs"])
    ),
    "portal-csv-zip": _zipped,
    "portal-json": _one(
        "InteractiveSignIns_2026-11-16_2026-11-30.json",
        lambda r: json.dumps(ef.graph_signins({"SigninLogs": r["SigninLogs"]}), indent=2),
    ),
    "defender-csv-entraid": _one(
        "EntraIdSignInEvents.csv",
        lambda r: ef.defender_csv("EntraIdSignInEvents", r["EntraIdSignInEvents"]),
    ),
    "defender-csv-beta": _one(
        "AADSignInEventsBeta.csv",
        lambda r: ef.defender_csv("AADSignInEventsBeta", r["AADSignInEventsBeta"]),
    ),
}


def _hunt(database: Path) -> set[tuple[str | None, datetime]]:
    params = DeviceCodeParameters(start=DEMO_START, end=DEMO_END, max_findings=500)
    backend = LocalBackend(database, use_demo_when_empty=False)
    result = anyio.run(run_hunt, DeviceCodeHunt(), params, backend)
    assert result.complete
    return {
        (f.user, f.time.replace(microsecond=f.time.microsecond // 1000 * 1000))
        for f in result.findings
    }


def _contents(database: Path) -> dict[str, list[str]]:
    con = duckdb.connect(str(database), read_only=True)
    try:
        return {
            t: sorted(map(repr, con.execute(f'SELECT * FROM "{t}"').fetchall())) for t in TABLES
        }
    finally:
        con.close()


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


PLANTED_FOUND = {(c.user, c.success_time) for c in PLANTED if c.expected_found}


# -- every format ------------------------------------------------------------------------------


@pytest.mark.parametrize("name", FORMATS)
def test_each_format_loads_fast_and_the_hunt_finds_the_planted_device_code_cases(
    name: str, rows: Rows, tmp_path: Path
) -> None:
    paths = FORMATS[name](rows, tmp_path)

    fast = load_exports(tmp_path / "fast.duckdb", paths)
    precise = load_exports(tmp_path / "precise.duckdb", paths, LoadOptions(fast=False))

    assert fast.error is None and precise.error is None, fast.error or precise.error
    assert {r.engine for r in fast.reports} == {"fast"}
    assert {r.engine for r in precise.reports} == {"precise"}
    assert _hunt(tmp_path / "fast.duckdb") == PLANTED_FOUND
    # The two paths store the same rows and say the same about them.
    assert _contents(tmp_path / "fast.duckdb") == _contents(tmp_path / "precise.duckdb")
    for one, other in zip(fast.reports, precise.reports, strict=True):
        assert (one.rows_by_table, one.rows_read, one.first, one.last) == (
            other.rows_by_table,
            other.rows_read,
            other.first,
            other.last,
        )


@pytest.mark.parametrize("render", ["csv", "json"])
def test_auditlogs_exports_load_the_device_registrations(
    render: str, rows: Rows, tmp_path: Path
) -> None:
    audit = rows["AuditLogs"]
    path = tmp_path / f"AuditLogs.{render}"
    text = ef.auditlogs_csv(audit) if render == "csv" else ef.loganalytics_json_lines(audit)
    path.write_text(text, encoding="utf-8")

    outcome = load_exports(tmp_path / "db.duckdb", [path])

    assert outcome.error is None
    assert outcome.reports[0].rows_by_table == {"AuditLogs": len(audit)}
    con = duckdb.connect(str(tmp_path / "db.duckdb"), read_only=True)
    registered = con.execute(
        "SELECT InitiatedBy->>'$.user.userPrincipalName', TargetResources->>'$[0].displayName' "
        "FROM AuditLogs WHERE OperationName = 'Register device' ORDER BY TimeGenerated"
    ).fetchall()
    con.close()
    expected = [
        (r["InitiatedBy"]["user"]["userPrincipalName"], r["TargetResources"][0]["displayName"])  # type: ignore[index]
        for r in sorted(audit, key=lambda r: str(r["TimeGenerated"]))
        if r["OperationName"] == "Register device"
    ]
    assert registered == expected and expected


def test_a_zip_of_both_admin_center_tabs_fills_both_tables(rows: Rows, tmp_path: Path) -> None:
    (path,) = _zipped(rows, tmp_path)

    (report,) = load_exports(tmp_path / "db.duckdb", [path]).reports

    assert report.rows_by_table == {"SigninLogs": len(rows["SigninLogs"]), ef.NON_INTERACTIVE: 5}
    assert report.format == "portal-csv"


def test_the_older_admin_center_download_loads_its_flat_columns(rows: Rows, tmp_path: Path) -> None:
    signins = rows["SigninLogs"]
    path = tmp_path / "SignIns_2025-03-12.csv"
    path.write_text(ef.legacy_portal_csv(signins), encoding="utf-8")

    fast = load_exports(tmp_path / "fast.duckdb", [path])
    precise = load_exports(tmp_path / "precise.duckdb", [path], LoadOptions(fast=False))

    assert precise.error is None
    assert fast.reports[0].engine == "fast" and fast.reports[0].format == "portal-csv"
    assert _contents(tmp_path / "fast.duckdb") == _contents(tmp_path / "precise.duckdb")
    con = duckdb.connect(str(tmp_path / "fast.duckdb"), read_only=True)
    found = con.execute(
        "SELECT count(*) FILTER (ResultType = '0'), count(*), "
        "count(*) FILTER (DeviceDetail->>'$.browser' <> '') FROM SigninLogs"
    ).fetchone()
    con.close()
    succeeded = sum(1 for r in signins if r["ResultType"] == "0")
    assert found == (succeeded, len(signins), len(signins))


def test_a_report_says_rows_read_loaded_and_the_time_range(rows: Rows, tmp_path: Path) -> None:
    (path,) = FORMATS["graph-json-lines"](rows, tmp_path)
    times = [r["TimeGenerated"] for r in rows["SigninLogs"] + rows[ef.NON_INTERACTIVE]]

    (report,) = load_exports(tmp_path / "db.duckdb", [path]).reports

    assert report.rows_read == report.rows == len(times)
    assert (report.first, report.last) == (min(times), max(times))  # type: ignore[type-var]
    assert report.rows_skipped == 0 and report.reject_file is None


# -- nothing lost ------------------------------------------------------------------------------


def _broken_files(rows: Rows, folder: Path) -> dict[str, tuple[Path, str]]:
    """Bad exports and the words their error must hold."""
    csv_text = ef.loganalytics_csv({"SigninLogs": rows["SigninLogs"]})
    records = _graph(rows)
    cases: dict[str, tuple[str | bytes, str]] = {
        "truncated.json": (json.dumps(records, indent=2)[:-900], "line"),
        "truncated.csv": (
            csv_text[: csv_text.index("authenticationStepDateTime", 20000)],
            "ends inside a quoted cell",
        ),
        "latin1.csv": (
            csv_text.replace("Chrome", "Chr\u00f4me", 1).encode("latin-1", "replace"),
            "not valid UTF-8",
        ),
        "utf16.json": (json.dumps(records).encode("utf-16"), "UTF-16"),
        "people.csv": ("Name,Email\r\nAda,ada@example.com\r\n", "not a sign-in export"),
        "mixed.jsonl": (
            "".join(json.dumps(r) + "\n" for r in records[:50])
            + json.dumps({**records[50], "isInteractive": "perhaps"})
            + "\n",
            "line 51, field isInteractive",
        ),
        "mixed.csv": (
            csv_text.replace(",TRUE,", ",maybe,", 1) if ",TRUE," in csv_text else csv_text,
            "field IsInteractive",
        ),
    }
    first, second = records[0], records[1]

    def second_line(**changes: object) -> str:
        return json.dumps(first) + "\n" + json.dumps({**second, **changes}) + "\n"

    cases.update(
        {
            "long-number.jsonl": (
                json.dumps(first) + "\n" + json.dumps(second)[:-1] + ', "n": ' + "9" * 5000 + "}",
                "line 2: a JSON number in this record has more than 4,300 digits",
            ),
            "deep.jsonl": (
                json.dumps(first) + "\n" + "[" * 5000 + "]" * 5000,
                "line 2: the JSON is nested too deeply",
            ),
            "year-0.jsonl": (
                second_line(createdDateTime="0001-01-01T00:00:00+01:00"),
                "line 2, field createdDateTime",
            ),
            "year-10000.jsonl": (
                second_line(createdDateTime="9999-12-31T23:59:59-05:00"),
                "line 2, field createdDateTime",
            ),
            "surrogate.jsonl": (
                second_line(userDisplayName="\ud800x"),
                "line 2, field userDisplayName",
            ),
            "infinity.jsonl": (
                json.dumps(first)
                + "\n"
                + json.dumps({**second, "deviceDetail": {"x": 1.5}}).replace("1.5", "1e400"),
                "line 2, field deviceDetail",
            ),
        }
    )
    out = {}
    for name, (text, words) in cases.items():
        path = folder / name
        path.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8"))
        out[name] = (path, words)
    return out


BROKEN = [
    "truncated.json",
    "truncated.csv",
    "latin1.csv",
    "utf16.json",
    "people.csv",
    "mixed.jsonl",
    "mixed.csv",
    "long-number.jsonl",
    "deep.jsonl",
    "year-0.jsonl",
    "year-10000.jsonl",
    "surrogate.jsonl",
    "infinity.jsonl",
]


@pytest.mark.parametrize("name", BROKEN)
def test_a_bad_file_names_where_and_leaves_the_database_byte_for_byte_unchanged(
    name: str, rows: Rows, tmp_path: Path
) -> None:
    database = tmp_path / "db.duckdb"
    good = FORMATS["portal-csv"](rows, tmp_path)
    assert load_exports(database, good).error is None
    before = _sha(database)
    path, words = _broken_files(rows, tmp_path)[name]

    outcome = load_exports(database, [path])

    assert isinstance(outcome.error, LoadError)
    assert str(path) in outcome.error.message and words in outcome.error.message
    assert outcome.reports == []
    assert _sha(database) == before
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".db.duckdb")) == [
        ".db.duckdb.lock"
    ]


def test_a_bad_first_load_leaves_no_database_at_all(rows: Rows, tmp_path: Path) -> None:
    path, _ = _broken_files(rows, tmp_path)["mixed.csv"]

    outcome = load_exports(tmp_path / "db.duckdb", [path])

    assert outcome.error is not None
    assert not (tmp_path / "db.duckdb").exists()


def test_loading_the_same_file_twice_in_one_command_adds_it_once(
    rows: Rows, tmp_path: Path
) -> None:
    (path,) = FORMATS["portal-csv"](rows, tmp_path)

    first, second = load_exports(tmp_path / "db.duckdb", [path, path]).reports

    assert not first.already_loaded and second.already_loaded
    assert _contents(tmp_path / "db.duckdb")["SigninLogs"].__len__() == len(rows["SigninLogs"])


def test_a_failing_file_keeps_the_ones_before_it_and_adds_nothing_itself(
    rows: Rows, tmp_path: Path
) -> None:
    (good,) = FORMATS["portal-csv"](rows, tmp_path)
    bad, _ = _broken_files(rows, tmp_path)["mixed.jsonl"]
    (after,) = FORMATS["defender-csv-beta"](rows, tmp_path)

    outcome = load_exports(tmp_path / "db.duckdb", [good, bad, after])

    assert [r.source for r in outcome.reports] == [str(good.resolve())]
    assert isinstance(outcome.error, LoadError) and "mixed.jsonl" in outcome.error.message
    counts = {t: len(v) for t, v in _contents(tmp_path / "db.duckdb").items() if v}
    assert counts == {"SigninLogs": len(rows["SigninLogs"])}


def test_a_failing_file_names_the_files_it_left_unloaded(rows: Rows, tmp_path: Path) -> None:
    (good,) = FORMATS["portal-csv"](rows, tmp_path)
    bad, _ = _broken_files(rows, tmp_path)["mixed.jsonl"]
    (after,) = FORMATS["defender-csv-beta"](rows, tmp_path)

    outcome = load_exports(tmp_path / "db.duckdb", [good, bad, after])

    assert outcome.not_loaded == [bad, after]


def test_an_unexpected_failure_names_the_file_and_stores_nothing_from_it(
    rows: Rows, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    database = tmp_path / "db.duckdb"
    (good,) = FORMATS["portal-csv"](rows, tmp_path)
    assert load_exports(database, [good]).error is None
    before = _sha(database)
    (other,) = FORMATS["graph-json-lines"](rows, tmp_path)

    def explode(*args: object, **kwargs: object) -> None:
        raise ZeroDivisionError("deep inside")

    monkeypatch.setattr(loading, "_load_member", explode)
    outcome = load_exports(database, [other])

    assert isinstance(outcome.error, LoadError)
    assert str(other) in outcome.error.message
    assert "ZeroDivisionError" in outcome.error.message and "nothing" in outcome.error.message
    assert _sha(database) == before


# -- overlapping exports -----------------------------------------------------------------------


@pytest.mark.parametrize("fast", [True, False], ids=["fast", "precise"])
def test_overlapping_exports_store_each_sign_in_once_and_say_how_many_repeated(
    fast: bool, rows: Rows, tmp_path: Path
) -> None:
    record = _graph(rows)[0]
    one, two, three = ({**record, "id": f"sign-in-{n}"} for n in range(3))
    no_id = {**record, "id": ""}
    day1, day2 = tmp_path / "day1.json", tmp_path / "day2.json"
    day1.write_text(json.dumps([one, two]), encoding="utf-8")
    day2.write_text(json.dumps([two, one, three, three, no_id, no_id]), encoding="utf-8")
    database = tmp_path / "db.duckdb"

    first = load_exports(database, [day1], LoadOptions(fast=fast))
    second = load_exports(database, [day2], LoadOptions(fast=fast))

    assert first.error is None and second.error is None, first.error or second.error
    (report,) = second.reports
    assert (report.rows_read, report.rows, report.rows_repeated) == (6, 3, 3)
    assert report.rows_by_table == {"SigninLogs": 3}
    con = duckdb.connect(str(database), read_only=True)
    try:
        ids = sorted(str(r[0]) for r in con.execute('SELECT "Id" FROM "SigninLogs"').fetchall())
    finally:
        con.close()
    assert ids == ["None", "None", "sign-in-0", "sign-in-1", "sign-in-2"]


@pytest.mark.parametrize("name", ["defender-csv-beta", "defender-csv-entraid", "loganalytics-csv"])
def test_an_export_that_repeats_one_already_loaded_adds_no_row(
    name: str, rows: Rows, tmp_path: Path
) -> None:
    (path,) = FORMATS[name](rows, tmp_path)
    database = tmp_path / "db.duckdb"
    first = load_exports(database, [path])
    before = _contents(database)
    again = tmp_path / "again.csv"
    again.write_bytes(path.read_bytes() + b"\r\n")

    second = load_exports(database, [again])

    assert first.error is None and second.error is None, first.error or second.error
    (report,) = second.reports
    assert report.rows == 0 and report.rows_repeated == report.rows_read > 0
    assert _contents(database) == before


# -- --skip-bad --------------------------------------------------------------------------------


def test_skip_bad_loads_the_rest_and_writes_each_bad_record_to_a_reject_file(
    rows: Rows, tmp_path: Path
) -> None:
    records = _graph(rows)
    records[3] = {**records[3], "createdDateTime": "yesterday"}
    records[7] = {**records[7], "status": "failed"}
    path = tmp_path / "signins.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")

    (report,) = load_exports(tmp_path / "db.duckdb", [path], LoadOptions(skip_bad=True)).reports

    assert (report.rows_read, report.rows, report.rows_skipped) == (
        len(records),
        len(records) - 2,
        2,
    )
    assert report.reject_file is not None and report.summary_file is not None
    assert report.reject_file.parent == tmp_path / "rejects"
    rejected = [json.loads(line) for line in report.reject_file.read_text("utf-8").splitlines()]
    assert [r["line"] for r in rejected] == [4, 8]
    assert rejected[0]["where"].endswith("line 4, field createdDateTime")
    assert rejected[0]["record"]["createdDateTime"] == "yesterday"
    summary = json.loads(report.summary_file.read_text("utf-8"))
    assert (summary["rows_read"], summary["rows_loaded"], summary["rows_skipped"]) == (
        len(records),
        len(records) - 2,
        2,
    )
    assert {r["field"] for r in summary["reasons"]} == {"createdDateTime", "status"}


def test_skip_bad_does_not_skip_a_file_that_is_cut_short(rows: Rows, tmp_path: Path) -> None:
    path, _ = _broken_files(rows, tmp_path)["truncated.csv"]

    outcome = load_exports(tmp_path / "db.duckdb", [path], LoadOptions(skip_bad=True))

    assert isinstance(outcome.error, LoadError)
    assert not (tmp_path / "db.duckdb").exists()
    assert not (tmp_path / "rejects").exists()


# -- killed midway -----------------------------------------------------------------------------

_PAUSED_LOAD = """
import sys, time
from pathlib import Path
from entra_hunt.engine import shadow, store
from entra_hunt.engine.loading import LoadOptions, load_exports

database, export, marker = (Path(argument) for argument in sys.argv[1:4])
where = sys.argv[4]

def pause(*args, **kwargs):
    marker.write_text("paused", encoding="utf-8")
    time.sleep(600)

if where == "before-swap":
    shadow.Shadow.swap = pause
    options = LoadOptions()
else:  # inside the open transaction, rows inserted but not committed
    store.Store.record_load = pause
    options = LoadOptions(fast=False)
load_exports(database, [export], options)
"""


def _narrow_signins(path: Path, count: int) -> Path:
    lines = (
        json.dumps(
            {
                "TimeGenerated": f"2026-11-{1 + n % 28:02d}T{n % 24:02d}:00:00Z",
                "UserPrincipalName": f"user{n % 500}@contoso.example",
                "AppId": "29d9ed98-a469-4536-ade2-f981bc1d605e",
                "IPAddress": f"203.0.113.{n % 250}",
                "Type": "SigninLogs",
            }
        )
        for n in range(count)
    )
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _prior(rows: Rows, tmp_path: Path) -> tuple[Path, str, dict[str, list[str]]]:
    database = tmp_path / "db.duckdb"
    assert load_exports(database, FORMATS["portal-csv"](rows, tmp_path)).error is None
    return database, _sha(database), _contents(database)


def _wait_for(path: Path, process: subprocess.Popen[bytes], seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not path.exists():
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, "the load never reached the point to kill it at"
        time.sleep(0.02)


@pytest.mark.slow
@pytest.mark.parametrize("where", ["before-swap", "inside-the-transaction"])
def test_a_load_killed_midway_leaves_the_database_byte_for_byte_unchanged(
    where: str, rows: Rows, tmp_path: Path
) -> None:
    database, before, contents = _prior(rows, tmp_path)
    export = _narrow_signins(tmp_path / "big.jsonl", 5_000)
    marker = tmp_path / "paused"

    process = subprocess.Popen(
        [sys.executable, "-c", _PAUSED_LOAD, str(database), str(export), str(marker), where],
        stderr=subprocess.PIPE,
    )
    try:
        _wait_for(marker, process)
        os.kill(process.pid, signal.SIGKILL)
    finally:
        process.wait(timeout=30)

    assert process.returncode == -signal.SIGKILL
    assert _sha(database) == before
    assert any(p.name.startswith(".db.duckdb.loading-") for p in tmp_path.iterdir())
    assert _contents(database) == contents
    # The next load cleans up after the killed one and lands in full.
    (report,) = load_exports(database, [export]).reports
    assert report.rows == 5_000
    assert not any(p.name.startswith(".db.duckdb.loading-") for p in tmp_path.iterdir())


@pytest.mark.slow
def test_the_load_command_killed_at_any_moment_leaves_the_old_or_the_whole_new_database(
    rows: Rows, tmp_path: Path
) -> None:
    database, before, contents = _prior(rows, tmp_path)
    export = _narrow_signins(tmp_path / "big.jsonl", 200_000)
    command = [sys.executable, "-m", "entra_hunt.cli", "load", str(export)]
    command += ["--database", str(database)]

    process = subprocess.Popen(command, stderr=subprocess.PIPE)
    try:
        _wait_for(tmp_path / f".db.duckdb.loading-{process.pid}.duckdb", process)
        time.sleep(0.3)
        os.kill(process.pid, signal.SIGKILL)
    finally:
        process.wait(timeout=30)

    after = _contents(database)  # opens: never a damaged file
    if _sha(database) != before:  # the load finished before the kill landed
        assert len(after["SigninLogs"]) == len(contents["SigninLogs"]) + 200_000
    else:
        assert after == contents
