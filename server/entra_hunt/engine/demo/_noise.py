"""The everyday background of the demo tenant: what a hunt must look past.

Staff sign in on office days between about 08:00 and 18:00 Paris time, mostly from the two
corporate egress addresses on managed Hybrid Azure AD joined laptops, sometimes from home, a
phone or a personal PC; sales staff travel. Some sign-ins fail or are interrupted the ordinary
ways (bad password, MFA required, "keep me signed in", a Conditional Access block of a
personal device). Guests and the meeting rooms appear too, and a little directory activity.

Nothing here uses the device code flow: every device code sign-in in the dataset is planted
(see :mod:`._planted`), so the planted table is the whole truth about them.
"""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import datetime, timedelta

from entra_hunt.engine.demo._signin import Ids, SignIn
from entra_hunt.engine.demo._tables import AuditEvent, directory_record_id
from entra_hunt.engine.demo._tenant import (
    AZURE_MANAGEMENT,
    AZURE_PORTAL,
    CORPORATE,
    DEMO_END,
    DEMO_START,
    EXCHANGE,
    GRAPH,
    MOBILE_CARRIERS,
    MS_OFFICE,
    OFFICE_HOME,
    OFFICE_TIME,
    ONEDRIVE_SYNC,
    OUTLOOK_DESKTOP,
    OUTLOOK_MOBILE,
    OUTLOOK_WEB,
    ROSTER,
    SHAREPOINT,
    SHAREPOINT_APP,
    TEAMS,
    TEAMS_SERVICES,
    TEAMS_WEB,
    TRAVEL,
    App,
    Device,
    Network,
    User,
    client_for,
    new_uuid,
)

# (client app, resource, "Browser" or "App") a laptop user opens, with weights.
_LAPTOP_USE: tuple[tuple[App, App, str, int], ...] = (
    (OFFICE_HOME, OFFICE_HOME, "Browser", 5),
    (OUTLOOK_WEB, EXCHANGE, "Browser", 6),
    (SHAREPOINT_APP, SHAREPOINT, "Browser", 5),
    (TEAMS_WEB, TEAMS_SERVICES, "Browser", 2),
    (TEAMS, TEAMS_SERVICES, "App", 6),
    (OUTLOOK_DESKTOP, EXCHANGE, "App", 4),
    (MS_OFFICE, GRAPH, "App", 3),
    (MS_OFFICE, SHAREPOINT, "App", 2),
)
_PORTAL_USE = (AZURE_PORTAL, AZURE_MANAGEMENT, "Browser", 8)
_PHONE_USE: tuple[tuple[App, App, str, int], ...] = (
    (OUTLOOK_MOBILE, EXCHANGE, "App", 3),
    (TEAMS, TEAMS_SERVICES, "App", 2),
)
_REFRESH_USE: tuple[tuple[App, App], ...] = (
    (TEAMS, TEAMS_SERVICES),
    (ONEDRIVE_SYNC, SHAREPOINT),
    (OUTLOOK_DESKTOP, EXCHANGE),
    (MS_OFFICE, GRAPH),
)


