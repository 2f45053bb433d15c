"""The `entra-hunt` command as people and scripts use it."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from entra_hunt.cli import app
from entra_hunt.findings.models import HuntResult

FIXTURES = Path(__file__).parent / "engine" / "fixtures"
SENTINEL_CSV = FIXTURES / "AzureSentinelTrainingLab_SigninLogs_excerpt.csv"
GRAPH_JSON = FIXTURES / "MicrosoftGraph_signIn_beta_example.json"


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("ENTRA_HUNT_DATABASE", str(tmp_path / "signins.duckdb"))
    return CliRunner()


def test_hunting_the_demo_dataset_prints_findings_with_reasons_and_context(cli: CliRunner) -> None:
    result = cli.invoke(app, ["hunt", "device-code", "--lookback", "14d"], env={"COLUMNS": "200"})

    assert result.exit_code == 0, result.output
    assert "bundled demo dataset" in result.output
    assert "high" in result.output and "broker-client" in result.output
    assert "hosting provider" in result.output  # a reason
    assert "T1528" in result.output and "Revoke the user's sessions" in result.output


def test_json_output_is_the_hunt_result(cli: CliRunner) -> None:
    result = cli.invoke(app, ["hunt", "device-code", "--lookback", "14d", "--format", "json"])

    assert result.exit_code == 0, result.output
    parsed = HuntResult.model_validate_json(result.stdout)
    assert parsed.rows_matched == 8 and parsed.complete


def test_markdown_output_is_a_ticket_ready_report(cli: CliRunner) -> None:
    result = cli.invoke(app, ["hunt", "device-code", "-f", "markdown"])

    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("# Successful device code sign-in")
    assert "## Recommended actions" in result.stdout and "```kql" in result.stdout


def test_a_bad_parameter_exits_2_and_names_it(cli: CliRunner) -> None:
    result = cli.invoke(app, ["hunt", "device-code", "--lookback", "a fortnight"])

    assert result.exit_code == 2
    assert "lookback" in result.stderr and "Traceback" not in result.stderr
    assert result.stdout == ""


def test_the_two_real_samples_load_and_the_hunt_is_honestly_empty(
    cli: CliRunner, tmp_path: Path
) -> None:
    for sample in (SENTINEL_CSV, GRAPH_JSON):
        loaded = cli.invoke(app, ["load", str(sample)])
        assert loaded.exit_code == 0, loaded.output
        assert "loaded" in loaded.stderr

    result = cli.invoke(
        app,
        [
            "hunt",
            "device-code",
            "--start",
            "2021-04-01T00:00:00",
            "--end",
            "2021-05-01T00:00:00",
            "--format",
            "json",
        ],
    )

    assert result.exit_code == 0, result.output
    parsed = HuntResult.model_validate_json(result.stdout)
    assert parsed.dataset == str(tmp_path / "signins.duckdb")
    assert parsed.findings == [] and parsed.complete is True
    assert parsed.rows_examined == 4
    assert any("found nothing" in note for note in parsed.notes)


def test_graph_sample_loads_and_a_default_lookback_explains_where_the_data_is(
    cli: CliRunner,
) -> None:
    cli.invoke(app, ["load", str(GRAPH_JSON)])

    result = cli.invoke(app, ["hunt", "device-code", "--format", "json"])

    parsed = HuntResult.model_validate_json(result.stdout)
    assert parsed.findings == [] and parsed.complete is True
    assert any("holds 1 sign-ins from" in note for note in parsed.notes), parsed.notes


def test_loading_the_same_file_twice_adds_nothing(cli: CliRunner) -> None:
    cli.invoke(app, ["load", str(SENTINEL_CSV)])

    again = cli.invoke(app, ["load", str(SENTINEL_CSV)])

    assert again.exit_code == 0
    assert "already loaded" in again.stderr


def test_a_bad_file_names_file_line_and_field_and_changes_nothing(
    cli: CliRunner, tmp_path: Path
) -> None:
    cli.invoke(app, ["load", str(SENTINEL_CSV)])
    database = tmp_path / "signins.duckdb"
    before = hashlib.sha256(database.read_bytes()).hexdigest()
    broken = tmp_path / "broken.json"
    record = json.loads(GRAPH_JSON.read_text(encoding="utf-8"))
    record["createdDateTime"] = "yesterday at noon"
    broken.write_text(json.dumps({"value": [record]}, indent=2), encoding="utf-8")

    result = cli.invoke(app, ["load", str(broken)])

    assert result.exit_code == 1
    assert "broken.json" in result.stderr and "line" in result.stderr
    assert "createdDateTime" in result.stderr
    assert hashlib.sha256(database.read_bytes()).hexdigest() == before


def test_doctor_reports_the_local_database_and_what_to_do(cli: CliRunner) -> None:
    empty = cli.invoke(app, ["doctor", "--backend", "local", "--json"])
    cli.invoke(app, ["load", str(SENTINEL_CSV)])
    loaded = cli.invoke(app, ["doctor", "--backend", "local", "--json"])

    assert empty.exit_code == 0, empty.output
    first = [c for c in json.loads(empty.stdout) if c["backend"] == "local"]
    assert first[0]["status"] == "warn" and "entra-hunt load" in first[0]["fix"]
    checks = [c for c in json.loads(loaded.stdout) if c["backend"] == "local"]
    assert checks[0]["status"] == "ok" and "SigninLogs" in checks[0]["what"]


def test_a_sentinel_hunt_without_a_workspace_says_which_setting_is_missing(
    cli: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ENTRA_HUNT_SENTINEL_WORKSPACE_ID", raising=False)

    result = cli.invoke(app, ["hunt", "device-code", "--backend", "sentinel"])

    assert result.exit_code == 1
    assert "ENTRA_HUNT_SENTINEL_WORKSPACE_ID" in result.stderr


def test_defender_refuses_a_window_older_than_its_retention_before_any_call(
    cli: CliRunner,
) -> None:
    result = cli.invoke(app, ["hunt", "device-code", "--backend", "defender", "--lookback", "45d"])

    assert result.exit_code == 2
    assert "30 days" in result.stderr and "lookback" in result.stderr
