"""Hunt: successful device code sign-in from an unmanaged device (Storm-2372).

Matches sign-ins that completed the OAuth device code flow (SigninLogs: AuthenticationProtocol
``deviceCode`` with ResultType ``"0"``; Defender XDR: EndpointCall ``Cmsi:Cmsi`` with
ErrorCode 0) from a device that is neither managed nor compliant. One definition renders the
query for SigninLogs, EntraIdSignInEvents and AADSignInEventsBeta; each projects the same
output columns, so findings do not depend on the table.

Known limits: Defender tables have no autonomous system number, so the hosting-provider signal
is Sentinel/local only; the hosting ASN list is short and curated, not a feed.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pydantic import Field

from entra_hunt.context.device_code import BROKER_APP_ID, DEVICE_CODE_PHISHING
from entra_hunt.findings.models import (
    App,
    Device,
    Evidence,
    Finding,
    Location,
    untrusted_text,
)
from entra_hunt.findings.triage import Signal, severity_for
from entra_hunt.hunts.base import Hunt, RenderedQuery
from entra_hunt.hunts.kql import (
    Binding,
    datetime_literal,
    dynamic_strings,
    let_block,
    string_literal,
)
from entra_hunt.hunts.params import BackendName, HuntParameters, RiskFloor

__all__ = ["DeviceCodeHunt", "DeviceCodeParameters"]

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


class DeviceCodeParameters(HuntParameters):
    """Parameters of the device code hunt."""

    risk: RiskFloor = Field(
        default=RiskFloor.ANY,
        description="Minimum sign-in risk (during sign-in or aggregated): 'any' (default), "
        "'low', 'medium' or 'high'. Risk needs Entra ID P2; without it every sign-in has "
        "risk 'hidden' or none and a floor above 'any' matches nothing.",
    )
    exclude_broker: bool = Field(
        default=False,
        description="Drop sign-ins by the Microsoft Authentication Broker "
        f"({BROKER_APP_ID}). It is noisy during legitimate device onboarding but is also "
        "what Storm-2372 used from February 2025 to register devices, so it is kept and "
        "tagged 'broker-client' by default.",
    )


@dataclass(frozen=True)
class _Columns:
    """How one table spells each output column (a KQL expression)."""

    time: str
    where_device_code: str
    where_unmanaged: str
    where_risk: str
    user: str
    app_id: str
    projection: tuple[tuple[str, str], ...]


def _sentinel() -> _Columns:
    return _Columns(
        time="TimeGenerated",
        where_device_code='AuthenticationProtocol == "deviceCode" and ResultType == "0"',
        where_unmanaged='not(tostring(DeviceDetail.isManaged) == "true" '
        'or tostring(DeviceDetail.isCompliant) == "true")',
        where_risk="RiskLevelDuringSignIn in~ (risk_levels) "
        "or RiskLevelAggregated in~ (risk_levels)",
        user="UserPrincipalName",
        app_id="AppId",
        projection=(
            ("SignInTime", "TimeGenerated"),
            ("User", "UserPrincipalName"),
            ("UserId", "UserId"),
            ("AppName", "AppDisplayName"),
            ("AppId", "AppId"),
            ("ResourceName", "ResourceDisplayName"),
            ("ResourceId", "ResourceIdentity"),
            ("IPAddress", "IPAddress"),
            ("Country", "tostring(LocationDetails.countryOrRegion)"),
            ("City", "tostring(LocationDetails.city)"),
            ("AutonomousSystem", "AutonomousSystemNumber"),
            ("DeviceId", "tostring(DeviceDetail.deviceId)"),
            ("DeviceName", "tostring(DeviceDetail.displayName)"),
            ("DeviceOS", "tostring(DeviceDetail.operatingSystem)"),
            ("Browser", "tostring(DeviceDetail.browser)"),
            ("TrustType", "tostring(DeviceDetail.trustType)"),
            ("DeviceManaged", "tostring(DeviceDetail.isManaged)"),
            ("DeviceCompliant", "tostring(DeviceDetail.isCompliant)"),
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


def _defender(device_id_column: str) -> _Columns:
    return _Columns(
        time="Timestamp",
        where_device_code='EndpointCall == "Cmsi:Cmsi" and ErrorCode == 0',
        where_unmanaged="not(coalesce(IsManaged, 0) == 1 or coalesce(IsCompliant, 0) == 1)",
        where_risk="RiskLevelDuringSignIn >= min_risk or RiskLevelAggregated >= min_risk",
        user="AccountUpn",
        app_id="ApplicationId",
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


_TABLES: dict[str, _Columns] = {
    "SigninLogs": _sentinel(),
    "EntraIdSignInEvents": _defender("EntraIdDeviceId"),
    "AADSignInEventsBeta": _defender("AadDeviceId"),
}

OUTPUT_COLUMNS = tuple(name for name, _ in _TABLES["SigninLogs"].projection)

# Which source column each output column comes from, per table, for a finding's evidence.
_EVIDENCE = (
    "FlowMarker",
    "ResultCode",
    "AppId",
    "DeviceId",
    "TrustType",
    "DeviceManaged",
    "DeviceCompliant",
    "IPAddress",
    "AutonomousSystem",
    "UserAgent",
)


class DeviceCodeHunt(Hunt):
    """Successful device code sign-in from an unmanaged device."""

    id = "device-code-unmanaged"
    title = "Successful device code sign-in from an unmanaged device"
    summary = (
        "Sign-ins that completed the OAuth device code flow from a device that is neither "
        "managed nor compliant: the footprint of device code phishing (Storm-2372)."
    )
    techniques = DEVICE_CODE_PHISHING.techniques
    parameters = DeviceCodeParameters
    context = DEVICE_CODE_PHISHING
    tables = {
        BackendName.LOCAL: ("SigninLogs", "EntraIdSignInEvents", "AADSignInEventsBeta"),
        BackendName.SENTINEL: ("SigninLogs",),
        BackendName.DEFENDER: ("EntraIdSignInEvents", "AADSignInEventsBeta"),
    }

    def render(
        self, params: HuntParameters, table: str, start: datetime, end: datetime, row_limit: int
    ) -> RenderedQuery:
        """The hunt's KQL for ``table``; user values appear only in the ``let`` block."""
        assert isinstance(params, DeviceCodeParameters)
        spelling = _TABLES[table]
        bindings = [
            Binding("window_start", datetime_literal(start)),
            Binding("window_end", datetime_literal(end)),
        ]
        filters = [
            f"where {spelling.time} between (window_start .. window_end)",
            f"where {spelling.where_device_code}",
            f"where {spelling.where_unmanaged}",
        ]
        if params.exclude_broker:
            bindings.append(Binding("broker_app_id", string_literal(BROKER_APP_ID)))
            filters.append(f"where {spelling.app_id} != broker_app_id")
        if params.users:
            bindings.append(Binding("target_users", dynamic_strings(params.users)))
            filters.append(f"where {spelling.user} in~ (target_users)")
        if params.risk is not RiskFloor.ANY:
            if spelling.time == "Timestamp":
                bindings.append(Binding("min_risk", str(params.risk.minimum_score())))
            else:
                bindings.append(Binding("risk_levels", dynamic_strings(params.risk.levels())))
            filters.append(f"where {spelling.where_risk}")
        projection = ",\n    ".join(f"{name} = {expr}" for name, expr in spelling.projection)
        text = (
            f"// entra-hunt {self.id}: {self.title}\n"
            + let_block(bindings)
            + table
            + "\n"
            + "".join(f"| {f}\n" for f in filters)
            + f"| project\n    {projection}\n"
            + "| order by SignInTime asc\n"
            + f"| take {int(row_limit)}"
        )
        return RenderedQuery(self.id, table, text, start, end, row_limit)

    def notes(self, params: HuntParameters) -> list[str]:
        """Say when the broker client was excluded, since that hides Storm-2372's 2025 path."""
        assert isinstance(params, DeviceCodeParameters)
        if params.exclude_broker:
            return [
                "Microsoft Authentication Broker sign-ins were excluded (exclude_broker=true); "
                "Storm-2372 has used that client since February 2025, so re-run without the "
                "exclusion before concluding nothing happened."
            ]
        return []

    def finding(self, row: Mapping[str, object], table: str) -> Finding:
        """A matched sign-in as a triaged finding."""
        text = {k: _text(row.get(k)) for k in OUTPUT_COLUMNS if k != "SignInTime"}
        managed = _flag(text["DeviceManaged"])
        compliant = _flag(text["DeviceCompliant"])
        risk_now = _risk(text["RiskDuringSignIn"])
        risk_all = _risk(text["RiskAggregated"])
        signals = _signals(text, risk_now, risk_all)
        severity, reasons, tags = severity_for(signals)
        spelling = dict(_TABLES[table].projection)
        evidence = [
            Evidence(field=_source_column(spelling[name]), value=untrusted_text(text[name]))
            for name in _EVIDENCE
            if text[name]
        ]
        when = _instant(row.get("SignInTime"))
        return Finding(
            id=text["RequestId"] or f"{text['CorrelationId']}@{when.isoformat()}",
            time=when,
            user=untrusted_text(text["User"]),
            user_id=untrusted_text(text["UserId"]),
            app=App(name=untrusted_text(text["AppName"]), id=untrusted_text(text["AppId"])),
            resource=App(
                name=untrusted_text(text["ResourceName"]), id=untrusted_text(text["ResourceId"])
            ),
            location=Location(
                ip_address=untrusted_text(text["IPAddress"]),
                country=untrusted_text(text["Country"]),
                city=untrusted_text(text["City"]),
                autonomous_system=untrusted_text(text["AutonomousSystem"]),
            ),
            device=Device(
                id=untrusted_text(text["DeviceId"]),
                name=untrusted_text(text["DeviceName"]),
                operating_system=untrusted_text(text["DeviceOS"]),
                browser=untrusted_text(text["Browser"]),
                trust_type=untrusted_text(text["TrustType"]),
                managed=managed,
                compliant=compliant,
            ),
            risk_during_sign_in=risk_now,
            risk_aggregated=risk_all,
            correlation_id=untrusted_text(text["CorrelationId"]),
            session_id=untrusted_text(text["SessionId"]),
            user_agent=untrusted_text(text["UserAgent"]),
            tags=tags,
            severity=severity,
            reasons=reasons,
            evidence=evidence,
        )


