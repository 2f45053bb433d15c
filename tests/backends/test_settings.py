"""Backend settings from a config file and ENTRA_HUNT_* variables, and the backend factory."""

from __future__ import annotations

from pathlib import Path

import pytest
from azure_fakes import WORKSPACE_ID, FakeCredential

from entra_hunt.backends import BackendPool, BackendSettings, open_backend
from entra_hunt.backends.defender import DefenderBackend
from entra_hunt.backends.local import LocalBackend
from entra_hunt.backends.sentinel import SentinelBackend
from entra_hunt.errors import BackendError, ParameterError
from entra_hunt.hunts import BackendName


def _settings(tmp_path: Path, **environ: str) -> BackendSettings:
    return BackendSettings.from_env(environ, config_file=tmp_path / "absent.toml")


def test_defaults_point_at_the_public_cloud(tmp_path: Path) -> None:
    settings = _settings(tmp_path)

    assert settings.cloud == "public"
    assert settings.resolved_logs_endpoint == "https://api.loganalytics.io"
    assert settings.resolved_graph_endpoint == "https://graph.microsoft.com"
    assert settings.resolved_authority_host is None
    assert settings.sentinel_workspace_id is None
    assert settings.config_file is None


def test_variables_configure_the_sentinel_workspace_and_the_limits(tmp_path: Path) -> None:
    settings = _settings(
        tmp_path,
        ENTRA_HUNT_SENTINEL_WORKSPACE_ID=WORKSPACE_ID,
        ENTRA_HUNT_SENTINEL_ADDITIONAL_WORKSPACES="emea-ws, apac-ws ,",
        ENTRA_HUNT_SENTINEL_TIMEOUT="300",
        ENTRA_HUNT_DEFENDER_CALLS_PER_MINUTE="30",
        ENTRA_HUNT_MAX_RETRIES="1",
        ENTRA_HUNT_DATABASE=str(tmp_path / "signins.duckdb"),
    )

    assert settings.sentinel_workspace_id == WORKSPACE_ID
    assert settings.sentinel_additional_workspaces == ("emea-ws", "apac-ws")
    assert settings.sentinel_timeout_seconds == 300
    assert settings.defender_calls_per_minute == 30
    assert settings.retrying().max_retries == 1
    assert settings.database == tmp_path / "signins.duckdb"


@pytest.mark.parametrize(
    ("cloud", "logs", "graph", "authority"),
    [
        (
            "usgov",
            "https://api.loganalytics.us",
            "https://graph.microsoft.us",
            "login.microsoftonline.us",
        ),
        (
            "usgov-dod",
            "https://api.loganalytics.us",
            "https://dod-graph.microsoft.us",
            "login.microsoftonline.us",
        ),
        (
            "china",
            "https://api.loganalytics.azure.cn",
            "https://microsoftgraph.chinacloudapi.cn",
            "login.chinacloudapi.cn",
        ),
    ],
)
def test_a_sovereign_cloud_sets_every_host(
    tmp_path: Path, cloud: str, logs: str, graph: str, authority: str
) -> None:
    settings = _settings(tmp_path, ENTRA_HUNT_CLOUD=cloud)

    assert settings.resolved_logs_endpoint == logs
    assert settings.resolved_graph_endpoint == graph
    assert settings.resolved_authority_host == authority


def test_an_explicit_endpoint_overrides_the_clouds(tmp_path: Path) -> None:
    settings = _settings(
        tmp_path,
        ENTRA_HUNT_CLOUD="usgov",
        ENTRA_HUNT_LOGS_ENDPOINT="https://api.loganalytics.us/v1",
    )

    assert settings.resolved_logs_endpoint == "https://api.loganalytics.us"


