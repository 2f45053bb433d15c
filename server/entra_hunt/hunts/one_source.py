"""Hunt: one source, many victims — an IP (or /24) completing device code sign-ins for users.

A phishing kit redeems every victim's code from the same host. This hunt groups successful
device code sign-ins by source (the IP address, or its IPv4 /24) and keeps the sign-ins that
have at least ``min_users`` different users from the same source within ``within`` of each
other. One finding per source: the users it reached, when, with which apps, and how many other
users it tried without completing.

Known limits: IPv6 addresses are grouped by the whole address even with group_by='subnet'; the
Defender tables carry no autonomous system number (no hosting-provider signal there).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Annotated

from pydantic import AfterValidator, Field

from entra_hunt.context.campaign import ONE_SOURCE
from entra_hunt.context.device_code import BROKER_APP_ID
from entra_hunt.findings.models import App, Device, Evidence, Finding, Location, untrusted_text
from entra_hunt.findings.triage import Signal, signal, triage
from entra_hunt.hunts import signin
from entra_hunt.hunts.base import Hunt, RenderedQuery
from entra_hunt.hunts.kql import (
    Binding,
    compose,
    datetime_literal,
    dynamic_strings,
    long_literal,
    string_literal,
    timespan_literal,
)
from entra_hunt.hunts.params import BackendName, Duration, HuntParameters

__all__ = ["GroupBy", "OneSourceHunt", "OneSourceParameters"]

_WITHIN = Duration("within", timedelta(minutes=10), timedelta(days=7))
_SUBNET = r"^(\d{1,3}\.\d{1,3}\.\d{1,3})\.\d{1,3}$"


class GroupBy(StrEnum):
    """What counts as one source."""

    IP = "ip"
    SUBNET = "subnet"


class OneSourceParameters(HuntParameters):
    """Parameters of the one-source hunt."""

    min_users: int = Field(
        default=2,
        ge=2,
        le=50,
        description="Fewest different users one source must complete device code sign-ins "
        "for (2-50, default 2).",
    )
    within: Annotated[str, AfterValidator(_WITHIN.check)] = Field(
        default="6h",
        description="How close together those sign-ins must be, e.g. '6h' (10m to 7d, default "
        "6h): a sign-in counts when min_users users signed in from its source within this "
        "time of it.",
    )
    group_by: GroupBy = Field(
        default=GroupBy.IP,
        description="'ip' (default): one source is one IP address; 'subnet': one IPv4 /24 "
        "(IPv6 addresses stay whole), for kits that rotate addresses in a provider's range.",
    )

    def within_span(self) -> timedelta:
        """``within`` as a timedelta."""
        return _WITHIN.parse(self.within)


def _body(table: str, group_by: GroupBy, users: bool, row_limit: int) -> str:
    spelling = signin.SPELLINGS[table]
    window = f"| where {spelling.time} between (window_start .. window_end)\n"
    user = spelling.user
    source = (
        "| extend Prefix = extract(subnet_pattern, 1, IPAddress)\n"
        '| extend Source = iff(isempty(Prefix), IPAddress, strcat(Prefix, ".0/24"))\n'
        if group_by is GroupBy.SUBNET
        else "| extend Source = IPAddress\n"
    )
    hits = ", Hits = countif(User in (target_users))" if users else ""
    keep = "| where UserCount >= min_users" + (" and Hits > 0" if users else "") + "\n"
    return (
        f"let device_code = {table}\n{window}"
        f"| where {spelling.device_code}\n"
        f"{source}"
        f"| extend User = tolower({user});\n"
        "let completed = device_code\n"
        f"| where {spelling.success}\n"
        f"| project Source, User, SignInTime = {spelling.time}, RequestId = "
        f"{spelling.column('RequestId')},\n"
        f"    IPAddress, AppName = {spelling.column('AppName')}, AppId = {spelling.app_id},\n"
        f"    Country = {spelling.column('Country')}, "
        f"AutonomousSystem = {spelling.column('AutonomousSystem')},\n"
        f"    UserAgent, Risk = {spelling.column('RiskDuringSignIn')},\n"
        f"    Managed = iff({spelling.managed}, 1, 0),\n"
        '    Trusted = iff(NetworkLocationDetails has "trustedNamedLocation", 1, 0);\n'
        "let clustered = completed\n"
        "| project Source, User, SignInTime, RequestId\n"
        "| join kind=inner (completed | project Source, Neighbour = User, "
        "NeighbourTime = SignInTime) on Source\n"
        "| where NeighbourTime >= SignInTime - within and NeighbourTime <= SignInTime + within\n"
        "| summarize Neighbours = dcount(Neighbour) by RequestId\n"
        "| where Neighbours >= min_users;\n"
        "let not_completed = device_code\n"
        f"| summarize Successes = countif({spelling.success}) by Source, User\n"
        "| where Successes == 0\n"
        "| summarize NotCompleted = dcount(User) by Source;\n"
        "completed\n"
        "| join kind=inner clustered on RequestId\n"
        "| summarize UserCount = dcount(User), SignIns = count(), FirstSeen = min(SignInTime),\n"
        "    LastSeen = max(SignInTime), Users = make_set(User, 50), "
        "Addresses = make_set(IPAddress, 20),\n"
        "    Apps = make_set(AppName, 10), Countries = make_set(Country, 10),\n"
        "    AutonomousSystems = make_set(AutonomousSystem, 5), "
        "UserAgents = make_set(UserAgent, 5),\n"
        "    Risks = make_set(Risk, 5), ManagedSignIns = sum(Managed), "
        "TrustedSignIns = sum(Trusted),\n"
        f"    BrokerSignIns = countif(AppId == broker_app_id){hits} by Source\n"
        f"{keep}"
        "| join kind=leftouter not_completed on Source\n"
        "| project Source, UserCount, SignIns, FirstSeen, LastSeen, Users, Addresses, Apps,\n"
        "    Countries, AutonomousSystems, UserAgents, Risks, ManagedSignIns, "
        "TrustedSignIns,\n"
        "    BrokerSignIns, NotCompleted = coalesce(NotCompleted, 0)\n"
        "| order by UserCount desc, FirstSeen asc\n"
        f"| take {int(row_limit)}"
    )


class OneSourceHunt(Hunt):
    """One IP or /24 completing device code sign-ins for several users in a short time."""

    id = "device-code-one-source"
    title = "One source, many victims: device code sign-ins for several users from one IP"
    summary = (
        "Sources (an IP address or an IPv4 /24) that completed device code sign-ins for at "
        "least min_users different users within a short time: a phishing kit redeeming codes."
    )
    techniques = ONE_SOURCE.techniques
    parameters = OneSourceParameters
    context = ONE_SOURCE
    tables = {
        BackendName.LOCAL: ("SigninLogs", "EntraIdSignInEvents", "AADSignInEventsBeta"),
        BackendName.SENTINEL: ("SigninLogs",),
        BackendName.DEFENDER: ("EntraIdSignInEvents", "AADSignInEventsBeta"),
    }
    limits = {
        BackendName.DEFENDER: "No AuthenticationProtocol (device code is EndpointCall "
        "'Cmsi:Cmsi') and no autonomous system number: no hosting-provider signal.",
    }
    signals = (
        "several-users-one-source",
        "unmanaged-device-code",
        "managed-device",
        "hosting-provider-ip",
        "broker-client",
        "risky",
        "scripted-client",
        "off-hours",
        "trusted-location",
    )

    def render(
        self, params: HuntParameters, table: str, start: datetime, end: datetime, row_limit: int
    ) -> RenderedQuery:
        """The grouping query for ``table``; user values appear only in the ``let`` block."""
        assert isinstance(params, OneSourceParameters)
        bindings = [
            Binding("window_start", datetime_literal(start)),
            Binding("window_end", datetime_literal(end)),
            Binding("within", timespan_literal(params.within_span())),
            Binding("min_users", long_literal(params.min_users)),
            Binding("broker_app_id", string_literal(BROKER_APP_ID)),
        ]
        if params.group_by is GroupBy.SUBNET:
            bindings.append(Binding("subnet_pattern", string_literal(_SUBNET)))
        if params.users:
            bindings.append(Binding("target_users", dynamic_strings(params.users)))
        body = _body(table, params.group_by, bool(params.users), row_limit)
        text = compose(f"entra-hunt {self.id}: {self.title}", bindings, body)
        return RenderedQuery(self.id, table, text, start, end, row_limit)

    def notes(self, params: HuntParameters) -> list[str]:
        """Say what a user filter means for a hunt about several users."""
        if params.users:
            return [
                "Only sources that reached at least one of the given users are shown; each "
                "finding still lists every user its source reached."
            ]
        return []

    def finding(self, row: Mapping[str, object], table: str, params: HuntParameters) -> Finding:
        """One source with the users it reached, triaged."""
        assert isinstance(params, OneSourceParameters)
        source = signin.text(row.get("Source")) or "(unknown)"
        users = signin.strings(row.get("Users"))
        first = signin.instant(row.get("FirstSeen"))
        last = signin.instant(row.get("LastSeen"))
        apps = signin.strings(row.get("Apps"), cap=10)
        countries = signin.strings(row.get("Countries"), cap=10)
        systems = signin.strings(row.get("AutonomousSystems"), cap=5)
        agents = signin.strings(row.get("UserAgents"), cap=5)
        addresses = signin.strings(row.get("Addresses"), cap=20)

        signals = _source_signals(row, users, params, systems, agents)
        late = signin.off_hours_signal(first, params.zone())
        if late:
            signals.append(late)
        outcome = triage(signals)

        evidence = [Evidence(field="IPAddress", value=a) for a in addresses]
        evidence += [Evidence(field="UserPrincipalName", value=u) for u in users]
        evidence += [Evidence(field="UserAgent", value=a) for a in agents]
        return Finding(
            id=untrusted_text(f"source:{source}") or "source",
            time=first,
            user=None,
            user_id=None,
            app=App(name=untrusted_text(", ".join(apps)) if apps else None, id=None),
            resource=App(name=None, id=None),
            location=Location(
                ip_address=untrusted_text(source),
                country=untrusted_text(", ".join(countries)) if countries else None,
                city=None,
                autonomous_system=untrusted_text(", ".join(systems)) if systems else None,
            ),
            device=Device(
                id=None,
                name=None,
                operating_system=None,
                browser=None,
                trust_type=None,
                managed=None,
                compliant=None,
            ),
            risk_during_sign_in=None,
            risk_aggregated=None,
            correlation_id=None,
            session_id=None,
            user_agent=agents[0] if len(agents) == 1 else None,
            tags=outcome.tags,
            severity=outcome.severity,
            reasons=outcome.reasons,
            evidence=evidence,
            subject="source",
            users=users,
            first_seen=first,
            last_seen=last,
            events=_count(row.get("SignIns")),
            score=outcome.score,
            confidence=outcome.confidence,
            confidence_reason=outcome.confidence_reason,
        )


def _source_signals(
    row: Mapping[str, object],
    users: list[str],
    params: OneSourceParameters,
    systems: list[str],
    agents: list[str],
) -> list[Signal]:
    sign_ins = _count(row.get("SignIns"))
    managed = _count(row.get("ManagedSignIns"))
    trusted = _count(row.get("TrustedSignIns"))
    not_completed = _count(row.get("NotCompleted"))
    tried = (
        f"; it also reached {not_completed} more user(s) who never completed a sign-in from it"
        if not_completed
        else ""
    )
    signals = [
        signal(
            "several-users-one-source",
            f"{len(users)} users completed device code sign-ins from this source within "
            f"{params.within} of each other{tried}",
            3 if len(users) >= 3 else 2,
        )
    ]
    if managed == 0:
        signals.append(
            signal(
                "unmanaged-device-code",
                "Every one of these sign-ins came from a device neither managed nor compliant",
            )
        )
    elif managed * 2 > sign_ins:
        signals.append(
            signal(
                "managed-device",
                f"{managed} of {sign_ins} sign-ins came from managed or compliant devices",
            )
        )
    hosting = next(filter(None, (signin.hosting_signal(s) for s in systems)), None)
    if hosting:
        signals.append(hosting)
    if _count(row.get("BrokerSignIns")):
        signals.append(
            signal(
                "broker-client",
                "Some of these sign-ins used the Microsoft Authentication Broker client",
            )
        )
    risks = [signin.risk(r) for r in signin.strings(row.get("Risks"))]
    risky = signin.risk_signal(max(risks, key=_risk_rank, default=None), None)
    if risky:
        signals.append(risky)
    scripted = next(filter(None, (signin.scripted_signal(a) for a in agents or [""])), None)
    if scripted:
        signals.append(scripted)
    if trusted * 2 > sign_ins:
        signals.append(
            signal(
                "trusted-location",
                f"{trusted} of {sign_ins} sign-ins came from a trusted named location",
            )
        )
    return signals


def _risk_rank(level: str | None) -> int:
    return {"low": 1, "medium": 2, "high": 3}.get(level or "", 0)


def _count(value: object) -> int:
    if value is None or value == "":
        return 0
    try:
        return int(str(value))
    except ValueError:
        return 0
