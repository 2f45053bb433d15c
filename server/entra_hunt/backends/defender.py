"""The Defender XDR backend: a hunt's KQL in advanced hunting, through Microsoft Graph.

Posts ``{"Query": ..., "Timespan": "start/end"}`` to ``{graph}/v1.0/security/runHuntingQuery``
with httpx and a bearer token for Graph from an azure-identity credential. Prefers
EntraIdSignInEvents and falls back to AADSignInEventsBeta when the tenant lacks it (probed once
per backend instance), saying so in the result. Keeps within the service's quotas: under 45
calls a minute (a process-wide limiter, 40 by default), ``Retry-After`` honoured on 429 within a
bounded wait, and an answer of 100,000 rows (the service's cap) flagged incomplete.

Needs: Microsoft Graph permission ThreatHunting.Read.All (application permission with admin
consent for a service principal). Limits: advanced hunting keeps 30 days, so an older window
is refused before any call; Graph in the China cloud does not offer advanced hunting.
"""

from __future__ import annotations

import json
import logging
import ssl
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import anyio
import httpx
from azure.core.credentials_async import AsyncTokenCredential
from azure.core.exceptions import ClientAuthenticationError

from entra_hunt.backends._cloud import (
    CLOUDS,
    MissingTableError,
    RateLimiter,
    Retrying,
    TableRange,
    origin,
    parse_retry_after,
    safe_text,
    second_bounds,
    table_missing,
)
from entra_hunt.backends.base import QueryRun
from entra_hunt.errors import BackendError, ParameterError, QueryError
from entra_hunt.hunts.base import RenderedQuery
from entra_hunt.hunts.params import BackendName

__all__ = [
    "DEFAULT_CALLS_PER_MINUTE",
    "DEFAULT_TIMEOUT",
    "MAX_LOOKBACK",
    "SERVICE_ROW_CAP",
    "SIGNIN_TABLES",
    "DefenderBackend",
]

logger = logging.getLogger(__name__)

#: Sign-in tables in advanced hunting, preferred first.
SIGNIN_TABLES: tuple[str, ...] = ("EntraIdSignInEvents", "AADSignInEventsBeta")

#: Advanced hunting keeps this much history.
MAX_LOOKBACK = timedelta(days=30)
#: Most rows one answer holds; an answer this long was cut by the service.
SERVICE_ROW_CAP = 100_000
#: The service stops a query after 200 s; the client waits a little longer for the answer.
DEFAULT_TIMEOUT = 210.0
#: Calls per minute this process allows itself; the service's quota is 45.
DEFAULT_CALLS_PER_MINUTE = 40

_PATH = "/v1.0/security/runHuntingQuery"
# A window that starts this little before the 30-day edge is the clock moving, not a request.
_EDGE_SLACK = timedelta(minutes=5)
_PERMISSION = "ThreatHunting.Read.All"

_LIMITERS: dict[tuple[str, int], RateLimiter] = {}


def shared_limiter(graph_endpoint: str, calls_per_minute: int) -> RateLimiter:
    """The process-wide limiter for one Graph endpoint, so every backend instance shares it."""
    key = (origin(graph_endpoint), calls_per_minute)
    if key not in _LIMITERS:
        _LIMITERS[key] = RateLimiter(calls_per_minute, 60.0)
    return _LIMITERS[key]


