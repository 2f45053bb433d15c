"""The audit log: one JSON line per tool call, with who, what and how it ended, and no secrets."""

from __future__ import annotations

import io
import json
import stat
from pathlib import Path
from typing import Any

import pytest
from mcp import Client
from mcp.server.mcpserver import MCPServer

from entra_hunt.backends.local import LocalBackend
from entra_hunt.errors import BackendError
from entra_hunt.hunts import BackendName
from entra_hunt.mcp.audit import AuditLog
from entra_hunt.mcp.auth import StaticToken
from entra_hunt.mcp.http import HttpSettings, build_http_app
from entra_hunt.mcp.server import build_server
from serving import mcp_client, serve_in_thread

pytestmark = pytest.mark.anyio

TOOL = "hunt_device_code_signins"
TOKEN = "audit-test-token-" + "z" * 32


@pytest.fixture
def audit_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "audit.jsonl"
    monkeypatch.setenv("ENTRA_HUNT_AUDIT_LOG", str(path))
    return path


def _server(tmp_path: Path) -> MCPServer:
    def open_backend(name: BackendName) -> LocalBackend:
        if name is not BackendName.LOCAL:
            raise BackendError(
                f"the {name.value} backend is not configured",
                reason="not_configured",
                where=f"{name.value} backend",
            )
        return LocalBackend(tmp_path / "absent.duckdb")

    return build_server(open_backend)


def _records(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


async def test_each_tool_call_is_one_line_saying_who_what_and_how_it_ended(
    tmp_path: Path, audit_file: Path
) -> None:
    async with Client(_server(tmp_path)) as client:
        await client.list_tools()
        await client.call_tool(TOOL, {"lookback": "14d", "users": ["Alice@Contoso.example"]})

    [record] = _records(audit_file)
    assert record["event"] == "tool_call"
    assert record["tool"] == TOOL
    assert record["hunt"] == "device-code-unmanaged"
    assert record["client"] == {"transport": "stdio", "auth": "local process"}
    assert record["arguments"] == {"lookback": "14d", "users": ["Alice@Contoso.example"]}
    assert record["outcome"] == "ok"
    assert (record["backend"], record["table"]) == ("local", "SigninLogs")
    assert record["rows_matched"] == 0 and record["findings"] == 0
    assert record["complete"] is True
    assert record["duration_ms"] > 0
    assert record["time"].endswith("Z")


async def test_a_refused_call_is_audited_with_its_error(tmp_path: Path, audit_file: Path) -> None:
    async with Client(_server(tmp_path)) as client:
        await client.call_tool(TOOL, {"lookback": "forever"})
        await client.call_tool(TOOL, {"backend": "sentinel", "lookback": "1d"})

    refused, unconfigured = _records(audit_file)
    assert refused["outcome"] == "tool_error"
    assert "lookback" in refused["error"]
    assert unconfigured["outcome"] == "tool_error"
    assert "sentinel" in unconfigured["error"]
    assert "hunt" in unconfigured and unconfigured["hunt"] is None


async def test_the_audit_holds_no_token_and_no_finding_rows(
    tmp_path: Path, audit_file: Path
) -> None:
    app = build_http_app(_server(tmp_path), HttpSettings(port=0, auth=StaticToken(TOKEN)))
    with serve_in_thread(app) as url:
        async with mcp_client(f"{url}/mcp", {"Authorization": f"Bearer {TOKEN}"}) as client:
            result = await client.call_tool(TOOL, {"lookback": "14d"})

    text = audit_file.read_text(encoding="utf-8")
    [record] = _records(audit_file)
    assert TOKEN not in text
    assert record["client"]["transport"] == "http"
    assert record["client"]["address"] == "127.0.0.1"
    assert record["client"]["auth"] == "static-token"
    content = result.structured_content
    assert content is not None
    assert record["findings"] == len(content["findings"]) > 0
    assert record["rows_matched"] == content["rows_matched"]
    for finding in content["findings"]:
        for logged in (finding["user_agent"], finding["location"]["ip_address"], finding["id"]):
            assert not logged or logged not in text


async def test_long_lists_long_strings_and_secret_names_are_cut_or_hidden(
    tmp_path: Path, audit_file: Path
) -> None:
    arguments = {
        "users": [f"u{i}@contoso.example" for i in range(80)],
        "lookback": "7d\x1b[2J" + "x" * 5000,
        "api_key": "sk-should-never-be-logged",
        "nested": {"a": {"b": {"c": {"d": "deep"}}}},
    }
    async with Client(_server(tmp_path)) as client:
        await client.call_tool(TOOL, arguments)

    text = audit_file.read_text(encoding="utf-8")
    [record] = _records(audit_file)
    logged = record["arguments"]
    assert len(logged["users"]) == 51 and logged["users"][-1] == "[30 more]"
    assert len(logged["lookback"]) < 300 and "\x1b" not in logged["lookback"]
    assert logged["api_key"] == "[redacted]"
    assert "sk-should-never-be-logged" not in text
    assert logged["nested"] == {"a": {"b": "[nested]"}}
    assert text.isascii() and text.count("\n") == 1


def test_the_audit_file_is_private_to_the_server_user(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"

    AuditLog.to_file(path).close()

    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_the_environment_chooses_stderr_a_file_or_nothing(tmp_path: Path) -> None:
    assert AuditLog.from_environment({}).enabled
    assert AuditLog.from_environment({"ENTRA_HUNT_AUDIT_LOG": "-"}).enabled
    assert not AuditLog.from_environment({"ENTRA_HUNT_AUDIT_LOG": "off"}).enabled
    to_file = AuditLog.from_environment({"ENTRA_HUNT_AUDIT_LOG": str(tmp_path / "a.jsonl")})
    to_file.close()
    assert (tmp_path / "a.jsonl").exists()


async def test_a_sink_that_fails_does_not_fail_the_hunt(tmp_path: Path) -> None:
    sink = io.StringIO()
    sink.close()
    server = _server(tmp_path)
    server.middleware[:] = [m for m in server.middleware if not isinstance(m, AuditLog)]
    server.middleware.append(AuditLog(sink))

    async with Client(server) as client:
        result = await client.call_tool(TOOL, {"lookback": "14d"})

    assert result.is_error is False
