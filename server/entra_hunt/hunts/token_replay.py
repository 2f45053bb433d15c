"""Hunt: tokens from a device code sign-in used from somewhere the sign-in was not.

Takes the non-interactive sign-ins descended from a device code grant (OriginalTransferMethod
``deviceCodeFlow`` in AADNonInteractiveUserSignInLogs) and compares each with the device code
sign-in that started its session (SigninLogs, same SessionId and user, up to
``origin_lookback`` before the window): rows from another IP address, country or user agent
are kept. One finding per session and IP address, with the first and last use, the resources
reached and the origin it departs from.

On the Defender tables (no OriginalTransferMethod) the descendants are the non-interactive
rows sharing the device code sign-in's SessionId.

Known limits: a token whose device code sign-in is older than ``origin_lookback`` is not
compared (the origin is not read); a refresh from a new IP can be a roaming laptop or phone,
which the triage weighs (same country, managed device).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Annotated, Self

from pydantic import AfterValidator, Field, model_validator

from entra_hunt.context.campaign import TOKEN_REPLAY
from entra_hunt.findings.models import Evidence, Finding, Step, untrusted_text
from entra_hunt.findings.triage import Signal, signal, triage
from entra_hunt.hunts import signin
from entra_hunt.hunts.base import Hunt, RenderedQuery
from entra_hunt.hunts.kql import Binding, compose, datetime_literal, dynamic_strings
from entra_hunt.hunts.params import BackendName, Duration, HuntParameters

__all__ = ["TokenReplayHunt", "TokenReplayParameters"]

_ORIGIN = Duration("origin_lookback", timedelta(hours=1), timedelta(days=90))
_DEFENDER = timedelta(days=30)

ORIGIN_COLUMNS = (
    "OriginTime",
    "OriginAddress",
    "OriginCountry",
    "OriginAgent",
    "OriginManaged",
    "OriginRequest",
    "OriginApp",
)
_EVIDENCE = ("FlowMarker", "IPAddress", "Country", "AutonomousSystem", "UserAgent", "DeviceId")


class TokenReplayParameters(HuntParameters):
    """Parameters of the token replay hunt."""

    origin_lookback: Annotated[str, AfterValidator(_ORIGIN.check)] = Field(
        default="14d",
        description="How far before the window to look for the device code sign-in a token "
        "came from, e.g. '14d' (1h to 90d, default 14d; refresh tokens live 90 days). On "
        "defender, lookback plus origin_lookback must fit in its 30 days.",
    )

    def origin_span(self) -> timedelta:
        """``origin_lookback`` as a timedelta."""
        return _ORIGIN.parse(self.origin_lookback)

    @model_validator(mode="after")
    def _fits_defender_history(self) -> Self:
        if self.backend is BackendName.DEFENDER and self.span() + self.origin_span() > _DEFENDER:
            raise ValueError(
                "on defender the window plus origin_lookback must fit in 30 days; shorten "
                "origin_lookback or lookback"
            )
        return self


def _log_analytics_body(users: bool, row_limit: int) -> str:
    origin = signin.SPELLINGS["SigninLogs"]
    used = signin.SPELLINGS["AADNonInteractiveUserSignInLogs"]
    user_filter = "| where UserPrincipalName in~ (target_users)\n" if users else ""
    return (
        "let origins = SigninLogs\n"
        "| where TimeGenerated between (origin_start .. window_end)\n"
        '| where AuthenticationProtocol == "deviceCode" and ResultType == "0"\n'
        f"{user_filter}"
        "| project SessionId, OriginUser = tolower(UserPrincipalName), "
        "OriginTime = TimeGenerated,\n"
        f"    OriginAddress = IPAddress, OriginCountry = {origin.column('Country')}, "
        "OriginAgent = UserAgent,\n"
        f"    OriginManaged = iff({origin.managed}, 1, 0), OriginRequest = Id, "
        "OriginApp = AppDisplayName\n"
        "| summarize arg_min(OriginTime, *) by SessionId;\n"
        "AADNonInteractiveUserSignInLogs\n"
        "| where TimeGenerated between (window_start .. window_end)\n"
        '| where OriginalTransferMethod == "deviceCodeFlow" and ResultType == "0"\n'
        f"{user_filter}"
        f"| project\n    {used.project()}\n" + _tail(row_limit)
    )


def _advanced_hunting_body(table: str, users: bool, row_limit: int) -> str:
    spelling = signin.SPELLINGS[table]
    user_filter = "| where AccountUpn in~ (target_users)\n" if users else ""
    return (
        f"let origins = {table}\n"
        "| where Timestamp between (origin_start .. window_end)\n"
        f"| where {spelling.device_code} and {spelling.success}\n"
        f"{user_filter}"
        "| project SessionId, OriginUser = tolower(AccountUpn), OriginTime = Timestamp,\n"
        "    OriginAddress = IPAddress, OriginCountry = Country, OriginAgent = UserAgent,\n"
        f"    OriginManaged = iff({spelling.managed}, 1, 0), OriginRequest = RequestId, "
        "OriginApp = Application\n"
        "| summarize arg_min(OriginTime, *) by SessionId;\n"
        f"{table}\n"
        "| where Timestamp between (window_start .. window_end)\n"
        f"| where {spelling.non_interactive} and {spelling.success}\n"
        f"{user_filter}"
        f"| project\n    {spelling.project()}\n" + _tail(row_limit)
    )


def _tail(row_limit: int) -> str:
    """Join the uses to their origin, keep departures, one row per session and address."""
    origin = ", ".join(f"{name} = take_any({name})" for name in ORIGIN_COLUMNS)
    return (
        "| join kind=inner origins on SessionId\n"
        "| where tolower(User) == OriginUser\n"
        "| where IPAddress != OriginAddress or Country != OriginCountry "
        "or UserAgent != OriginAgent\n"
        "| summarize Uses = count(), FirstSeen = min(SignInTime), LastSeen = max(SignInTime),\n"
        "    Resources = make_set(ResourceName, 10), UserAgents = make_set(UserAgent, 5),\n"
        "    User = take_any(User), UserId = take_any(UserId), AppName = take_any(AppName),\n"
        "    AppId = take_any(AppId), ResourceName = take_any(ResourceName),\n"
        "    ResourceId = take_any(ResourceId), Country = take_any(Country),\n"
        "    City = take_any(City), AutonomousSystem = take_any(AutonomousSystem),\n"
        "    DeviceId = take_any(DeviceId), DeviceName = take_any(DeviceName),\n"
        "    DeviceOS = take_any(DeviceOS), Browser = take_any(Browser),\n"
        "    TrustType = take_any(TrustType), DeviceManaged = take_any(DeviceManaged),\n"
        "    DeviceCompliant = take_any(DeviceCompliant),\n"
        "    RiskDuringSignIn = take_any(RiskDuringSignIn),\n"
        "    RiskAggregated = take_any(RiskAggregated),\n"
        "    CorrelationId = take_any(CorrelationId), RequestId = take_any(RequestId),\n"
        "    UserAgent = take_any(UserAgent), NetworkLocations = take_any(NetworkLocations),\n"
        "    FlowMarker = take_any(FlowMarker),\n"
        f"    {origin}\n"
        "    by SessionId, IPAddress\n"
        '| extend SignInTime = FirstSeen, ResultCode = "0"\n'
        "| order by FirstSeen asc\n"
        f"| take {int(row_limit)}"
    )


class TokenReplayHunt(Hunt):
    """Tokens of a device code sign-in used from another IP, country or user agent."""

    id = "device-code-token-replay"
    title = "Token replay: device code tokens used from elsewhere"
    summary = (
        "Non-interactive sign-ins descended from a device code grant (OriginalTransferMethod "
        "deviceCodeFlow) from an IP address, country or user agent the device code sign-in "
        "itself did not use: the phished tokens at work."
    )
    techniques = TOKEN_REPLAY.techniques
    parameters = TokenReplayParameters
    context = TOKEN_REPLAY
    tables = {
        BackendName.LOCAL: (
            "AADNonInteractiveUserSignInLogs",
            "EntraIdSignInEvents",
            "AADSignInEventsBeta",
        ),
        BackendName.SENTINEL: ("AADNonInteractiveUserSignInLogs",),
        BackendName.DEFENDER: ("EntraIdSignInEvents", "AADSignInEventsBeta"),
    }
    companions = {"AADNonInteractiveUserSignInLogs": ("SigninLogs",)}
    limits = {
        BackendName.DEFENDER: "No OriginalTransferMethod: uses are the non-interactive rows "
        "sharing the device code sign-in's SessionId. No autonomous system number: no "
        "hosting-provider signal. lookback plus origin_lookback must fit in 30 days.",
        BackendName.SENTINEL: "Needs AADNonInteractiveUserSignInLogs in the workspace (a "
        "separate diagnostic setting from SigninLogs).",
    }
    signals = (
        "token-ip-changed",
        "token-country-changed",
        "token-agent-changed",
        "unmanaged-device-code",
        "hosting-provider-ip",
        "risky",
        "off-hours",
        "managed-device",
        "trusted-location",
    )

    def render(
        self, params: HuntParameters, table: str, start: datetime, end: datetime, row_limit: int
    ) -> RenderedQuery:
        """The replay query for ``table``; it reads origins from before the window too."""
        assert isinstance(params, TokenReplayParameters)
        origin_start = start - params.origin_span()
        bindings = [
            Binding("window_start", datetime_literal(start)),
            Binding("window_end", datetime_literal(end)),
            Binding("origin_start", datetime_literal(origin_start)),
        ]
        if params.users:
            bindings.append(Binding("target_users", dynamic_strings(params.users)))
        if signin.SPELLINGS[table].defender:
            body = _advanced_hunting_body(table, bool(params.users), row_limit)
        else:
            body = _log_analytics_body(bool(params.users), row_limit)
        text = compose(f"entra-hunt {self.id}: {self.title}", bindings, body)
        reads = self.companions.get(table, ())
        return RenderedQuery(self.id, table, text, origin_start, end, row_limit, reads)

    def notes(self, params: HuntParameters) -> list[str]:
        """Say how far back origins were read."""
        assert isinstance(params, TokenReplayParameters)
        return [
            f"Device code sign-ins were read from {params.origin_lookback} before the window "
            "as origins; tokens whose device code sign-in is older are not compared "
            "(raise origin_lookback to include them)."
        ]

    def finding(self, row: Mapping[str, object], table: str, params: HuntParameters) -> Finding:
        """One session's tokens used from one address, compared with their origin."""
        cells = signin.row_text(row)
        origin = {name: signin.text(row.get(name)) for name in ORIGIN_COLUMNS}
        first = signin.instant(row.get("FirstSeen"))
        last = signin.instant(row.get("LastSeen"))
        origin_time = signin.optional_instant(row.get("OriginTime"))
        agents = signin.strings(row.get("UserAgents"), cap=5)
        resources = signin.strings(row.get("Resources"), cap=10)
        uses = int(str(row.get("Uses") or 0))

        signals = _replay_signals(cells, origin, agents)
        late = signin.off_hours_signal(first, params.zone())
        if late:
            signals.append(late)
        outcome = triage(signals)
        origin_table = table if signin.SPELLINGS[table].defender else "SigninLogs"
        steps = [
            Step(
                name="Device code sign-in that issued the tokens",
                seen=origin_time is not None,
                time=origin_time,
                table=origin_table,
                detail=untrusted_text(
                    f"{origin['OriginApp']} from {origin['OriginAddress']} "
                    f"({origin['OriginCountry']})"
                ),
            ),
            Step(
                name="Tokens used from elsewhere",
                seen=True,
                time=first,
                table=table,
                detail=untrusted_text(
                    f"{uses} use(s) from {cells['IPAddress']} ({cells['Country']}) for "
                    f"{', '.join(resources)}"
                ),
            ),
        ]
        evidence = signin.evidence(cells, table, _EVIDENCE)
        evidence += [
            Evidence(field=f"origin {name}", value=untrusted_text(origin[name]))
            for name in ("OriginRequest", "OriginAddress", "OriginCountry", "OriginAgent")
            if origin[name]
        ]
        return signin.finding(
            cells,
            id=f"replay:{cells['SessionId']}:{cells['IPAddress']}",
            time=first,
            outcome=outcome,
            evidence=evidence,
            subject="session",
            first_seen=first,
            last_seen=last,
            events=uses,
            steps=steps,
        )


