"""The user timeline pivot: every sign-in and directory event of one user around a moment.

Renders one query per backend: on Log Analytics tables, SigninLogs, the non-interactive
sign-ins and AuditLogs (events the user initiated or was the target of) projected onto the
same columns and unioned; on the Defender tables, the one sign-in table (it holds both kinds
of sign-in; advanced hunting has no AuditLogs). The user and the window reach the query only
as ``let`` bindings.

Known limits: AuditLogs rows are matched by the initiating or first target user's UPN; other
directory events about the user are not shown.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from entra_hunt.hunts import signin
from entra_hunt.hunts.base import RenderedQuery
from entra_hunt.hunts.kql import Binding, compose, datetime_literal, string_literal
from entra_hunt.hunts.params import BackendName, Duration, Upn

__all__ = ["EVENT_COLUMNS", "TIMELINE_TABLES", "TimelineParameters", "render_timeline"]

_SPAN = Duration("span", timedelta(minutes=30), timedelta(days=7))

#: Main table per backend, preferred first; Log Analytics tables bring their companions.
TIMELINE_TABLES: dict[BackendName, tuple[str, ...]] = {
    BackendName.LOCAL: ("SigninLogs", "EntraIdSignInEvents", "AADSignInEventsBeta"),
    BackendName.SENTINEL: ("SigninLogs",),
    BackendName.DEFENDER: ("EntraIdSignInEvents", "AADSignInEventsBeta"),
}
_COMPANIONS = ("AADNonInteractiveUserSignInLogs", "AuditLogs")

EVENT_COLUMNS = (
    "Time",
    "Table",
    "Kind",
    "App",
    "Resource",
    "IPAddress",
    "Country",
    "City",
    "DeviceId",
    "DeviceName",
    "DeviceOS",
    "TrustType",
    "Managed",
    "Result",
    "Protocol",
    "TokenType",
    "Transfer",
    "UserAgent",
    "SessionId",
    "CorrelationId",
    "Operation",
)


def _as_utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class TimelineParameters(BaseModel):
    """What the timeline pivot accepts."""

    model_config = ConfigDict(extra="forbid")

    user: Upn = Field(description="The user principal name, e.g. alice@contoso.com.")
    around: Annotated[datetime, AfterValidator(_as_utc)] = Field(
        description="The moment to centre on, ISO 8601, UTC unless an offset is given (for "
        "example a finding's time)."
    )
    span: Annotated[str, AfterValidator(_SPAN.check)] = Field(
        default="24h",
        description="How far before and after 'around' to read, e.g. '24h' (30m to 7d, "
        "default 24h): the window is twice this long.",
    )
    backend: BackendName = Field(
        default=BackendName.LOCAL,
        description="Where to read: 'local' (default; loaded exports or the demo dataset), "
        "'sentinel' or 'defender'.",
    )
    max_events: int = Field(
        default=200,
        ge=1,
        le=1000,
        description="Most events to return, oldest first (1-1000, default 200); the result "
        "says when there were more.",
    )
    table: str | None = Field(
        default=None,
        description="Override the main table (e.g. 'AADSignInEventsBeta' on defender). "
        "Usually left empty.",
    )

    def window(self) -> tuple[datetime, datetime]:
        """``around`` minus and plus ``span``, in UTC."""
        span = _SPAN.parse(self.span)
        return self.around - span, self.around + span


def _log_analytics_leg(table: str, kind: str) -> str:
    spelling = signin.SPELLINGS[table]
    device = spelling.column
    managed = device("DeviceManaged")
    return (
        f"{table}\n"
        "| where TimeGenerated between (window_start .. window_end)\n"
        "| where UserPrincipalName =~ target_user\n"
        f'| project Time = TimeGenerated, Table = "{table}", Kind = {kind},\n'
        "    App = AppDisplayName, Resource = ResourceDisplayName, IPAddress,\n"
        f"    Country = {device('Country')}, City = {device('City')},\n"
        f"    DeviceId = {device('DeviceId')}, DeviceName = {device('DeviceName')},\n"
        f"    DeviceOS = {device('DeviceOS')}, TrustType = {device('TrustType')},\n"
        f"    Managed = {managed}, Result = ResultType, Protocol = AuthenticationProtocol,\n"
        "    TokenType = IncomingTokenType, Transfer = OriginalTransferMethod, UserAgent,\n"
        '    SessionId, CorrelationId, Operation = ""'
    )


def _log_analytics_body(row_limit: int) -> str:
    interactive = _log_analytics_leg(
        "SigninLogs",
        'iff(AuthenticationProtocol == "deviceCode", "device code sign-in", "interactive sign-in")',
    )
    non_interactive = _log_analytics_leg(
        "AADNonInteractiveUserSignInLogs",
        'iff(OriginalTransferMethod == "deviceCodeFlow", "token from device code", '
        '"non-interactive sign-in")',
    )
    return (
        f"let interactive = {interactive};\n"
        f"let non_interactive = {non_interactive};\n"
        "let directory = AuditLogs\n"
        "| where TimeGenerated between (window_start .. window_end)\n"
        "| extend Initiator = tostring(InitiatedBy.user.userPrincipalName),\n"
        "    Target = tostring(TargetResources[0].userPrincipalName)\n"
        "| where Initiator =~ target_user or Target =~ target_user\n"
        '| project Time = TimeGenerated, Table = "AuditLogs",\n'
        '    Kind = iff(OperationName == "Register device", "device registration", '
        '"directory change"),\n'
        "    App = LoggedByService, Resource = tostring(TargetResources[0].displayName),\n"
        '    IPAddress = tostring(InitiatedBy.user.ipAddress), Country = "", City = "",\n'
        '    DeviceId = "", DeviceName = "", DeviceOS = "", TrustType = "", Managed = "",\n'
        '    Result, Protocol = "", TokenType = "", Transfer = "", UserAgent = "",\n'
        '    SessionId = "", CorrelationId, Operation = OperationName;\n'
        "union interactive, non_interactive, directory\n"
        "| order by Time asc\n"
        f"| take {int(row_limit)}"
    )


def _advanced_hunting_body(table: str, row_limit: int) -> str:
    spelling = signin.SPELLINGS[table]
    column = spelling.column
    return (
        f"{table}\n"
        "| where Timestamp between (window_start .. window_end)\n"
        "| where AccountUpn =~ target_user\n"
        f'| project Time = Timestamp, Table = "{table}",\n'
        f'    Kind = iff({spelling.device_code}, "device code sign-in",\n'
        f'        iff({spelling.non_interactive}, "non-interactive sign-in", '
        '"interactive sign-in")),\n'
        "    App = Application, Resource = ResourceDisplayName, IPAddress, Country, City,\n"
        f"    DeviceId = {column('DeviceId')}, DeviceName, DeviceOS = OSPlatform,\n"
        "    TrustType = DeviceTrustType, Managed = tostring(IsManaged),\n"
        '    Result = tostring(ErrorCode), Protocol = EndpointCall, TokenType = "",\n'
        '    Transfer = "", UserAgent, SessionId, CorrelationId, Operation = ""\n'
        "| order by Time asc\n"
        f"| take {int(row_limit)}"
    )


def render_timeline(params: TimelineParameters, table: str, row_limit: int) -> RenderedQuery:
    """The timeline query for main table ``table``, returning at most ``row_limit`` events."""
    start, end = params.window()
    bindings = [
        Binding("target_user", string_literal(params.user)),
        Binding("window_start", datetime_literal(start)),
        Binding("window_end", datetime_literal(end)),
    ]
    if signin.SPELLINGS[table].defender:
        body = _advanced_hunting_body(table, row_limit)
        reads: tuple[str, ...] = ()
    else:
        body = _log_analytics_body(row_limit)
        reads = _COMPANIONS
    text = compose("entra-hunt user timeline", bindings, body)
    return RenderedQuery("user-timeline", table, text, start, end, row_limit, reads)
