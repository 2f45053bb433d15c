"""Loopback stand-ins for the two cloud APIs, and the one thing we fake outright: the credential.

Two small HTTPS services (uvicorn in a thread, a trustme certificate) answer the real SDK
clients: one speaks the Log Analytics query API (``POST /v1/workspaces/{id}/query``), one
Microsoft Graph's ``POST /v1.0/security/runHuntingQuery``. Each runs the KQL it receives on the
embedded engine over the test data, limited to the request's timespan, and answers in the
service's response shape. Faults are queued per service and consumed one request at a time.
"""

from __future__ import annotations

import asyncio
import json
import re
import socket
import threading
import time
from collections import deque
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import uvicorn
from azure.core.credentials import AccessToken
from azure.core.exceptions import ClientAuthenticationError

from entra_hunt.engine.schema import table_schema
from entra_hunt.engine.store import Store
from entra_hunt.errors import QueryError

FAKE_TOKEN = "eyJ0eXAiOiJKV1QifQ.eyJmYWtlIjoidGVzdCJ9.c2lnbmF0dXJlLW5vdC1yZWFs"
WORKSPACE_ID = "11111111-2222-3333-4444-555555555555"
#: Something no user-facing message may ever contain.
STACK_TRACE = "Traceback (most recent call last): at Kusto.Engine.Execute() line 42"

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]


class FakeCredential:
    """An azure-identity style async credential that hands out a fixed token (no Entra ID)."""

    def __init__(self, *, fail: bool = False) -> None:
        self.fail = fail
        self.scopes: list[str] = []
        self.closed = False

    async def get_token(
        self,
        *scopes: str,
        claims: str | None = None,
        tenant_id: str | None = None,
        enable_cae: bool = False,
        **kwargs: Any,
    ) -> AccessToken:
        if self.fail:
            raise ClientAuthenticationError(
                f"EnvironmentCredential: no AZURE_CLIENT_SECRET. {STACK_TRACE}"
            )
        self.scopes.extend(scopes)
        return AccessToken(FAKE_TOKEN, int(time.time()) + 3600)

    async def close(self) -> None:
        self.closed = True

    async def __aenter__(self) -> FakeCredential:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()


@dataclass
class Fault:
    """What the service does instead of answering, for the next ``times`` matching requests."""

    status: int = 200
    body: object = None
    raw: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    partial: bool = False
    times: int = 1
    match: str | None = None


@dataclass
class Received:
    """One request as the service saw it."""

    path: str
    authorization: str | None
    prefer: str | None
    body: dict[str, Any]
    receive: Receive | None = None

    async def disconnected(self) -> None:
        """Return when the client hangs up."""
        while self.receive is not None:
            if (await self.receive())["type"] == "http.disconnect":
                return


class SignInData:
    """The test data: the bundled demo dataset, or the same data generated into a file."""

    def __init__(self, database: Path | None) -> None:
        self.database = database

    @contextmanager
    def store(self) -> Iterator[Store]:
        if self.database is None:
            from entra_hunt.backends.local import demo_store

            yield demo_store()
        else:
            with Store(self.database, read_only=True) as store:
                yield store


