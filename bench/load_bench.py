"""Loading benchmark: ``entra-hunt load`` against DuckDB's own reader on the same file.

Generates a SigninLogs export of ``--rows`` sign-ins in two shapes, from the demo dataset's row
shapes (every column of the table, realistic values; ids and times made unique per row):

- JSON lines, as ``az monitor log-analytics query`` writes them (ISO times, dynamic columns as
  objects);
- CSV, as the Log Analytics portal exports it (``[UTC]`` headers, dynamic columns split into
  ``_dynamic`` / ``_string`` and pretty-printed, en-US dates like ``4/28/2021, 2:08:45.221 PM``).

Then, for each file, in interleaved rounds so that both contenders meet the same machine load:

- ``entra-hunt``: ``python -m entra_hunt.cli load FILE --database NEW`` end to end (hashing,
  recognising, the DuckDB fast path, the transaction, the swap);
- ``duckdb``: ``CREATE TABLE t AS SELECT * FROM read_json(FILE, columns = {typed schema})``
  (JSON lines) or ``read_csv(FILE, columns = {every column VARCHAR})`` (the CSV: its locale
  dates and split columns are not something read_csv can type) into a new database file;

and once, on the first ``--precise-rows`` rows, the precise Python path alone. Each run is its
own subprocess; peak memory is its ``ru_maxrss`` (from ``os.wait4``). Rows per second count the
whole process, interpreter start included, for both contenders.

Writes the figures into bench/RESULTS.md, section "Loading" (replacing only that section), and
prints them. Run from the repository root:

    .venv/bin/python bench/load_bench.py --rows 1000000

Generated files are kept in bench/out/load (reused when the row count matches).
"""

from __future__ import annotations

import argparse
import csv
import itertools
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out" / "load"
RESULTS = ROOT / "bench" / "RESULTS.md"
SECTION = "## Loading"

_DUCKDB_JSON = """
import sys, duckdb
from entra_hunt.engine.schema import duckdb_type, table_schema
columns = ", ".join(
    f"'{c.name}': '{duckdb_type(c.type)}'" for c in table_schema("SigninLogs").columns
)
con = duckdb.connect(sys.argv[2])
con.execute(
    "CREATE TABLE t AS SELECT * FROM read_json(?, format = 'newline_delimited', "
    "records = true, columns = {" + columns + "})",
    [sys.argv[1]],
)
con.close()
"""

_DUCKDB_CSV = """
import csv, sys, duckdb
with open(sys.argv[1], encoding="utf-8", newline="") as handle:
    width = len(next(csv.reader(handle)))
columns = ", ".join(f"'c{i}': 'VARCHAR'" for i in range(width))
con = duckdb.connect(sys.argv[2])
con.execute(
    "CREATE TABLE t AS SELECT * FROM read_csv(?, header = true, auto_detect = false, "
    "delim = ',', quote = '\\"', escape = '\\"', columns = {" + columns + "})",
    [sys.argv[1]],
)
con.close()
"""

_PRECISE = """
import sys
from pathlib import Path
from entra_hunt.engine.loading import LoadOptions, load_exports
outcome = load_exports(Path(sys.argv[2]), [Path(sys.argv[1])], LoadOptions(fast=False))
assert outcome.error is None, outcome.error
"""


@dataclass
class Run:
    """One subprocess: wall seconds, CPU seconds, peak resident memory."""

    wall: float
    cpu: float
    rss_mb: float


@dataclass
class Contender:
    """Repeated runs of one way to load one file."""

    name: str
    runs: list[Run] = field(default_factory=list)

    @property
    def wall(self) -> float:
        """Median wall seconds."""
        return statistics.median(run.wall for run in self.runs)

    @property
    def rss_mb(self) -> float:
        """Largest peak memory over the runs."""
        return max(run.rss_mb for run in self.runs)


# -- the files ---------------------------------------------------------------------------------


def _rows(count: int) -> list[dict[str, object]]:
    from entra_hunt.engine.demo import generate

    base = generate()["SigninLogs"]
    return [dict(row) for row in itertools.islice(itertools.cycle(base), min(count, len(base)))]