def _signals(
    text: Mapping[str, str | None], risk_now: str | None, risk_all: str | None
) -> list[Signal]:
    signals = [
        Signal(
            "unmanaged-device-code",
            2,
            "Completed a device code sign-in from a device that is neither managed nor compliant",
        )
    ]
    if text["AppId"] == BROKER_APP_ID:
        signals.append(
            Signal(
                "broker-client",
                2,
                "Client is the Microsoft Authentication Broker, which Storm-2372 used from "
                "February 2025 to register devices and obtain primary refresh tokens",
            )
        )
    if text["ResourceId"] == DEVICE_REGISTRATION_SERVICE:
        signals.append(
            Signal(
                "device-registration",
                1,
                "Token was for the Device Registration Service, the step before registering a "
                "device",
            )
        )
    worst = max((_RISK_ORDER.get(r or "", 0) for r in (risk_now, risk_all)), default=0)
    if worst:
        level = ["", "low", "medium", "high"][worst]
        signals.append(
            Signal("risky", worst, f"Entra ID Protection rated the sign-in {level} risk")
        )
    asn = (text["AutonomousSystem"] or "").removeprefix("AS")
    if asn in HOSTING_ASNS:
        signals.append(
            Signal(
                "hosting-provider-ip",
                2,
                f"IP address belongs to a hosting provider (AS{asn} {HOSTING_ASNS[asn]}), where "
                "phishing kits redeem device codes",
            )
        )
    agent = (text["UserAgent"] or "").lower()
    if not agent or any(marker in agent for marker in _SCRIPTED_AGENTS):
        signals.append(
            Signal(
                "scripted-client",
                1,
                "User agent is empty or a scripting library rather than a browser",
            )
        )
    if _trusted_location(text["NetworkLocations"]):
        signals.append(
            Signal(
                "trusted-location",
                -2,
                "Came from a trusted named location (a corporate network)",
            )
        )
    user = (text["User"] or "").lower()
    if (
        text["AppId"] == TEAMS_APP_ID
        and (text["DeviceOS"] or "").lower().startswith("android")
        and any(user.startswith(p) for p in ("room", "mtr", "conf"))
    ):
        signals.append(
            Signal(
                "meeting-room-pattern",
                -1,
                "Looks like a Teams Rooms device (room account, Teams app, Android), which "
                "signs in with device codes by design",
            )
        )
    return signals