class FakeService:
    """An HTTPS service on 127.0.0.1 running in a thread; subclasses answer requests."""

    def __init__(self, data: SignInData, certfile: Path, now: datetime) -> None:
        self.data = data
        self.now = now
        self.faults: deque[Fault] = deque()
        self.absent_tables: set[str] = set()
        self.received: list[Received] = []
        self._certfile = certfile
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self.port = 0

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    def start(self) -> None:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind(("127.0.0.1", 0))
        self.port = sock.getsockname()[1]
        config = uvicorn.Config(
            self._app,
            interface="asgi3",
            ssl_certfile=str(self._certfile),
            log_level="error",
            lifespan="off",
            access_log=False,
            timeout_graceful_shutdown=1,
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [sock]}, daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("the fake service did not start")
            time.sleep(0.01)

    def stop(self) -> None:
        if self._server is not None and self._thread is not None:
            self._server.should_exit = True
            self._thread.join(timeout=5)

    def reset(self) -> None:
        self.faults.clear()
        self.absent_tables.clear()
        self.received.clear()

    def inject(self, fault: Fault) -> None:
        self.faults.append(fault)

    def queries(self) -> list[str]:
        return [str(r.body.get("query") or r.body.get("Query")) for r in self.received]

    # -- ASGI --------------------------------------------------------------------------------

    async def _app(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        chunks = []
        while True:
            message = await receive()
            chunks.append(message.get("body", b""))
            if not message.get("more_body"):
                break
        headers = {k.decode().lower(): v.decode() for k, v in scope["headers"]}
        try:
            body = json.loads(b"".join(chunks) or b"{}")
        except ValueError:
            body = {}
        request = Received(
            scope["path"], headers.get("authorization"), headers.get("prefer"), body, receive
        )
        self.received.append(request)
        status, extra, payload = await self._answer(request)
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [(b"content-type", b"application/json; charset=utf-8")]
                + [(k.encode(), v.encode()) for k, v in extra.items()],
            }
        )
        await send({"type": "http.response.body", "body": payload})

    async def _answer(self, request: Received) -> tuple[int, dict[str, str], bytes]:
        if request.authorization != f"Bearer {FAKE_TOKEN}":
            return 401, {}, _json(self.unauthorised_body())
        query = str(request.body.get("query") or request.body.get("Query") or "")
        fault = self._next_fault(query)
        if fault is not None and fault.delay:
            try:
                await asyncio.wait_for(request.disconnected(), timeout=fault.delay)
            except TimeoutError:
                pass
            else:
                return 499, {}, b""  # the client gave up; nobody reads this
        if (
            fault is not None
            and not fault.partial
            and (fault.status != 200 or fault.raw or fault.body is not None)
        ):
            payload = fault.raw if fault.raw is not None else _json(fault.body)
            return fault.status, fault.headers, payload
        missing = self._missing_table(query)
        if missing is not None:
            return 400, {}, _json(self.missing_table_body(missing))
        window = self.window(request.body)
        try:
            columns, rows = self._execute(query, window)
        except QueryError as exc:
            name = re.search(r"Table with name (\w+) does not exist", exc.message)
            if name:
                return 400, {}, _json(self.missing_table_body(name.group(1)))
            return 400, {}, _json(self.syntax_error_body())
        status, answer = self.result(columns, rows, partial=fault is not None and fault.partial)
        return status, {}, _json(answer)

    def _next_fault(self, query: str) -> Fault | None:
        for fault in self.faults:
            if fault.match is None or fault.match in query:
                fault.times -= 1
                if fault.times <= 0:
                    self.faults.remove(fault)
                return fault
        return None

    def _missing_table(self, query: str) -> str | None:
        for table in self.absent_tables:
            if re.search(rf"\b{table}\b", query):
                return table
        return None

    def _execute(
        self, query: str, window: tuple[datetime, datetime] | None
    ) -> tuple[list[str], list[tuple[Any, ...]]]:
        prefix = ""
        if window is not None:
            for table in (
                "SigninLogs",
                "AADNonInteractiveUserSignInLogs",
                "EntraIdSignInEvents",
                "AADSignInEventsBeta",
            ):
                if re.search(rf"\b{table}\b", query):
                    column = table_schema(table).time_column
                    prefix += (
                        f"let {table} = {table} | where {column} >= datetime({_iso(window[0])}) "
                        f"and {column} < datetime({_iso(window[1])});\n"
                    )
        with self.data.store() as store:
            return store.kql(prefix + query)

    # -- what subclasses say -----------------------------------------------------------------

    def window(self, body: dict[str, Any]) -> tuple[datetime, datetime] | None:
        raise NotImplementedError

    def result(
        self, columns: list[str], rows: list[tuple[Any, ...]], *, partial: bool
    ) -> tuple[int, object]:
        raise NotImplementedError

    def unauthorised_body(self) -> object:
        raise NotImplementedError

    def missing_table_body(self, table: str) -> object:
        raise NotImplementedError

    def syntax_error_body(self) -> object:
        raise NotImplementedError


