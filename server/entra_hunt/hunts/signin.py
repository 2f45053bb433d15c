"""What every sign-in hunt shares: how each table spells a sign-in, and signals read from it.

:data:`SPELLINGS` says, per table, how to select device code sign-ins, successes and interrupts,
and how to project a sign-in onto the common output columns (:data:`OUTPUT_COLUMNS`), so the
code that turns a row into a finding does not care which table ran. The signal helpers read
those columns and return catalogued :class:`~entra_hunt.findings.triage.Signal` objects.

Known limits: the Defender tables carry no autonomous system number (no hosting-provider
signal there) and no AuthenticationProtocol (device code is recognised by EndpointCall
``Cmsi:Cmsi``); the hosting ASN list is short and curated, not a feed.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from entra_hunt.context.device_code import BROKER_APP_ID
from entra_hunt.findings.models import (
    App,
    Device,
    Evidence,
    Finding,
    Location,
    untrusted_text,
)
from entra_hunt.findings.triage import Signal, Triage, signal

__all__ = [
    "DEVICE_REGISTRATION_SERVICE",
    "HOSTING_ASNS",
    "OUTPUT_COLUMNS",
    "SPELLINGS",
    "TEAMS_APP_ID",
    "Spelling",
    "app",
    "device",
    "evidence",
    "flag",
    "instant",
    "location",
    "off_hours_signal",
    "resource",
    "risk",
    "row_text",
    "sign_in_signals",
    "trusted_location",
]

DEVICE_REGISTRATION_SERVICE = "01cb2876-7ebd-4aa4-9cc9-d28bd4d359a9"
TEAMS_APP_ID = "1fec8e78-bce4-4aaf-ab1b-5451cc387264"

#: Autonomous systems of large hosting and VPS providers, where phishing kits redeem codes.
HOSTING_ASNS = {
    "14061": "DigitalOcean",
    "16509": "Amazon AWS",
    "14618": "Amazon AWS",
    "24940": "Hetzner",
    "16276": "OVH",
    "20473": "Vultr (Choopa)",
    "63949": "Akamai Linode",
    "396982": "Google Cloud",
    "8075": "Microsoft Azure",
    "51167": "Contabo",
    "9009": "M247",
    "212238": "Datacamp",
}

_SCRIPTED_AGENTS = (
    "python",
    "curl",
    "go-http-client",
    "axios",
    "node-fetch",
    "okhttp",
    "powershell",
    "libwww",
    "wget",
    "java/",
)

# Defender's numeric risk: 0 is "not set" (no value), 1 none, 10 low, 50 medium, 100 high.
_DEFENDER_RISK: dict[str, str | None] = {
    "0": None,
    "1": "none",
    "10": "low",
    "50": "medium",
    "100": "high",
}
_RISK_ORDER = {"low": 1, "medium": 2, "high": 3}
_ROOM_PREFIXES = ("room", "mtr", "conf")
_WORKDAY = (time(7, 0), time(20, 0))


@dataclass(frozen=True)
class Spelling:
    """How one table spells a sign-in: filters and output columns as KQL expressions."""

    table: str
    time: str
    device_code: str
    success: str
    interrupt: str
    unmanaged: str
    managed: str
    risk: str
    user: str
    app_id: str
    resource_id: str
    non_interactive: str
    projection: tuple[tuple[str, str], ...]

    @property
    def defender(self) -> bool:
        """True for the advanced hunting tables (Timestamp, numeric codes, no ASN)."""
        return self.time == "Timestamp"

    def column(self, name: str) -> str:
        """The KQL expression of output column ``name`` in this table."""
        return dict(self.projection)[name]

    def project(self, names: tuple[str, ...] = ()) -> str:
        """``Name = expression`` pairs for ``names`` (default all), for a project or extend."""
        wanted = names or tuple(name for name, _ in self.projection)
        spelled = dict(self.projection)
        return ",\n    ".join(f"{name} = {spelled[name]}" for name in wanted)


def _log_analytics(table: str, *, dynamic: bool) -> Spelling:
    """SigninLogs (dynamic columns) or AADNonInteractiveUserSignInLogs (the same as text)."""

    def member(column: str, path: str) -> str:
        source = column if dynamic else f"parse_json({column})"
        return f"tostring({source}.{path})"

    device = member("DeviceDetail", "isManaged")
    compliant = member("DeviceDetail", "isCompliant")
    return Spelling(
        table=table,
        time="TimeGenerated",
        device_code='AuthenticationProtocol == "deviceCode"',
        success='ResultType == "0"',
        interrupt='ResultType == "50199"',
        unmanaged=f'not({device} == "true" or {compliant} == "true")',
        managed=f'({device} == "true" or {compliant} == "true")',
        risk="RiskLevelDuringSignIn in~ (risk_levels) or RiskLevelAggregated in~ (risk_levels)",
        user="UserPrincipalName",
        app_id="AppId",
        resource_id="ResourceIdentity",
        non_interactive="true" if not dynamic else "false",
        projection=(
            ("SignInTime", "TimeGenerated"),
            ("User", "UserPrincipalName"),
            ("UserId", "UserId"),
            ("AppName", "AppDisplayName"),
            ("AppId", "AppId"),
            ("ResourceName", "ResourceDisplayName"),
            ("ResourceId", "ResourceIdentity"),
            ("IPAddress", "IPAddress"),
            ("Country", member("LocationDetails", "countryOrRegion")),
            ("City", member("LocationDetails", "city")),
            ("AutonomousSystem", "AutonomousSystemNumber"),
            ("DeviceId", member("DeviceDetail", "deviceId")),
            ("DeviceName", member("DeviceDetail", "displayName")),
            ("DeviceOS", member("DeviceDetail", "operatingSystem")),
            ("Browser", member("DeviceDetail", "browser")),
            ("TrustType", member("DeviceDetail", "trustType")),
            ("DeviceManaged", device),
            ("DeviceCompliant", compliant),
            ("RiskDuringSignIn", "RiskLevelDuringSignIn"),
            ("RiskAggregated", "RiskLevelAggregated"),
            ("CorrelationId", "CorrelationId"),
            ("SessionId", "SessionId"),
            ("RequestId", "Id"),
            ("UserAgent", "UserAgent"),
            ("NetworkLocations", "NetworkLocationDetails"),
            ("ResultCode", "ResultType"),
            ("FlowMarker", "AuthenticationProtocol"),
        ),
    )


def _advanced_hunting(table: str, device_id_column: str) -> Spelling:
    return Spelling(
        table=table,
        time="Timestamp",
        device_code='EndpointCall == "Cmsi:Cmsi"',
        success="ErrorCode == 0",
        interrupt="ErrorCode == 50199",
        unmanaged="not(coalesce(IsManaged, 0) == 1 or coalesce(IsCompliant, 0) == 1)",
        managed="(coalesce(IsManaged, 0) == 1 or coalesce(IsCompliant, 0) == 1)",
        risk="RiskLevelDuringSignIn >= min_risk or RiskLevelAggregated >= min_risk",
        user="AccountUpn",
        app_id="ApplicationId",
        resource_id="ResourceId",
        non_interactive='LogonType has "nonInteractiveUser"',
        projection=(
            ("SignInTime", "Timestamp"),
            ("User", "AccountUpn"),
            ("UserId", "AccountObjectId"),
            ("AppName", "Application"),
            ("AppId", "ApplicationId"),
            ("ResourceName", "ResourceDisplayName"),
            ("ResourceId", "ResourceId"),
            ("IPAddress", "IPAddress"),
            ("Country", "Country"),
            ("City", "City"),
            ("AutonomousSystem", '""'),
            ("DeviceId", device_id_column),
            ("DeviceName", "DeviceName"),
            ("DeviceOS", "OSPlatform"),
            ("Browser", "Browser"),
            ("TrustType", "DeviceTrustType"),
            ("DeviceManaged", "tostring(IsManaged)"),
            ("DeviceCompliant", "tostring(IsCompliant)"),
            ("RiskDuringSignIn", "tostring(RiskLevelDuringSignIn)"),
            ("RiskAggregated", "tostring(RiskLevelAggregated)"),
            ("CorrelationId", "CorrelationId"),
            ("SessionId", "SessionId"),
            ("RequestId", "RequestId"),
            ("UserAgent", "UserAgent"),
            ("NetworkLocations", "NetworkLocationDetails"),
            ("ResultCode", "tostring(ErrorCode)"),
            ("FlowMarker", "EndpointCall"),
        ),
    )


SPELLINGS: dict[str, Spelling] = {
    "SigninLogs": _log_analytics("SigninLogs", dynamic=True),
    "AADNonInteractiveUserSignInLogs": _log_analytics(
        "AADNonInteractiveUserSignInLogs", dynamic=False
    ),
    "EntraIdSignInEvents": _advanced_hunting("EntraIdSignInEvents", "EntraIdDeviceId"),
    "AADSignInEventsBeta": _advanced_hunting("AADSignInEventsBeta", "AadDeviceId"),
}

#: The columns every sign-in projection has, in order.
OUTPUT_COLUMNS = tuple(name for name, _ in SPELLINGS["SigninLogs"].projection)


# -- reading a projected row -------------------------------------------------------------------


def text(value: object) -> str | None:
    """A cell as text; None for null or empty."""
    if value is None:
        return None
    said = str(value)
    return said if said else None


def row_text(
    row: Mapping[str, object], names: tuple[str, ...] = OUTPUT_COLUMNS
) -> dict[str, str | None]:
    """The cells ``names`` of ``row`` as text (None for null or empty)."""
    return {name: text(row.get(name)) for name in names}


def flag(value: str | None) -> bool | None:
    """'true'/'1' → True, 'false'/'0' → False, anything else None."""
    if value is None:
        return None
    lowered = value.strip().lower()
    if lowered in ("true", "1"):
        return True
    if lowered in ("false", "0"):
        return False
    return None


def risk(value: str | None) -> str | None:
    """A risk level as a word: Defender's numbers mapped, Sentinel's words lowercased."""
    if value is None:
        return None
    lowered = value.strip().lower()
    return _DEFENDER_RISK[lowered] if lowered in _DEFENDER_RISK else untrusted_text(lowered)


def instant(value: object) -> datetime:
    """A cell holding a time as an aware UTC datetime."""
    if isinstance(value, datetime):
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    if isinstance(value, str):
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
    raise ValueError(f"time {value!r} is not a datetime")


def optional_instant(value: object) -> datetime | None:
    """Like :func:`instant`, but None for an empty cell."""
    if value is None or value == "":
        return None
    return instant(value)


def strings(value: object, cap: int = 50) -> list[str]:
    """A make_set cell (a list, or its JSON text) as up to ``cap`` capped strings."""
    items: Any = value
    if isinstance(value, str):
        try:
            items = json.loads(value)
        except (ValueError, RecursionError):
            items = [value]
    if not isinstance(items, list):
        return []
    out = [untrusted_text(item) or "" for item in items if item not in (None, "")]
    return sorted(set(out))[:cap]


def trusted_location(value: str | None) -> bool:
    """True when NetworkLocationDetails names a trusted named location."""
    if not value:
        return False
    try:
        parsed: Any = json.loads(value)
    except (ValueError, RecursionError):  # log text: may be malformed or nested absurdly deep
        return "trustednamedlocation" in value.lower()
    items = parsed if isinstance(parsed, list) else [parsed]
    return any(
        isinstance(item, dict)
        and str(item.get("networkType", "")).lower() == "trustednamedlocation"
        for item in items
    )


def app(cells: Mapping[str, str | None]) -> App:
    """The client application of a projected sign-in."""
    return App(name=untrusted_text(cells["AppName"]), id=untrusted_text(cells["AppId"]))


def resource(cells: Mapping[str, str | None]) -> App:
    """The resource of a projected sign-in."""
    return App(name=untrusted_text(cells["ResourceName"]), id=untrusted_text(cells["ResourceId"]))


def location(cells: Mapping[str, str | None]) -> Location:
    """Where a projected sign-in came from."""
    return Location(
        ip_address=untrusted_text(cells["IPAddress"]),
        country=untrusted_text(cells["Country"]),
        city=untrusted_text(cells["City"]),
        autonomous_system=untrusted_text(cells["AutonomousSystem"]),
    )


def device(cells: Mapping[str, str | None]) -> Device:
    """The device of a projected sign-in."""
    return Device(
        id=untrusted_text(cells["DeviceId"]),
        name=untrusted_text(cells["DeviceName"]),
        operating_system=untrusted_text(cells["DeviceOS"]),
        browser=untrusted_text(cells["Browser"]),
        trust_type=untrusted_text(cells["TrustType"]),
        managed=flag(cells["DeviceManaged"]),
        compliant=flag(cells["DeviceCompliant"]),
    )


def source_column(expression: str) -> str:
    """``tostring(parse_json(DeviceDetail).deviceId)`` → ``DeviceDetail.deviceId``."""
    inner = expression.removeprefix("tostring(").removesuffix(")")
    inner = inner.removeprefix("parse_json(").replace(").", ".", 1)
    return inner if inner != '""' else "(not in this table)"


def evidence(cells: Mapping[str, str | None], table: str, names: tuple[str, ...]) -> list[Evidence]:
    """Evidence for the output columns ``names``, each named by its source column in ``table``."""
    spelling = SPELLINGS[table]
    return [
        Evidence(field=source_column(spelling.column(name)), value=untrusted_text(cells[name]))
        for name in names
        if cells.get(name)
    ]


# -- signals -----------------------------------------------------------------------------------


def sign_in_signals(cells: Mapping[str, str | None]) -> list[Signal]:
    """The signals a single sign-in carries, apart from the hunt's own premise.

    Broker client, Device Registration Service token, risk, hosting provider, scripted client,
    trusted location and the meeting-room pattern.
    """
    found: list[Signal] = []
    if cells.get("AppId") == BROKER_APP_ID:
        found.append(
            signal(
                "broker-client",
                "Client is the Microsoft Authentication Broker, which Storm-2372 used from "
                "February 2025 to register devices and obtain primary refresh tokens",
            )
        )
    if cells.get("ResourceId") == DEVICE_REGISTRATION_SERVICE:
        found.append(
            signal(
                "device-registration",
                "Token was for the Device Registration Service, the step before registering a "
                "device",
            )
        )
    risky = risk_signal(risk(cells.get("RiskDuringSignIn")), risk(cells.get("RiskAggregated")))
    if risky:
        found.append(risky)
    hosting = hosting_signal(cells.get("AutonomousSystem"))
    if hosting:
        found.append(hosting)
    scripted = scripted_signal(cells.get("UserAgent"))
    if scripted:
        found.append(scripted)
    if trusted_location(cells.get("NetworkLocations")):
        found.append(
            signal("trusted-location", "Came from a trusted named location (a corporate network)")
        )
    room = room_signal(cells.get("User"), cells.get("AppId"), cells.get("DeviceOS"))
    if room:
        found.append(room)
    return found


def risk_signal(during: str | None, aggregated: str | None) -> Signal | None:
    """'risky' with the worse of the two levels as its weight (1 low to 3 high)."""
    worst = max((_RISK_ORDER.get(r or "", 0) for r in (during, aggregated)), default=0)
    if not worst:
        return None
    level = ["", "low", "medium", "high"][worst]
    return signal("risky", f"Entra ID Protection rated the sign-in {level} risk", worst)


def hosting_signal(autonomous_system: str | None) -> Signal | None:
    """'hosting-provider-ip' when the ASN is a known hosting provider's."""
    asn = (autonomous_system or "").removeprefix("AS")
    if asn not in HOSTING_ASNS:
        return None
    return signal(
        "hosting-provider-ip",
        f"IP address belongs to a hosting provider (AS{asn} {HOSTING_ASNS[asn]}), where "
        "phishing kits redeem device codes",
    )