def _vary(row: dict[str, object], number: int, base: int) -> dict[str, object]:
    varied = dict(row)
    varied["Id"] = str(uuid.UUID(int=number))
    varied["OriginalRequestId"] = varied["Id"]
    shift = timedelta(minutes=number // base)
    for column in ("TimeGenerated", "CreatedDateTime"):
        value = varied[column]
        assert isinstance(value, datetime)
        varied[column] = value - shift
    return varied


def write_json_lines(path: Path, count: int) -> None:
    """A SigninLogs export as JSON lines."""
    from entra_hunt.engine.demo import encode_row

    base = _rows(count)
    with path.open("w", encoding="utf-8") as handle:
        for number in range(count):
            handle.write(encode_row(_vary(base[number % len(base)], number, len(base))) + "\n")


def _us_time(value: datetime) -> str:
    value = value.astimezone(UTC)
    hour = value.hour % 12 or 12
    half = "PM" if value.hour >= 12 else "AM"
    return (
        f"{value.month}/{value.day}/{value.year}, {hour}:{value.minute:02d}:"
        f"{value.second:02d}.{value.microsecond // 1000:03d} {half}"
    )


def write_portal_csv(path: Path, count: int) -> None:
    """A SigninLogs export as the Log Analytics portal's CSV."""
    from entra_hunt.engine.schema import table_schema

    columns = table_schema("SigninLogs").columns
    header: list[str] = []
    for column in columns:
        if column.type == "dynamic":
            header += [f"{column.name}_dynamic", f"{column.name}_string"]
        elif column.type == "datetime":
            header.append(f"{column.name} [UTC]")
        else:
            header.append(column.name)
    base = _rows(count)
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\r\n")
        writer.writerow(header)
        for number in range(count):
            row = _vary(base[number % len(base)], number, len(base))
            cells: list[str] = []
            for column in columns:
                value = row[column.name]
                if column.type == "dynamic":
                    cells += ["" if value is None else json.dumps(value, indent=2), ""]
                elif isinstance(value, datetime):
                    cells.append(_us_time(value))
                elif isinstance(value, bool):
                    cells.append("TRUE" if value else "FALSE")
                else:
                    cells.append("" if value is None else str(value))
            writer.writerow(cells)


def _ensure(path: Path, count: int, write: object) -> None:
    marker = path.with_name(path.name + ".rows")
    if path.exists() and marker.exists() and marker.read_text() == str(count):
        return
    print(f"generating {path} ({count:,} rows)...", flush=True)
    began = time.monotonic()
    assert callable(write)
    write(path, count)
    marker.write_text(str(count))
    print(f"  {path.stat().st_size / 1e9:.2f} GB in {time.monotonic() - began:.0f}s", flush=True)


def _head(source: Path, target: Path, count: int) -> None:
    if source.suffix == ".jsonl":
        with source.open(encoding="utf-8") as src, target.open("w", encoding="utf-8") as dst:
            dst.writelines(itertools.islice(src, count))
        return
    with (
        source.open(encoding="utf-8", newline="") as src,
        target.open("w", encoding="utf-8", newline="") as dst,
    ):
        writer = csv.writer(dst, lineterminator="\r\n")
        writer.writerows(itertools.islice(csv.reader(src), count + 1))


# -- running -----------------------------------------------------------------------------------


def _measure(command: list[str], scratch: Path) -> Run:
    for leftover in scratch.glob("*"):
        if leftover.is_dir():
            shutil.rmtree(leftover)
        else:
            leftover.unlink()
    began = time.monotonic()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    assert process.stderr is not None
    errors = process.stderr.read()
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.monotonic() - began
    if status != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{errors.decode(errors='replace')}")
    return Run(wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024)


def _machine() -> str:
    model = ""
    memory = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
        total = next(
            line for line in Path("/proc/meminfo").read_text().splitlines() if "MemTotal" in line
        )
        memory = f"{int(total.split()[1]) / 1024 / 1024:.0f} GiB RAM"
    except (OSError, StopIteration):
        pass
    load = Path("/proc/loadavg").read_text().split()[:3] if Path("/proc/loadavg").exists() else []
    import duckdb

    from entra_hunt import __version__

    return (
        f"{model or platform.processor()}, {os.cpu_count()} logical CPUs, {memory}; "
        f"{platform.platform()}; Python {platform.python_version()}; DuckDB {duckdb.__version__}; "
        f"entra-hunt {__version__}; load average at start {' '.join(load) or 'unknown'} "
        "(a shared machine: other work ran alongside)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="sign-ins per file")
    parser.add_argument("--repeat", type=int, default=3, help="interleaved rounds")
    parser.add_argument(
        "--precise-rows", type=int, default=100_000, help="rows for the precise path run"
    )
    parser.add_argument("--no-results", action="store_true", help="do not write RESULTS.md")
    args = parser.parse_args()

    OUT.mkdir(parents=True, exist_ok=True)
    scratch = OUT / "scratch"
    scratch.mkdir(exist_ok=True)
    machine = _machine()
    files = {
        "JSON lines": (OUT / "signinlogs.jsonl", write_json_lines, _DUCKDB_JSON),
        "CSV (portal export)": (OUT / "signinlogs.csv", write_portal_csv, _DUCKDB_CSV),
    }
    python = sys.executable
    table: list[dict[str, object]] = []
    for label, (path, write, duck_script) in files.items():
        _ensure(path, args.rows, write)
        database = scratch / "db.duckdb"
        ours = Contender("entra-hunt load")
        duck = Contender("DuckDB read")
        for round_ in range(args.repeat):
            print(f"{label}: round {round_ + 1}/{args.repeat}", flush=True)
            load = [python, "-m", "entra_hunt.cli", "load", str(path)]
            ours.runs.append(_measure([*load, "--database", str(database)], scratch))
            read = [python, "-c", duck_script, str(path), str(database)]
            duck.runs.append(_measure(read, scratch))
        head = OUT / f"head-{args.precise_rows}{path.suffix}"
        if not head.exists():
            _head(path, head, args.precise_rows)
        precise = _measure([python, "-c", _PRECISE, str(head), str(database)], scratch)
        table.append(
            {
                "file": label,
                "size_gb": path.stat().st_size / 1e9,
                "ours": ours,
                "duck": duck,
                "precise": precise,
            }
        )

    lines = _report(table, args, machine)
    print("\n".join(lines))
    if not args.no_results:
        _write_section(lines)


def _report(table: list[dict[str, object]], args: argparse.Namespace, machine: str) -> list[str]:
    command = "    .venv/bin/python bench/load_bench.py " + " ".join(sys.argv[1:])
    lines = [
        SECTION,
        "",
        f"Measured {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on: {machine}.",
        "",
        "Command (from the repository root):",
        "",
        command.rstrip(),
        "",
        f"{args.rows:,} SigninLogs rows per file; medians of {args.repeat} interleaved rounds, "
        "each run its own process (interpreter start included); peak memory is the largest "
        "`ru_maxrss` seen. `duckdb` is DuckDB's own reader with an explicit column list into a "
        "new table (typed for JSON lines, all text for the CSV); `entra-hunt load` is the whole "
        "command: SHA-256, recognition, the DuckDB fast path with typing and checks, one "
        "transaction, the atomic swap. The precise path (Python readers) ran once, on the "
        f"first {args.precise_rows:,} rows.",
        "",
        "| file | size | entra-hunt load | peak memory | DuckDB read | peak memory | ratio "
        "(time) | precise path |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for entry in table:
        ours, duck, precise = entry["ours"], entry["duck"], entry["precise"]
        assert isinstance(ours, Contender) and isinstance(duck, Contender)
        assert isinstance(precise, Run)
        lines.append(
            f"| {entry['file']} | {entry['size_gb']:.2f} GB "
            f"| {args.rows / ours.wall:,.0f} rows/s ({ours.wall:.1f} s) | {ours.rss_mb:,.0f} MB "
            f"| {args.rows / duck.wall:,.0f} rows/s ({duck.wall:.1f} s) | {duck.rss_mb:,.0f} MB "
            f"| {ours.wall / duck.wall:.2f}x "
            f"| {args.precise_rows / precise.wall:,.0f} rows/s, {precise.rss_mb:,.0f} MB |"
        )
    lines.append("")
    return lines


def _write_section(lines: list[str]) -> None:
    text = RESULTS.read_text(encoding="utf-8") if RESULTS.exists() else "# Benchmark results\n"
    section = "\n".join(lines).rstrip() + "\n"
    start = text.find(SECTION + "\n")
    if start < 0:
        text = text.rstrip() + "\n\n" + section
    else:
        after = text.find("\n## ", start + len(SECTION))
        text = text[:start] + section + ("" if after < 0 else text[after:])
    RESULTS.write_text(text, encoding="utf-8")
    print(f"wrote {RESULTS} (section {SECTION!r})")


if __name__ == "__main__":
    main()