class LogAnalyticsService(FakeService):
    """``POST /v1/workspaces/{id}/query``: ``{"tables": [{"name", "columns", "rows"}]}``."""

    workspace_id = WORKSPACE_ID

    async def _answer(self, request: Received) -> tuple[int, dict[str, str], bytes]:
        if request.path != f"/v1/workspaces/{self.workspace_id}/query":
            return (
                404,
                {},
                _json(
                    {
                        "error": {
                            "code": "WorkspaceNotFoundError",
                            "message": "The workspace could not be found",
                        }
                    }
                ),
            )
        return await super()._answer(request)

    def window(self, body: dict[str, Any]) -> tuple[datetime, datetime] | None:
        return _timespan(body.get("timespan"), self.now)

    def result(
        self, columns: list[str], rows: list[tuple[Any, ...]], *, partial: bool
    ) -> tuple[int, object]:
        kept = rows[: len(rows) // 2] if partial else rows
        payload: dict[str, object] = {
            "tables": [
                {
                    "name": "PrimaryResult",
                    "columns": [
                        {"name": c, "type": _kusto_type(rows, i)} for i, c in enumerate(columns)
                    ],
                    "rows": [[_plain(v) for v in row] for row in kept],
                }
            ]
        }
        if partial:
            payload["error"] = {
                "code": "PartialError",
                "message": "There were some errors when processing your query.",
                "details": [
                    {
                        "code": "EngineError",
                        "message": "Something went wrong processing your query on the server.",
                        "innererror": {
                            "code": "-2133196797",
                            "message": "Query result set has exceeded the internal record count "
                            "limit 500000 (E_QUERY_RESULT_SET_TOO_LARGE; see "
                            "https://aka.ms/kustoquerylimits)",
                            "severity": 2,
                            "severityName": "Error",
                        },
                    }
                ],
            }
        return 200, payload

    def unauthorised_body(self) -> object:
        return {
            "error": {
                "code": "InvalidTokenError",
                "message": "The provided authentication is not valid for this resource",
            }
        }

    def missing_table_body(self, table: str) -> object:
        return {
            "error": {
                "message": "The request had some invalid properties",
                "code": "BadArgumentError",
                "correlationId": "00000000-0000-0000-0000-000000000001",
                "innererror": {
                    "code": "SemanticError",
                    "message": "A semantic error occurred.",
                    "innererror": {
                        "code": "SEM0100",
                        "message": f"'take' operator: Failed to resolve table or column expression "
                        f"named '{table}'",
                    },
                },
            }
        }

    def syntax_error_body(self) -> object:
        return {
            "error": {
                "message": "The request had some invalid properties",
                "code": "BadArgumentError",
                "innererror": {"code": "SyntaxError", "message": "A recognition error occurred."},
            }
        }


class GraphHuntingService(FakeService):
    """``POST /v1.0/security/runHuntingQuery``: ``{"schema": [...], "results": [{...}]}``."""

    async def _answer(self, request: Received) -> tuple[int, dict[str, str], bytes]:
        if request.path != "/v1.0/security/runHuntingQuery":
            return (
                404,
                {},
                _json(
                    {
                        "error": {
                            "code": "BadRequest",
                            "message": "Resource not found for the segment",
                        }
                    }
                ),
            )
        return await super()._answer(request)

    def window(self, body: dict[str, Any]) -> tuple[datetime, datetime] | None:
        return _timespan(body.get("Timespan") or "P30D", self.now)

    def result(
        self, columns: list[str], rows: list[tuple[Any, ...]], *, partial: bool
    ) -> tuple[int, object]:
        types = {
            "datetime": "DateTime",
            "string": "String",
            "long": "Int64",
            "bool": "Boolean",
            "real": "Double",
            "dynamic": "Object",
        }
        return 200, {
            "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#microsoft.graph."
            "security.huntingQueryResults",
            "schema": [
                {"name": c, "type": types[_kusto_type(rows, i)]} for i, c in enumerate(columns)
            ],
            "results": [{c: _plain(v) for c, v in zip(columns, row, strict=True)} for row in rows],
        }

    def unauthorised_body(self) -> object:
        return graph_error("InvalidAuthenticationToken", "Access token validation failure.")

    def missing_table_body(self, table: str) -> object:
        return graph_error(
            "BadRequest",
            f"Failed to resolve table or column expression named '{table}'",
        )

    def syntax_error_body(self) -> object:
        return graph_error("BadRequest", "Syntax error: query could not be parsed")


def graph_error(code: str, message: str) -> dict[str, object]:
    """Graph's error envelope."""
    return {
        "error": {
            "code": code,
            "message": message,
            "innerError": {
                "date": "2026-11-30T00:00:00",
                "request-id": "6f0c1d2e-0000-4000-8000-000000000000",
                "client-request-id": "6f0c1d2e-0000-4000-8000-000000000001",
            },
        }
    }


def _json(value: object) -> bytes:
    return json.dumps(value).encode("utf-8")


def _iso(instant: datetime) -> str:
    return instant.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _plain(value: object) -> object:
    if isinstance(value, datetime):
        utc = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
        return utc.strftime("%Y-%m-%dT%H:%M:%S.%f") + "0Z"
    return value


def _kusto_type(rows: list[tuple[Any, ...]], index: int) -> str:
    for row in rows:
        value = row[index]
        if value is None:
            continue
        if isinstance(value, datetime):
            return "datetime"
        if isinstance(value, bool):
            return "bool"
        if isinstance(value, int):
            return "long"
        if isinstance(value, float):
            return "real"
        if isinstance(value, dict | list):
            return "dynamic"
        return "string"
    return "string"


_DURATION = re.compile(r"^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:([\d.]+)S)?)?$")


def _duration(text: str) -> timedelta:
    match = _DURATION.match(text)
    if not match:
        raise ValueError(f"not an ISO 8601 duration: {text}")
    days, hours, minutes, seconds = (float(g) if g else 0.0 for g in match.groups())
    return timedelta(days=days, hours=hours, minutes=minutes, seconds=seconds)


def _instant(text: str) -> datetime:
    parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def _timespan(value: object, now: datetime) -> tuple[datetime, datetime] | None:
    """An ISO 8601 interval ("start/end", "start/duration") or a duration back from ``now``."""
    if not value:
        return None
    text = str(value)
    if "/" in text:
        first, second = text.split("/", 1)
        start = _instant(first)
        end = start + _duration(second) if second.startswith("P") else _instant(second)
        return start, end
    return now - _duration(text), now


def assert_actionable(error: BaseException, *forbidden: str) -> None:
    """A message a user can act on: a fix, no stack trace, no raw SDK or service dump."""
    from entra_hunt.errors import EntraHuntError

    assert isinstance(error, EntraHuntError), type(error)
    message = error.message
    assert error.fix, message
    assert len(message) < 700, message
    for dump in (
        STACK_TRACE,
        "Traceback",
        FAKE_TOKEN,
        "HttpResponseError",
        "azure.core",
        "{'",
        '{"',
        "<html",
        *forbidden,
    ):
        assert dump not in message, (dump, message)
