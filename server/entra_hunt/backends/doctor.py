"""``entra-hunt doctor``: is each backend configured, can we sign in, what data does it hold.

Offers :func:`diagnose`, which returns a list of :class:`Check` (ok, warn or fail; what was
found; what to fix) and prints nothing: the CLI renders it. For each cloud backend it gets a
token, then asks each sign-in table for its row count and time range, which also proves read
access. Each table check is one small query (a count and two bounds).

Limits: Defender tables are measured over the last 30 days (all advanced hunting keeps);
Sentinel tables over the workspace's whole retention.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Literal, Protocol

from pydantic import BaseModel, Field

from entra_hunt.backends._cloud import TableRange
from entra_hunt.backends.settings import ENV_VARS, BackendSettings
from entra_hunt.errors import EntraHuntError
from entra_hunt.hunts.params import BackendName

if TYPE_CHECKING:
    from azure.core.credentials_async import AsyncTokenCredential

__all__ = ["Check", "diagnose"]

Status = Literal["ok", "warn", "fail"]


class Check(BaseModel):
    """One finding of the doctor: its status, what it saw, and what to do about it."""

    status: Status = Field(description="ok, warn (works, with a caveat) or fail (cannot work).")
    backend: str = Field(description="settings, local, sentinel or defender.")
    what: str = Field(description="What was checked and what was found.")
    fix: str | None = Field(default=None, description="What to do next, when not ok.")


class _CloudBackend(Protocol):
    """What the doctor asks of the Sentinel and Defender backends."""

    @property
    def dataset(self) -> str: ...

    async def check_credential(self) -> str: ...

    async def table_range(self, table: str) -> TableRange | None: ...

    async def aclose(self) -> None: ...


async def diagnose(
    settings: BackendSettings,
    *,
    backends: Sequence[BackendName] | None = None,
    tables: Mapping[BackendName, Sequence[str]] | None = None,
    credential: AsyncTokenCredential | None = None,
) -> list[Check]:
    """Check configuration, credentials, access and table coverage of each backend.

    Args:
        settings: the settings the CLI would hunt with.
        backends: which backends to check; default all three.
        tables: sign-in tables to look for per backend, the hunts' own lists usually;
            default each backend's known sign-in tables. The first of each list is required
            (fail when absent); the others are optional (warn).
        credential: the credential for the cloud backends; default DefaultAzureCredential.
    """
    wanted = list(backends or BackendName)
    checks = [_settings_check(settings)]
    if BackendName.LOCAL in wanted:
        checks.extend(_local_checks(settings))
    if BackendName.SENTINEL in wanted:
        checks.extend(await _sentinel_checks(settings, tables, credential))
    if BackendName.DEFENDER in wanted:
        checks.extend(await _defender_checks(settings, tables, credential))
    return checks


def _settings_check(settings: BackendSettings) -> Check:
    source = f", config file {settings.config_file}" if settings.config_file else ""
    return Check(
        status="ok",
        backend="settings",
        what=f"settings (defaults, ENTRA_HUNT_* variables{source}): cloud {settings.cloud}, "
        "Log Analytics "
        f"{settings.resolved_logs_endpoint}, Microsoft Graph {settings.resolved_graph_endpoint}"
        + (
            f", authority {settings.resolved_authority_host}"
            if settings.resolved_authority_host
            else ""
        ),
    )


def _local_checks(settings: BackendSettings) -> list[Check]:
    from entra_hunt.engine.store import Store

    database = settings.database
    if not database.exists():
        return [
            Check(
                status="warn",
                backend="local",
                what=f"no local database at {database}; backend=local hunts the bundled demo "
                "dataset",
                fix="Load a sign-in export with 'entra-hunt load FILE' to hunt your own sign-ins",
            )
        ]
    try:
        with Store(database, read_only=True) as store:
            stats = [s for s in store.stats() if s.rows]
    except EntraHuntError as exc:
        return [Check(status="fail", backend="local", what=exc.what, fix=exc.fix)]
    if not stats:
        return [
            Check(
                status="warn",
                backend="local",
                what=f"the local database {database} holds no sign-ins; backend=local hunts the "
                "bundled demo dataset",
                fix="Load a sign-in export with 'entra-hunt load FILE'",
            )
        ]
    return [
        Check(
            status="ok",
            backend="local",
            what=TableRange(s.table, s.rows, s.first, s.last).sentence(str(database)),
        )
        for s in stats
    ]


async def _sentinel_checks(
    settings: BackendSettings,
    tables: Mapping[BackendName, Sequence[str]] | None,
    credential: AsyncTokenCredential | None,
) -> list[Check]:
    from entra_hunt.backends import open_backend
    from entra_hunt.backends.sentinel import SIGNIN_TABLES, SentinelBackend

    if not settings.sentinel_workspace_id:
        return [
            Check(
                status="warn",
                backend="sentinel",
                what="not configured: no Log Analytics workspace ID",
                fix=f"To hunt in Sentinel set {ENV_VARS['sentinel_workspace_id']} (or "
                "--workspace-id, or sentinel_workspace_id in the config file) to the workspace ID",
            )
        ]
    try:
        backend = open_backend(BackendName.SENTINEL, settings, credential=credential)
    except EntraHuntError as exc:
        return [Check(status="fail", backend="sentinel", what=exc.what, fix=exc.fix)]
    assert isinstance(backend, SentinelBackend)
    wanted = list((tables or {}).get(BackendName.SENTINEL, SIGNIN_TABLES))
    fix = "The identity needs Log Analytics Reader or Microsoft Sentinel Reader on the workspace"
    return await _cloud_checks("sentinel", backend, wanted, settings.resolved_logs_endpoint, fix)


async def _defender_checks(
    settings: BackendSettings,
    tables: Mapping[BackendName, Sequence[str]] | None,
    credential: AsyncTokenCredential | None,
) -> list[Check]:
    from entra_hunt.backends import open_backend
    from entra_hunt.backends.defender import SIGNIN_TABLES, DefenderBackend

    try:
        backend = open_backend(BackendName.DEFENDER, settings, credential=credential)
    except EntraHuntError as exc:
        return [Check(status="fail", backend="defender", what=exc.what, fix=exc.fix)]
    assert isinstance(backend, DefenderBackend)
    wanted = list((tables or {}).get(BackendName.DEFENDER, SIGNIN_TABLES))
    checks = await _cloud_checks(
        "defender",
        backend,
        wanted,
        settings.resolved_graph_endpoint,
        "The app registration needs the Microsoft Graph application permission "
        "ThreatHunting.Read.All with admin consent",
        any_table=True,
    )
    return checks


async def _cloud_checks(
    label: str,
    backend: _CloudBackend,
    tables: list[str],
    endpoint: str,
    access_fix: str,
    *,
    any_table: bool = False,
) -> list[Check]:
    """Credential, then each table's range; with ``any_table`` one present table suffices."""
    checks: list[Check] = []
    try:
        try:
            credential_name = await backend.check_credential()
        except EntraHuntError as exc:
            return [Check(status="fail", backend=label, what=exc.what, fix=exc.fix)]
        checks.append(
            Check(
                status="ok",
                backend=label,
                what=f"{credential_name} got a token for {endpoint}",
            )
        )

        present = 0
        for index, table in enumerate(tables):
            try:
                held = await backend.table_range(table)
            except EntraHuntError as exc:
                checks.append(
                    Check(
                        status="fail",
                        backend=label,
                        what=f"{table}: {exc.what}",
                        fix=exc.fix or access_fix,
                    )
                )
                return checks  # the same failure would repeat for every other table
            if held is None:
                optional = any_table or index > 0
                checks.append(
                    Check(
                        status="warn" if optional else "fail",
                        backend=label,
                        what=f"{table} does not exist in {backend.dataset}",
                        fix=_missing_fix(label, table),
                    )
                )
                continue
            present += 1
            checks.append(
                Check(
                    status="ok" if held.rows else "warn",
                    backend=label,
                    what=held.sentence(backend.dataset),
                    fix=None if held.rows else _missing_fix(label, table),
                )
            )
        if any_table and tables and not present:
            checks.append(
                Check(
                    status="fail",
                    backend=label,
                    what=f"none of {', '.join(tables)} exists, so no hunt can run here",
                    fix=_missing_fix(label, tables[0]),
                )
            )
        return checks
    finally:
        await backend.aclose()


def _missing_fix(label: str, table: str) -> str:
    if label == "sentinel":
        return (
            f"Send {table} to the workspace: the Microsoft Entra ID data connector in Sentinel "
            "(tick the sign-in log types), or an Entra ID diagnostic setting"
        )
    return (
        f"{table} appears in advanced hunting for tenants with Microsoft Entra ID P2 and "
        "Defender XDR; hunts use whichever sign-in table exists"
    )
