"""The catalogue tools over MCP, driven through the SDK's in-memory client."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jsonschema
import pytest
from mcp import Client
from mcp.server.mcpserver import MCPServer

from entra_hunt.backends.local import LocalBackend
from entra_hunt.engine.demo import PLANTED
from entra_hunt.hunts import CATALOGUE, BackendName
from entra_hunt.mcp.catalogue_tools import RUN_KQL_ENV
from entra_hunt.mcp.server import build_server

pytestmark = pytest.mark.anyio

CATALOGUE_TOOLS = {"list_hunts", "run_hunt", "get_hunt_query", "investigate_user"}


def _text(result: Any) -> str:
    return str(result.content[0].text)


@pytest.fixture
def kql_server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> MCPServer:
    """A server started with the run_kql setting on."""
    monkeypatch.setenv(RUN_KQL_ENV, "1")
    return build_server(lambda name: LocalBackend(tmp_path / "absent.duckdb"))


async def test_every_tool_is_listed_read_only_with_descriptions_for_the_assistant(
    server: MCPServer,
) -> None:
    async with Client(server) as client:
        tools = {t.name: t for t in (await client.list_tools()).tools}

    assert CATALOGUE_TOOLS <= set(tools)
    assert "run_kql" not in tools, "run_kql is off unless the server setting enables it"
    for name in CATALOGUE_TOOLS:
        tool = tools[name]
        assert tool.annotations is not None
        assert tool.annotations.read_only_hint is True
        assert tool.annotations.destructive_hint is False
        assert tool.annotations.idempotent_hint is True
        assert tool.annotations.open_world_hint is not None
        assert tool.description and len(tool.description) > 200
        assert tool.output_schema is not None
        for prop in tool.input_schema.get("properties", {}).values():
            assert prop.get("description"), (name, prop)
    run_hunt = tools["run_hunt"].description or ""
    assert "empty" in run_hunt and "next_page" in run_hunt


async def test_list_hunts_returns_the_catalogue_with_backends_and_parameter_schemas(
    server: MCPServer,
) -> None:
    async with Client(server) as client:
        result = await client.call_tool("list_hunts", {})

    content = result.structured_content
    assert content is not None and result.is_error is False
    assert {h["id"] for h in content["hunts"]} == set(CATALOGUE)
    for hunt in content["hunts"]:
        assert {row["backend"] for row in hunt["coverage"]} == {b.value for b in BackendName}
        assert "backend" in hunt["parameters"]["properties"]


@pytest.mark.parametrize("hunt_id", sorted(CATALOGUE))
async def test_run_hunt_runs_every_catalogue_hunt_with_valid_structured_output(
    server: MCPServer, hunt_id: str
) -> None:
    async with Client(server) as client:
        tool = next(t for t in (await client.list_tools()).tools if t.name == "run_hunt")
        result = await client.call_tool(
            "run_hunt", {"hunt_id": hunt_id, "parameters": {"lookback": "14d"}}
        )

    assert result.is_error is False, _text(result)
    assert tool.output_schema is not None
    jsonschema.validate(result.structured_content, tool.output_schema)
    content = result.structured_content
    assert content is not None
    assert content["hunt_id"] == hunt_id and content["findings"]
    assert list(content)[: list(content).index("findings")].count("summary") == 1


async def test_run_hunt_refuses_bad_parameters_naming_them_and_keeps_serving(
    server: MCPServer,
) -> None:
    async with Client(server) as client:
        unknown = await client.call_tool("run_hunt", {"hunt_id": "no-such-hunt"})
        bad = await client.call_tool(
            "run_hunt", {"hunt_id": "broker-chain", "parameters": {"follow_up": "forever"}}
        )
        extra = await client.call_tool(
            "run_hunt", {"hunt_id": "broker-chain", "parameters": {"risk": "high"}}
        )
        ok = await client.call_tool("run_hunt", {"hunt_id": "broker-chain"})

    assert unknown.is_error and "device-code-first-use" in _text(unknown)
    assert bad.is_error and "follow_up" in _text(bad) and "Traceback" not in _text(bad)
    assert extra.is_error and "risk" in _text(extra)
    assert ok.is_error is False


async def test_run_hunt_pages_through_next_page(server: MCPServer) -> None:
    async with Client(server) as client:
        first = await client.call_tool(
            "run_hunt",
            {
                "hunt_id": "device-code-unmanaged",
                "parameters": {"lookback": "14d", "max_findings": 3},
            },
        )
        assert first.structured_content is not None
        page = first.structured_content["next_page"]
        second = await client.call_tool(
            "run_hunt", {"hunt_id": "device-code-unmanaged", "parameters": page}
        )

    assert first.structured_content["findings_truncated"] is True
    assert second.structured_content is not None
    first_ids = {f["id"] for f in first.structured_content["findings"]}
    second_ids = {f["id"] for f in second.structured_content["findings"]}
    assert len(second_ids) == 3 and not first_ids & second_ids


async def test_get_hunt_query_returns_the_kql_for_the_backend_without_opening_it(
    server: MCPServer,
) -> None:
    async with Client(server) as client:
        result = await client.call_tool(
            "get_hunt_query",
            {"hunt_id": "broker-chain", "parameters": {"backend": "sentinel"}},
        )
        defender = await client.call_tool(
            "get_hunt_query",
            {"hunt_id": "device-code-first-use", "parameters": {"backend": "defender"}},
        )

    content = result.structured_content
    assert result.is_error is False and content is not None, _text(result)
    assert content["table"] == "SigninLogs"
    assert content["tables_read"] == ["SigninLogs", "AADNonInteractiveUserSignInLogs", "AuditLogs"]
    assert content["query"].startswith("// entra-hunt broker-chain")
    assert defender.structured_content is not None
    assert "EntraIdSignInEvents" in defender.structured_content["query"]


async def test_investigate_user_returns_the_timeline_around_a_finding(server: MCPServer) -> None:
    case = next(c for c in PLANTED if c.case_id == "broker-registration")

    async with Client(server) as client:
        result = await client.call_tool(
            "investigate_user",
            {"user": case.user, "around": case.first_seen.isoformat(), "span": "2h"},
        )
        refused = await client.call_tool(
            "investigate_user", {"user": "nobody", "around": case.first_seen.isoformat()}
        )

    content = result.structured_content
    assert result.is_error is False and content is not None, _text(result)
    assert content["summary"]["device_registrations"] == 1
    assert any(e["kind"] == "device code sign-in" for e in content["events"])
    assert refused.is_error and "user" in _text(refused)


async def test_run_kql_once_enabled_runs_a_read_only_query_with_capped_rows(
    kql_server: MCPServer,
) -> None:
    async with Client(kql_server) as client:
        tools = {t.name: t for t in (await client.list_tools()).tools}
        result = await client.call_tool(
            "run_kql",
            {"query": "SigninLogs | project UserPrincipalName, TimeGenerated", "max_rows": 5},
        )

    assert tools["run_kql"].annotations is not None
    assert tools["run_kql"].annotations.read_only_hint is True
    content = result.structured_content
    assert result.is_error is False and content is not None, _text(result)
    assert content["row_count"] == 5 and content["truncated"] is True
    assert content["query"].endswith("| take 6")
    assert isinstance(content["rows"][0]["TimeGenerated"], str)


@pytest.mark.parametrize(
    ("query", "said"),
    [
        (".drop table SigninLogs", "control commands"),
        ("set notruncation; SigninLogs", "request options"),
        ('SigninLogs | evaluate http_request("https://example.invalid")', "plugin"),
        ('externaldata(x:string)["https://example.invalid"]', "outside"),
        ("print 1", "none of the tables"),
    ],
)
async def test_run_kql_refuses_what_is_not_a_read_only_query(
    kql_server: MCPServer, query: str, said: str
) -> None:
    async with Client(kql_server) as client:
        result = await client.call_tool("run_kql", {"query": query})
        ok = await client.call_tool("run_kql", {"query": "AuditLogs | count"})

    assert result.is_error is True and said in _text(result)
    assert ok.is_error is False
