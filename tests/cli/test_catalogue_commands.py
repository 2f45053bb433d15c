"""`entra-hunt hunts list`, `hunt run`, `query` and `investigate` as people and scripts use them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from entra_hunt.cli import app
from entra_hunt.engine.demo import PLANTED
from entra_hunt.findings.models import HuntResult
from entra_hunt.findings.pivots import UserTimeline
from entra_hunt.hunts import CATALOGUE


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("ENTRA_HUNT_DATABASE", str(tmp_path / "signins.duckdb"))
    return CliRunner()


def test_hunts_list_prints_every_hunt_with_what_each_backend_cannot_see(cli: CliRunner) -> None:
    result = cli.invoke(app, ["hunts", "list"], env={"COLUMNS": "200"})
    listed = cli.invoke(app, ["hunts", "list", "--format", "json"])

    assert result.exit_code == 0, result.output
    for hunt_id in CATALOGUE:
        assert hunt_id in result.output
    assert "defender cannot" in result.output and "AuditLogs" in result.output
    assert {h["id"] for h in json.loads(listed.stdout)["hunts"]} == set(CATALOGUE)


def test_hunt_run_takes_hunt_specific_parameters_and_prints_the_result(cli: CliRunner) -> None:
    result = cli.invoke(
        app,
        [
            "hunt",
            "run",
            "device-code-one-source",
            "--lookback",
            "14d",
            "-p",
            "group_by=subnet",
            "--format",
            "json",
        ],
    )

    assert result.exit_code == 0, result.output
    parsed = HuntResult.model_validate_json(result.stdout)
    assert parsed.parameters["group_by"] == "subnet"
    assert any(f.location.ip_address == "45.76.83.0/24" for f in parsed.findings)


def test_hunt_run_prints_chain_steps_in_the_table(cli: CliRunner) -> None:
    result = cli.invoke(
        app, ["hunt", "run", "broker-chain", "--lookback", "14d"], env={"COLUMNS": "200"}
    )

    assert result.exit_code == 0, result.output
    assert "Register device" in result.output and "confidence high" in result.output


def test_a_bad_hunt_or_parameter_exits_2_and_names_it(cli: CliRunner) -> None:
    unknown = cli.invoke(app, ["hunt", "run", "no-such-hunt"])
    bad = cli.invoke(app, ["hunt", "run", "broker-chain", "-p", "follow_up=forever"])
    stray = cli.invoke(app, ["hunt", "run", "broker-chain", "-p", "colour=blue"])

    assert unknown.exit_code == 2 and "broker-chain" in unknown.stderr
    assert bad.exit_code == 2 and "follow_up" in bad.stderr
    assert stray.exit_code == 2 and "colour" in stray.stderr
    assert unknown.stdout == bad.stdout == stray.stdout == ""


def test_query_prints_the_kql_for_the_portal(cli: CliRunner) -> None:
    result = cli.invoke(app, ["query", "device-code-token-replay", "--backend", "defender"])

    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("// entra-hunt device-code-token-replay")
    assert "EntraIdSignInEvents" in result.stdout and "take 1000" in result.stdout


def test_investigate_prints_the_users_timeline(cli: CliRunner) -> None:
    case = next(c for c in PLANTED if c.case_id == "broker-registration")

    table = cli.invoke(
        app,
        ["investigate", case.user, "--around", case.first_seen.isoformat(), "--span", "2h"],
        env={"COLUMNS": "200"},
    )
    as_json = cli.invoke(
        app,
        ["investigate", case.user, "--around", case.first_seen.isoformat(), "-f", "json"],
    )

    assert table.exit_code == 0, table.output
    assert "device registration" in table.output and "registrations: 1" in table.output
    timeline = UserTimeline.model_validate_json(as_json.stdout)
    assert timeline.summary.device_code_sign_ins == 1