def _local(day: datetime, hours: float) -> datetime:
    """The UTC instant of ``hours`` past local midnight of the (UTC-midnight) ``day``."""
    instant = day - OFFICE_TIME + timedelta(hours=hours)
    return instant.replace(microsecond=instant.microsecond // 1000 * 1000)


def _pick(rng: random.Random, uses: tuple[tuple[App, App, str, int], ...]) -> tuple[App, App, str]:
    app, resource, kind, _ = rng.choices(uses, weights=[use[3] for use in uses])[0]
    return app, resource, kind


class _Day:
    """One user's sign-ins on one day, sharing a session per device."""

    def __init__(
        self, rng: random.Random, user: User, day: datetime, trip: Network | None = None
    ) -> None:
        self.rng = rng
        self.user = user
        self.day = day
        self.trip = trip
        self.sessions: dict[str, str] = {}
        self.out: list[SignIn] = []

    def session(self, device: Device) -> str:
        key = device.device_id or device.os
        if key not in self.sessions:
            self.sessions[key] = new_uuid(self.rng)
        return self.sessions[key]

    def sign_in(
        self, hours: float, device: Device, network: Network, use: tuple[App, App, str]
    ) -> None:
        """One interactive sign-in, with the occasional failure or interrupt before it."""
        rng = self.rng
        app, resource, kind = use
        client = client_for(device, "Browser" if kind == "Browser" else "App")
        when = _local(self.day, hours)
        ids = Ids.draw(rng, session=self.session(device))
        auth = "token" if device.registered and rng.random() < 0.8 else "password"
        signin = SignIn(
            time=when,
            user=self.user,
            app=app,
            resource=resource,
            network=network,
            device=device,
            client=client,
            ids=ids,
            auth=auth,
            endpoint_call="OAuth2:Authorize" if auth == "token" else "Login:login",
            processing_ms=rng.randint(60, 420),
        )
        if signin.ca_status == "failure":
            self.out.append(replace(signin, result=53003))
            return

        roll = rng.random()
        if roll < 0.025:
            self.out.append(replace(signin, result=50126, auth="bad-password"))
            if rng.random() < 0.2:
                return  # gave up
            signin = replace(
                signin,
                time=when + timedelta(seconds=rng.randint(15, 90)),
                ids=Ids.draw(rng, session=ids.session),
                auth="password",
                endpoint_call="Login:login",
            )
        elif roll < 0.08 and signin.mfa_required:
            self.out.append(
                replace(signin, result=50074, auth="password", endpoint_call="Login:login")
            )
            signin = replace(
                signin,
                time=when + timedelta(seconds=rng.randint(8, 40)),
                ids=Ids.draw(rng, correlation=ids.correlation, session=ids.session),
                auth="password+mfa",
                endpoint_call="SAS:ProcessAuth",
            )
        elif roll < 0.11 and kind == "Browser":
            self.out.append(
                replace(signin, result=50140, auth="password", endpoint_call="Login:login")
            )
            signin = replace(
                signin,
                time=when + timedelta(seconds=rng.randint(2, 9)),
                ids=Ids.draw(rng, correlation=ids.correlation, session=ids.session),
                auth="password",
                endpoint_call="Kmsi:kmsi",
            )
        self.out.append(signin)

    def refresh(self, hours: float, device: Device, network: Network, use: tuple[App, App]) -> None:
        """One non-interactive token refresh by a desktop or mobile app."""
        app, resource = use
        windows = device.trust_type == "Hybrid Azure AD joined"
        self.out.append(
            SignIn(
                time=_local(self.day, hours),
                user=self.user,
                app=app,
                resource=resource,
                network=network,
                device=device,
                client=client_for(device, "App"),
                ids=Ids.draw(self.rng, session=self.session(device)),
                interactive=False,
                incoming_token="primaryRefreshToken" if windows else "refreshToken",
                endpoint_call="OAuth2:Token",
                processing_ms=self.rng.randint(30, 160),
            )
        )


def _workday(rng: random.Random, plan: _Day) -> None:
    user = plan.user
    weekday = plan.day.weekday()
    if rng.random() < 0.06:  # leave or sick day: at most a look at the phone
        if rng.random() < 0.4:
            plan.sign_in(rng.uniform(9, 20), user.phone, user.home, _pick(rng, _PHONE_USE))
        return

    remote = 0.45 if weekday == 4 else 0.22
    if user.role == "exec":
        remote = 0.1
    if plan.trip is not None:
        network = plan.trip
    elif rng.random() < remote:
        network = user.home
    else:
        network = CORPORATE[user.site]

    start = min(max(rng.gauss(8.6, 0.45), 7.3), 10.0)
    end = start + rng.uniform(8.0, 9.6)
    uses = _LAPTOP_USE + ((_PORTAL_USE,) if user.role in ("engineer", "it") else ())
    count = rng.randint(3, 5) + (1 if user.role in ("engineer", "it") else 0)
    for _ in range(count):
        plan.sign_in(rng.uniform(start, end), user.laptop, network, _pick(rng, uses))
    for _ in range(rng.choice((0, 0, 1, 1, 2))):
        plan.refresh(rng.uniform(start, end), user.laptop, network, rng.choice(_REFRESH_USE))

    if rng.random() < 0.5:
        phone_net = network if rng.random() < 0.5 else rng.choice(MOBILE_CARRIERS)
        plan.sign_in(rng.uniform(start, end), user.phone, phone_net, _pick(rng, _PHONE_USE))
    if user.personal_pc is not None and rng.random() < 0.2:
        use = rng.choice(
            ((OUTLOOK_WEB, EXCHANGE, "Browser"), (SHAREPOINT_APP, SHAREPOINT, "Browser"))
        )
        plan.sign_in(rng.uniform(19.0, 22.5), user.personal_pc, user.home, use)


def _weekend(rng: random.Random, plan: _Day) -> None:
    user = plan.user
    if rng.random() > 0.18:
        return
    for _ in range(rng.randint(1, 2)):
        device = rng.choice([user.phone, user.laptop, user.personal_pc or user.phone])
        uses = _PHONE_USE if device.os in ("Ios", "Android") else _LAPTOP_USE[:4]
        plan.sign_in(rng.uniform(9.5, 22.0), device, user.home, _pick(rng, uses))


def _room_day(rng: random.Random, plan: _Day) -> None:
    device = plan.user.laptop
    network = CORPORATE[plan.user.site]
    plan.refresh(rng.uniform(6.0, 6.5), device, network, (TEAMS, TEAMS_SERVICES))
    if plan.day.weekday() < 5:
        plan.refresh(rng.uniform(12.0, 13.0), device, network, (TEAMS, GRAPH))


def _guest_day(rng: random.Random, plan: _Day) -> None:
    if plan.day.weekday() >= 5 or rng.random() < 0.55:
        return
    for _ in range(rng.randint(1, 3)):
        use = rng.choice(
            ((TEAMS_WEB, TEAMS_SERVICES, "Browser"), (SHAREPOINT_APP, SHAREPOINT, "Browser"))
        )
        plan.sign_in(rng.uniform(9.0, 17.5), plan.user.laptop, plan.user.home, use)


def _trips(rng: random.Random) -> dict[tuple[str, int], Network]:
    """Business trips of the sales staff: (user, day offset) to the network used there."""
    trips: dict[tuple[str, int], Network] = {}
    for user in ROSTER:
        if user.role != "sales":
            continue
        for week in (0, 7):
            if rng.random() < 0.6:
                first = week + rng.randint(0, 2)
                place = rng.choice(TRAVEL)
                for offset in range(first, first + rng.randint(2, 3)):
                    trips[(user.upn, offset)] = place
    return trips


def background_signins(rng: random.Random) -> list[SignIn]:
    """Fourteen days of ordinary sign-ins for every account, inside the demo window."""
    trips = _trips(rng)
    events: list[SignIn] = []
    for offset in range(14):
        day = DEMO_START + timedelta(days=offset)
        for user in ROSTER:
            plan = _Day(rng, user, day, trips.get((user.upn, offset)))
            if user.is_room:
                _room_day(rng, plan)
            elif user.guest:
                _guest_day(rng, plan)
            elif day.weekday() < 5:
                _workday(rng, plan)
            else:
                _weekend(rng, plan)
            events.extend(plan.out)
    return [event for event in events if DEMO_START <= event.time < DEMO_END]


def background_audit(rng: random.Random) -> list[AuditEvent]:
    """Ordinary directory changes by the IT team: user updates and group memberships."""
    admins = [user for user in ROSTER if user.role == "it"]
    staff = [user for user in ROSTER if user.role not in ("room", "guest")]
    events: list[AuditEvent] = []
    for offset in range(14):
        day = DEMO_START + timedelta(days=offset)
        if day.weekday() >= 5:
            continue
        for _ in range(rng.randint(1, 4)):
            admin = rng.choice(admins)
            target = rng.choice(staff)
            correlation = new_uuid(rng)
            operation = rng.choice(("Update user", "Add member to group"))
            events.append(
                AuditEvent(
                    time=_local(day, rng.uniform(9.0, 17.5)),
                    operation=operation,
                    category="UserManagement" if operation == "Update user" else "GroupManagement",
                    service="Core Directory",
                    operation_type="Update" if operation == "Update user" else "Assign",
                    record_id=directory_record_id(rng, correlation),
                    correlation=correlation,
                    initiated_by={
                        "user": {
                            "id": admin.object_id,
                            "displayName": None,
                            "userPrincipalName": admin.upn,
                            "ipAddress": CORPORATE[admin.site].ip,
                            "roles": [],
                        }
                    },
                    targets=[
                        {
                            "id": target.object_id,
                            "displayName": None,
                            "type": "User",
                            "userPrincipalName": target.upn,
                            "modifiedProperties": [],
                        }
                    ],
                    details=[],
                )
            )
    return events