class DefenderBackend:
    """Runs hunts in Defender XDR advanced hunting over Microsoft Graph."""

    name = BackendName.DEFENDER
    #: The longest window this backend can hunt, counted back from now.
    max_lookback = MAX_LOOKBACK

    def __init__(
        self,
        *,
        credential: AsyncTokenCredential | None = None,
        graph_endpoint: str = CLOUDS["public"].graph_endpoint,
        authority_host: str | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        retrying: Retrying | None = None,
        rate_limiter: RateLimiter | None = None,
        calls_per_minute: int = DEFAULT_CALLS_PER_MINUTE,
        verify: bool | str = True,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        """Hunt through the Graph API at ``graph_endpoint``.

        Args:
            credential: an azure-identity async credential; default DefaultAzureCredential,
                created on first use and closed by :meth:`aclose`.
            graph_endpoint: Graph's host in the tenant's cloud, e.g.
                ``https://graph.microsoft.us`` (US Government L4) or
                ``https://dod-graph.microsoft.us`` (L5).
            authority_host: the Entra ID authority for the default credential.
            timeout: seconds to wait for one answer.
            retrying: how throttled and unavailable calls are retried.
            rate_limiter: the call budget; default shared by the process, per endpoint.
            calls_per_minute: the default budget's size (1 to 44).
            verify: TLS verification: True, or the path of a CA bundle to trust.
            clock: the current instant, for the 30-day check (tests pass a fixed one).
        """
        if not 1 <= calls_per_minute < 45:
            raise ValueError("calls_per_minute must be 1 to 44 (the service allows 45)")
        self.graph_endpoint = origin(graph_endpoint)
        self.timeout = timeout
        self._credential = credential
        self._owns_credential = credential is None
        self._authority_host = authority_host
        self._retrying = retrying or Retrying()
        self._limiter = rate_limiter or shared_limiter(self.graph_endpoint, calls_per_minute)
        self._verify = verify
        self._clock = clock or (lambda: datetime.now(UTC))
        self._tables: list[str] | None = None
        self._absent: set[str] = set()

    # -- the Backend protocol ----------------------------------------------------------------

    @property
    def dataset(self) -> str:
        """Advanced hunting, and the Graph host when not the public cloud's."""
        if self.graph_endpoint == CLOUDS["public"].graph_endpoint:
            return "Defender XDR advanced hunting"
        return f"Defender XDR advanced hunting at {self.graph_endpoint}"

    @property
    def reference_now(self) -> datetime | None:
        """None: lookbacks count back from the wall clock."""
        return None

    async def available_tables(self) -> list[str]:
        """The sign-in tables the tenant's advanced hunting has, probed once per instance.

        Raises:
            BackendError: ``not_found`` when neither table exists, or what stopped the probe.
        """
        if self._tables is None:
            found = []
            for table in SIGNIN_TABLES:
                if await self._has_table(table):
                    found.append(table)
                else:
                    self._absent.add(table)
            if not found:
                raise BackendError(
                    f"advanced hunting in this tenant has neither {' nor '.join(SIGNIN_TABLES)}",
                    reason="not_found",
                    where=self._where(),
                    fix="These tables need Microsoft Entra ID P2 and Defender XDR; check the "
                    "Schema list on the Advanced hunting page of the Defender portal, or hunt "
                    "with backend=sentinel",
                )
            self._tables = found
        return list(self._tables)

    async def run(self, query: RenderedQuery) -> QueryRun:
        """Run the hunt's KQL over its window; refuse windows older than 30 days.

        Raises:
            ParameterError: the window starts more than 30 days ago.
            BackendError: the service failed; see the reason.
        """
        self._check_window(query.start)
        low, high = second_bounds(query.start, query.end)
        columns, rows = await self._query(query.text, _interval(low, high), table=query.table)
        run = QueryRun(table=query.table, rows=[dict(zip(columns, r, strict=True)) for r in rows])
        if query.table != SIGNIN_TABLES[0] and SIGNIN_TABLES[0] in self._absent:
            run.notes.append(
                f"Advanced hunting in this tenant could not resolve {SIGNIN_TABLES[0]}, so the "
                f"hunt read {query.table}, the older table with the same sign-ins."
            )
        if len(rows) >= SERVICE_ROW_CAP:
            run.complete = False
            run.notes.append(
                f"Advanced hunting returned {SERVICE_ROW_CAP:,} rows, its most per query, so "
                "later sign-ins were cut. Narrow the window or the users and run again."
            )
        logger.info(
            "defender query: table=%s window=%s..%s rows=%d complete=%s",
            query.table,
            query.start.isoformat(),
            query.end.isoformat(),
            len(run.rows),
            run.complete,
        )
        return run

    async def coverage_note(self, table: str) -> str | None:
        """The time range ``table`` holds over the last 30 days, or None if unreadable."""
        try:
            held = await self.table_range(table)
        except BackendError as exc:
            logger.info("defender coverage of %s unavailable: %s", table, exc.reason)
            return None
        return None if held is None else held.sentence(self.dataset + " (last 30 days)")

    # -- diagnostics -------------------------------------------------------------------------

    async def check_credential(self) -> str:
        """Get a token for Graph; the credential's class name on success."""
        await self._token()
        return type(self._get_credential()).__name__

    async def table_range(self, table: str) -> TableRange | None:
        """Rows and time range ``table`` holds in the last 30 days; None if absent."""
        text = f"{table}\n| summarize Rows = count(), First = min(Timestamp), Last = max(Timestamp)"
        try:
            columns, rows = await self._query(text, "P30D", table=table)
        except MissingTableError:
            return None
        values = dict(zip(columns, rows[0], strict=True)) if rows else {}
        return TableRange.from_values(table, values)

    async def aclose(self) -> None:
        """Close the credential if this backend created it."""
        if self._owns_credential and self._credential is not None:
            await self._credential.close()
            self._credential = None

    async def __aenter__(self) -> DefenderBackend:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    # -- the service -------------------------------------------------------------------------

    def _where(self, table: str | None = None) -> str:
        return f"defender backend (table {table})" if table else "defender backend"

    def _check_window(self, start: datetime) -> None:
        oldest = self._clock().astimezone(UTC) - MAX_LOOKBACK
        if start < oldest - _EDGE_SLACK:
            days = (self._clock() - start).total_seconds() / 86400
            raise ParameterError(
                f"Defender XDR advanced hunting keeps 30 days of sign-ins, and this window "
                f"starts {days:.1f} days ago ({start.isoformat()})",
                where="lookback (or start)",
                fix="Use a lookback of at most '30d', or a start within the last 30 days; for "
                "older sign-ins hunt with backend=sentinel or load an export and use "
                "backend=local",
            )

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

    async def _token(self) -> str:
        try:
            token = await self._get_credential().get_token(f"{self.graph_endpoint}/.default")
        except ClientAuthenticationError as exc:
            raise BackendError(
                f"no Azure credential could get a token for Microsoft Graph ({type(exc).__name__})",
                reason="unauthorised",
                where=self._where(),
                fix="Hunting over Graph needs an app registration with the application "
                f"permission {_PERMISSION} (admin consent granted): set AZURE_TENANT_ID, "
                "AZURE_CLIENT_ID and AZURE_CLIENT_SECRET (or AZURE_CLIENT_CERTIFICATE_PATH); "
                "outside the public cloud also set ENTRA_HUNT_CLOUD",
            ) from None
        return token.token

    def _tls(self) -> ssl.SSLContext | bool:
        if isinstance(self._verify, str):
            return ssl.create_default_context(cafile=self._verify)
        return self._verify

    async def _has_table(self, table: str) -> bool:
        try:
            await self._query(f"{table}\n| take 0", "PT1H", table=table)
        except MissingTableError:
            return False
        return True

    async def _query(
        self, text: str, timespan: str, *, table: str
    ) -> tuple[list[str], list[list[object]]]:
        url = self.graph_endpoint + _PATH
        body = {"Query": text, "Timespan": timespan}

        async def attempt() -> httpx.Response:
            await self._limiter.acquire()
            headers = {"Authorization": f"Bearer {await self._token()}"}
            try:
                with anyio.fail_after(self.timeout):
                    async with httpx.AsyncClient(
                        verify=self._tls(), timeout=self.timeout, trust_env=True
                    ) as client:
                        response = await client.post(url, json=body, headers=headers)
            except (TimeoutError, httpx.TimeoutException):
                raise self._timeout_error(table) from None
            except httpx.TransportError as exc:
                raise BackendError(
                    f"could not reach Microsoft Graph at {self.graph_endpoint} "
                    f"({type(exc).__name__})",
                    reason="unavailable",
                    where=self._where(),
                    fix="Check the network and proxy; for US Government clouds set "
                    "ENTRA_HUNT_CLOUD (usgov, usgov-dod) or ENTRA_HUNT_GRAPH_ENDPOINT",
                ) from None
            if response.status_code != 200:
                raise self._http_error(response, table)
            return response

        response = await self._retrying.run(attempt, service="Defender XDR")
        try:
            return _tabulate(response.json())
        except (LookupError, TypeError, ValueError, AttributeError) as exc:
            logger.debug("unreadable runHuntingQuery answer", exc_info=True)
            raise self._malformed(type(exc).__name__) from None

    # -- errors ------------------------------------------------------------------------------

    def _timeout_error(self, table: str) -> BackendError:
        return BackendError(
            f"Defender XDR advanced hunting did not answer within {self.timeout:g} s",
            reason="timed_out",
            where=self._where(table),
            fix="Narrow the window or the users and run again (the service stops a query "
            "after about 200 s), or allow more time with ENTRA_HUNT_DEFENDER_TIMEOUT",
        )

    def _malformed(self, detail: str) -> BackendError:
        return BackendError(
            f"Microsoft Graph sent an answer that is not a hunting result ({detail})",
            reason="bad_response",
            where=self._where(),
            fix="Run again; if it persists, check that ENTRA_HUNT_GRAPH_ENDPOINT points at "
            "Microsoft Graph (e.g. https://graph.microsoft.com) and not a proxy page",
        )

    def _http_error(self, response: httpx.Response, table: str) -> BackendError | QueryError:
        status = response.status_code
        code, message = _graph_error(response)
        said = f"HTTP {status}" + (f", service code {code}" if code else "")
        retry_after = parse_retry_after(response.headers.get("Retry-After"))
        if status == 401:
            return BackendError(
                f"Microsoft Graph refused the credential ({said})",
                reason="unauthorised",
                where=self._where(),
                fix="Check AZURE_TENANT_ID names the tenant to hunt in and that the token is "
                "for this cloud's Graph (ENTRA_HUNT_CLOUD or ENTRA_HUNT_GRAPH_ENDPOINT)",
            )
        if status == 403:
            return BackendError(
                f"the identity may not run advanced hunting queries ({said})",
                reason="forbidden",
                where=self._where(),
                fix=f"Grant the app registration the Microsoft Graph application permission "
                f"{_PERMISSION} and grant admin consent (a signed-in user needs the delegated "
                f"{_PERMISSION} and a Defender XDR role that can view security data)",
            )
        if status == 429:
            wait = f"; it asked to wait {retry_after:g} s" if retry_after is not None else ""
            quota = f": {safe_text(message, 160)}" if message else ""
            return BackendError(
                f"Defender XDR advanced hunting quota reached ({said}{wait}){quota}",
                reason="throttled",
                where=self._where(),
                fix="Wait and run again; advanced hunting allows 45 calls a minute and a few "
                "minutes of query time per hour per tenant, shared with every other tool",
                retry_after_seconds=retry_after,
            )
        if status == 504:
            return self._timeout_error(table)
        if status >= 500:
            return BackendError(
                f"Microsoft Graph failed to answer ({said})",
                reason="unavailable",
                where=self._where(),
                fix="Run again in a few minutes; check the Microsoft 365 service health page "
                "if it persists",
                retry_after_seconds=retry_after,
            )
        if status == 404:
            return BackendError(
                f"Microsoft Graph has no runHuntingQuery action at {self.graph_endpoint} ({said})",
                reason="not_found",
                where=self._where(),
                fix="Check ENTRA_HUNT_GRAPH_ENDPOINT / ENTRA_HUNT_CLOUD; the China cloud does "
                "not offer advanced hunting",
            )
        if table_missing(message, table):
            return MissingTableError(
                f"advanced hunting in this tenant has no table {table} ({said})",
                table=table,
                where=self._where(table),
                fix="Leave the table parameter empty to use the table the tenant has, or check "
                "the Schema list on the Defender portal's Advanced hunting page",
            )
        if status == 400:
            return QueryError(
                f"advanced hunting rejected the query ({said}: {safe_text(message)})",
                where=self._where(table),
                fix="This is a defect in the hunt or a change in the table's schema; please "
                "report it with the query text",
            )
        return self._malformed(said)


def _interval(start: datetime, end: datetime) -> str:
    return f"{start:%Y-%m-%dT%H:%M:%SZ}/{end:%Y-%m-%dT%H:%M:%SZ}"


def _graph_error(response: httpx.Response) -> tuple[str | None, str]:
    try:
        body = response.json()
    except ValueError:
        return None, ""
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict):
        return None, ""
    code = error.get("code")
    return (safe_text(code, 60) if code else None), str(error.get("message") or "")


def _field(entry: dict[str, Any], key: str) -> Any:
    return entry.get(key, entry.get(key.capitalize()))


def _tabulate(payload: object) -> tuple[list[str], list[list[object]]]:
    if not isinstance(payload, dict):
        raise TypeError("the answer is not a JSON object")
    schema = _field(payload, "schema")
    results = _field(payload, "results")
    if not isinstance(schema, list) or not isinstance(results, list):
        raise KeyError("schema or results")
    columns = [(str(_field(c, "name")), str(_field(c, "type") or "").lower()) for c in schema]
    rows: list[list[object]] = []
    for result in results:
        if not isinstance(result, dict):
            raise TypeError("a result row is not an object")
        rows.append([_value(result.get(name), kind) for name, kind in columns])
    return [name for name, _ in columns], rows


def _value(value: object, kind: str) -> object:
    if kind == "datetime" and isinstance(value, str) and value:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
    if isinstance(value, dict | list):
        return json.dumps(value, separators=(",", ":"))
    return value
