"""Human renderings of a HuntResult: a terminal table (rich) and a Markdown report.

Log-sourced text is printed as plain text (never as rich markup) in the terminal, and inside
code spans in Markdown, so a crafted user agent can neither style the output nor read as
prose in a ticket.
"""

from __future__ import annotations

from rich.console import Console
from rich.table import Table
from rich.text import Text

from entra_hunt.findings.models import Finding, HuntResult

__all__ = ["render_markdown", "render_table"]

_SEVERITY_STYLE = {"high": "bold red", "medium": "yellow", "low": "cyan", "informational": "dim"}

#: Findings whose reasons are spelled out under the table.
_DETAILED = 10


def _device(f: Finding) -> str:
    parts = [f.device.operating_system or "?", f.device.trust_type or "no trust type"]
    state = "managed" if f.device.managed else "unmanaged"
    if f.device.compliant:
        state += ", compliant"
    return " / ".join(parts) + f" ({state})"


def _where(f: Finding) -> str:
    place = ", ".join(p for p in (f.location.city, f.location.country) if p)
    ip = f.location.ip_address or "?"
    return f"{ip} ({place})" if place else ip


def render_table(result: HuntResult, console: Console) -> None:
    """Print ``result`` for a person at a terminal."""
    header = Text.assemble(
        (result.title, "bold"),
        f"\n{result.backend} · {result.table} · {result.dataset or ''}\n",
        f"window {result.window.start:%Y-%m-%d %H:%M} → {result.window.end:%Y-%m-%d %H:%M} UTC"
        f" · {result.rows_matched} matched",
        f" of {result.rows_examined} sign-ins" if result.rows_examined is not None else "",
        "" if result.complete else " · INCOMPLETE (see notes)",
    )
    console.print(header)

    if result.findings:
        table = Table(show_lines=False, expand=False)
        for column in ("severity", "time (UTC)", "user", "app", "from", "device", "tags"):
            table.add_column(column, overflow="fold")
        for f in result.findings:
            table.add_row(
                Text(f.severity.value, style=_SEVERITY_STYLE[f.severity.value]),
                Text(f"{f.time:%Y-%m-%d %H:%M:%S}"),
                Text(f.user or "?"),
                Text(f.app.name or f.app.id or "?"),
                Text(_where(f)),
                Text(_device(f)),
                Text(", ".join(f.tags)),
            )
        console.print(table)
        for f in result.findings[:_DETAILED]:
            console.print(
                Text.assemble(
                    (f"{f.severity.value.upper()} ", _SEVERITY_STYLE[f.severity.value]),
                    f"{f.user or '?'} at {f.time:%Y-%m-%d %H:%M:%S} UTC",
                )
            )
            for reason in f.reasons:
                console.print(Text(f"  - {reason}"), soft_wrap=True)

    if result.notes:
        console.print(Text.assemble(("Notes", "bold")))
        for note in result.notes:
            console.print(Text(f"  - {note}"), soft_wrap=True)

    ctx = result.context
    techniques = ", ".join(f"{t.id} {t.name}" for t in ctx.techniques)
    console.print(Text.assemble(("\nThreat context", "bold"), f" ({techniques})"))
    console.print(Text(ctx.attack), soft_wrap=True)
    console.print(Text.assemble(("Recommended actions", "bold")))
    for action in ctx.recommended_actions:
        console.print(Text(f"  - {action.title}: {action.how}"), soft_wrap=True)
    console.print(Text.assemble(("References", "bold")))
    for ref in ctx.references:
        console.print(Text(f"  - {ref.title} ({ref.publisher}): {ref.url}"), soft_wrap=True)


def _code(value: str | None) -> str:
    """``value`` as a Markdown code span that no backtick inside can close early."""
    if not value:
        return "—"
    text = value.replace("\n", " ").replace("|", "\\|").replace("`", "'")
    return f"`{text}`"


def render_markdown(result: HuntResult) -> str:
    """``result`` as a Markdown report, ready to paste into an incident ticket."""
    lines = [
        f"# {result.title}",
        "",
        f"- Backend: {result.backend}, table `{result.table}`"
        + (f", dataset {result.dataset}" if result.dataset else ""),
        f"- Window (UTC): {result.window.start.isoformat()} to {result.window.end.isoformat()}",
        f"- Matched: {result.rows_matched}"
        + (f" of {result.rows_examined} sign-ins" if result.rows_examined is not None else "")
        + ("" if result.complete else " (incomplete: see notes)"),
        "",
        "## Findings",
        "",
    ]
    if not result.findings:
        lines.append("No matching sign-in in the window.")
    else:
        lines += [
            "| Severity | Time (UTC) | User | App | IP | Country | Device | Tags |",
            "|---|---|---|---|---|---|---|---|",
        ]
        for f in result.findings:
            lines.append(
                f"| {f.severity.value} | {f.time:%Y-%m-%d %H:%M:%S} | {_code(f.user)} | "
                f"{_code(f.app.name or f.app.id)} | {_code(f.location.ip_address)} | "
                f"{_code(f.location.country)} | {_code(_device(f))} | {', '.join(f.tags)} |"
            )
        lines.append("")
        for f in result.findings[:_DETAILED]:
            lines.append(f"### {f.severity.value}: {_code(f.user)} at {f.time.isoformat()}")
            lines += [f"- {r}" for r in f.reasons]
            lines.append(f"- User agent: {_code(f.user_agent)}")
            lines.append("")
    ctx = result.context
    lines += ["## Threat context", "", ctx.attack, "", ctx.campaign, "", ctx.why_it_matters, ""]
    lines += [f"- ATT&CK {t.id} {t.name} ({t.tactic}): {t.url}" for t in ctx.techniques]
    lines += ["", "## Recommended actions", ""]
    lines += [f"1. **{a.title}**: {a.how} ({a.why})" for a in ctx.recommended_actions]
    lines += ["", "## References", ""]
    lines += [f"- [{r.title}]({r.url}), {r.publisher}" for r in ctx.references]
    if result.notes:
        lines += ["", "## Notes", ""]
        lines += [f"- {n}" for n in result.notes]
    lines += ["", "## Query", "", "```kql", result.query, "```", ""]
    return "\n".join(lines)
