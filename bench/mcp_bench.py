"""What MCP costs: a tools/call over stdio against the same hunt in process, and cold start.

:func:`overhead` times, round-robin in one event loop, the same hunt three ways on a small
database (so the hunt itself is short and the protocol shows): ``run_hunt`` called in process,
the SDK's in-memory client against :func:`entra_hunt.mcp.server.build_server` (tool dispatch,
validation and serialisation, no pipe), and the SDK's stdio client against a running
``python -m entra_hunt.cli serve``. The overhead is the difference of the medians.

:func:`cold_start` spawns ``entra-hunt serve`` afresh each time and times from the spawn to the
first tools/call result (interpreter start, imports, MCP initialise, first hunt), and breaks
the time down by timing the interpreter alone and the imports alone in fresh processes.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import anyio
from mcp import Client, StdioServerParameters
from mcp.client.stdio import stdio_client

from entra_hunt.backends.local import LocalBackend
from entra_hunt.hunts import BackendName, DeviceCodeHunt, DeviceCodeParameters
from entra_hunt.mcp.server import build_server
from entra_hunt.runner import run_hunt

__all__ = ["TOOL", "cold_start", "overhead", "server_command"]

TOOL = "hunt_device_code_signins"


def server_command() -> tuple[str, list[str]]:
    """``entra-hunt serve`` from this interpreter's environment (its console script)."""
    script = Path(sys.executable).parent / "entra-hunt"
    if script.exists():
        return str(script), ["serve"]
    return sys.executable, ["-m", "entra_hunt.cli", "serve"]


def _env(database: Path) -> dict[str, str]:
    return {**os.environ, "ENTRA_HUNT_DATABASE": str(database)}


def _arguments(start: str, end: str, tick: int = 0) -> dict[str, Any]:
    """The tool's arguments; ``tick`` moves the end by microseconds, as a lookback would.

    A lookback gives a new window, so a new query text, on every call: the engine's cache of
    translated queries never hits, and the benchmark should not let it either.
    """
    moved = datetime.fromisoformat(end) + timedelta(microseconds=tick)
    return {"start": start, "end": moved.isoformat()}


async def _overhead(database: Path, start: str, end: str, calls: int) -> dict[str, Any]:
    hunt = DeviceCodeHunt()
    backend = LocalBackend(database)

    def open_backend(name: BackendName) -> LocalBackend:
        return backend

    stdio = StdioServerParameters(
        command=sys.executable, args=["-m", "entra_hunt.cli", "serve"], env=_env(database)
    )
    seconds: dict[str, list[float]] = {"in process": [], "MCP in memory": [], "MCP stdio": []}
    matched: set[int] = set()
    with open(os.devnull, "w", encoding="utf-8") as quiet:
        piped_client = Client(stdio_client(stdio, errlog=quiet))
        async with piped_client as piped, Client(build_server(open_backend)) as memory:
            await _rounds(hunt, backend, memory, piped, start, end, calls, seconds, matched)
    if len(matched) != 1:
        raise AssertionError(f"the three paths disagree on the matches: {matched}")
    medians = {name: statistics.median(values) for name, values in seconds.items()}
    return {
        "calls": calls,
        "rows_matched": matched.pop(),
        "median_s": medians,
        "stdio_overhead_s": medians["MCP stdio"] - medians["in process"],
        "in_memory_overhead_s": medians["MCP in memory"] - medians["in process"],
    }


async def _rounds(
    hunt: DeviceCodeHunt,
    backend: LocalBackend,
    memory: Client,
    piped: Client,
    start: str,
    end: str,
    calls: int,
    seconds: dict[str, list[float]],
    matched: set[int],
) -> None:
    for index in range(calls + 1):  # the first round warms every path and is dropped
        # Each call gets a window of its own (as a lookback would), so no path reuses a
        # translation another one cached: the in-memory server shares this process's cache.
        params = DeviceCodeParameters.model_validate(_arguments(start, end, 3 * index))
        began = time.perf_counter()
        result = await run_hunt(hunt, params, backend)
        took = {"in process": time.perf_counter() - began}
        matched.add(result.rows_matched)
        for offset, (name, client) in enumerate(
            (("MCP in memory", memory), ("MCP stdio", piped)), start=1
        ):
            arguments = _arguments(start, end, 3 * index + offset)
            began = time.perf_counter()
            reply = await client.call_tool(TOOL, arguments)
            took[name] = time.perf_counter() - began
            if reply.is_error or reply.structured_content is None:
                raise AssertionError(f"{name}: the tool failed: {reply.content}")
            matched.add(int(reply.structured_content["rows_matched"]))
        if index:
            for name, value in took.items():
                seconds[name].append(value)


def overhead(database: Path, start: str, end: str, calls: int) -> dict[str, Any]:
    """Median seconds of one hunt in process, over MCP in memory and over MCP stdio."""
    result: dict[str, Any] = anyio.run(_overhead, database, start, end, calls)
    return result


async def _first_answer(database: Path, start: str, end: str) -> float:
    command, args = server_command()
    params = StdioServerParameters(command=command, args=args, env=_env(database))
    with open(os.devnull, "w", encoding="utf-8") as quiet:
        began = time.perf_counter()
        async with Client(stdio_client(params, errlog=quiet)) as client:
            reply = await client.call_tool(TOOL, _arguments(start, end))
            took = time.perf_counter() - began
    if reply.is_error:
        raise AssertionError(f"cold start: the tool failed: {reply.content}")
    return took


def _process_seconds(code: str) -> float:
    began = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], check=True)
    return time.perf_counter() - began


def cold_start(database: Path, start: str, end: str, runs: int) -> dict[str, Any]:
    """Median seconds from spawning ``entra-hunt serve`` to the first tools/call result."""
    first: list[float] = []
    interpreter: list[float] = []
    cli_import: list[float] = []
    server_import: list[float] = []
    for _ in range(runs):
        first.append(anyio.run(_first_answer, database, start, end))
        interpreter.append(_process_seconds("pass"))
        cli_import.append(_process_seconds("import entra_hunt.cli"))
        server_import.append(
            _process_seconds(
                "import entra_hunt.cli, entra_hunt.mcp.server, entra_hunt.backends.local, "
                "entra_hunt.runner, duckdb_kql.engine"
            )
        )
    command, args = server_command()
    return {
        "command": " ".join([Path(command).name, *args]),
        "runs": runs,
        "median_s": statistics.median(first),
        "max_s": max(first),
        "interpreter_s": statistics.median(interpreter),
        "cli_import_s": statistics.median(cli_import),
        "server_import_s": statistics.median(server_import),
    }
