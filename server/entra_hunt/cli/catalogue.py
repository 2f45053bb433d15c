"""The catalogue at the command line: list hunts, run any hunt, print its KQL, investigate a user.

``entra-hunt hunts list``, ``entra-hunt hunt run ID``, ``entra-hunt query ID`` and
``entra-hunt investigate USER --around TIME``: the same runner, models and renderings as the
MCP tools. Hunt-specific parameters are given as ``--param name=value`` (repeat a name for a
list); the common ones have their own options.
"""

from __future__ import annotations

import sys
from collections.abc import Awaitable, Callable
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, TypeVar

import typer
from pydantic import BaseModel, ValidationError
from rich.table import Table
from rich.text import Text

from entra_hunt.backends.base import Backend
from entra_hunt.cli._app import (
    DatabaseOption,
    app,
    fail,
    hunt_app,
    open_backend_for,
    out,
    run_async,
    settings_for,
)
from entra_hunt.cli.hunt import OutputFormat
from entra_hunt.errors import EntraHuntError, ParameterError
from entra_hunt.findings.pivots import UserTimeline
from entra_hunt.hunts import BackendName, get_hunt
from entra_hunt.hunts.catalogue import describe_catalogue, hunt_query
from entra_hunt.hunts.params import HuntParameters, parameter_error
from entra_hunt.hunts.timeline import TimelineParameters
from entra_hunt.pivots import investigate_user
from entra_hunt.render import render_markdown, render_table
from entra_hunt.runner import run_hunt

__all__ = ["hunt_run", "hunts_list", "investigate", "query"]

hunts_app = typer.Typer(help="The hunt catalogue.", no_args_is_help=True)
app.add_typer(hunts_app, name="hunts")

T = TypeVar("T")


class ListFormat(StrEnum):
    """How the catalogue and timelines are printed."""

    TABLE = "table"
    JSON = "json"


ParamOption = Annotated[
    list[str] | None,
    typer.Option(
        "--param",
        "-p",
        metavar="NAME=VALUE",
        help="A hunt parameter (see 'entra-hunt hunts list'); repeat a name for a list.",
    ),
]
BackendOption = Annotated[BackendName, typer.Option(help="Where to run.")]
LookbackOption = Annotated[
    str | None, typer.Option(help="How far back, e.g. 7d, 36h, 90m. Default 7d.")
]
StartOption = Annotated[
    datetime | None, typer.Option(help="Window start (UTC unless an offset is given).")
]
EndOption = Annotated[
    datetime | None, typer.Option(help="Window end (UTC unless an offset is given).")
]
UserOption = Annotated[
    list[str] | None, typer.Option("--user", metavar="UPN", help="Only this UPN (repeatable).")
]


def _parameters(
    hunt_id: str, pairs: list[str], common: dict[str, object]
) -> tuple[Any, HuntParameters]:
    """The hunt and its validated parameters from ``--param`` pairs and the common options."""
    try:
        hunt = get_hunt(hunt_id)
    except EntraHuntError as exc:
        fail(exc)
    values: dict[str, object] = {k: v for k, v in common.items() if v not in (None, [])}
    fields = hunt.parameters.model_fields
    for pair in pairs:
        name, sep, value = pair.partition("=")
        name = name.strip().replace("-", "_")
        if not sep or name not in fields:
            fail(
                ParameterError(
                    f"--param {pair[:80]!r} is not NAME=VALUE with a parameter of {hunt.id}",
                    where="--param",
                    fix=f"Use one of: {', '.join(sorted(fields))}",
                )
            )
        if "list" in str(fields[name].annotation):
            existing = values.setdefault(name, [])
            assert isinstance(existing, list)
            existing.append(value)
        else:
            values[name] = value
    try:
        params = hunt.parameters.model_validate(values)
    except ValidationError as exc:
        fail(parameter_error(exc, hunt.parameters))
    return hunt, params


async def _with_backend(
    name: BackendName, database: Any, body: Callable[[Backend], Awaitable[T]]
) -> T:
    backend = open_backend_for(name, settings_for(database))
    try:
        return await body(backend)
    finally:
        close = getattr(backend, "aclose", None)
        if close is not None:
            await close()


def _json(model: BaseModel) -> None:
    sys.stdout.write(model.model_dump_json(indent=2) + "\n")


@hunts_app.command("list")
def hunts_list(
    output: Annotated[
        ListFormat, typer.Option("--format", "-f", help="Output format.")
    ] = ListFormat.TABLE,
) -> None:
    """Every hunt: id, techniques, what each backend can see, its parameters."""
    catalogue = describe_catalogue()
    if output is ListFormat.JSON:
        _json(catalogue)
        return
    for hunt in catalogue.hunts:
        out.print(Text.assemble((hunt.id, "bold"), f"  {hunt.title}"))
        out.print(Text(f"  {hunt.summary}"), soft_wrap=True)
        out.print(Text("  ATT&CK: " + ", ".join(f"{t.id} {t.name}" for t in hunt.techniques)))
        for row in hunt.coverage:
            where = row.table or "cannot run"
            reads = f" (+ {', '.join(row.also_reads)})" if row.also_reads else ""
            out.print(Text(f"  {row.backend:<9} {where}{reads}"))
        for backend, note in {r.backend: r.cannot for r in hunt.coverage if r.cannot}.items():
            out.print(Text(f"  {backend} cannot: {note}"), soft_wrap=True)
        properties = hunt.parameters.get("properties")
        names = sorted(properties) if isinstance(properties, dict) else []
        out.print(Text(f"  parameters: {', '.join(names)}"), soft_wrap=True)
        out.print()


