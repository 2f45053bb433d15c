"""Hunt: the broker chain, from a device code phish to an attacker-registered device.

Follows each successful device code sign-in by the Microsoft Authentication Broker through the
steps Storm-2372 took from February 2025: a token for the Device Registration Service, a
"Register device" entry in AuditLogs for the same user, then sign-ins with a primary refresh
token (PRT) from the newly registered device. One finding per broker sign-in, with each step
seen or not; the further the chain goes, the stronger the finding.

Per table: SigninLogs joins AADNonInteractiveUserSignInLogs (token redemptions) and AuditLogs
(registrations). The Defender tables have no AuditLogs and no token type, so there the
registration is not visible and PRT use is inferred from sign-ins by a device id first seen
for the user after the broker sign-in.

Known limits: follow-up steps are looked for inside the hunt's window only (a broker sign-in
near its end may show fewer steps); AuditLogs users are matched by UPN, case-insensitively.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Annotated

from pydantic import AfterValidator, Field

from entra_hunt.context.campaign import BROKER_CHAIN
from entra_hunt.context.device_code import BROKER_APP_ID
from entra_hunt.findings.models import Finding, Step, untrusted_text
from entra_hunt.findings.triage import Signal, signal, triage
from entra_hunt.hunts import signin
from entra_hunt.hunts.base import Hunt, RenderedQuery
from entra_hunt.hunts.kql import (
    Binding,
    compose,
    datetime_literal,
    dynamic_strings,
    string_literal,
    timespan_literal,
)
from entra_hunt.hunts.params import BackendName, Duration, HuntParameters

__all__ = ["BrokerChainHunt", "BrokerChainParameters"]

_FOLLOW_UP = Duration("follow_up", timedelta(minutes=10), timedelta(days=7))

CHAIN_COLUMNS = (
    "Interrupts",
    "DrsTime",
    "RegisteredTime",
    "RegisteredDeviceId",
    "RegisteredName",
    "PrtTime",
    "PrtSignIns",
    "PrtAddresses",
    "PrtManaged",
)

_EVIDENCE = ("FlowMarker", "ResultCode", "AppId", "ResourceId", "IPAddress", "UserAgent")


class BrokerChainParameters(HuntParameters):
    """Parameters of the broker chain hunt."""

    follow_up: Annotated[str, AfterValidator(_FOLLOW_UP.check)] = Field(
        default="24h",
        description="How long after the broker sign-in to look for the Device Registration "
        "Service token and the device registration, e.g. '24h' (10m to 7d, default 24h). "
        "Sign-ins from the new device count whenever they happen in the window.",
    )

    def follow_up_span(self) -> timedelta:
        """``follow_up`` as a timedelta."""
        return _FOLLOW_UP.parse(self.follow_up)


def _log_analytics_body(users: bool, row_limit: int) -> str:
    interactive = signin.SPELLINGS["SigninLogs"]
    non_interactive = signin.SPELLINGS["AADNonInteractiveUserSignInLogs"]
    user_filter = "| where UserPrincipalName in~ (target_users)\n" if users else ""
    drs = (
        "| where TimeGenerated between (window_start .. window_end)\n"
        '| where ResultType == "0" and AppId == broker_app_id '
        "and ResourceIdentity == drs_resource_id\n"
        "| project ChainUser = tolower(UserPrincipalName), DrsTime = TimeGenerated;\n"
    )
    prt = (
        "| where TimeGenerated between (window_start .. window_end)\n"
        '| where ResultType == "0" and IncomingTokenType == "primaryRefreshToken"\n'
    )
    return (
        "let broker_sign_ins = SigninLogs\n"
        "| where TimeGenerated between (window_start .. window_end)\n"
        '| where AuthenticationProtocol == "deviceCode" and ResultType == "0" '
        "and AppId == broker_app_id\n"
        f"{user_filter}"
        f"| project\n    {interactive.project()},\n    ChainUser = tolower(UserPrincipalName);\n"
        "let interrupts = SigninLogs\n"
        "| where TimeGenerated between (window_start .. window_end)\n"
        '| where AuthenticationProtocol == "deviceCode" and ResultType == "50199"\n'
        "| summarize Interrupts = count() by SessionId;\n"
        f"let drs_interactive = SigninLogs\n{drs}"
        f"let drs_non_interactive = AADNonInteractiveUserSignInLogs\n{drs}"
        "let drs_tokens = union drs_interactive, drs_non_interactive\n"
        "| join kind=inner (broker_sign_ins | project RequestId, ChainUser, SignInTime) "
        "on ChainUser\n"
        "| where DrsTime >= SignInTime and DrsTime <= SignInTime + follow_up\n"
        "| summarize DrsTime = min(DrsTime) by RequestId;\n"
        "let registrations = AuditLogs\n"
        "| where TimeGenerated between (window_start .. window_end)\n"
        '| where OperationName == "Register device" and Result == "success"\n'
        "| extend ChainUser = tolower(tostring(InitiatedBy.user.userPrincipalName)),\n"
        "    RegisteredName = tostring(TargetResources[0].displayName)\n"
        "| mv-expand Detail = AdditionalDetails\n"
        '| where tostring(Detail.key) == "Device Id"\n'
        "| project ChainUser, RegisteredTime = TimeGenerated, "
        "RegisteredDeviceId = tostring(Detail.value), RegisteredName;\n"
        "let registered = broker_sign_ins\n"
        "| project RequestId, ChainUser, SignInTime\n"
        "| join kind=inner registrations on ChainUser\n"
        "| where RegisteredTime >= SignInTime and RegisteredTime <= SignInTime + follow_up\n"
        "| summarize arg_min(RegisteredTime, RegisteredDeviceId, RegisteredName) by RequestId;\n"
        f"let prt_interactive = SigninLogs\n{prt}"
        f"| project PrtDeviceId = {interactive.column('DeviceId')}, PrtTime = TimeGenerated, "
        f"PrtAddress = IPAddress,\n    PrtManaged = iff({interactive.managed}, 1, 0);\n"
        f"let prt_non_interactive = AADNonInteractiveUserSignInLogs\n{prt}"
        f"| project PrtDeviceId = {non_interactive.column('DeviceId')}, PrtTime = TimeGenerated, "
        f"PrtAddress = IPAddress,\n    PrtManaged = iff({non_interactive.managed}, 1, 0);\n"
        "let prt_use = union prt_interactive, prt_non_interactive\n"
        "| where isnotempty(PrtDeviceId)\n"
        "| join kind=inner registered on $left.PrtDeviceId == $right.RegisteredDeviceId\n"
        "| where PrtTime >= RegisteredTime\n"
        "| summarize PrtTime = min(PrtTime), PrtSignIns = count(), "
        "PrtAddresses = make_set(PrtAddress, 10),\n"
        "    PrtManaged = max(PrtManaged) by RequestId;\n"
        "broker_sign_ins\n"
        "| join kind=leftouter interrupts on SessionId\n"
        "| join kind=leftouter drs_tokens on RequestId\n"
        "| join kind=leftouter registered on RequestId\n"
        "| join kind=leftouter prt_use on RequestId\n"
        f"| project\n    {_output_projection()}\n"
        "| order by SignInTime asc\n"
        f"| take {int(row_limit)}"
    )


def _advanced_hunting_body(table: str, users: bool, row_limit: int) -> str:
    spelling = signin.SPELLINGS[table]
    device_id = spelling.column("DeviceId")
    user_filter = "| where AccountUpn in~ (target_users)\n" if users else ""
    window = "| where Timestamp between (window_start .. window_end)\n"
    return (
        f"let broker_sign_ins = {table}\n{window}"
        '| where EndpointCall == "Cmsi:Cmsi" and ErrorCode == 0 '
        "and ApplicationId == broker_app_id\n"
        f"{user_filter}"
        f"| project\n    {spelling.project()},\n    ChainUser = tolower(AccountUpn);\n"
        f"let interrupts = {table}\n{window}"
        '| where EndpointCall == "Cmsi:Cmsi" and ErrorCode == 50199\n'
        "| summarize Interrupts = count() by SessionId;\n"
        f"let drs_tokens = {table}\n{window}"
        "| where ErrorCode == 0 and ApplicationId == broker_app_id "
        "and ResourceId == drs_resource_id\n"
        "| project ChainUser = tolower(AccountUpn), DrsTime = Timestamp\n"
        "| join kind=inner (broker_sign_ins | project RequestId, ChainUser, SignInTime) "
        "on ChainUser\n"
        "| where DrsTime >= SignInTime and DrsTime <= SignInTime + follow_up\n"
        "| summarize DrsTime = min(DrsTime) by RequestId;\n"
        f"let devices = {table}\n{window}"
        f"| where ErrorCode == 0 and isnotempty({device_id})\n"
        f"| extend ChainUser = tolower(AccountUpn), RegisteredDeviceId = {device_id},\n"
        f"    Managed = iff({spelling.managed}, 1, 0)\n"
        "| summarize PrtTime = min(Timestamp), PrtSignIns = count(), "
        "PrtAddresses = make_set(IPAddress, 10),\n"
        "    PrtManaged = max(Managed), RegisteredName = take_any(DeviceName) "
        "by ChainUser, RegisteredDeviceId;\n"
        "let new_devices = broker_sign_ins\n"
        "| project RequestId, ChainUser, SignInTime\n"
        "| join kind=inner devices on ChainUser\n"
        "| where PrtTime >= SignInTime and PrtTime <= SignInTime + follow_up\n"
        "| summarize arg_min(PrtTime, RegisteredDeviceId, RegisteredName, PrtSignIns, "
        "PrtAddresses, PrtManaged) by RequestId;\n"
        "broker_sign_ins\n"
        "| join kind=leftouter interrupts on SessionId\n"
        "| join kind=leftouter drs_tokens on RequestId\n"
        "| join kind=leftouter new_devices on RequestId\n"
        f"| project\n    {_output_projection(registered_time='datetime(null)')}\n"
        "| order by SignInTime asc\n"
        f"| take {int(row_limit)}"
    )


def _output_projection(registered_time: str = "RegisteredTime") -> str:
    chain = (
        "Interrupts = coalesce(Interrupts, 0)",
        "DrsTime",
        f"RegisteredTime = {registered_time}",
        "RegisteredDeviceId",
        "RegisteredName",
        "PrtTime",
        "PrtSignIns = coalesce(PrtSignIns, 0)",
        "PrtAddresses",
        "PrtManaged",
    )
    return ",\n    ".join((*signin.OUTPUT_COLUMNS, *chain))


class BrokerChainHunt(Hunt):
    """Broker device code sign-in, then DRS token, device registration and PRT use."""

    id = "broker-chain"
    title = "Broker chain: device code sign-in, device registration, primary refresh token"
    summary = (
        "Device code sign-ins by the Microsoft Authentication Broker, each followed through "
        "a Device Registration Service token, a 'Register device' audit entry and sign-ins "
        "with a primary refresh token from the new device (Storm-2372 since February 2025)."
    )
    techniques = BROKER_CHAIN.techniques
    parameters = BrokerChainParameters
    context = BROKER_CHAIN
    tables = {
        BackendName.LOCAL: ("SigninLogs", "EntraIdSignInEvents", "AADSignInEventsBeta"),
        BackendName.SENTINEL: ("SigninLogs",),
        BackendName.DEFENDER: ("EntraIdSignInEvents", "AADSignInEventsBeta"),
    }
    companions = {"SigninLogs": ("AADNonInteractiveUserSignInLogs", "AuditLogs")}
    limits = {
        BackendName.DEFENDER: "Advanced hunting has no AuditLogs, so the 'Register device' "
        "step is not visible, and no IncomingTokenType, so PRT use is inferred from sign-ins "
        "by a device id first seen for the user after the broker sign-in. No "
        "AuthenticationProtocol (device code is EndpointCall 'Cmsi:Cmsi') and no autonomous "
        "system number.",
        BackendName.LOCAL: "On SigninLogs the registration step needs AuditLogs loaded and PRT "
        "use reads AADNonInteractiveUserSignInLogs too; on the Defender tables, as defender.",
    }
    signals = (
        "broker-client",
        "device-registration",
        "registered-device",
        "prt-from-new-device",
        "new-device-unmanaged",
        "device-enrolled",
        "interrupt-then-success",
        "hosting-provider-ip",
        "risky",
        "scripted-client",
        "off-hours",
        "trusted-location",
        "meeting-room-pattern",
    )

    def render(
        self, params: HuntParameters, table: str, start: datetime, end: datetime, row_limit: int
    ) -> RenderedQuery:
        """The chain query for ``table``; user values appear only in the ``let`` block."""
        assert isinstance(params, BrokerChainParameters)
        bindings = [
            Binding("window_start", datetime_literal(start)),
            Binding("window_end", datetime_literal(end)),
            Binding("follow_up", timespan_literal(params.follow_up_span())),
            Binding("broker_app_id", string_literal(BROKER_APP_ID)),
            Binding("drs_resource_id", string_literal(signin.DEVICE_REGISTRATION_SERVICE)),
        ]
        if params.users:
            bindings.append(Binding("target_users", dynamic_strings(params.users)))
        if signin.SPELLINGS[table].defender:
            body = _advanced_hunting_body(table, bool(params.users), row_limit)
        else:
            body = _log_analytics_body(bool(params.users), row_limit)
        text = compose(f"entra-hunt {self.id}: {self.title}", bindings, body)
        reads = self.companions.get(table, ())
        return RenderedQuery(self.id, table, text, start, end, row_limit, reads)

    def notes(self, params: HuntParameters) -> list[str]:
        """Say that follow-up steps are looked for inside the window only."""
        return [
            "Registration and primary refresh token steps are looked for inside the hunt's "
            "window: for a broker sign-in near its end, widen the window to see them."
        ]

    def finding(self, row: Mapping[str, object], table: str, params: HuntParameters) -> Finding:
        """One broker sign-in with the chain steps that followed it."""
        cells = signin.row_text(row)
        when = signin.instant(row.get("SignInTime"))
        defender = signin.SPELLINGS[table].defender
        drs_time = signin.optional_instant(row.get("DrsTime"))
        registered_at = signin.optional_instant(row.get("RegisteredTime"))
        prt_at = signin.optional_instant(row.get("PrtTime"))
        device_name = untrusted_text(row.get("RegisteredName"))
        device_id = untrusted_text(row.get("RegisteredDeviceId"))
        addresses = signin.strings(row.get("PrtAddresses"), cap=10)
        new_device = f"{device_name or '(no name)'} ({device_id or 'no id'})"
        if cells["ResourceId"] == signin.DEVICE_REGISTRATION_SERVICE:
            drs_time = when

        signals = _chain_signals(row, cells, defender, registered_at, prt_at)
        late = signin.off_hours_signal(when, params.zone())
        if late:
            signals.append(late)
        outcome = triage(signals)

        steps = [
            Step(
                name="Device code sign-in with the Microsoft Authentication Broker",
                seen=True,
                time=when,
                table=table,
                detail=untrusted_text(f"from {cells['IPAddress']} ({cells['Country']})"),
            ),
            Step(
                name="Token for the Device Registration Service",
                seen=drs_time is not None,
                time=drs_time,
                table=table if drs_time else None,
            ),
            Step(
                name="'Register device' in AuditLogs",
                seen=registered_at is not None,
                time=registered_at,
                table="AuditLogs" if registered_at else None,
                detail=(
                    "not visible: advanced hunting has no AuditLogs"
                    if defender
                    else untrusted_text(new_device)
                    if registered_at
                    else None
                ),
            ),
            Step(
                name=(
                    "Sign-ins from a device first seen after the broker sign-in"
                    if defender
                    else "Sign-ins with a primary refresh token from the new device"
                ),
                seen=prt_at is not None,
                time=prt_at,
                table=table if defender else None,
                detail=untrusted_text(
                    f"{row.get('PrtSignIns')} sign-in(s) from {', '.join(addresses)}"
                    + (f" by {new_device}" if defender else "")
                )
                if prt_at
                else None,
            ),
        ]
        seen_times = [s.time for s in steps if s.time is not None]
        return signin.finding(
            cells,
            id=f"chain:{cells['RequestId'] or cells['CorrelationId']}",
            time=when,
            outcome=outcome,
            evidence=signin.evidence(cells, table, _EVIDENCE),
            subject="chain",
            first_seen=when,
            last_seen=max(seen_times),
            events=1 + _count(row.get("PrtSignIns")),
            steps=steps,
        )


def _chain_signals(
    row: Mapping[str, object],
    cells: Mapping[str, str | None],
    defender: bool,
    registered_at: datetime | None,
    prt_at: datetime | None,
) -> list[Signal]:
    # The unmanaged-device signal is left out on purpose: a sign-in that registers a device
    # always comes from a device Entra does not know yet. What matters is the new device.
    signals = signin.sign_in_signals(cells)
    tags = {s.tag for s in signals}
    if "device-registration" not in tags and row.get("DrsTime") not in (None, ""):
        signals.append(
            signal(
                "device-registration",
                "A token for the Device Registration Service followed the broker sign-in",
            )
        )
    if _count(row.get("Interrupts")):
        signals.append(
            signal(
                "interrupt-then-success",
                "The session shows a 50199 confirmation interrupt, then the successful sign-in",
            )
        )
    if registered_at is not None:
        signals.append(
            signal(
                "registered-device",
                "The user registered a device "
                f"{_minutes(registered_at, signin.instant(row.get('SignInTime')))} later "
                "(its name and id are in the steps)",
            )
        )
    if prt_at is None:
        return signals
    if defender:
        signals.append(
            signal(
                "prt-from-new-device",
                "Sign-ins followed from a device first seen after the broker sign-in; "
                "advanced hunting does not say whether they used a PRT",
            )
        )
    else:
        signals.append(
            signal(
                "prt-from-new-device",
                "Sign-ins with a primary refresh token followed from the new device",
            )
        )
    if _count(row.get("PrtManaged")):
        signals.append(
            signal(
                "device-enrolled",
                "The new device is managed or compliant when it signs in, as an enrolled device "
                "set up by IT is",
            )
        )
    else:
        signals.append(
            signal(
                "new-device-unmanaged",
                "The new device is neither managed nor compliant when it signs in",
            )
        )
    return signals


def _count(value: object) -> int:
    if value is None or value == "":
        return 0
    try:
        return int(str(value))
    except ValueError:
        return 0


def _minutes(later: datetime, earlier: datetime) -> str:
    minutes = max(0, int((later - earlier).total_seconds() // 60))
    return f"{minutes} minute(s)"
