"""How big a hunt's answer is: bytes of the HuntResult and of the MCP reply, by matches.

For each number of matched sign-ins, a small database holds exactly that many (see
:mod:`dataset`); the hunt runs with the default ``max_findings`` and with the largest allowed,
in process and through the SDK's in-memory MCP client. Reported: bytes of the HuntResult JSON,
bytes of the whole ``tools/call`` result as JSON (structured content plus the text content the
SDK adds for clients without structured output), whether every match is counted in the summary,
and whether the result says it left findings out.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import anyio
from dataset import END, START, build
from mcp import Client

from entra_hunt.backends.local import LocalBackend
from entra_hunt.hunts import BackendName, DeviceCodeHunt, DeviceCodeParameters
from entra_hunt.mcp.server import build_server
from entra_hunt.runner import run_hunt

__all__ = ["sizes"]

_TOOL = "hunt_device_code_signins"


async def _measure(database: Path, matches: int, max_findings: int | None) -> dict[str, Any]:
    hunt = DeviceCodeHunt()
    extra = {} if max_findings is None else {"max_findings": max_findings}
    params = DeviceCodeParameters(start=START, end=END, **extra)  # type: ignore[arg-type]
    backend = LocalBackend(database)

    began = time.perf_counter()
    result = await run_hunt(hunt, params, backend)
    seconds = time.perf_counter() - began
    result_json = result.model_dump_json()

    def open_backend(name: BackendName) -> LocalBackend:
        return backend

    async with Client(build_server(open_backend)) as client:
        reply = await client.call_tool(
            _TOOL, {"start": START.isoformat(), "end": END.isoformat(), **extra}
        )
    reply_json = reply.model_dump_json(by_alias=True, exclude_none=True)
    text_bytes = sum(len(getattr(c, "text", "").encode()) for c in reply.content)

    counted = sum(result.summary.by_severity.values())
    truncated = bool(getattr(result, "findings_truncated", False))
    notice = any(f"of {matches}" in note for note in result.notes)
    return {
        "matches": matches,
        "max_findings": params.max_findings,
        "findings_returned": len(result.findings),
        "rows_matched": result.rows_matched,
        "summary_counts_every_match": counted == matches and result.rows_matched == matches,
        "truncation_flagged": truncated and notice if len(result.findings) < matches else None,
        "result_bytes": len(result_json.encode()),
        "mcp_reply_bytes": len(reply_json.encode()),
        "mcp_text_content_bytes": text_bytes,
        "run_hunt_s": seconds,
    }


def sizes(folder: Path, match_counts: list[int]) -> list[dict[str, Any]]:
    """One row per (matches, max_findings): bytes, completeness and the truncation notice."""
    rows = []
    for matches in match_counts:
        data = build(folder, max(20_000, 2 * matches), matches)
        rows.extend(
            anyio.run(_measure, data.path, matches, max_findings) for max_findings in (None, 500)
        )
    return rows
