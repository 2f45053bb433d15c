"""The MCP surface, driven in process through the SDK's own client."""

from __future__ import annotations

from typing import Any

import jsonschema
import pytest
from mcp import Client
from mcp.server.mcpserver import MCPServer

pytestmark = pytest.mark.anyio

TOOL = "hunt_device_code_signins"


async def _tool(client: Client) -> Any:
    tools = (await client.list_tools()).tools
    return next(t for t in tools if t.name == TOOL)


async def test_tools_list_describes_every_parameter_for_the_assistant(server: MCPServer) -> None:
    async with Client(server) as client:
        tool = await _tool(client)

    properties = tool.input_schema["properties"]
    assert set(properties) == {
        "backend",
        "lookback",
        "start",
        "end",
        "risk",
        "exclude_broker",
        "users",
        "max_findings",
        "table",
    }
    assert all(p.get("description") for p in properties.values())
    assert "local" in str(properties["backend"]) and "defender" in str(properties["backend"])
    assert "empty" in tool.description.lower() and "complete" in tool.description
    assert tool.annotations is not None
    assert tool.annotations.read_only_hint is True
    assert tool.annotations.destructive_hint is False


async def test_a_hunt_returns_structured_content_valid_against_the_output_schema(
    server: MCPServer,
) -> None:
    async with Client(server) as client:
        tool = await _tool(client)
        result = await client.call_tool(TOOL, {"lookback": "14d"})

    assert result.is_error is False
    assert tool.output_schema is not None
    jsonschema.validate(result.structured_content, tool.output_schema)
    content = result.structured_content
    assert content is not None
    assert content["complete"] is True
    assert content["findings"], "the demo dataset has planted phishing cases"
    assert content["context"]["techniques"][0]["id"] in ("T1566.002", "T1528")
    assert any("demo dataset" in note for note in content["notes"])


async def test_bad_parameters_come_back_as_a_tool_error_naming_the_parameter(
    server: MCPServer,
) -> None:
    async with Client(server) as client:
        result = await client.call_tool(TOOL, {"lookback": "forever"})
        again = await client.call_tool(TOOL, {})

    assert result.is_error is True
    text = result.content[0].text  # type: ignore[union-attr]
    assert "lookback" in text and "Traceback" not in text
    assert again.is_error is False, "the server keeps serving after a failed call"


async def test_an_unconfigured_backend_is_a_clear_tool_error_and_the_server_keeps_serving(
    server: MCPServer,
) -> None:
    async with Client(server) as client:
        failed = await client.call_tool(TOOL, {"backend": "sentinel"})
        ok = await client.call_tool(TOOL, {"backend": "local"})

    assert failed.is_error is True
    text = failed.content[0].text  # type: ignore[union-attr]
    assert "sentinel" in text and "not configured" in text
    assert ok.is_error is False


async def test_an_unexpected_crash_reaches_the_assistant_without_a_stack_trace(
    server: MCPServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    from entra_hunt.mcp import hunt_tools as module

    async def boom(*args: object, **kwargs: object) -> None:
        raise RuntimeError("secret internal detail")

    monkeypatch.setattr(module, "run_hunt", boom)
    async with Client(server) as client:
        result = await client.call_tool(TOOL, {})

    text = result.content[0].text  # type: ignore[union-attr]
    assert result.is_error is True
    assert "secret internal detail" not in text and "Traceback" not in text
    assert "still running" in text
