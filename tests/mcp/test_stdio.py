"""The server as an assistant launches it: `entra-hunt serve` over stdio, in a subprocess."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import jsonschema
import pytest
from mcp import Client, StdioServerParameters

from entra_hunt.engine.demo import PLANTED

pytestmark = [pytest.mark.anyio, pytest.mark.slow]


async def test_stdio_round_trip_lists_the_tool_and_returns_valid_structured_content(
    tmp_path: Path,
) -> None:
    params = StdioServerParameters(
        command=sys.executable,
        args=["-m", "entra_hunt.cli", "serve"],
        env={**os.environ, "ENTRA_HUNT_DATABASE": str(tmp_path / "absent.duckdb")},
    )

    async with Client(params) as client:
        tools = {t.name: t for t in (await client.list_tools()).tools}
        result = await client.call_tool("hunt_device_code_signins", {"lookback": "14d"})
        refused = await client.call_tool("hunt_device_code_signins", {"max_findings": 9999})

    tool = tools["hunt_device_code_signins"]
    assert tool.input_schema["properties"]["lookback"]["description"]
    assert tool.input_schema["properties"]["max_findings"]["maximum"] == 500
    assert tool.output_schema is not None
    assert result.is_error is False
    jsonschema.validate(result.structured_content, tool.output_schema)
    assert result.structured_content is not None
    expected = sum(case.expected_found for case in PLANTED)
    assert len(result.structured_content["findings"]) == expected
    assert refused.is_error is True
