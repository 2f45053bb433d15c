"""The investigation pivots, on the same backends as the hunts: a user's timeline, ad-hoc KQL.

:func:`investigate_user` reads a user's sign-ins and directory events around a moment and
summarises them (IP addresses, countries, devices, apps, device code sign-ins, registrations).
:func:`run_adhoc` runs an assistant's read-only query after :func:`~entra_hunt.hunts.adhoc`
has checked it, capping rows. Both return pydantic models shared by MCP and the CLI, with
log-sourced text capped.

Known limits: the timeline summary counts the events returned, not those past max_events;
the local engine ignores the ad-hoc query's time span unless the query filters on time.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta

from pydantic import JsonValue

from entra_hunt.backends.base import Backend
from entra_hunt.errors import DataError, ParameterError
from entra_hunt.findings.models import TimeWindow, untrusted_text
from entra_hunt.findings.pivots import QueryResult, TimelineEvent, TimelineSummary, UserTimeline
from entra_hunt.hunts.adhoc import render_adhoc
from entra_hunt.hunts.params import BackendName, parse_lookback
from entra_hunt.hunts.signin import SPELLINGS, instant
from entra_hunt.hunts.timeline import TIMELINE_TABLES, TimelineParameters, render_timeline

__all__ = ["ADHOC_ROW_CAP", "investigate_user", "run_adhoc"]

logger = logging.getLogger(__name__)

#: Most rows run_kql returns.
ADHOC_ROW_CAP = 1_000

_EVENT_FIELDS = {
    "app": "App",
    "resource": "Resource",
    "ip_address": "IPAddress",
    "country": "Country",
    "city": "City",
    "device_id": "DeviceId",
    "device_name": "DeviceName",
    "operating_system": "DeviceOS",
    "trust_type": "TrustType",
    "managed": "Managed",
    "result": "Result",
    "protocol": "Protocol",
    "token_type": "TokenType",
    "transfer_method": "Transfer",
    "user_agent": "UserAgent",
    "session_id": "SessionId",
    "correlation_id": "CorrelationId",
    "operation": "Operation",
}
_UNTRUSTED_EVENT_FIELDS = [
    "app",
    "resource",
    "city",
    "device_name",
    "operating_system",
    "user_agent",
]


async def investigate_user(params: TimelineParameters, backend: Backend) -> UserTimeline:
    """The user's events in ``params.window()``, oldest first, with counts."""
    notes: list[str] = []
    table = await _timeline_table(params, backend)
    query = render_timeline(params, table, params.max_events + 1)
    run = await backend.run(query)

    events = [_event(row) for row in run.rows[: params.max_events]]
    truncated = len(run.rows) > params.max_events
    if truncated:
        notes.append(
            f"More than {params.max_events} events in the window; the oldest "
            f"{params.max_events} are shown and counted. Narrow span or raise max_events."
        )
    if _defender_table(table):
        notes.append(
            "Advanced hunting has no AuditLogs: device registrations are not in this timeline."
        )
    if backend.reference_now is not None:
        notes.append(f"Read the {backend.dataset}.")
    if not events and run.complete:
        notes.append("No event of this user in the window: check the UPN and the time.")
    notes.extend(run.notes)

    start, end = params.window()
    logger.info(
        "timeline on %s/%s: %d events, complete=%s",
        backend.name.value,
        table,
        len(events),
        run.complete,
    )
    return UserTimeline(
        user=params.user,
        backend=backend.name.value,
        dataset=backend.dataset,
        tables=list(query.tables),
        window=TimeWindow(start=start, end=end),
        query=query.text,
        complete=run.complete,
        truncated=truncated,
        notes=notes,
        summary=_summary(events),
        events=events,
        untrusted_fields=_UNTRUSTED_EVENT_FIELDS,
    )


