"""MCP resources: the hunt catalogue, the official table schemas, the threat context documents.

Static, read-only documents an assistant can read before or while hunting:

- ``entra-hunt://hunts``: the catalogue (JSON, as ``list_hunts`` returns it);
- ``entra-hunt://schemas/<Table>``: each table's official columns and types, with the sources
  they were copied from (JSON);
- ``entra-hunt://context/<name>``: each threat context (the attack, the campaign, ATT&CK
  techniques, references, recommended actions) as Markdown.
"""

from __future__ import annotations

import json

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.resources.types import FunctionResource, TextResource

from entra_hunt.context import CONTEXTS
from entra_hunt.engine.schema import TABLES, raw_schema
from entra_hunt.findings.models import ThreatContext
from entra_hunt.hunts.catalogue import describe_catalogue

__all__ = ["CATALOGUE_URI", "context_markdown", "register"]

CATALOGUE_URI = "entra-hunt://hunts"


def context_markdown(name: str, context: ThreatContext) -> str:
    """A threat context document as Markdown."""
    lines = [f"# {name}", "", "## The attack", "", context.attack, "", "## The campaign", ""]
    lines += [context.campaign, "", "## Why it matters", "", context.why_it_matters, ""]
    lines += ["## MITRE ATT&CK", ""]
    lines += [f"- {t.id} {t.name} ({t.tactic}): {t.url}" for t in context.techniques]
    lines += ["", "## Recommended actions", ""]
    lines += [
        f"{i}. **{a.title}**: {a.how} ({a.why})"
        for i, a in enumerate(context.recommended_actions, start=1)
    ]
    lines += ["", "## References", ""]
    lines += [
        f"- [{r.title}]({r.url}), {r.publisher}" + (f", {r.published}" if r.published else "")
        for r in context.references
    ]
    return "\n".join(lines) + "\n"


def register(server: MCPServer) -> None:
    """Add the catalogue, schema and context resources to ``server``."""
    server.add_resource(
        FunctionResource(
            uri=CATALOGUE_URI,
            name="hunt-catalogue",
            title="Hunt catalogue",
            description="Every hunt: id, techniques, per backend the tables it reads and what "
            "it cannot see, its triage signals and its parameter schema (JSON).",
            mime_type="application/json",
            fn=lambda: describe_catalogue().model_dump_json(indent=2),
        )
    )
    for table in TABLES:
        server.add_resource(
            TextResource(
                uri=f"entra-hunt://schemas/{table}",
                name=f"schema-{table}",
                title=f"{table} schema",
                description=f"The official columns and Kusto types of {table}, with the "
                "Microsoft pages they come from (JSON).",
                mime_type="application/json",
                text=json.dumps(raw_schema(table), indent=2, ensure_ascii=False),
            )
        )
    for name, context in CONTEXTS.items():
        server.add_resource(
            TextResource(
                uri=f"entra-hunt://context/{name}",
                name=f"context-{name}",
                title=f"Threat context: {name.replace('-', ' ')}",
                description="What the attack is, who runs it, ATT&CK techniques, references "
                "and recommended actions (Markdown).",
                mime_type="text/markdown",
                text=context_markdown(name, context),
            )
        )
