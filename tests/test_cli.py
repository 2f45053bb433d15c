"""The `entra-hunt` command as people and scripts use it."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from entra_hunt.cli import app
from entra_hunt.engine.demo import PLANTED
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
    expected = sum(case.expected_found for case in PLANTED)
    assert parsed.rows_matched == expected and parsed.complete


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


def test_a_load_reports_rows_read_loaded_and_the_time_range_and_stays_quiet_when_piped(
    cli: CliRunner,
) -> None:
    result = cli.invoke(app, ["load", str(SENTINEL_CSV)])

    assert result.exit_code == 0, result.output
    assert "loaded 4 of 4 records read (SigninLogs 4)" in result.stderr
    assert "2021-04-28 14:08 to 2021-04-28 14:28 UTC" in result.stderr
    assert "loganalytics-csv, fast path" in result.stderr
    assert "\r" not in result.stderr and "━" not in result.stderr  # no progress bar
    assert result.stdout == ""


def test_skip_bad_names_the_reject_file_and_counts_what_it_left_out(
    cli: CliRunner, tmp_path: Path
) -> None:
    record = json.loads(GRAPH_JSON.read_text(encoding="utf-8"))
    broken = dict(record, id="broken", createdDateTime="yesterday at noon")
    path = tmp_path / "signins.jsonl"
    path.write_text(json.dumps(record) + "\n" + json.dumps(broken) + "\n", encoding="utf-8")

    stopped = cli.invoke(app, ["load", str(path)])
    skipped = cli.invoke(app, ["load", str(path), "--skip-bad"])

    assert stopped.exit_code == 1 and "line 2, field createdDateTime" in stopped.stderr
    assert skipped.exit_code == 0, skipped.output
    assert "loaded 1 of 2 records read" in skipped.stderr
    assert "1 bad records skipped" in skipped.stderr
    assert str(tmp_path / "rejects") in skipped.stderr


def test_an_unknown_format_is_a_parameter_error(cli: CliRunner) -> None:
    result = cli.invoke(app, ["load", str(SENTINEL_CSV), "--format", "splunk"])

    assert result.exit_code == 2
    assert "loganalytics-csv" in result.stderr


def test_datasets_lists_tables_and_files_as_a_table_or_json(cli: CliRunner) -> None:
    empty = cli.invoke(app, ["datasets"])
    cli.invoke(app, ["load", str(SENTINEL_CSV), str(GRAPH_JSON)])

    table = cli.invoke(app, ["datasets"], env={"COLUMNS": "250"})
    as_json = cli.invoke(app, ["datasets", "--format", "json"])

    assert empty.exit_code == 0 and "No database yet" in empty.stdout
    assert table.exit_code == 0, table.output
    assert "SigninLogs" in table.stdout and "AzureSentinelTrainingLab" in table.stdout
    parsed = json.loads(as_json.stdout)
    signins = next(t for t in parsed["tables"] if t["table"] == "SigninLogs")
    assert signins["rows"] == 5
    assert [f["format"] for f in parsed["files"]] == ["loganalytics-csv", "graph-json"]
    assert parsed["files"][0]["rows_by_table"] == {"SigninLogs": 4}


def test_load_and_datasets_use_the_database_the_config_file_names(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    configured = tmp_path / "from-config" / "signins.duckdb"
    config = tmp_path / "config.toml"
    config.write_text(f"database = {json.dumps(str(configured))}\n", encoding="utf-8")
    monkeypatch.delenv("ENTRA_HUNT_DATABASE", raising=False)
    monkeypatch.setenv("ENTRA_HUNT_CONFIG", str(config))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    cli = CliRunner()

    loaded = cli.invoke(app, ["load", str(SENTINEL_CSV)])
    listed = cli.invoke(app, ["datasets", "--format", "json"])

    assert loaded.exit_code == 0, loaded.output
    assert configured.exists() and not (tmp_path / "data").exists()
    assert json.loads(listed.stdout)["database"] == str(configured)


def test_file_names_reach_the_terminal_with_control_characters_escaped(
    cli: CliRunner, tmp_path: Path
) -> None:
    hostile = tmp_path / "x\x1b]0;TITLE\x07\x1b[2J.csv"
    hostile.write_bytes(SENTINEL_CSV.read_bytes())
    broken = tmp_path / "y\x1b[2J.json"
    broken.write_text("[" * 5000, encoding="utf-8")

    loaded = cli.invoke(app, ["load", str(hostile)])
    failed = cli.invoke(app, ["load", str(broken)])

    assert loaded.exit_code == 0 and failed.exit_code == 1
    for result in (loaded, failed):
        assert "\x1b" not in result.stderr and "\x07" not in result.stderr
    assert "x\\x1b]0;TITLE\\x07\\x1b[2J.csv: loaded 4" in loaded.stderr
    assert "y\\x1b[2J.json" in failed.stderr


def test_a_bad_file_in_a_list_says_which_files_were_not_loaded(
    cli: CliRunner, tmp_path: Path
) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text("[{", encoding="utf-8")

    result = cli.invoke(app, ["load", str(SENTINEL_CSV), str(broken), str(GRAPH_JSON)])

    assert result.exit_code == 1
    assert "loaded 4 of 4" in result.stderr
    assert f"not loaded: {broken}, {GRAPH_JSON}" in " ".join(result.stderr.split())


def test_an_unexpected_failure_is_one_paragraph_and_leaves_the_database_unchanged(
    cli: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import entra_hunt.engine.loading as loading

    cli.invoke(app, ["load", str(SENTINEL_CSV)])
    database = tmp_path / "signins.duckdb"
    before = hashlib.sha256(database.read_bytes()).hexdigest()

    def explode(*args: object, **kwargs: object) -> None:
        raise ZeroDivisionError("deep inside")

    monkeypatch.setattr(loading, "load_exports", explode)
    result = cli.invoke(app, ["load", str(GRAPH_JSON)])

    assert result.exit_code == 1
    assert "Traceback" not in result.output and "deep inside" not in result.output
    message = " ".join(result.stderr.split())
    assert GRAPH_JSON.name in message and "left unchanged" in message
    assert hashlib.sha256(database.read_bytes()).hexdigest() == before


def _database_kinds(tmp_path: Path) -> dict[str, tuple[Path, str]]:
    other = tmp_path / "other.duckdb"
    con = duckdb.connect(str(other))
    con.execute("CREATE TABLE invoices (amount INTEGER)")
    con.close()
    text = tmp_path / "notes.duckdb"
    text.write_text("not a database\n", encoding="utf-8")
    folder = tmp_path / "folder"
    folder.mkdir()
    ours = tmp_path / "ours.duckdb"
    CliRunner().invoke(app, ["load", str(SENTINEL_CSV), "--database", str(ours)])
    cut = tmp_path / "cut.duckdb"
    cut.write_bytes(ours.read_bytes()[:20000])
    return {
        "other": (other, "not one entra-hunt created"),
        "text": (text, "not a DuckDB database"),
        "folder": (folder, "folder, not a database file"),
        "cut": (cut, "damaged or cut short"),
    }


@pytest.mark.parametrize("kind", ["other", "text", "folder", "cut"])
def test_a_database_path_that_is_not_ours_is_named_for_what_it_is_and_left_alone(
    kind: str, cli: CliRunner, tmp_path: Path
) -> None:
    database, words = _database_kinds(tmp_path)[kind]
    before = None if database.is_dir() else database.read_bytes()

    loaded = cli.invoke(app, ["load", str(GRAPH_JSON), "--database", str(database)])
    listed = cli.invoke(app, ["datasets", "--database", str(database)])

    for result in (loaded, listed):
        message = " ".join(result.stderr.split())
        assert result.exit_code == 1, result.output
        assert words in message and str(database) in message
        assert "Close other" not in message and "defect" not in message
    assert before is None or database.read_bytes() == before


def test_a_failed_first_load_into_a_new_folder_leaves_no_folder_behind(
    cli: CliRunner, tmp_path: Path
) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text("[{", encoding="utf-8")
    database = tmp_path / "new" / "nested" / "signins.duckdb"

    result = cli.invoke(app, ["load", str(broken), "--database", str(database)])

    assert result.exit_code == 1
    assert not (tmp_path / "new").exists()