@hunt_app.command("run")
def hunt_run(
    hunt_id: Annotated[str, typer.Argument(metavar="HUNT_ID", help="A catalogue hunt id.")],
    param: ParamOption = None,
    backend: BackendOption = BackendName.LOCAL,
    lookback: LookbackOption = None,
    start: StartOption = None,
    end: EndOption = None,
    user: UserOption = None,
    max_findings: Annotated[int, typer.Option(help="Most findings to show (1-500).")] = 50,
    offset: Annotated[int, typer.Option(help="Skip this many findings (next page).")] = 0,
    timezone: Annotated[
        str, typer.Option(help="Office time zone for the off-hours signal (IANA name).")
    ] = "UTC",
    table: Annotated[str | None, typer.Option(help="Override the main table.")] = None,
    output: Annotated[
        OutputFormat, typer.Option("--format", "-f", help="Output format.")
    ] = OutputFormat.TABLE,
    database: DatabaseOption = None,
) -> None:
    """Run any catalogue hunt by id (see 'entra-hunt hunts list')."""
    hunt, params = _parameters(
        hunt_id,
        param or [],
        {
            "backend": backend,
            "lookback": lookback,
            "start": start,
            "end": end,
            "users": user or [],
            "max_findings": max_findings,
            "offset": offset,
            "timezone": timezone,
            "table": table,
        },
    )

    async def go() -> None:
        result = await _with_backend(params.backend, database, lambda b: run_hunt(hunt, params, b))
        if output is OutputFormat.JSON:
            _json(result)
        elif output is OutputFormat.MARKDOWN:
            sys.stdout.write(render_markdown(result))
        else:
            render_table(result, out)

    run_async(go)


@app.command()
def query(
    hunt_id: Annotated[str, typer.Argument(metavar="HUNT_ID", help="A catalogue hunt id.")],
    param: ParamOption = None,
    backend: BackendOption = BackendName.SENTINEL,
    lookback: LookbackOption = None,
    start: StartOption = None,
    end: EndOption = None,
    user: UserOption = None,
    table: Annotated[str | None, typer.Option(help="Override the main table.")] = None,
    output: Annotated[
        ListFormat, typer.Option("--format", "-f", help="table: the KQL alone; json: with notes.")
    ] = ListFormat.TABLE,
) -> None:
    """Print a hunt's exact KQL for a backend, to paste into the portal (runs nothing)."""
    _, params = _parameters(
        hunt_id,
        param or [],
        {
            "backend": backend,
            "lookback": lookback,
            "start": start,
            "end": end,
            "users": user or [],
            "table": table,
        },
    )
    try:
        rendered = hunt_query(hunt_id, params)
    except EntraHuntError as exc:
        fail(exc)
    if output is ListFormat.JSON:
        _json(rendered)
    else:
        sys.stdout.write(rendered.query + "\n")


@app.command()
def investigate(
    user: Annotated[str, typer.Argument(metavar="UPN", help="The user principal name.")],
    around: Annotated[
        datetime, typer.Option(help="The moment to centre on (UTC unless an offset is given).")
    ],
    span: Annotated[str, typer.Option(help="Read this long before and after (30m-7d).")] = "24h",
    backend: BackendOption = BackendName.LOCAL,
    max_events: Annotated[int, typer.Option(help="Most events to show (1-1000).")] = 200,
    table: Annotated[str | None, typer.Option(help="Override the main table.")] = None,
    output: Annotated[
        ListFormat, typer.Option("--format", "-f", help="Output format.")
    ] = ListFormat.TABLE,
    database: DatabaseOption = None,
) -> None:
    """A user's sign-ins, device code use and device registrations around a moment."""
    try:
        params = TimelineParameters(
            user=user,
            around=around,
            span=span,
            backend=backend,
            max_events=max_events,
            table=table,
        )
    except ValidationError as exc:
        fail(parameter_error(exc, TimelineParameters))

    async def go() -> None:
        timeline = await _with_backend(
            params.backend, database, lambda b: investigate_user(params, b)
        )
        if output is ListFormat.JSON:
            _json(timeline)
        else:
            _print_timeline(timeline)

    run_async(go)


def _print_timeline(timeline: UserTimeline) -> None:
    out.print(
        Text.assemble(
            (timeline.user, "bold"),
            f"\n{timeline.backend} · {', '.join(timeline.tables)} · {timeline.dataset or ''}\n",
            f"{timeline.window.start:%Y-%m-%d %H:%M} → {timeline.window.end:%Y-%m-%d %H:%M} UTC"
            f" · {timeline.summary.events} events",
        )
    )
    table = Table(expand=False)
    for column in ("time (UTC)", "kind", "app", "from", "device", "result", "token"):
        table.add_column(column, overflow="fold")
    for event in timeline.events:
        place = ", ".join(p for p in (event.ip_address, event.country) if p)
        table.add_row(
            Text(f"{event.time:%Y-%m-%d %H:%M:%S}"),
            Text(event.kind),
            Text(event.app or "?"),
            Text(place or "?"),
            Text(event.device_name or event.device_id or "unregistered"),
            Text(event.operation or event.result or ""),
            Text(event.token_type or event.transfer_method or ""),
        )
    out.print(table)
    summary = timeline.summary
    out.print(
        Text(
            f"device code sign-ins: {summary.device_code_sign_ins} · registrations: "
            f"{summary.device_registrations} · failures: {summary.failures}"
        )
    )
    for note in timeline.notes:
        out.print(Text(f"  - {note}"), soft_wrap=True)