_RISK_ORDER = {"low": 1, "medium": 2, "high": 3}


def _text(value: object) -> str | None:
    if value is None:
        return None
    text = str(value)
    return text if text else None


def _flag(value: str | None) -> bool | None:
    if value is None:
        return None
    lowered = value.strip().lower()
    if lowered in ("true", "1"):
        return True
    if lowered in ("false", "0"):
        return False
    return None


def _risk(value: str | None) -> str | None:
    if value is None:
        return None
    lowered = value.strip().lower()
    return _DEFENDER_RISK[lowered] if lowered in _DEFENDER_RISK else lowered


def _trusted_location(value: str | None) -> bool:
    if not value:
        return False
    try:
        parsed: Any = json.loads(value)
    except ValueError:
        return "trustednamedlocation" in value.lower()
    items = parsed if isinstance(parsed, list) else [parsed]
    return any(
        isinstance(item, dict)
        and str(item.get("networkType", "")).lower() == "trustednamedlocation"
        for item in items
    )


def _instant(value: object) -> datetime:
    if isinstance(value, datetime):
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    if isinstance(value, str):
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
    raise ValueError(f"sign-in time {value!r} is not a datetime")


def _source_column(expression: str) -> str:
    """``tostring(DeviceDetail.deviceId)`` → ``DeviceDetail.deviceId``."""
    inner = expression.removeprefix("tostring(").removesuffix(")")
    return inner if inner != '""' else "(not in this table)"
