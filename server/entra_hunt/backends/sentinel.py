"""The Sentinel backend: a hunt's KQL on a Log Analytics workspace (table SigninLogs).

Calls the Log Analytics query API through azure-monitor-query's async ``LogsQueryClient``,
authenticated by an azure-identity credential (``DefaultAzureCredential`` unless one is
given, so environment variables, a managed identity and the Azure CLI all work). The window
goes to the API as its timespan, widened to whole seconds so it always contains the query's
own ``between`` filter. A partial answer comes back flagged incomplete with the service's
reason; every failure becomes a :class:`~entra_hunt.errors.BackendError` saying what to check.

Needs: the identity holds Log Analytics Reader or Microsoft Sentinel Reader on the workspace.
Limits: ``rows_examined`` is not counted (it would cost a second query); the service caps an
answer at 500,000 rows or 64 MB and says so as a partial result.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, cast

import anyio
from azure.core.credentials_async import AsyncTokenCredential
from azure.core.exceptions import (
    ClientAuthenticationError,
    HttpResponseError,
    ServiceRequestError,
    ServiceResponseError,
    ServiceResponseTimeoutError,
)
from azure.core.rest import AsyncHttpResponse
from azure.monitor.query import LogsQueryError, LogsQueryPartialResult, LogsQueryResult, LogsTable
from azure.monitor.query.aio import LogsQueryClient

from entra_hunt.backends._cloud import (
    CLOUDS,
    MissingTableError,
    Retrying,
    TableRange,
    origin,
    parse_retry_after,
    safe_text,
    second_bounds,
    table_missing,
)
from entra_hunt.backends.base import QueryRun
from entra_hunt.errors import BackendError, QueryError
from entra_hunt.hunts.base import RenderedQuery
from entra_hunt.hunts.params import BackendName

__all__ = ["DEFAULT_SERVER_TIMEOUT", "SIGNIN_TABLES", "SentinelBackend"]

logger = logging.getLogger(__name__)

#: Sign-in tables this backend looks for, interactive first.
SIGNIN_TABLES: tuple[str, ...] = ("SigninLogs", "AADNonInteractiveUserSignInLogs")

#: Seconds the service may spend on a query (its own default); at most 600.
DEFAULT_SERVER_TIMEOUT = 180
_MAX_SERVER_TIMEOUT = 600
#: Seconds the client waits beyond the server timeout for the answer to arrive.
_CLIENT_GRACE = 15.0

_GUID = re.compile(r"^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")

_ROLE = "Log Analytics Reader or Microsoft Sentinel Reader"


class SentinelBackend:
    """Runs hunts on a Microsoft Sentinel (Log Analytics) workspace."""

    name = BackendName.SENTINEL

    def __init__(
        self,
        workspace_id: str,
        *,
        credential: AsyncTokenCredential | None = None,
        additional_workspaces: Sequence[str] = (),
        endpoint: str = CLOUDS["public"].logs_endpoint,
        authority_host: str | None = None,
        server_timeout: int = DEFAULT_SERVER_TIMEOUT,
        client_timeout: float | None = None,
        retrying: Retrying | None = None,
        connection_verify: bool | str = True,
    ) -> None:
        """Query ``workspace_id`` (a GUID) and ``additional_workspaces`` at ``endpoint``.

        Args:
            workspace_id: the workspace ID from the workspace's Overview page.
            credential: an azure-identity async credential; default DefaultAzureCredential,
                created on first use and closed by :meth:`aclose`.
            additional_workspaces: more workspaces the same query reads (IDs, names or
                resource IDs).
            endpoint: the Log Analytics API host of the cloud, e.g.
                ``https://api.loganalytics.us`` for Azure Government; a trailing ``/v1`` is
                accepted.
            authority_host: the Entra ID authority for the default credential, e.g.
                ``login.microsoftonline.us``.
            server_timeout: seconds the service may run the query (1 to 600).
            client_timeout: seconds to wait for one answer; default server_timeout + 15.
            retrying: how throttled and unavailable calls are retried.
            connection_verify: TLS verification: True, or the path of a CA bundle to trust.
        """
        workspace_id = workspace_id.strip()
        if not _GUID.match(workspace_id):
            raise BackendError(
                f"{safe_text(workspace_id, 80)!r} is not a Log Analytics workspace ID",
                reason="not_configured",
                where="sentinel backend (ENTRA_HUNT_SENTINEL_WORKSPACE_ID or --workspace-id)",
                fix="Give the workspace ID, a GUID shown on the workspace's Overview page in "
                "the Azure portal, not the workspace name or its resource ID",
            )
        if not 1 <= server_timeout <= _MAX_SERVER_TIMEOUT:
            raise ValueError(f"server_timeout must be 1 to {_MAX_SERVER_TIMEOUT} seconds")
        self.workspace_id = workspace_id
        self.additional_workspaces = list(additional_workspaces)
        self.endpoint = origin(endpoint)
        self.server_timeout = server_timeout
        self.client_timeout = (
            client_timeout if client_timeout is not None else server_timeout + _CLIENT_GRACE
        )
        self._credential = credential
        self._owns_credential = credential is None
        self._authority_host = authority_host
        self._retrying = retrying or Retrying()
        self._verify = connection_verify
        self._tables: list[str] | None = None

    # -- the Backend protocol ----------------------------------------------------------------

    @property
    def dataset(self) -> str:
        """The workspace (and how many more the query reads)."""
        extra = len(self.additional_workspaces)
        more = f" and {extra} more" if extra else ""
        return f"Log Analytics workspace {self.workspace_id}{more}"

    @property
    def reference_now(self) -> datetime | None:
        """None: lookbacks count back from the wall clock."""
        return None

    async def available_tables(self) -> list[str]:
        """The sign-in tables the workspace has, probed once per backend instance.

        Raises:
            BackendError: ``not_found`` when the workspace has no sign-in table at all, or
                the failure that stopped the probe (e.g. ``forbidden``).
        """
        if self._tables is None:
            found = [table for table in SIGNIN_TABLES if await self._has_table(table)]
            if not found:
                raise BackendError(
                    f"the workspace has none of the sign-in tables {', '.join(SIGNIN_TABLES)}",
                    reason="not_found",
                    where=self._where(),
                    fix=_CONNECTOR_FIX,
                )
            self._tables = found
        return list(self._tables)

    async def run(self, query: RenderedQuery) -> QueryRun:
        """Run the hunt's KQL over its window; a partial answer is flagged, never cut silently."""
        columns, rows, problem = await self._query(
            query.text, second_bounds(query.start, query.end), table=query.table
        )
        run = QueryRun(table=query.table, rows=[dict(zip(columns, r, strict=True)) for r in rows])
        if problem is not None:
            run.complete = False
            run.notes.append(
                f"Log Analytics returned a partial result ({problem}); the findings may miss "
                "sign-ins. Narrow the window or the users and run again."
            )
        logger.info(
            "sentinel query: workspace=%s table=%s window=%s..%s rows=%d complete=%s",
            self.workspace_id,
            query.table,
            query.start.isoformat(),
            query.end.isoformat(),
            len(run.rows),
            run.complete,
        )
        return run

    async def coverage_note(self, table: str) -> str | None:
        """The time range ``table`` holds in the workspace, or None if that cannot be read."""
        try:
            held = await self.table_range(table)
        except BackendError as exc:
            logger.info("sentinel coverage of %s unavailable: %s", table, exc.reason)
            return None
        if held is None:
            return None
        return held.sentence(self.dataset)

    # -- diagnostics -------------------------------------------------------------------------

    async def check_credential(self) -> str:
        """Get a token for the Log Analytics API; the credential's class name on success."""
        credential = self._get_credential()
        try:
            await credential.get_token(self._scope)
        except ClientAuthenticationError as exc:
            raise self._credential_error(exc) from None
        return type(credential).__name__

    async def table_range(self, table: str) -> TableRange | None:
        """Rows and time range ``table`` holds over the workspace's retention; None if absent."""
        text = (
            f"{table}\n| summarize Rows = count(), First = min(TimeGenerated), "
            "Last = max(TimeGenerated)"
        )
        try:
            columns, rows, _ = await self._query(text, None, table=table)
        except MissingTableError:
            return None
        values = dict(zip(columns, rows[0], strict=True)) if rows else {}
        return TableRange.from_values(table, values)

    async def aclose(self) -> None:
        """Close the credential if this backend created it."""
        if self._owns_credential and self._credential is not None:
            await self._credential.close()
            self._credential = None

    async def __aenter__(self) -> SentinelBackend:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    # -- the service -------------------------------------------------------------------------

    @property
    def _scope(self) -> str:
        return f"{self.endpoint}/.default"

    def _where(self, table: str | None = None) -> str:
        where = f"sentinel backend (workspace {self.workspace_id}"
        return where + (f", table {table})" if table else ")")

    def _get_credential(self) -> AsyncTokenCredential:
        if self._credential is None:
            from azure.identity.aio import DefaultAzureCredential

            options: dict[str, Any] = {}
            if self._authority_host:
                options["authority"] = self._authority_host
            if self._verify is not True:
                options["connection_verify"] = self._verify
            self._credential = DefaultAzureCredential(**options)
        return self._credential

    def _client(self) -> LogsQueryClient:
        return LogsQueryClient(
            self._get_credential(),
            endpoint=self.endpoint,
            audience=self.endpoint,
            retry_total=0,  # retries are ours, so Retry-After counts against one deadline
            connection_verify=self._verify,
            connection_timeout=min(30.0, self.client_timeout),
            read_timeout=self.client_timeout,
        )

    async def _has_table(self, table: str) -> bool:
        try:
            await self._query(f"{table}\n| take 0", timedelta(hours=1), table=table)
        except MissingTableError:
            return False
        return True

    async def _query(
        self,
        text: str,
        timespan: tuple[datetime, datetime] | timedelta | None,
        *,
        table: str,
    ) -> tuple[list[str], list[list[object]], str | None]:
        """Columns, rows and the partial-result reason (None when complete)."""

        async def attempt() -> LogsQueryResult | LogsQueryPartialResult:
            try:
                with anyio.fail_after(self.client_timeout):
                    async with self._client() as client:
                        return await client.query_workspace(
                            self.workspace_id,
                            text,
                            timespan=timespan,
                            server_timeout=self.server_timeout,
                            additional_workspaces=self.additional_workspaces or None,
                            error_map=_EVERY_ERROR_STATUS,
                        )
            except (TimeoutError, ServiceResponseTimeoutError):
                raise self._timeout_error(table) from None
            except HttpResponseError as exc:
                # The SDK re-raises a credential's failure as a bare HttpResponseError.
                cause = exc if exc.status_code is None else None
                if cause is not None and isinstance(exc.__context__, ClientAuthenticationError):
                    cause = exc.__context__
                if isinstance(cause, ClientAuthenticationError):
                    raise self._credential_error(cause) from None
                raise self._http_error(exc, table) from None
            except (LookupError, TypeError, ValueError, AttributeError) as exc:
                # The SDK reads the body into tables itself; a body of the wrong shape fails there.
                logger.debug("unreadable Log Analytics answer", exc_info=True)
                raise self._malformed(f"{type(exc).__name__} reading the answer") from None
            except (ServiceRequestError, ServiceResponseError) as exc:
                raise BackendError(
                    f"could not reach the Log Analytics API at {self.endpoint} "
                    f"({type(exc).__name__})",
                    reason="unavailable",
                    where=self._where(),
                    fix="Check the network and proxy; for Azure Government or China set "
                    "ENTRA_HUNT_CLOUD (usgov, china) or ENTRA_HUNT_LOGS_ENDPOINT",
                ) from None

        response = await self._retrying.run(attempt, service="Log Analytics")
        try:
            return _tabulate(response)
        except (LookupError, TypeError, ValueError, AttributeError) as exc:
            logger.debug("unreadable Log Analytics answer", exc_info=True)
            raise self._malformed(f"{type(exc).__name__} reading the result table") from None

    # -- errors ------------------------------------------------------------------------------

    def _timeout_error(self, table: str) -> BackendError:
        return BackendError(
            f"Log Analytics did not answer within {self.client_timeout:g} s",
            reason="timed_out",
            where=self._where(table),
            fix="Narrow the window or the users, or allow more time with "
            f"ENTRA_HUNT_SENTINEL_TIMEOUT (now {self.server_timeout} s, at most "
            f"{_MAX_SERVER_TIMEOUT})",
        )

    def _credential_error(self, exc: ClientAuthenticationError) -> BackendError:
        return BackendError(
            f"no Azure credential could get a token for Log Analytics ({type(exc).__name__})",
            reason="unauthorised",
            where=self._where(),
            fix="Sign in with 'az login', or set AZURE_TENANT_ID, AZURE_CLIENT_ID and "
            "AZURE_CLIENT_SECRET, or run with a managed identity; outside the public cloud "
            "also set ENTRA_HUNT_CLOUD (usgov, usgov-dod, china)",
        )

    def _malformed(self, detail: str) -> BackendError:
        return BackendError(
            f"Log Analytics sent an answer that is not a query result ({detail})",
            reason="bad_response",
            where=self._where(),
            fix="Run again; if it persists, check that ENTRA_HUNT_LOGS_ENDPOINT points at the "
            "Log Analytics API (e.g. https://api.loganalytics.io) and not a proxy page",
        )

    def _http_error(self, exc: HttpResponseError, table: str) -> BackendError | QueryError:
        status = exc.status_code
        code, message = _service_error(exc)
        said = f"HTTP {status}" + (f", service code {code}" if code else "")
        retry_after = None
        if exc.response is not None:
            headers = cast(AsyncHttpResponse, exc.response).headers
            retry_after = parse_retry_after(headers.get("Retry-After"))
        if status is None or 200 <= status < 300:
            return self._malformed(f"HTTP {status}, unreadable body")
        if status == 401:
            return BackendError(
                f"Log Analytics refused the credential ({said})",
                reason="unauthorised",
                where=self._where(),
                fix="Sign in again for the tenant that owns the workspace ('az login --tenant "
                "...', or AZURE_TENANT_ID); outside the public cloud set ENTRA_HUNT_CLOUD so the "
                "token is for the right cloud",
            )
        if status == 403:
            return BackendError(
                f"the signed-in identity may not read this workspace ({said})",
                reason="forbidden",
                where=self._where(),
                fix=f"Grant the identity {_ROLE} on the workspace or its resource group; role "
                "assignments can take a few minutes to apply",
            )
        if status == 404:
            return BackendError(
                f"Log Analytics knows no workspace {self.workspace_id} here ({said})",
                reason="not_found",
                where=self._where(),
                fix="Check ENTRA_HUNT_SENTINEL_WORKSPACE_ID is the workspace ID (Overview page) "
                "and that ENTRA_HUNT_CLOUD matches the cloud the workspace is in",
            )
        if status == 429:
            wait = f"; it asked to wait {retry_after:g} s" if retry_after is not None else ""
            return BackendError(
                f"Log Analytics is throttling queries (HTTP 429{wait})",
                reason="throttled",
                where=self._where(),
                fix="Wait and run again; the API allows about 200 queries per 30 s per user",
                retry_after_seconds=retry_after,
            )
        if status == 504:
            return self._timeout_error(table)
        if status >= 500:
            return BackendError(
                f"Log Analytics failed to answer ({said})",
                reason="unavailable",
                where=self._where(),
                fix="Run again in a few minutes; check https://status.azure.com if it persists",
                retry_after_seconds=retry_after,
            )
        if table_missing(message, table):
            return MissingTableError(
                f"the workspace has no table {table} ({said})",
                table=table,
                where=self._where(table),
                fix=_CONNECTOR_FIX,
            )
        return QueryError(
            f"Log Analytics rejected the query ({said}: {safe_text(message)})",
            where=self._where(table),
            fix="This is a defect in the hunt or a change in the table's schema; please "
            "report it with the query text",
        )