def _replay_signals(
    cells: Mapping[str, str | None], origin: Mapping[str, str | None], agents: list[str]
) -> list[Signal]:
    signals: list[Signal] = []
    if cells["IPAddress"] != origin["OriginAddress"]:
        signals.append(
            signal(
                "token-ip-changed",
                "Used from an IP address the device code sign-in did not come from (both in "
                "the steps)",
            )
        )
    if (cells["Country"] or "") != (origin["OriginCountry"] or ""):
        signals.append(
            signal(
                "token-country-changed",
                "Used from a different country than the device code sign-in (both in the steps)",
            )
        )
    if any(agent != (origin["OriginAgent"] or "") for agent in agents):
        signals.append(
            signal(
                "token-agent-changed",
                "Used with a user agent the device code sign-in did not have",
            )
        )
    if origin["OriginManaged"] == "0":
        signals.append(
            signal(
                "unmanaged-device-code",
                "The device code sign-in that issued these tokens came from a device neither "
                "managed nor compliant",
            )
        )
    hosting = signin.hosting_signal(cells["AutonomousSystem"])
    if hosting:
        signals.append(hosting)
    risky = signin.risk_signal(
        signin.risk(cells["RiskDuringSignIn"]), signin.risk(cells["RiskAggregated"])
    )
    if risky:
        signals.append(risky)
    if signin.flag(cells["DeviceManaged"]) or signin.flag(cells["DeviceCompliant"]):
        signals.append(
            signal("managed-device", "The tokens were used from a managed or compliant device")
        )
    if signin.trusted_location(cells["NetworkLocations"]):
        signals.append(
            signal(
                "trusted-location",
                "The tokens were used from a trusted named location (a corporate network)",
            )
        )
    return signals
