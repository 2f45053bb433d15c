from __future__ import annotations

from pathlib import Path

import pytest
from mcp.server.mcpserver import MCPServer

from entra_hunt.backends.local import LocalBackend
from entra_hunt.errors import BackendError
from entra_hunt.hunts import BackendName
from entra_hunt.mcp.server import build_server


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def server(tmp_path: Path) -> MCPServer:
    """The real server, reading the bundled demo dataset (no database file exists)."""

    def open_backend(name: BackendName) -> LocalBackend:
        if name is not BackendName.LOCAL:
            raise BackendError(
                f"the {name.value} backend is not configured",
                reason="not_configured",
                where=f"{name.value} backend",
                fix="Set its workspace or tenant settings",
            )
        return LocalBackend(tmp_path / "absent.duckdb")

    return build_server(open_backend)