# Every failure status raises before the SDK parses the body, which a gateway may have sent
# as HTML; the body is read here instead, leniently.
_EVERY_ERROR_STATUS: dict[int, type[HttpResponseError]] = dict.fromkeys(
    range(300, 600), HttpResponseError
)

_CONNECTOR_FIX = (
    "Connect Microsoft Entra ID sign-in logs to the workspace: in Microsoft Sentinel, the "
    "'Microsoft Entra ID' data connector with Sign-in logs ticked (or an Entra ID diagnostic "
    "setting sending SignInLogs to this workspace); check ENTRA_HUNT_SENTINEL_WORKSPACE_ID "
    "names the workspace Sentinel uses"
)


def _service_error(exc: HttpResponseError) -> tuple[str | None, str]:
    """The service's error code and innermost message, from the SDK model or the body."""
    model = exc.model
    if isinstance(model, LogsQueryError) and (model.code or model.message):
        return model.code or None, model.message or ""
    body: object = None
    if exc.response is not None:
        try:
            body = cast(AsyncHttpResponse, exc.response).json()
        except ValueError:
            body = None
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict):
        return None, ""
    code = error.get("code")
    inner = error
    while isinstance(inner.get("innererror"), dict):
        inner = inner["innererror"]
    return (str(code) if code else None), str(inner.get("message") or error.get("message") or "")


