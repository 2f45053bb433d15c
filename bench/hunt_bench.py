"""The device code hunt on the embedded engine, against the ways people do it by hand.

Contenders over the same generated SigninLogs, timed round-robin in one process:

- ``run_hunt``: the whole hunt as the CLI and MCP tools call it (table choice, KQL rendered
  and run by the local backend, findings triaged, summary, HuntResult), in a burst of calls:
  the backend's database file is already open;
- ``run_hunt, first call after idle``: the same, after the backend closed the file (as it
  does after ``KEEP_OPEN_SECONDS`` without a query), so it opens it with a cold cache;
- ``run_hunt, file opened per query (before)``: the same with the file opened and closed
  around every query, which is what the local backend did before it kept the file open;
- ``local backend``: :meth:`LocalBackend.run` on the rendered KQL (translates with
  duckdb-kql, runs, counts the sign-ins examined, returns row dicts);
- ``Store.kql``: the rendered KQL on an open store (translation and execution);
- ``hand-written SQL``: the same filter, projection, order and limit as one DuckDB statement
  on an open connection, what an analyst fluent in SQL would write;
- ``pandas``: the notebook path. Read the columns the hunt uses into a DataFrame (from the
  same DuckDB file through Arrow, the fastest reader pandas has; pyarrow-backed strings), then
  boolean masks on the cheap columns first, ``json.loads`` of DeviceDetail on the candidates
  only, the projection and the sort. The read and the filter are also reported apart;
- ``plain Python``: rows streamed from the same file in batches of tuples, a loop with the
  cheap tests first and ``json.loads`` of DeviceDetail on candidates, then the sort.

Every contender must return the same sign-ins (checked), and as many as the dataset planted.
"""

from __future__ import annotations

import asyncio
import gc
import itertools
import json
import os
import statistics
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
from dataset import END, START, Dataset
from timing import interleaved

from entra_hunt.backends.local import LocalBackend
from entra_hunt.engine.store import Store
from entra_hunt.hunts import DeviceCodeHunt, DeviceCodeParameters
from entra_hunt.hunts.base import RenderedQuery
from entra_hunt.runner import ROW_LIMIT, run_hunt

__all__ = ["HAND_SQL", "compare"]

#: Every column the hunt reads, in one place for the DataFrame and the loop.
_READ = (
    "TimeGenerated, UserPrincipalName, UserId, AppDisplayName, AppId, ResourceDisplayName, "
    "ResourceIdentity, IPAddress, LocationDetails, AutonomousSystemNumber, DeviceDetail, "
    "RiskLevelDuringSignIn, RiskLevelAggregated, CorrelationId, SessionId, Id, UserAgent, "
    "NetworkLocationDetails, ResultType, AuthenticationProtocol"
)

HAND_SQL = f"""
SELECT TimeGenerated AS SignInTime, UserPrincipalName AS "User", UserId,
    AppDisplayName AS AppName, AppId, ResourceDisplayName AS ResourceName,
    ResourceIdentity AS ResourceId, IPAddress,
    LocationDetails->>'$.countryOrRegion' AS Country, LocationDetails->>'$.city' AS City,
    AutonomousSystemNumber AS AutonomousSystem,
    DeviceDetail->>'$.deviceId' AS DeviceId, DeviceDetail->>'$.displayName' AS DeviceName,
    DeviceDetail->>'$.operatingSystem' AS DeviceOS, DeviceDetail->>'$.browser' AS Browser,
    DeviceDetail->>'$.trustType' AS TrustType, DeviceDetail->>'$.isManaged' AS DeviceManaged,
    DeviceDetail->>'$.isCompliant' AS DeviceCompliant,
    RiskLevelDuringSignIn AS RiskDuringSignIn, RiskLevelAggregated AS RiskAggregated,
    CorrelationId, SessionId, Id AS RequestId, UserAgent,
    NetworkLocationDetails AS NetworkLocations, ResultType AS ResultCode,
    AuthenticationProtocol AS FlowMarker
FROM SigninLogs
WHERE TimeGenerated BETWEEN $start AND $end
    AND AuthenticationProtocol = 'deviceCode' AND ResultType = '0'
    AND coalesce(DeviceDetail->>'$.isManaged', '') <> 'true'
    AND coalesce(DeviceDetail->>'$.isCompliant', '') <> 'true'
ORDER BY TimeGenerated
LIMIT {ROW_LIMIT + 1}
"""


def _naive(instant: datetime) -> datetime:
    return instant.replace(tzinfo=None)


