"""The one path every request takes: parameters → KQL → backend → findings → HuntResult.

The MCP tools, the CLI and scripts all call :func:`run_hunt`. It picks the table, resolves the
window, runs the rendered query, turns rows into triaged findings, and says in ``notes`` what
the user should know (a capped row count, the demo dataset, an empty result's meaning).

Output budget: the summary counts every finding; the findings themselves are returned most
severe first, from ``offset``, up to ``max_findings`` and about :data:`FINDINGS_BUDGET`
characters of JSON, with a notice and ``next_page`` (the parameters of the next page, on the
same window) when some are left.
"""

from __future__ import annotations

import logging
from collections import Counter
from datetime import UTC, datetime, timedelta

from entra_hunt.backends.base import Backend
from entra_hunt.errors import DataError, ParameterError
from entra_hunt.findings.models import (
    Confidence,
    Finding,
    HuntResult,
    Severity,
    Summary,
    TimeWindow,
)
from entra_hunt.hunts.base import Hunt
from entra_hunt.hunts.params import BackendName, HuntParameters

__all__ = ["FINDINGS_BUDGET", "ROW_LIMIT", "UNTRUSTED_FIELDS", "run_hunt", "sort_key"]

logger = logging.getLogger(__name__)

_DEFENDER_TABLES = frozenset({"EntraIdSignInEvents", "AADSignInEventsBeta"})

#: Most matched rows a hunt fetches; past it the result is flagged incomplete.
ROW_LIMIT = 50_000
#: About how many characters of JSON the findings of one result may take.
FINDINGS_BUDGET = 90_000

#: Every finding field whose value is copied from the logs (the summary's keys are too).
UNTRUSTED_FIELDS = [
    "id",
    "user",
    "user_id",
    "users",
    "app.name",
    "app.id",
    "resource.name",
    "resource.id",
    "location.ip_address",
    "location.country",
    "location.city",
    "location.autonomous_system",
    "device.id",
    "device.name",
    "device.operating_system",
    "device.browser",
    "device.trust_type",
    "risk_during_sign_in",
    "risk_aggregated",
    "correlation_id",
    "session_id",
    "user_agent",
    "evidence.value",
    "steps.detail",
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
    if query.start < start:
        notes.append(
            f"Besides the window, the query read from {query.start.isoformat()} (a baseline "
            "or the sign-ins tokens came from)."
        )
    await _check_companions(query.reads, backend, notes)
    run = await backend.run(query)
    rows = run.rows
    complete = run.complete
    if len(rows) > ROW_LIMIT:
        rows = rows[:ROW_LIMIT]
        complete = False
        notes.append(
            f"More than {ROW_LIMIT} rows matched; only the first {ROW_LIMIT} were read. "
            "Narrow the window or the users and run again."
        )

    findings, unreadable = _findings(hunt, rows, table, params)
    if unreadable:
        complete = False
        notes.append(
            f"{unreadable} matched row(s) could not be turned into findings (malformed log "
            "values; details in the server log) and are left out of the findings and counts."
        )
    notes.extend(hunt.notes(params))
    if table in _DEFENDER_TABLES and hunt.limits.get(BackendName.DEFENDER):
        notes.append(
            f"{table} is a Defender XDR table: {hunt.limits[BackendName.DEFENDER]} Findings "
            "can rank lower than the same sign-ins in SigninLogs."
        )
    notes.extend(run.notes)
    if not findings and complete:
        notes.append("Nothing matched in the window: the hunt ran completely and found nothing.")
        coverage = await backend.coverage_note(table)
        if coverage:
            notes.append(coverage)

    shown = _page(findings, params.offset, params.max_findings)
    next_offset = params.offset + len(shown)
    next_page: dict[str, object] | None = None
    if next_offset < len(findings):
        next_page = params.model_copy(
            update={"lookback": None, "start": start, "end": end, "offset": next_offset}
        ).model_dump(mode="json")
        counted = (
            "the summary counts all of them"
            if complete
            else "the summary counts only the rows read (see the notes above)"
        )
        notes.append(
            f"Showing findings {params.offset + 1}-{next_offset} of {len(findings)}, most "
            f"severe first; {counted}. To see the rest, call again with "
            f"next_page (same window, offset {next_offset}), raise max_findings (up to 500), "
            "or narrow users or the window."
        )
    elif params.offset and not shown:
        notes.append(f"offset {params.offset} is past the last of {len(findings)} findings.")

    logger.info(
        "hunt %s on %s/%s: %d findings, complete=%s",
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
        findings_truncated=next_page is not None,
        untrusted_fields=UNTRUSTED_FIELDS,
        context=hunt.context,
        offset=params.offset,
        next_page=next_page,
        tables_read=list(query.tables),
    )


def sort_key(finding: Finding) -> tuple[int, int, int, float]:
    """Most severe first; then higher score, higher confidence, most recent."""
    return (
        finding.severity.rank,
        -finding.score,
        finding.confidence.rank,
        -finding.time.timestamp(),
    )


def _page(findings: list[Finding], offset: int, cap: int) -> list[Finding]:
    """Findings from ``offset``, at most ``cap`` and about FINDINGS_BUDGET characters."""
    shown: list[Finding] = []
    used = 0
    for finding in findings[offset : offset + cap]:
        size = len(finding.model_dump_json())
        if shown and used + size > FINDINGS_BUDGET:
            break
        shown.append(finding)
        used += size
    return shown


async def _check_companions(reads: tuple[str, ...], backend: Backend, notes: list[str]) -> None:
    """On the local backend, say which joined tables hold no rows (their steps find nothing)."""
    if not reads or backend.name is not BackendName.LOCAL:
        return
    available = set(await backend.available_tables())
    empty = [table for table in reads if table not in available]
    if empty:
        notes.append(
            f"{', '.join(empty)} hold(s) no rows in {backend.dataset}: the steps that read "
            "them found nothing. Load those exports too for the whole picture."
        )


def _findings(
    hunt: Hunt, rows: list[dict[str, object]], table: str, params: HuntParameters
) -> tuple[list[Finding], int]:
    """Rows as sorted findings; a row that cannot be read is logged and counted, not fatal."""
    findings: list[Finding] = []
    unreadable = 0
    for row in rows:
        try:
            findings.append(hunt.finding(row, table, params))
        except Exception:
            unreadable += 1
            logger.exception("hunt %s: a row of %s could not become a finding", hunt.id, table)
    return sorted(findings, key=sort_key), unreadable


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
                f"table {params.table[:60]!r} is not one the {backend.name.value} backend can hunt",
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
    by_confidence = Counter(f.confidence.value for f in findings)
    by_user: Counter[str] = Counter()
    for f in findings:
        by_user.update(f.users or [f.user or "(unknown)"])
    return Summary(
        by_severity={s.value: by_severity.get(s.value, 0) for s in Severity},
        by_user=top(by_user),
        by_ip_address=top(Counter(f.location.ip_address or "(unknown)" for f in findings)),
        by_app=top(Counter(f.app.name or f.app.id or "(unknown)" for f in findings)),
        by_confidence={c.value: by_confidence.get(c.value, 0) for c in Confidence},
    )