def test_the_config_file_is_read_and_variables_override_it(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text(
        'cloud = "usgov"\n'
        f'sentinel_workspace_id = "{WORKSPACE_ID}"\n'
        'sentinel_additional_workspaces = ["emea-ws"]\n'
        "sentinel_timeout_seconds = 120\n",
        encoding="utf-8",
    )

    settings = BackendSettings.from_env(
        {"ENTRA_HUNT_CONFIG": str(config), "ENTRA_HUNT_SENTINEL_TIMEOUT": "60"}
    )

    assert settings.config_file == config
    assert settings.cloud == "usgov"
    assert settings.sentinel_additional_workspaces == ("emea-ws",)
    assert settings.sentinel_timeout_seconds == 60


def test_a_bad_variable_names_the_variable(tmp_path: Path) -> None:
    with pytest.raises(ParameterError) as caught:
        _settings(tmp_path, ENTRA_HUNT_SENTINEL_TIMEOUT="9000")

    assert "ENTRA_HUNT_SENTINEL_TIMEOUT" in caught.value.message
    assert "600" in caught.value.message


def test_an_unknown_cloud_lists_the_known_ones(tmp_path: Path) -> None:
    with pytest.raises(ParameterError) as caught:
        _settings(tmp_path, ENTRA_HUNT_CLOUD="mooncake")

    assert "ENTRA_HUNT_CLOUD" in caught.value.message and "usgov" in caught.value.message


def test_a_config_file_that_is_not_toml_names_the_file(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text("cloud = usgov\n", encoding="utf-8")

    with pytest.raises(ParameterError) as caught:
        BackendSettings.from_env({}, config_file=config)

    assert str(config) in caught.value.message and "TOML" in caught.value.message


def test_an_unknown_key_in_the_config_file_lists_the_known_ones(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text('workspace = "x"\n', encoding="utf-8")

    with pytest.raises(ParameterError) as caught:
        BackendSettings.from_env({}, config_file=config)

    assert "'workspace'" in caught.value.message
    assert "sentinel_workspace_id" in caught.value.message


def test_a_bad_value_in_the_config_file_names_the_file_and_key(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text("max_retries = -1\n", encoding="utf-8")

    with pytest.raises(ParameterError) as caught:
        BackendSettings.from_env({}, config_file=config)

    assert f"{config}, key max_retries" in caught.value.message


# -- the factory ---------------------------------------------------------------------------


def test_sentinel_without_a_workspace_says_which_setting_to_set(tmp_path: Path) -> None:
    with pytest.raises(BackendError) as caught:
        open_backend(BackendName.SENTINEL, _settings(tmp_path))

    assert caught.value.reason == "not_configured"
    assert "ENTRA_HUNT_SENTINEL_WORKSPACE_ID" in caught.value.message
    assert "--workspace-id" in caught.value.message


def test_sentinel_is_opened_for_the_configured_cloud(tmp_path: Path) -> None:
    settings = _settings(
        tmp_path, ENTRA_HUNT_SENTINEL_WORKSPACE_ID=WORKSPACE_ID, ENTRA_HUNT_CLOUD="usgov"
    )

    backend = open_backend(BackendName.SENTINEL, settings, credential=FakeCredential())

    assert isinstance(backend, SentinelBackend)
    assert backend.endpoint == "https://api.loganalytics.us"
    assert backend.workspace_id == WORKSPACE_ID


def test_defender_is_opened_for_the_configured_cloud(tmp_path: Path) -> None:
    settings = _settings(tmp_path, ENTRA_HUNT_CLOUD="usgov-dod")

    backend = open_backend(BackendName.DEFENDER, settings, credential=FakeCredential())

    assert isinstance(backend, DefenderBackend)
    assert backend.graph_endpoint == "https://dod-graph.microsoft.us"


def test_defender_in_the_china_cloud_is_not_configured(tmp_path: Path) -> None:
    with pytest.raises(BackendError) as caught:
        open_backend(BackendName.DEFENDER, _settings(tmp_path, ENTRA_HUNT_CLOUD="china"))

    assert caught.value.reason == "not_configured"
    assert "backend=sentinel" in caught.value.message


def test_local_reads_the_database_given(tmp_path: Path) -> None:
    backend = open_backend(
        BackendName.LOCAL, _settings(tmp_path), database=tmp_path / "absent.duckdb"
    )

    assert isinstance(backend, LocalBackend)


def test_a_pool_opens_each_backend_once(tmp_path: Path) -> None:
    pool = BackendPool(_settings(tmp_path), credential=FakeCredential())

    assert pool.get(BackendName.DEFENDER) is pool.get(BackendName.DEFENDER)


class _RecordingCredential(FakeCredential):
    made: list[dict[str, object]] = []

    def __init__(self, **options: object) -> None:
        super().__init__()
        self.made.append(options)


@pytest.mark.anyio
async def test_the_default_credential_signs_in_at_the_clouds_authority_and_is_closed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import azure.identity.aio

    monkeypatch.setattr(azure.identity.aio, "DefaultAzureCredential", _RecordingCredential)
    _RecordingCredential.made.clear()
    settings = _settings(
        tmp_path, ENTRA_HUNT_SENTINEL_WORKSPACE_ID=WORKSPACE_ID, ENTRA_HUNT_CLOUD="usgov"
    )
    backend = open_backend(BackendName.SENTINEL, settings)
    assert isinstance(backend, SentinelBackend)

    name = await backend.check_credential()
    credential = backend._credential  # what the backend made for itself
    await backend.aclose()

    assert name == "_RecordingCredential"
    assert _RecordingCredential.made == [{"authority": "login.microsoftonline.us"}]
    assert isinstance(credential, FakeCredential)
    assert credential.scopes == ["https://api.loganalytics.us/.default"]
    assert credential.closed


def test_an_option_overriding_a_setting_is_validated_too(tmp_path: Path) -> None:
    settings = _settings(tmp_path)

    assert settings.override(sentinel_workspace_id=WORKSPACE_ID).sentinel_workspace_id == (
        WORKSPACE_ID
    )
    with pytest.raises(ParameterError) as caught:
        settings.override(sentinel_timeout_seconds=0)

    assert "sentinel_timeout_seconds" in caught.value.message
