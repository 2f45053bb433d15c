"""The resources: the hunt catalogue, the table schemas and the threat context documents."""

from __future__ import annotations

import json

import pytest
from mcp import Client
from mcp.server.mcpserver import MCPServer

from entra_hunt.context import CONTEXTS
from entra_hunt.engine.schema import TABLES
from entra_hunt.hunts import CATALOGUE

pytestmark = pytest.mark.anyio


async def test_catalogue_schemas_and_contexts_are_listed(server: MCPServer) -> None:
    async with Client(server) as client:
        uris = {str(r.uri) for r in (await client.list_resources()).resources}

    assert "entra-hunt://hunts" in uris
    assert {f"entra-hunt://schemas/{t}" for t in TABLES} <= uris
    assert {f"entra-hunt://context/{name}" for name in CONTEXTS} <= uris


async def test_the_catalogue_resource_is_the_catalogue_as_json(server: MCPServer) -> None:
    async with Client(server) as client:
        read = await client.read_resource("entra-hunt://hunts")

    catalogue = json.loads(read.contents[0].text)  # type: ignore[union-attr]
    assert {hunt["id"] for hunt in catalogue["hunts"]} == set(CATALOGUE)


async def test_a_schema_resource_lists_the_official_columns_with_types(server: MCPServer) -> None:
    async with Client(server) as client:
        read = await client.read_resource("entra-hunt://schemas/AuditLogs")

    schema = json.loads(read.contents[0].text)  # type: ignore[union-attr]
    columns = {c["name"]: c["type"] for c in schema["columns"]}
    assert columns["InitiatedBy"] == "dynamic" and columns["TimeGenerated"] == "datetime"


async def test_a_context_resource_is_markdown_with_techniques_and_references(
    server: MCPServer,
) -> None:
    async with Client(server) as client:
        read = await client.read_resource("entra-hunt://context/broker-device-registration")

    content = read.contents[0]
    text = content.text  # type: ignore[union-attr]
    assert content.mime_type == "text/markdown"
    assert "T1098.005" in text and "## References" in text and "https://" in text
