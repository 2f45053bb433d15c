"""The audit log: one JSON line per tool call, saying who ran which hunt, how, and what came back.

:class:`AuditLog` is MCP server middleware (see :func:`entra_hunt.mcp.server.build_server`).
For every ``tools/call`` it writes when, who (transport, address, authenticated subject and
client), the tool and hunt, the arguments as sent (strings cut to 200 characters, lists to 50
items, anything named like a secret redacted), the outcome, the backend and table, the rows
matched and findings returned, and how long it took. It never writes a token, a secret, or a
result row.

The destination is ``$ENTRA_HUNT_AUDIT_LOG``: a file path (appended to, created private to
this user), ``-`` or unset for stderr, ``off`` for none. Lines are ASCII JSON, so log text
cannot forge a second record or a terminal escape.

Limits: a line that cannot be written is reported in the server log and the call goes on;
other requests (tools/list, prompts) are not audited.
"""

from __future__ import annotations

import json
import logging
import os
import re
import sys
import threading
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

from mcp.server.auth.middleware.bearer_auth import AuthenticatedUser
from mcp.server.context import CallNext, HandlerResult, ServerRequestContext
from pydantic import BaseModel

__all__ = ["AUDIT_ENV", "AuditLog"]

logger = logging.getLogger(__name__)

#: Where the audit log goes: a path, "-" for stderr (the default), or "off".
AUDIT_ENV = "ENTRA_HUNT_AUDIT_LOG"

TEXT_LIMIT = 200
LIST_LIMIT = 50
KEYS_LIMIT = 30
DEPTH_LIMIT = 3
ERROR_LIMIT = 300
_SECRET_NAME = re.compile(
    r"token|secret|password|passwd|credential|authori[sz]ation|api_?key", re.I
)
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


class AuditLog:
    """MCP server middleware writing one JSON line per tool call.

    Args:
        sink: where lines go; None writes to the current ``sys.stderr``.
        enabled: False makes the middleware pass calls through and write nothing.
    """

    def __init__(self, sink: TextIO | None = None, *, enabled: bool = True) -> None:
        """Write to ``sink`` (None: stderr), or nowhere when not ``enabled``."""
        self._sink = sink
        self.enabled = enabled
        self._lock = threading.Lock()

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None) -> AuditLog:
        """The audit log ``$ENTRA_HUNT_AUDIT_LOG`` asks for (stderr when unset)."""
        environ = os.environ if environ is None else environ
        target = environ.get(AUDIT_ENV, "").strip()
        if target.lower() == "off":
            return cls(enabled=False)
        if target in ("", "-"):
            return cls()
        return cls.to_file(Path(target))

    @classmethod
    def to_file(cls, path: Path) -> AuditLog:
        """Append to ``path``, creating it readable by this user only."""
        descriptor = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        return cls(open(descriptor, "a", encoding="utf-8", buffering=1))

    def close(self) -> None:
        """Close a file sink (stderr is left open)."""
        if self._sink is not None:
            self._sink.close()

    async def __call__(
        self, ctx: ServerRequestContext[Any, Any], call_next: CallNext
    ) -> HandlerResult:
        """Run the message; for a tool call, write its audit record whatever the outcome."""
        if not self.enabled or ctx.method != "tools/call":
            return await call_next(ctx)
        started = time.perf_counter()
        record = _call_record(ctx)
        try:
            result = await call_next(ctx)
        except BaseException as exc:
            record.update(outcome=_failure(exc), error=_text(str(exc) or type(exc).__name__))
            self._write(record, started)
            raise
        record.update(_result_fields(result))
        self._write(record, started)
        return result

    def _write(self, record: dict[str, Any], started: float) -> None:
        record["duration_ms"] = round((time.perf_counter() - started) * 1000, 1)
        line = json.dumps(record, ensure_ascii=True, separators=(",", ":"), default=str)
        sink = self._sink if self._sink is not None else sys.stderr
        try:
            with self._lock:
                sink.write(line + "\n")
                sink.flush()
        except (OSError, ValueError) as exc:
            logger.error("could not write the audit record of a %s call: %s", record["tool"], exc)


