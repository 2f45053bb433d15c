"""The planted cases: every device code sign-in of the demo tenant, with its expected verdict.

Turns the specs of :mod:`._cases` into sign-ins (the device code flow, then the token
refreshes descending from its grant) and, for the two broker cases, a device registration and
sign-ins with a primary refresh token from the new device: an attacker's unmanaged desktop, or
a meeting-room panel that IT enrolled. Each case draws from its own random stream, seeded by
the case id rather than the dataset seed, so its ids and times never change with the
background and :data:`PLANTED` can be a constant.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from entra_hunt.engine.demo._cases import (
    ROADTX_EDGE,
    SPECS,
    TEAMS_ROOM_CLIENT,
    CaseSpec,
    Verdict,
)
from entra_hunt.engine.demo._signin import Ids, SignIn
from entra_hunt.engine.demo._tables import AuditEvent, directory_record_id
from entra_hunt.engine.demo._tenant import (
    AZURE_AD,
    DEVICE_REGISTRATION,
    EXCHANGE,
    GRAPH,
    MS_OFFICE,
    OUTLOOK_WEB,
    TEAMS,
    TEAMS_SERVICES,
    App,
    Client,
    Device,
    User,
    new_uuid,
    resource_principal_id,
    user,
)

_POLLING = frozenset({70016, 70020})


@dataclass(frozen=True)
class PlantedCase:
    """One planted case and what the product is expected to conclude about it.

    Attributes:
        case_id: stable id, e.g. ``"phish-1"``.
        kind: what happened, e.g. ``"device-code-phishing"`` or ``"legitimate-cli"``.
        verdict: what an analyst concludes about the sign-in: "malicious" or "benign".
        expected_found: whether the successful-device-code-from-unmanaged-device hunt must
            report it, given a lookback that covers ``first_seen``.
        expected_severity: the severity the hunt gives it on SigninLogs (high, medium, low or
            informational) when reported; None otherwise. Defender tables carry no ASN, so
            the hosting-provider signal, and with it one step of severity, is missing there.
        user: the user principal name.
        first_seen: the first sign-in of the device code flow (UTC).
        success_time: the successful (ResultType "0") device code sign-in; None when the
            flow never completed.
        last_seen: the last event of the case in any table, follow-up activity included.
        correlation_id: the CorrelationId of the flow's interactive rows.
        session_id: the SessionId the flow and its token refreshes share.
        ip_address: the address of the device code sign-in.
        app_id: the client application id of the device code sign-in.
        notes: what makes the case what it is, for a person reading a failed test.
        found_by: the follow-on hunts (by catalogue id) that must report the case in their
            labelled runs (see :mod:`._cases`); every other follow-on hunt must not.
    """

    case_id: str
    kind: str
    verdict: Verdict
    expected_found: bool
    expected_severity: str | None
    user: str
    first_seen: datetime
    success_time: datetime | None
    last_seen: datetime
    correlation_id: str
    session_id: str
    ip_address: str
    app_id: str
    notes: str
    found_by: tuple[str, ...] = ()


def _flow(rng: random.Random, spec: CaseSpec, who: User) -> list[SignIn]:
    """The interactive rows of the device code flow, sharing correlation and session ids."""
    network = spec.network or who.home
    first = Ids.draw(rng)
    mfa = "password" if network.trusted or who.is_room else "password+mfa"
    rows: list[SignIn] = []
    when = datetime.fromisoformat(spec.at).replace(tzinfo=UTC)
    for index, result in enumerate(spec.outcome):
        if index:
            when += timedelta(seconds=spec.gaps[index - 1] if spec.gaps else rng.randint(6, 21))
            ids = Ids.draw(rng, correlation=first.correlation, session=first.session)
        else:
            ids = first
        endpoint = "Cmsi:Cmsi"
        if result in _POLLING:
            endpoint = "OAuth2:Token"
        elif result == 50126:
            endpoint = "Login:login"
        rows.append(
            SignIn(
                time=when,
                user=who,
                app=spec.app,
                resource=spec.resource,
                network=network,
                device=spec.device or who.laptop,
                client=spec.client,
                ids=ids,
                result=result,
                protocol="deviceCode",
                transfer="deviceCodeFlow",
                auth="bad-password" if result == 50126 else mfa,
                risk=spec.risk,
                risk_events=("unfamiliarFeatures",) if spec.risk != "none" else (),
                endpoint_call=endpoint,
                processing_ms=rng.randint(90, 380),
            )
        )
    return rows


def _refreshes(rng: random.Random, spec: CaseSpec, flow: list[SignIn]) -> list[SignIn]:
    """Non-interactive redemptions of the refresh token the flow granted."""
    if spec.reuse is None:
        return []
    success = flow[-1]
    resources = spec.refresh_resources
    return [
        replace(
            success,
            time=success.time + timedelta(hours=hours, seconds=rng.randint(0, 59)),
            resource=resources[index % len(resources)],
            network=spec.reuse,
            ids=Ids.draw(rng, session=success.ids.session),
            interactive=False,
            protocol="none",
            incoming_token="refreshToken",
            auth="token",
            endpoint_call="OAuth2:Token",
            processing_ms=rng.randint(40, 150),
        )
        for index, hours in enumerate(spec.after)
    ]


def _registration_audit(
    rng: random.Random, who: User, at: datetime, device: Device, ip_address: str
) -> list[AuditEvent]:
    """The four audit entries Entra writes when ``who`` registers ``device``."""
    correlation = new_uuid(rng)
    service: dict[str, object] = {
        "app": {
            "appId": None,
            "displayName": DEVICE_REGISTRATION.name,
            "servicePrincipalId": resource_principal_id(DEVICE_REGISTRATION),
            "servicePrincipalName": None,
        }
    }
    by_user: dict[str, object] = {
        "user": {
            "id": who.object_id,
            "displayName": None,
            "userPrincipalName": who.upn,
            "ipAddress": ip_address,
            "roles": [],
        }
    }
    device_target: dict[str, object] = {
        "id": new_uuid(rng),
        "displayName": device.display_name,
        "type": "Device",
        "modifiedProperties": [],
    }
    user_target: dict[str, object] = {
        "id": who.object_id,
        "displayName": None,
        "type": "User",
        "userPrincipalName": who.upn,
        "modifiedProperties": [],
    }
    android = device.os == "Android"
    details = [
        {"key": "Device Id", "value": device.device_id},
        {"key": "Device OS", "value": device.os if android else "Windows"},
        {"key": "Device OS Version", "value": "12" if android else "10.0.19041.928"},
        {"key": "Device Trust Type", "value": "Workplace"},
        {
            "key": "User-Agent",
            "value": "Dalvik/2.1.0 (Linux; U; Android 12)"
            if android
            else "Dsreg/10.0 (Windows 10.0.19041.928)",
        },
    ]
    owners = [device_target, user_target]
    steps: tuple[tuple[str, str, dict[str, object], list[dict[str, object]]], ...] = (
        ("Add device", "Core Directory", service, [device_target]),
        ("Register device", "Device Registration Service", by_user, [device_target]),
        ("Add registered owner to device", "Core Directory", service, owners),
        ("Add registered users to device", "Core Directory", service, owners),
    )
    events = []
    for index, (operation, logged_by, initiated_by, targets) in enumerate(steps):
        core = logged_by == "Core Directory"
        events.append(
            AuditEvent(
                time=at + timedelta(milliseconds=410 * index),
                operation=operation,
                category="Device",
                service=logged_by,
                operation_type="Add",
                record_id=directory_record_id(rng, correlation) if core else new_uuid(rng),
                correlation=correlation,
                initiated_by=initiated_by,
                targets=targets,
                details=[] if core else details,
            )
        )
    return events


_Use = tuple[float, App, App, Client, bool]


def _registration_follow_up(
    rng: random.Random, flow: list[SignIn], new_device: Device, uses: tuple[_Use, ...]
) -> tuple[list[SignIn], list[AuditEvent]]:
    """Register ``new_device`` with the flow's token, then sign in with a PRT from it.

    ``uses`` are (minutes after the flow's success, app, resource, client, interactive).
    """
    success = flow[-1]
    who = success.user
    audit = _registration_audit(
        rng, who, success.time + timedelta(minutes=1, seconds=32), new_device, success.network.ip
    )
    prt_request = replace(
        success,
        time=success.time + timedelta(minutes=4, seconds=17),
        resource=AZURE_AD,
        device=new_device,
        ids=Ids.draw(rng, session=success.ids.session),
        interactive=False,
        protocol="none",
        incoming_token="refreshToken",
        auth="token",
        endpoint_call="OAuth2:Token",
    )
    session = new_uuid(rng)
    with_prt = replace(
        prt_request,
        transfer="none",
        incoming_token="primaryRefreshToken",
        endpoint_call="OAuth2:Authorize",
    )
    signins = [prt_request]
    for minutes, app, resource, client, interactive in uses:
        signins.append(
            replace(
                with_prt,
                time=success.time + timedelta(minutes=minutes, seconds=rng.randint(0, 59)),
                app=app,
                resource=resource,
                client=client,
                ids=Ids.draw(rng, session=session),
                interactive=interactive,
                endpoint_call="OAuth2:Authorize" if interactive else "OAuth2:Token",
            )
        )
    return signins, audit


def _broker_follow_up(
    rng: random.Random, flow: list[SignIn]
) -> tuple[list[SignIn], list[AuditEvent]]:
    """Register an attacker's desktop with the broker token, then use it: ROADtx-style."""
    rogue = Device(new_uuid(rng), "DESKTOP-7QK2M4B", "Windows 10", "Azure AD registered")
    browser = replace(ROADTX_EDGE, kind="Browser")
    uses: tuple[_Use, ...] = (
        (7.1, MS_OFFICE, GRAPH, ROADTX_EDGE, True),
        (9.5, OUTLOOK_WEB, EXCHANGE, browser, True),
        (151.0, MS_OFFICE, GRAPH, ROADTX_EDGE, False),
        (318.0, MS_OFFICE, EXCHANGE, ROADTX_EDGE, False),
    )
    return _registration_follow_up(rng, flow, rogue, uses)


def _panel_follow_up(
    rng: random.Random, flow: list[SignIn]
) -> tuple[list[SignIn], list[AuditEvent]]:
    """Register a meeting-room panel that Intune then manages, and let it sign in to Teams."""
    panel = Device(new_uuid(rng), "MTR-RHONE-02", "Android", "Azure AD registered", True, True)
    uses: tuple[_Use, ...] = (
        (6.4, TEAMS, TEAMS_SERVICES, TEAMS_ROOM_CLIENT, True),
        (131.0, TEAMS, TEAMS_SERVICES, TEAMS_ROOM_CLIENT, False),
        (402.0, TEAMS, GRAPH, TEAMS_ROOM_CLIENT, False),
    )
    return _registration_follow_up(rng, flow, panel, uses)


_FOLLOW_UPS = {
    "device-code-broker-registration": _broker_follow_up,
    "broker-onboarding": _panel_follow_up,
}


def build_planted() -> tuple[list[SignIn], list[AuditEvent], tuple[PlantedCase, ...]]:
    """All planted sign-ins and audit events, and the table of cases describing them."""
    signins: list[SignIn] = []
    audit: list[AuditEvent] = []
    cases: list[PlantedCase] = []
    for spec in SPECS:
        rng = random.Random(f"planted:{spec.case_id}")
        flow = _flow(rng, spec, user(spec.who))
        follow = _refreshes(rng, spec, flow)
        registration: list[AuditEvent] = []
        if spec.kind in _FOLLOW_UPS:
            follow, registration = _FOLLOW_UPS[spec.kind](rng, flow)

        first = flow[0]
        successes = [row.time for row in flow if row.result == 0]
        times = [row.time for row in flow + follow] + [event.time for event in registration]
        cases.append(
            PlantedCase(
                case_id=spec.case_id,
                kind=spec.kind,
                verdict=spec.verdict,
                expected_found=spec.severity is not None,
                expected_severity=spec.severity,
                user=first.user.upn,
                first_seen=first.time,
                success_time=successes[0] if successes else None,
                last_seen=max(times),
                correlation_id=first.ids.correlation,
                session_id=first.ids.session,
                ip_address=first.network.ip,
                app_id=first.app.app_id,
                notes=spec.notes,
                found_by=spec.found_by,
            )
        )
        signins.extend(flow + follow)
        audit.extend(registration)
    ordered = tuple(sorted(cases, key=lambda case: (case.first_seen, case.case_id)))
    return signins, audit, ordered
