"""The one path every request takes: parameters → KQL → backend → findings → HuntResult.

The MCP tools, the CLI and scripts all call :func:`run_hunt`. It picks the table, resolves the
window, runs the rendered query, turns rows into triaged findings, and says in ``notes`` what
the user should know (a capped row count, the demo dataset, an empty result's meaning).
"""

from __future__ import annotations

import logging
from collections import Counter
from datetime import UTC, datetime, timedelta

from entra_hunt.backends.base import Backend
from entra_hunt.errors import DataError, ParameterError
from entra_hunt.findings.models import (
    Finding,
    HuntResult,
    Severity,
    Summary,
    TimeWindow,
)
from entra_hunt.hunts.base import Hunt
from entra_hunt.hunts.params import BackendName, HuntParameters

__all__ = ["ROW_LIMIT", "UNTRUSTED_FIELDS", "run_hunt"]

logger = logging.getLogger(__name__)

#: Most matched rows a hunt fetches; past it the result is flagged incomplete.
ROW_LIMIT = 50_000

UNTRUSTED_FIELDS = [
    "user",
    "app.name",
    "resource.name",
    "location.city",
    "device.name",
    "device.operating_system",
    "device.browser",
    "user_agent",
    "evidence.value",
]


async def run_hunt(
    hunt: Hunt,
    params: HuntParameters,
    backend: Backend,
    *,
    now: datetime | None = None,
) -> HuntResult:
    """Run ``hunt`` with ``params`` on ``backend`` and build the result."""
    notes: list[str] = []
    _check_retention(params, backend, now)
    table = await _choose_table(hunt, params, backend, notes)

    anchor = backend.reference_now
    if anchor is not None and not params.has_explicit_window():
        notes.append(
            f"Ran on the {backend.dataset}; the lookback counts back from the dataset's end, "
            f"{anchor.isoformat()}, not from today. Load your own export with "
            "'entra-hunt load FILE' to hunt real sign-ins."
        )
    elif anchor is not None:
        notes.append(f"Ran on the {backend.dataset}.")
    start, end = params.window(anchor or now or datetime.now(UTC))

    query = hunt.render(params, table, start, end, ROW_LIMIT + 1)
    run = await backend.run(query)
    rows = run.rows
    complete = run.complete
    if len(rows) > ROW_LIMIT:
        rows = rows[:ROW_LIMIT]
        complete = False
        notes.append(
            f"More than {ROW_LIMIT} sign-ins matched; only the first {ROW_LIMIT} were read. "
            "Narrow the window or the users and run again."
        )

    findings = sorted(
        (hunt.finding(row, table) for row in rows),
        key=lambda f: (f.severity.rank, -f.time.timestamp()),
    )
    notes.extend(hunt.notes(params))
    notes.extend(run.notes)
    if not findings and complete:
        notes.append("No sign-in matched in the window: the hunt ran completely and found nothing.")
        coverage = await backend.coverage_note(table)
        if coverage:
            notes.append(coverage)

    shown = findings[: params.max_findings]
    if len(findings) > len(shown):
        notes.append(
            f"Showing the {len(shown)} most severe of {len(findings)} findings; the summary "
            "counts all of them. Raise max_findings (up to 500) or narrow users or the "
            "window to see the rest."
        )

    logger.info(
        "hunt %s on %s/%s: %d matched, complete=%s",
        hunt.id,
        backend.name.value,
        table,
        len(findings),
        complete,
    )
    return HuntResult(
        hunt_id=hunt.id,
        title=hunt.title,
        backend=backend.name.value,
        table=table,
        dataset=backend.dataset,
        window=TimeWindow(start=start, end=end),
        query=query.text,
        parameters=params.model_dump(mode="json"),
        rows_matched=len(findings),
        rows_examined=run.rows_examined,
        complete=complete,
        notes=notes,
        summary=_summarise(findings),
        findings=shown,
        findings_truncated=len(findings) > len(shown),
        untrusted_fields=UNTRUSTED_FIELDS,
        context=hunt.context,
    )


async def _choose_table(
    hunt: Hunt, params: HuntParameters, backend: Backend, notes: list[str]
) -> str:
    candidates = hunt.tables.get(backend.name, ())
    if not candidates:
        raise ParameterError(
            f"the hunt {hunt.id} cannot run on the {backend.name.value} backend",
            where="backend",
            fix=f"Use one of: {', '.join(b.value for b in hunt.tables)}",
        )
    if params.table is not None:
        if params.table not in candidates:
            raise ParameterError(
                f"table {params.table!r} is not one the {backend.name.value} backend can hunt",
                where="table",
                fix=f"Use one of: {', '.join(candidates)}, or leave table empty",
            )
        return params.table
    available = await backend.available_tables()
    for table in candidates:
        if table in available:
            if table != candidates[0]:
                notes.append(
                    f"Used {table} because {candidates[0]} is not available on this backend."
                )
            return table
    if backend.name is BackendName.LOCAL:
        fix = "Load a sign-in export with 'entra-hunt load FILE'"
    else:
        fix = (
            "Connect the Microsoft Entra ID sign-in logs to the workspace (or check that the "
            "tenant has Defender XDR advanced hunting); 'entra-hunt doctor' shows what exists"
        )
    raise DataError(
        f"none of the tables this hunt reads ({', '.join(candidates)}) has data",
        where=f"{backend.name.value} backend ({backend.dataset})",
        fix=fix,
    )


def _check_retention(params: HuntParameters, backend: Backend, now: datetime | None) -> None:
    """Refuse, before any call, a window older than the backend keeps (Defender: 30 days)."""
    keeps = getattr(backend, "max_lookback", None)
    if not isinstance(keeps, timedelta):
        return
    current = now or datetime.now(UTC)
    start, _ = params.window(current)
    if current - start > keeps + timedelta(minutes=5):
        raise ParameterError(
            f"the {backend.name.value} backend keeps {keeps.days} days of data; the window "
            f"starts {(current - start).days} days ago",
            where="lookback" if not params.has_explicit_window() else "start",
            fix=f"Use a lookback of at most {keeps.days}d, or hunt older data on Sentinel or "
            "an export loaded locally",
        )


def _summarise(findings: list[Finding]) -> Summary:
    def top(counter: Counter[str]) -> dict[str, int]:
        return dict(counter.most_common(20))

    by_severity = Counter(f.severity.value for f in findings)
    return Summary(
        by_severity={s.value: by_severity.get(s.value, 0) for s in Severity},
        by_user=top(Counter(f.user or "(unknown)" for f in findings)),
        by_ip_address=top(Counter(f.location.ip_address or "(unknown)" for f in findings)),
        by_app=top(Counter(f.app.name or f.app.id or "(unknown)" for f in findings)),
    )