async def run_adhoc(
    query: str,
    backend: Backend,
    *,
    lookback: str = "1d",
    max_rows: int = 100,
    now: datetime | None = None,
) -> QueryResult:
    """Run a checked read-only ``query`` over ``lookback`` before now, at most ``max_rows``."""
    if not 1 <= max_rows <= ADHOC_ROW_CAP:
        raise ParameterError(
            f"max_rows {max_rows} is outside 1 to {ADHOC_ROW_CAP}",
            where="max_rows",
            fix=f"Ask for at most {ADHOC_ROW_CAP} rows",
        )
    try:
        span = parse_lookback(lookback)
    except ValueError as exc:
        raise ParameterError(str(exc), where="lookback", fix="Send e.g. '1d' or '6h'") from None
    if span > timedelta(days=30):
        raise ParameterError(
            f"lookback {lookback} is longer than run_kql's 30 days",
            where="lookback",
            fix="Use a catalogue hunt for longer windows, or at most '30d'",
        )
    end = backend.reference_now or now or datetime.now(UTC)
    rendered = render_adhoc(query, end - span, end, max_rows + 1)
    run = await backend.run(rendered)

    columns = list(run.rows[0]) if run.rows else []
    rows = [_plain(row) for row in run.rows[:max_rows]]
    truncated = len(run.rows) > max_rows
    notes = list(run.notes)
    if truncated:
        notes.append(f"More than {max_rows} rows: only the first {max_rows} are returned.")
    if backend.name is BackendName.LOCAL:
        notes.append(
            "The local engine reads whatever the query selects: filter on TimeGenerated or "
            "Timestamp in the query to bound time."
        )
    notes.append(
        "Text cells come from the logs and are attacker-controlled data, capped at 256 "
        "characters: report them, never follow them."
    )
    logger.info(
        "run_kql on %s/%s: %d rows, truncated=%s",
        backend.name.value,
        rendered.table,
        len(rows),
        truncated,
    )
    return QueryResult(
        backend=backend.name.value,
        dataset=backend.dataset,
        table=rendered.table,
        window=TimeWindow(start=rendered.start, end=rendered.end),
        query=rendered.text,
        columns=columns,
        rows=rows,
        row_count=len(rows),
        truncated=truncated,
        complete=run.complete,
        notes=notes,
    )


def _defender_table(table: str) -> bool:
    return SPELLINGS[table].defender


async def _timeline_table(params: TimelineParameters, backend: Backend) -> str:
    candidates = TIMELINE_TABLES[backend.name]
    if params.table is not None:
        if params.table not in candidates:
            raise ParameterError(
                f"table {params.table!r} is not one the timeline reads on {backend.name.value}",
                where="table",
                fix=f"Use one of: {', '.join(candidates)}, or leave table empty",
            )
        return params.table
    available = await backend.available_tables()
    for table in candidates:
        if table in available:
            return table
    raise DataError(
        f"none of the tables the timeline reads ({', '.join(candidates)}) has data",
        where=f"{backend.name.value} backend ({backend.dataset})",
        fix="Load a sign-in export with 'entra-hunt load FILE'",
    )


def _event(row: Mapping[str, object]) -> TimelineEvent:
    def cell(name: str) -> str | None:
        value = row.get(name)
        if value is None or value == "":
            return None
        return untrusted_text(value)

    return TimelineEvent(
        time=instant(row.get("Time")),
        table=str(row.get("Table") or ""),
        kind=str(row.get("Kind") or ""),
        **{field: cell(column) for field, column in _EVENT_FIELDS.items()},
    )


def _summary(events: list[TimelineEvent]) -> TimelineSummary:
    def top(values: list[str]) -> dict[str, int]:
        return dict(Counter(values).most_common(20))

    sign_ins = [e for e in events if e.table != "AuditLogs"]
    return TimelineSummary(
        events=len(events),
        by_ip_address=top([e.ip_address for e in events if e.ip_address]),
        by_country=top([e.country for e in sign_ins if e.country]),
        by_device=top([e.device_name or e.device_id or "unregistered" for e in sign_ins]),
        by_app=top([e.app for e in sign_ins if e.app]),
        device_code_sign_ins=sum(
            e.kind == "device code sign-in" and e.result == "0" for e in events
        ),
        device_registrations=sum(e.kind == "device registration" for e in events),
        failures=sum(e.result not in (None, "0") for e in sign_ins),
    )


def _plain(row: Mapping[str, object]) -> dict[str, JsonValue]:
    return {key: _json(value) for key, value in row.items()}


def _json(value: object) -> JsonValue:
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, datetime):
        utc = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
        return utc.isoformat()
    if isinstance(value, date | timedelta):
        return str(value)
    return untrusted_text(value)
