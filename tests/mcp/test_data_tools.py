"""The data tools: list what is loaded (read-only), and load only from configured folders."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from mcp import Client
from mcp.server.mcpserver import MCPServer

from entra_hunt.backends.local import LocalBackend
from entra_hunt.hunts import BackendName
from entra_hunt.mcp.data_tools import LOAD_DIRS_ENV, DataSettings
from entra_hunt.mcp.server import build_server

pytestmark = pytest.mark.anyio

FIXTURES = Path(__file__).parents[1] / "engine" / "fixtures"
GRAPH_JSON = FIXTURES / "MicrosoftGraph_signIn_beta_example.json"


def _server(database: Path, *load_dirs: Path) -> MCPServer:
    def open_backend(name: BackendName) -> LocalBackend:
        return LocalBackend(database)

    return build_server(open_backend, DataSettings(database, tuple(d.resolve() for d in load_dirs)))


async def _tools(server: MCPServer) -> dict[str, Any]:
    async with Client(server) as client:
        return {tool.name: tool for tool in (await client.list_tools()).tools}


@pytest.fixture
def drop(tmp_path: Path) -> Path:
    """A folder an operator allows the assistant to load from, holding one export."""
    folder = tmp_path / "exports"
    folder.mkdir()
    (folder / "signin.json").write_bytes(GRAPH_JSON.read_bytes())
    return folder


async def test_list_datasets_is_read_only_and_load_export_is_off_by_default(
    tmp_path: Path,
) -> None:
    tools = await _tools(_server(tmp_path / "db.duckdb"))

    assert "load_export" not in tools
    annotations = tools["list_datasets"].annotations
    assert annotations.read_only_hint is True and annotations.destructive_hint is False


async def test_list_datasets_says_what_is_loaded_in_structured_content(
    tmp_path: Path, drop: Path
) -> None:
    server = _server(tmp_path / "db.duckdb", drop)
    async with Client(server) as client:
        before = await client.call_tool("list_datasets", {})
        await client.call_tool("load_export", {"path": str(drop / "signin.json")})
        after = await client.call_tool("list_datasets", {})
        schema = {t.name: t for t in (await client.list_tools()).tools}["list_datasets"]

    assert before.structured_content is not None
    assert before.structured_content["exists"] is False
    assert "demo dataset" in before.structured_content["notes"][0]
    content = after.structured_content
    assert content is not None and schema.output_schema is not None
    jsonschema.validate(content, schema.output_schema)
    signins = next(t for t in content["tables"] if t["table"] == "SigninLogs")
    assert signins["rows"] == 1 and signins["first"].startswith("2020-03-13")
    assert [f["format"] for f in content["files"]] == ["graph-json"]


async def test_load_export_loads_a_file_or_a_folder_inside_a_configured_folder(
    tmp_path: Path, drop: Path
) -> None:
    server = _server(tmp_path / "db.duckdb", drop)
    async with Client(server) as client:
        loaded = await client.call_tool("load_export", {"path": "signin.json"})
        again = await client.call_tool("load_export", {"path": str(drop)})

    assert loaded.is_error is False, loaded.content
    assert loaded.structured_content is not None
    (report,) = loaded.structured_content["files"]
    assert report["rows_loaded"] == 1 and report["rows_by_table"] == {"SigninLogs": 1}
    assert again.structured_content is not None
    assert again.structured_content["files"][0]["already_loaded"] is True


@pytest.mark.parametrize(
    "escape",
    ["outside", "dotdot", "symlink-file", "symlink-in-folder"],
)
async def test_load_export_refuses_every_path_outside_the_configured_folders(
    escape: str, tmp_path: Path, drop: Path
) -> None:
    outside = tmp_path / "private"
    outside.mkdir()
    secret = outside / "secret.json"
    secret.write_bytes(GRAPH_JSON.read_bytes())
    if escape == "outside":
        path = str(secret)
    elif escape == "dotdot":
        path = str(drop / ".." / "private" / "secret.json")
    elif escape == "symlink-file":
        (drop / "link.json").symlink_to(secret)
        path = str(drop / "link.json")
    else:
        (drop / "more").mkdir()
        (drop / "more" / "link.json").symlink_to(secret)
        path = str(drop / "more")
    server = _server(tmp_path / "db.duckdb", drop)

    async with Client(server) as client:
        result = await client.call_tool("load_export", {"path": path})

    assert result.is_error is True
    text = result.content[0].text  # type: ignore[union-attr]
    assert ("outside the folders configured" in text) or ("'..'" in text)
    assert "Traceback" not in text
    assert not (tmp_path / "db.duckdb").exists()


async def test_a_bad_export_comes_back_as_a_tool_error_naming_line_and_field(
    tmp_path: Path, drop: Path
) -> None:
    record = json.loads(GRAPH_JSON.read_text(encoding="utf-8"))
    record["createdDateTime"] = "yesterday"
    (drop / "bad.json").write_text(json.dumps(record), encoding="utf-8")
    server = _server(tmp_path / "db.duckdb", drop)

    async with Client(server) as client:
        result = await client.call_tool("load_export", {"path": "bad.json"})
        skipped = await client.call_tool("load_export", {"path": "bad.json", "skip_bad": True})

    assert result.is_error is True
    assert "line 1, field createdDateTime" in result.content[0].text  # type: ignore[union-attr]
    assert skipped.structured_content is not None
    assert skipped.structured_content["files"][0]["rows_skipped"] == 1


def test_the_load_folders_come_from_the_environment_and_must_exist(tmp_path: Path) -> None:
    from entra_hunt.errors import ParameterError

    settings = DataSettings.from_env(tmp_path / "db.duckdb", {LOAD_DIRS_ENV: f"{tmp_path}:"})
    assert settings.load_dirs == (tmp_path.resolve(),)
    with pytest.raises(ParameterError, match=LOAD_DIRS_ENV):
        DataSettings.from_env(tmp_path / "db.duckdb", {LOAD_DIRS_ENV: str(tmp_path / "nope")})