def _tabulate(
    response: LogsQueryResult | LogsQueryPartialResult,
) -> tuple[list[str], list[list[object]], str | None]:
    problem: str | None = None
    tables: list[LogsTable]
    if isinstance(response, LogsQueryPartialResult):
        tables = list(response.partial_data or [])
        problem = _partial_reason(response.partial_error)
    else:
        tables = list(response.tables or [])
    if not tables:
        if problem is not None:
            return [], [], problem
        raise ValueError("no result table")
    table = tables[0]
    columns = [str(c) for c in table.columns]
    rows = [[_value(v) for v in row] for row in table.rows]
    if any(len(r) != len(columns) for r in rows):
        raise ValueError("rows do not match the columns")
    return columns, rows, problem


def _partial_reason(error: LogsQueryError | None) -> str:
    """The service's reason for a partial answer: the innermost detail messages and codes."""
    if error is None:
        return "the service gave no reason"
    codes = [str(error.code)] if error.code else []
    messages: list[str] = []
    for detail in error.details or []:
        inner: object = detail
        while isinstance(inner, Mapping):
            code = inner.get("code")
            if code and str(code) not in codes and not str(code).lstrip("-").isdigit():
                codes.append(str(code))
            if not isinstance(inner.get("innererror"), Mapping):
                break
            inner = inner["innererror"]
        if isinstance(inner, Mapping) and inner.get("message"):
            messages.append(safe_text(inner["message"], 200))
    said = "; ".join(messages) or safe_text(error.message or "no message")
    return f"{said}; service code {', '.join(codes) or 'none'}"


def _value(value: object) -> object:
    if isinstance(value, datetime):
        return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)
    return value