def _pandas_hunt(frame: pd.DataFrame, start: datetime, end: datetime) -> list[str]:
    candidates = frame[
        (frame["AuthenticationProtocol"] == "deviceCode")
        & (frame["ResultType"] == "0")
        & frame["TimeGenerated"].between(start, end)
    ]
    device = candidates["DeviceDetail"].map(json.loads)
    managed = device.map(lambda d: d.get("isManaged") is True or d.get("isCompliant") is True)
    hits = candidates[~managed]
    device = device[~managed]
    location = hits["LocationDetails"].map(json.loads)
    out = pd.DataFrame(
        {
            "SignInTime": hits["TimeGenerated"],
            "User": hits["UserPrincipalName"],
            "UserId": hits["UserId"],
            "AppName": hits["AppDisplayName"],
            "AppId": hits["AppId"],
            "ResourceName": hits["ResourceDisplayName"],
            "ResourceId": hits["ResourceIdentity"],
            "IPAddress": hits["IPAddress"],
            "Country": location.map(lambda p: p.get("countryOrRegion", "")),
            "City": location.map(lambda p: p.get("city", "")),
            "AutonomousSystem": hits["AutonomousSystemNumber"],
            "DeviceId": device.map(lambda d: d.get("deviceId", "")),
            "DeviceName": device.map(lambda d: d.get("displayName", "")),
            "DeviceOS": device.map(lambda d: d.get("operatingSystem", "")),
            "Browser": device.map(lambda d: d.get("browser", "")),
            "TrustType": device.map(lambda d: d.get("trustType", "")),
            "DeviceManaged": device.map(lambda d: json.dumps(d.get("isManaged", ""))),
            "DeviceCompliant": device.map(lambda d: json.dumps(d.get("isCompliant", ""))),
            "RiskDuringSignIn": hits["RiskLevelDuringSignIn"],
            "RiskAggregated": hits["RiskLevelAggregated"],
            "CorrelationId": hits["CorrelationId"],
            "SessionId": hits["SessionId"],
            "RequestId": hits["Id"],
            "UserAgent": hits["UserAgent"],
            "NetworkLocations": hits["NetworkLocationDetails"],
            "ResultCode": hits["ResultType"],
            "FlowMarker": hits["AuthenticationProtocol"],
        }
    )
    out = out.sort_values("SignInTime", kind="stable").head(ROW_LIMIT + 1)
    return list(out["RequestId"])


def _python_hunt(con: duckdb.DuckDBPyConnection, start: datetime, end: datetime) -> list[str]:
    names = [name.strip() for name in _READ.split(",")]
    at = {name: index for index, name in enumerate(names)}
    time_at, protocol_at, result_at = (
        at["TimeGenerated"],
        at["AuthenticationProtocol"],
        at["ResultType"],
    )
    device_at, location_at = at["DeviceDetail"], at["LocationDetails"]
    cursor = con.cursor()
    cursor.execute(f"SELECT {_READ} FROM SigninLogs")
    hits: list[dict[str, Any]] = []
    while batch := cursor.fetchmany(65_536):
        for row in batch:
            if row[protocol_at] != "deviceCode" or row[result_at] != "0":
                continue
            if not start <= row[time_at] <= end:
                continue
            detail = json.loads(row[device_at])
            if detail.get("isManaged") is True or detail.get("isCompliant") is True:
                continue
            place = json.loads(row[location_at])
            hit = dict(zip(names, row, strict=True))
            hit.update(
                Country=place.get("countryOrRegion", ""),
                City=place.get("city", ""),
                DeviceId=detail.get("deviceId", ""),
                DeviceName=detail.get("displayName", ""),
                DeviceOS=detail.get("operatingSystem", ""),
                Browser=detail.get("browser", ""),
                TrustType=detail.get("trustType", ""),
            )
            hits.append(hit)
    cursor.close()
    hits.sort(key=lambda hit: hit["TimeGenerated"])
    return [str(hit["Id"]) for hit in hits[: ROW_LIMIT + 1]]


