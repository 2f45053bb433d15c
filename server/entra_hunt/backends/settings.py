"""Where each backend finds its data: settings from options, environment and a config file.

Offers :class:`BackendSettings`. :meth:`BackendSettings.from_env` reads, lowest precedence
first, the defaults, the TOML file ``entra-hunt/config.toml`` in the user config directory
(``~/.config/entra-hunt/config.toml`` on Linux; ``ENTRA_HUNT_CONFIG`` names another), then the
``ENTRA_HUNT_*`` variables; the CLI's options override all three with ``model_copy``. The file
holds the same names as the fields, at top level::

    cloud = "usgov"
    sentinel_workspace_id = "00000000-0000-0000-0000-000000000000"

A bad value is a :class:`~entra_hunt.errors.ParameterError` naming the variable or the file
and key it came from. Credentials are never read here: azure-identity reads its own
``AZURE_*`` variables.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from platformdirs import user_config_dir
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from entra_hunt.backends._cloud import CLOUDS, Cloud, Retrying, origin
from entra_hunt.config import DATABASE_ENV, default_database
from entra_hunt.errors import ParameterError

__all__ = ["CONFIG_ENV", "ENV_VARS", "BackendSettings", "default_config_file"]

CONFIG_ENV = "ENTRA_HUNT_CONFIG"

#: The environment variable each setting is read from.
ENV_VARS: dict[str, str] = {
    "database": DATABASE_ENV,
    "cloud": "ENTRA_HUNT_CLOUD",
    "sentinel_workspace_id": "ENTRA_HUNT_SENTINEL_WORKSPACE_ID",
    "sentinel_additional_workspaces": "ENTRA_HUNT_SENTINEL_ADDITIONAL_WORKSPACES",
    "logs_endpoint": "ENTRA_HUNT_LOGS_ENDPOINT",
    "graph_endpoint": "ENTRA_HUNT_GRAPH_ENDPOINT",
    "authority_host": "ENTRA_HUNT_AUTHORITY_HOST",
    "sentinel_timeout_seconds": "ENTRA_HUNT_SENTINEL_TIMEOUT",
    "defender_timeout_seconds": "ENTRA_HUNT_DEFENDER_TIMEOUT",
    "defender_calls_per_minute": "ENTRA_HUNT_DEFENDER_CALLS_PER_MINUTE",
    "max_retries": "ENTRA_HUNT_MAX_RETRIES",
    "max_retry_wait_seconds": "ENTRA_HUNT_MAX_RETRY_WAIT",
    "ca_bundle": "ENTRA_HUNT_CA_BUNDLE",
}

CloudName = Literal["public", "usgov", "usgov-dod", "china"]


def default_config_file(environ: Mapping[str, str] | None = None) -> Path:
    """$ENTRA_HUNT_CONFIG, else ``config.toml`` in the user config directory."""
    configured = (environ if environ is not None else os.environ).get(CONFIG_ENV, "").strip()
    if configured:
        return Path(configured).expanduser()
    return Path(user_config_dir("entra-hunt", appauthor=False)) / "config.toml"


class BackendSettings(BaseModel):
    """How to reach each backend: the local file, the Sentinel workspace, the Graph host."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    database: Path = Field(
        default_factory=default_database,
        description="The local DuckDB database of loaded exports (ENTRA_HUNT_DATABASE).",
    )
    cloud: CloudName = Field(
        default="public",
        description="The Microsoft cloud: public, usgov (GCC High), usgov-dod or china. Sets "
        "the default Log Analytics and Graph hosts and the Entra ID authority.",
    )
    sentinel_workspace_id: str | None = Field(
        default=None,
        description="The Log Analytics workspace ID (a GUID) that Microsoft Sentinel uses.",
    )
    sentinel_additional_workspaces: tuple[str, ...] = Field(
        default=(),
        description="More workspaces the same Sentinel hunt reads (comma-separated in the "
        "environment).",
    )
    logs_endpoint: str | None = Field(
        default=None, description="Log Analytics API host, overriding the cloud's."
    )
    graph_endpoint: str | None = Field(
        default=None, description="Microsoft Graph host, overriding the cloud's."
    )
    authority_host: str | None = Field(
        default=None, description="Entra ID authority host, overriding the cloud's."
    )
    sentinel_timeout_seconds: int = Field(
        default=180, ge=1, le=600, description="Seconds Log Analytics may run a query (1-600)."
    )
    defender_timeout_seconds: float = Field(
        default=210.0, gt=0, le=3600, description="Seconds to wait for one advanced hunting answer."
    )
    defender_calls_per_minute: int = Field(
        default=40,
        ge=1,
        le=44,
        description="Advanced hunting calls this process makes per "
        "minute at most (the service allows 45).",
    )
    max_retries: int = Field(
        default=3, ge=0, le=10, description="Retries of a throttled or unavailable call."
    )
    max_retry_wait_seconds: float = Field(
        default=60.0,
        ge=0,
        le=3600,
        description="Most seconds spent waiting to retry one "
        "query, Retry-After included; a longer wait is reported as throttled.",
    )
    ca_bundle: Path | None = Field(
        default=None,
        description="A PEM file of CA certificates to trust for TLS (a "
        "TLS-inspecting proxy); default the system's.",
    )
    config_file: Path | None = Field(
        default=None, description="The config file these settings were read from, if any."
    )

    # -- resolved values ---------------------------------------------------------------------

    @property
    def cloud_hosts(self) -> Cloud:
        """The cloud's default hosts."""
        return CLOUDS[self.cloud]

    @property
    def resolved_logs_endpoint(self) -> str:
        """The Log Analytics API origin to call."""
        return origin(self.logs_endpoint or self.cloud_hosts.logs_endpoint)

    @property
    def resolved_graph_endpoint(self) -> str:
        """The Microsoft Graph origin to call."""
        return origin(self.graph_endpoint or self.cloud_hosts.graph_endpoint)

    @property
    def resolved_authority_host(self) -> str | None:
        """The authority for DefaultAzureCredential; None leaves azure-identity's default."""
        if self.authority_host:
            return self.authority_host
        return None if self.cloud == "public" else self.cloud_hosts.authority_host

    @property
    def tls_verify(self) -> bool | str:
        """What the HTTP clients verify server certificates with."""
        return str(self.ca_bundle) if self.ca_bundle else True

    def retrying(self) -> Retrying:
        """The retry policy these settings describe."""
        return Retrying(max_retries=self.max_retries, max_wait=self.max_retry_wait_seconds)

    def override(self, **values: object) -> BackendSettings:
        """These settings with ``values`` replaced (the CLI's options), validated again.

        Raises:
            ParameterError: a value is out of bounds; names the setting.
        """
        try:
            return self.model_validate({**self.model_dump(), **values})
        except ValidationError as exc:
            raise _settings_error(exc, {}) from None

    # -- reading -----------------------------------------------------------------------------

    @classmethod
    def from_env(
        cls,
        environ: Mapping[str, str] | None = None,
        *,
        config_file: Path | None = None,
    ) -> BackendSettings:
        """Settings from the config file (if present) overridden by ENTRA_HUNT_* variables.

        Raises:
            ParameterError: a value is unreadable or out of bounds; names its source.
        """
        env = environ if environ is not None else os.environ
        path = config_file or default_config_file(env)
        values: dict[str, Any] = {}
        sources: dict[str, str] = {}
        if path.is_file():
            for key, value in _read_toml(path).items():
                values[key] = value
                sources[key] = f"{path}, key {key}"
            values["config_file"] = path
        for field, variable in ENV_VARS.items():
            raw = env.get(variable, "").strip()
            if raw:
                values[field] = _split(raw) if field.endswith("workspaces") else raw
                sources[field] = variable
        if isinstance(values.get("sentinel_additional_workspaces"), list):
            values["sentinel_additional_workspaces"] = tuple(
                values["sentinel_additional_workspaces"]
            )
        try:
            return cls(**values)
        except ValidationError as exc:
            raise _settings_error(exc, sources) from None


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            data = tomllib.load(handle)
    except tomllib.TOMLDecodeError as exc:
        raise ParameterError(
            f"the config file is not valid TOML ({exc})",
            where=str(path),
            fix=f"Correct it, or point {CONFIG_ENV} at another file",
        ) from None
    except OSError as exc:
        raise ParameterError(
            f"the config file cannot be read ({exc.strerror})",
            where=str(path),
            fix=f"Check its permissions, or point {CONFIG_ENV} at another file",
        ) from None
    unknown = sorted(set(data) - set(ENV_VARS))
    if unknown:
        raise ParameterError(
            f"unknown setting {', '.join(repr(k) for k in unknown)}",
            where=str(path),
            fix=f"Use only: {', '.join(ENV_VARS)}",
        )
    return data


def _split(raw: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in raw.split(",") if part.strip())


def _settings_error(exc: ValidationError, sources: Mapping[str, str]) -> ParameterError:
    problems = []
    for err in exc.errors():
        field = str(err["loc"][0]) if err["loc"] else ""
        place = sources.get(field, field or "settings")
        problems.append(f"{place}: {str(err['msg']).removeprefix('Value error, ')}")
    return ParameterError(
        "; ".join(problems),
        where="backend settings",
        fix="Correct the value (see 'entra-hunt doctor' and the README's configuration table)",
    )
