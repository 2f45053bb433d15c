"""`entra-hunt serve --transport http`: what it refuses, and a real run with a token."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from entra_hunt.cli import app
from serving import mcp_client

TOKEN = "cli-serve-test-token-" + "q" * 32


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("ENTRA_HUNT_DATABASE", str(tmp_path / "absent.duckdb"))
    monkeypatch.delenv("ENTRA_HUNT_HTTP_TOKEN", raising=False)
    return CliRunner()


@pytest.mark.parametrize(
    ("arguments", "env", "expected"),
    [
        (["--host", "0.0.0.0"], {}, "without authentication"),
        (["--host", "0.0.0.0"], {"ENTRA_HUNT_HTTP_TOKEN": TOKEN}, "clear text"),
        (
            ["--host", "0.0.0.0", "--tls-cert", "c.pem", "--tls-key", "k.pem"],
            {"ENTRA_HUNT_HTTP_TOKEN": TOKEN},
            "no Host name",
        ),
        ([], {"ENTRA_HUNT_HTTP_TOKEN": "short"}, "at least 32"),
        (["--oauth-scope", "hunts.read"], {}, "--oauth-issuer is not"),
        (["--oauth-issuer", "https://idp.example/v2.0"], {}, "--public-url"),
        (
            ["--oauth-issuer", "https://idp.example", "--public-url", "https://h.example/mcp"],
            {"ENTRA_HUNT_HTTP_TOKEN": TOKEN},
            "both a static token and OAuth",
        ),
        (["--rate-limit", "-1"], {}, "cannot be negative"),
    ],
)
def test_unsafe_http_settings_are_refused_before_listening(
    cli: CliRunner, arguments: list[str], env: dict[str, str], expected: str
) -> None:
    result = cli.invoke(app, ["serve", "--transport", "http", *arguments], env=env)

    assert result.exit_code == 2, result.output
    assert expected in " ".join(result.output.split())
    assert TOKEN not in result.output


def test_an_unknown_transport_is_refused(cli: CliRunner) -> None:
    result = cli.invoke(app, ["serve", "--transport", "carrier-pigeon"])

    assert result.exit_code == 2
    assert "unknown transport" in result.output


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture
def served(tmp_path: Path) -> Iterator[str]:
    """`entra-hunt serve --transport http` in a subprocess, with a token from the environment."""
    port = _free_port()
    env = {
        **os.environ,
        "ENTRA_HUNT_DATABASE": str(tmp_path / "absent.duckdb"),
        "ENTRA_HUNT_HTTP_TOKEN": TOKEN,
        "ENTRA_HUNT_AUDIT_LOG": str(tmp_path / "audit.jsonl"),
    }
    command = [sys.executable, "-m", "entra_hunt.cli", "serve", "--transport", "http"]
    log = tmp_path / "server.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            [*command, "--port", str(port)], env=env, stdout=output, stderr=output
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(f"{url}/mcp", timeout=1)
                break
            except httpx.TransportError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(log.read_text(encoding="utf-8")) from None
                time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.mark.slow
@pytest.mark.anyio
async def test_the_served_http_endpoint_needs_the_token_and_then_hunts(
    served: str, tmp_path: Path
) -> None:
    refused = httpx.post(f"{served}/mcp", json={}, headers={"Authorization": "Bearer nope"})
    async with mcp_client(f"{served}/mcp", {"Authorization": f"Bearer {TOKEN}"}) as client:
        result = await client.call_tool("hunt_device_code_signins", {"lookback": "14d"})

    assert refused.status_code == 401
    assert result.is_error is False
    audit = (tmp_path / "audit.jsonl").read_text(encoding="utf-8")
    assert '"auth":"static-token"' in audit and TOKEN not in audit


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"