def _call_record(ctx: ServerRequestContext[Any, Any]) -> dict[str, Any]:
    params = ctx.params or {}
    tool = params.get("name")
    return {
        "time": datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "event": "tool_call",
        "tool": _text(tool) if isinstance(tool, str) else None,
        "hunt": None,
        "client": _client(ctx.request),
        "request_id": ctx.request_id if isinstance(ctx.request_id, int | str) else None,
        "arguments": _bounded(params.get("arguments") or {}, 0),
        "outcome": None,
        "error": None,
    }


def _client(request: Any) -> dict[str, Any]:
    """Who called: the transport, the address and, when authenticated, the token's subject."""
    if request is None or not hasattr(request, "scope"):
        return {"transport": "stdio", "auth": "local process"}
    scope = request.scope
    address = scope.get("client")
    who: dict[str, Any] = {
        "transport": "http",
        "address": address[0] if address else None,
        "session": _text(request.headers.get("mcp-session-id")),
        "auth": "none",
    }
    user = scope.get("user")
    if isinstance(user, AuthenticatedUser):
        token = user.access_token
        claims = token.claims or {}
        who.update(
            auth="oauth" if token.subject else "static-token",
            subject=_text(token.subject),
            client_id=_text(token.client_id),
            issuer=_text(claims.get("iss")),
            name=_text(claims.get("preferred_username") or claims.get("upn")),
            scopes=[_text(s) for s in token.scopes[:LIST_LIMIT]],
        )
    return who


def _result_fields(result: HandlerResult) -> dict[str, Any]:
    """Outcome and counts from a tool result: never its rows or findings."""
    body: Any = (
        result.model_dump(by_alias=True, mode="json") if isinstance(result, BaseModel) else result
    )
    if not isinstance(body, Mapping):
        return {"outcome": "ok"}
    fields: dict[str, Any] = {"outcome": "tool_error" if body.get("isError") else "ok"}
    if body.get("isError"):
        content = body.get("content") or []
        first = content[0] if content and isinstance(content[0], Mapping) else {}
        fields["error"] = _text(first.get("text"), ERROR_LIMIT)
    structured = body.get("structuredContent")
    if isinstance(structured, Mapping):
        findings = structured.get("findings")
        fields.update(
            hunt=_text(structured.get("hunt_id")),
            backend=_text(structured.get("backend")),
            table=_text(structured.get("table")),
            rows_matched=_number(structured.get("rows_matched")),
            findings=len(findings) if isinstance(findings, list) else None,
            complete=structured.get("complete")
            if isinstance(structured.get("complete"), bool)
            else None,
        )
    return fields


def _failure(exc: BaseException) -> str:
    if isinstance(exc, Exception):
        return "rejected"
    return "cancelled"


def _bounded(value: Any, depth: int) -> Any:
    """``value`` small enough to log: strings cut, lists and objects shortened, secrets hidden."""
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, str):
        return _text(value)
    if depth >= DEPTH_LIMIT:
        return "[nested]"
    if isinstance(value, list | tuple):
        items = [_bounded(v, depth + 1) for v in value[:LIST_LIMIT]]
        if len(value) > LIST_LIMIT:
            items.append(f"[{len(value) - LIST_LIMIT} more]")
        return items
    if isinstance(value, Mapping):
        kept: dict[str, Any] = {}
        for key in list(value)[:KEYS_LIMIT]:
            name = _text(str(key), 64) or ""
            kept[name] = (
                "[redacted]" if _SECRET_NAME.search(name) else _bounded(value[key], depth + 1)
            )
        return kept
    return _text(type(value).__name__)


def _text(value: object, limit: int = TEXT_LIMIT) -> str | None:
    if value is None:
        return None
    text = _CONTROL.sub(" ", str(value))
    return text if len(text) <= limit else f"{text[:limit]}…[{len(text) - limit} more]"


def _number(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None
