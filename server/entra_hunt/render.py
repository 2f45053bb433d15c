"""Human renderings of a HuntResult: a terminal table (rich) and a Markdown report.

Log-sourced text is printed as plain text (never as rich markup) in the terminal, and inside
code spans in Markdown, so a crafted user agent can neither style the output nor read as
prose in a ticket. Every such value also passes :func:`shown` on its way out: control
characters (terminal escapes) become spaces, and characters that reorder or hide text (bidi
overrides, zero-width marks) become U+FFFD, so what an analyst reads is what the log holds.
"""

from __future__ import annotations

import re

from rich.console import Console
from rich.table import Table
from rich.text import Text

from entra_hunt.findings.models import Finding, HuntResult

__all__ = ["render_markdown", "render_table", "shown"]

_SEVERITY_STYLE = {"high": "bold red", "medium": "yellow", "low": "cyan", "informational": "dim"}

#: Findings whose reasons are spelled out under the table.
_DETAILED = 10

#: Longest value printed; models already cap log text at 256 characters plus a marker.
_SHOWN_CAP = 320
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_HIDDEN = re.compile(r"[\u061c\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]")
#: Characters that start Markdown markup: emphasis, code, links and images, HTML, tables.
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]<>|#])")


def shown(value: object, cap: int | None = _SHOWN_CAP) -> str:
    """``value`` safe to print: no control characters, no hidden or reordering ones.

    A logged value is also cut at ``cap`` characters; sentences of ours (reasons, notes) pass
    ``cap=None``.
    """
    text = _HIDDEN.sub("\ufffd", _CONTROL.sub(" ", str(value)))
    return text if cap is None or len(text) <= cap else text[:cap] + "…"


def _md(value: object) -> str:
    """A sentence of ours, which may quote log text, as inert Markdown prose."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", shown(value, cap=None))


def _who(f: Finding) -> str:
    """The user, or the users of a finding about several (a source)."""
    return shown(f.user or ", ".join(f.users) or "?")


def _device(f: Finding) -> str:
    if f.subject == "source":
        return "several devices"
    parts = [f.device.operating_system or "?", f.device.trust_type or "no trust type"]
    state = "managed" if f.device.managed else "unmanaged"
    if f.device.compliant:
        state += ", compliant"
    return shown(" / ".join(parts) + f" ({state})")


def _where(f: Finding) -> str:
    place = ", ".join(p for p in (f.location.city, f.location.country) if p)
    ip = f.location.ip_address or "?"
    return shown(f"{ip} ({place})" if place else ip)


def render_table(result: HuntResult, console: Console) -> None:
    """Print ``result`` for a person at a terminal."""
    header = Text.assemble(
        (result.title, "bold"),
        f"\n{result.backend} · {result.table} · {shown(result.dataset or '', cap=None)}\n",
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
                Text(_who(f)),
                Text(shown(f.app.name or f.app.id or "?")),
                Text(_where(f)),
                Text(_device(f)),
                Text(", ".join(f.tags)),
            )
        console.print(table)
        for f in result.findings[:_DETAILED]:
            console.print(
                Text.assemble(
                    (f"{f.severity.value.upper()} ", _SEVERITY_STYLE[f.severity.value]),
                    f"{_who(f)} at {f.time:%Y-%m-%d %H:%M:%S} UTC",
                    f" · confidence {f.confidence.value}",
                )
            )
            for reason in f.reasons:
                console.print(Text(f"  - {shown(reason, cap=None)}"), soft_wrap=True)
            for step in f.steps:
                seen = f"{step.time:%Y-%m-%d %H:%M:%S}" if step.time else "not seen"
                detail = f": {step.detail}" if step.detail else ""
                line = shown(f"  > {step.name} ({seen}){detail}", cap=None)
                console.print(Text(line), soft_wrap=True)

    if result.notes:
        console.print(Text.assemble(("Notes", "bold")))
        for note in result.notes:
            console.print(Text(f"  - {shown(note, cap=None)}"), soft_wrap=True)

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
    text = shown(value).replace("|", "\\|").replace("`", "'")
    return f"`{text}`"


def _fence(text: str) -> str:
    """A code fence longer than any backtick run in ``text``, so ``text`` cannot close it."""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    return "`" * max(3, longest + 1)


def render_markdown(result: HuntResult) -> str:
    """``result`` as a Markdown report, ready to paste into an incident ticket."""
    lines = [
        f"# {result.title}",
        "",
        f"- Backend: {result.backend}, table `{result.table}`"
        + (f", dataset {_md(result.dataset)}" if result.dataset else ""),
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
                f"| {f.severity.value} | {f.time:%Y-%m-%d %H:%M:%S} | {_code(_who(f))} | "
                f"{_code(f.app.name or f.app.id)} | {_code(f.location.ip_address)} | "
                f"{_code(f.location.country)} | {_code(_device(f))} | {', '.join(f.tags)} |"
            )
        lines.append("")
        for f in result.findings[:_DETAILED]:
            lines.append(f"### {f.severity.value}: {_code(_who(f))} at {f.time.isoformat()}")
            lines.append(f"- Confidence: {f.confidence.value}")
            lines += [f"- {_md(r)}" for r in f.reasons]
            lines += [
                f"- Step: {_md(s.name)}, "
                + (f"{s.time.isoformat()}" if s.time else "not seen")
                + (f", {_code(s.detail)}" if s.detail else "")
                for s in f.steps
            ]
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
        lines += [f"- {_md(n)}" for n in result.notes]
    fence = _fence(result.query)
    lines += ["", "## Query", "", f"{fence}kql", result.query, fence, ""]
    return "\n".join(lines)