def compare(data: Dataset, rounds: int, slow_rounds: int) -> dict[str, Any]:
    """Time every contender on ``data``; check they all return the same sign-ins."""
    hunt = DeviceCodeHunt()
    ticks = itertools.count(1)

    def fresh() -> tuple[DeviceCodeParameters, RenderedQuery]:
        # Each call moves the window's end by a microsecond (every row stays in it), so the
        # query text is new each time, as with a lookback: no translation cache hit.
        end = END + timedelta(microseconds=next(ticks))
        params = DeviceCodeParameters(start=START, end=end)
        return params, hunt.render(params, "SigninLogs", START, end, ROW_LIMIT + 1)

    # DuckDB shares one database instance (and its cache) among connections to the same path
    # in a process. Each way of opening the file gets a path of its own (a hard link), so an
    # open connection of one contender never warms another's.
    links = _Links(data.path)
    warm = LocalBackend(links.get("warm"), keep_open_seconds=3600)
    idle = LocalBackend(links.get("idle"))
    per_query = LocalBackend(links.get("per-query"), keep_open_seconds=0)
    store = Store(links.get("open"), read_only=True)
    con = duckdb.connect(str(links.get("open")), read_only=True)
    con.execute("SET TimeZone='UTC'")
    con.execute("SET enable_progress_bar=false")
    bounds = {"start": _naive(START), "end": _naive(END)}

    pandas_parts: dict[str, list[float]] = {"read": [], "filter": []}
    frame_bytes: list[int] = []

    def pandas_path() -> list[str]:
        began = time.perf_counter()
        frame = _read_frame(con)
        read = time.perf_counter()
        found = _pandas_hunt(frame, bounds["start"], bounds["end"])
        pandas_parts["read"].append(read - began)
        pandas_parts["filter"].append(time.perf_counter() - read)
        frame_bytes.append(int(frame.memory_usage(deep=True).sum()))
        del frame
        gc.collect()
        return found

    def ids(rows: list[dict[str, Any]] | list[tuple[Any, ...]], key: int | str) -> list[str]:
        return [str(row[key]) for row in rows]  # type: ignore[index]

    def hunted(backend: LocalBackend) -> list[str]:
        return [f.id for f in asyncio.run(run_hunt(hunt, fresh()[0], backend)).findings]

    def after_idle() -> list[str]:
        # What the first call after KEEP_OPEN_SECONDS of quiet pays: the file is closed.
        # aclose() is timed too; closing an idle store takes about a millisecond.
        asyncio.run(idle.aclose())
        return hunted(idle)

    contenders = {
        "run_hunt": lambda: hunted(warm),
        "run_hunt, first call after idle": after_idle,
        "run_hunt, file opened per query (before)": lambda: hunted(per_query),
        "local backend": lambda: ids(asyncio.run(warm.run(fresh()[1])).rows, "RequestId"),
        "Store.kql": lambda: ids(store.kql(fresh()[1].text)[1], 22),
        "hand-written SQL": lambda: ids(con.execute(HAND_SQL, bounds).fetchall(), 22),
        "pandas": pandas_path,
        "plain Python": lambda: _python_hunt(con, bounds["start"], bounds["end"]),
    }
    fast = tuple(name for name in contenders if name not in ("pandas", "plain Python"))
    samples = interleaved(
        contenders,
        {name: rounds if name in fast else slow_rounds for name in contenders},
        warm=fast,
    )

    expected = sorted(samples["hand-written SQL"].result)
    for name, sample in samples.items():
        if name.startswith("run_hunt"):
            continue  # findings are capped at max_findings; checked by count below
        if sorted(sample.result) != expected:
            raise AssertionError(
                f"{name} found {len(sample.result)} sign-ins, not the same "
                f"{len(expected)} as the hand-written SQL"
            )
    if len(expected) != data.matches:
        raise AssertionError(f"{len(expected)} matches, the dataset planted {data.matches}")
    params = fresh()[0]
    result = asyncio.run(run_hunt(hunt, params, warm))
    in_window = con.execute(
        "SELECT count(*) FROM SigninLogs WHERE TimeGenerated BETWEEN $start AND $end",
        {"start": bounds["start"], "end": _naive(params.end or END)},
    ).fetchone()
    if result.rows_matched != data.matches or (result.rows_examined,) != in_window:
        raise AssertionError(
            f"run_hunt matched {result.rows_matched} of {result.rows_examined}; expected "
            f"{data.matches} of {in_window}"
        )

    store.close()
    con.close()
    for backend in (warm, idle, per_query):
        asyncio.run(backend.aclose())
    links.remove()
    return {
        "rows": data.rows,
        "matches": data.matches,
        "database_bytes": data.bytes_on_disk,
        "dataframe_bytes": max(frame_bytes),
        "pandas_read_median_s": statistics.median(pandas_parts["read"]),
        "pandas_filter_median_s": statistics.median(pandas_parts["filter"]),
        "timings": {name: s.as_dict() for name, s in samples.items()},
    }


class _Links:
    """Hard links to one database file, one per way of opening it, removed afterwards."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._made: list[Path] = []

    def get(self, role: str) -> Path:
        link = self._path.with_name(f"{self._path.stem}.{role}.duckdb")
        link.unlink(missing_ok=True)
        os.link(self._path, link)
        self._made.append(link)
        return link

    def remove(self) -> None:
        for link in self._made:
            link.unlink(missing_ok=True)


def _read_frame(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    cursor = con.cursor()
    try:
        return cursor.sql(f"SELECT {_READ} FROM SigninLogs").to_arrow_table().to_pandas()
    finally:
        cursor.close()