def scripted_signal(user_agent: str | None) -> Signal | None:
    """'scripted-client' for an empty or scripting-library user agent."""
    agent = (user_agent or "").lower()
    if agent and not any(marker in agent for marker in _SCRIPTED_AGENTS):
        return None
    return signal(
        "scripted-client", "User agent is empty or a scripting library rather than a browser"
    )


def room_signal(user: str | None, app_id: str | None, os_name: str | None) -> Signal | None:
    """'meeting-room-pattern': a room account on Android, with Teams or the broker."""
    account = (user or "").lower()
    if (
        app_id in (TEAMS_APP_ID, BROKER_APP_ID)
        and (os_name or "").lower().startswith("android")
        and account.startswith(_ROOM_PREFIXES)
    ):
        return signal(
            "meeting-room-pattern",
            "Looks like a Teams Rooms device (room account on Android, with Teams or the "
            "broker), which "
            "signs in with device codes by design",
        )
    return None


def off_hours_signal(when: datetime, zone: ZoneInfo) -> Signal | None:
    """'off-hours' outside 07:00-20:00, Monday to Friday, in the office time zone ``zone``."""
    local = when.astimezone(zone)
    start, end = _WORKDAY
    if local.weekday() < 5 and start <= local.time() < end:
        return None
    return signal(
        "off-hours",
        f"Happened outside working hours: {local:%A %H:%M} in {zone.key}",
    )


def finding(
    cells: Mapping[str, str | None],
    *,
    id: str,
    time: datetime,
    outcome: Triage,
    evidence: list[Evidence],
    **extra: Any,
) -> Finding:
    """A finding about one projected sign-in, with the fields every sign-in hunt fills alike.

    ``extra`` carries what the hunt adds (subject, steps, first and last seen, events).
    """
    user = untrusted_text(cells["User"])
    return Finding(
        id=untrusted_text(id) or time.isoformat(),
        time=time,
        user=user,
        user_id=untrusted_text(cells["UserId"]),
        app=app(cells),
        resource=resource(cells),
        location=location(cells),
        device=device(cells),
        risk_during_sign_in=risk(cells["RiskDuringSignIn"]),
        risk_aggregated=risk(cells["RiskAggregated"]),
        correlation_id=untrusted_text(cells["CorrelationId"]),
        session_id=untrusted_text(cells["SessionId"]),
        user_agent=untrusted_text(cells["UserAgent"]),
        tags=outcome.tags,
        severity=outcome.severity,
        reasons=outcome.reasons,
        evidence=evidence,
        users=[user] if user else [],
        score=outcome.score,
        confidence=outcome.confidence,
        confidence_reason=outcome.confidence_reason,
        **extra,
    )
