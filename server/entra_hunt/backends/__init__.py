"""Backends: where a hunt's KQL runs (local, sentinel, defender), behind one interface.

Offers :func:`open_backend`, which builds the backend a request names from
:class:`BackendSettings`, and :class:`BackendPool`, which keeps one backend per name for a
long-lived process (the MCP server) so table probes and credentials are reused. The Azure SDKs
are imported only when a cloud backend is opened.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from entra_hunt.backends.base import Backend, QueryRun
from entra_hunt.backends.settings import ENV_VARS, BackendSettings
from entra_hunt.errors import BackendError
from entra_hunt.hunts.params import BackendName

if TYPE_CHECKING:
    from azure.core.credentials_async import AsyncTokenCredential

__all__ = [
    "ENV_VARS",
    "Backend",
    "BackendPool",
    "BackendSettings",
    "QueryRun",
    "open_backend",
]


def open_backend(
    name: BackendName,
    settings: BackendSettings | None = None,
    *,
    database: Path | None = None,
    credential: AsyncTokenCredential | None = None,
) -> Backend:
    """The backend ``name``, configured by ``settings`` (default: from the environment).

    Args:
        name: which backend.
        settings: where each backend finds its data; default ``BackendSettings.from_env()``.
        database: overrides ``settings.database`` (the CLI's ``--database``).
        credential: an azure-identity async credential for the cloud backends; default
            DefaultAzureCredential, owned and closed by the backend's ``aclose()``.

    Raises:
        BackendError: ``not_configured`` when the backend lacks a setting it needs.
        DataError: the local database is missing and the demo dataset is not allowed.
    """
    settings = settings or BackendSettings.from_env()
    if database is not None:
        settings = settings.override(database=database)

    if name is BackendName.LOCAL:
        from entra_hunt.backends.local import LocalBackend

        return LocalBackend(settings.database)

    if name is BackendName.SENTINEL:
        from entra_hunt.backends.sentinel import SentinelBackend

        if not settings.sentinel_workspace_id:
            where = str(settings.config_file) if settings.config_file else "the config file"
            raise BackendError(
                "no Log Analytics workspace is configured for the sentinel backend",
                reason="not_configured",
                where="sentinel backend",
                fix=f"Set {ENV_VARS['sentinel_workspace_id']} to the workspace ID (a GUID on "
                "the workspace's Overview page), pass --workspace-id, or add "
                f"sentinel_workspace_id to {where}",
            )
        return SentinelBackend(
            settings.sentinel_workspace_id,
            credential=credential,
            additional_workspaces=settings.sentinel_additional_workspaces,
            endpoint=settings.resolved_logs_endpoint,
            authority_host=settings.resolved_authority_host,
            server_timeout=settings.sentinel_timeout_seconds,
            retrying=settings.retrying(),
            connection_verify=settings.tls_verify,
        )

    from entra_hunt.backends.defender import DefenderBackend

    if not settings.cloud_hosts.hunting_available and not settings.graph_endpoint:
        raise BackendError(
            f"Microsoft Graph in the {settings.cloud} cloud does not offer advanced hunting",
            reason="not_configured",
            where="defender backend",
            fix="Hunt with backend=sentinel, or set ENTRA_HUNT_GRAPH_ENDPOINT if your cloud "
            "offers runHuntingQuery",
        )
    return DefenderBackend(
        credential=credential,
        graph_endpoint=settings.resolved_graph_endpoint,
        authority_host=settings.resolved_authority_host,
        timeout=settings.defender_timeout_seconds,
        retrying=settings.retrying(),
        calls_per_minute=settings.defender_calls_per_minute,
        verify=settings.tls_verify,
    )


class BackendPool:
    """One backend per name for the life of a process, closed together at the end.

    Table probes and tokens are cached per backend instance, so a server that opens a fresh
    backend for every request pays for them every time; a pool opens each backend once.
    Use it from one event loop.
    """

    def __init__(
        self,
        settings: BackendSettings | None = None,
        *,
        credential: AsyncTokenCredential | None = None,
    ) -> None:
        """Open backends from ``settings`` (default: from the environment) on first use."""
        self.settings = settings or BackendSettings.from_env()
        self._credential = credential
        self._open: dict[BackendName, Backend] = {}

    def get(self, name: BackendName) -> Backend:
        """The backend ``name``, opened on first use (a failed open is not remembered)."""
        if name not in self._open:
            self._open[name] = open_backend(name, self.settings, credential=self._credential)
        return self._open[name]

    async def aclose(self) -> None:
        """Close every backend that holds a resource (credentials, sessions)."""
        backends, self._open = list(self._open.values()), {}
        for backend in backends:
            close = getattr(backend, "aclose", None)
            if close is not None:
                await close()
