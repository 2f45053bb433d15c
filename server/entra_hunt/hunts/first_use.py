"""Hunt: a user's first device code sign-in, against a baseline window before the hunt's.

Most people never use the device code flow. This hunt reports, for each user whose successful
device code sign-ins in the window have no predecessor in the ``baseline`` before it, the first
of them, with the user's sign-in history over the baseline: whether the IP address and the
country are new for the user. Habitual users (engineers signing in to command-line tools,
meeting rooms) drop out; the triage separates phishing from onboarding and new room devices.

Known limits: the history is interactive sign-ins (SigninLogs) on Sentinel and every
successful sign-in on the Defender tables; a user with no sign-in in the baseline (a new
account) gets no new-IP or new-country signal. On Defender, lookback plus baseline must fit
in its 30 days.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Annotated, Self

from pydantic import AfterValidator, Field, model_validator

from entra_hunt.context.campaign import FIRST_USE
from entra_hunt.findings.models import Finding
from entra_hunt.findings.triage import Signal, signal, triage
from entra_hunt.hunts import signin
from entra_hunt.hunts.base import Hunt, RenderedQuery
from entra_hunt.hunts.kql import Binding, compose, datetime_literal, dynamic_strings
from entra_hunt.hunts.params import BackendName, Duration, HuntParameters

__all__ = ["FirstUseHunt", "FirstUseParameters"]

_BASELINE = Duration("baseline", timedelta(days=1), timedelta(days=180))
_DEFENDER_HISTORY = timedelta(days=30)
_EVIDENCE = ("FlowMarker", "ResultCode", "AppId", "DeviceId", "DeviceManaged", "IPAddress")

HISTORY_COLUMNS = (
    "DeviceCodeSignIns",
    "Interrupts",
    "BaselineSignIns",
    "AddressSignIns",
    "CountrySignIns",
)


_OUTPUT = ",\n    ".join(signin.OUTPUT_COLUMNS)


class FirstUseParameters(HuntParameters):
    """Parameters of the first-use hunt."""

    baseline: Annotated[str, AfterValidator(_BASELINE.check)] = Field(
        default="21d",
        description="How far before the window to look for earlier device code sign-ins and "
        "the user's usual IPs and countries, e.g. '21d' (1d to 180d, default 21d). On "
        "defender, lookback plus baseline must fit in its 30 days.",
    )

    def baseline_span(self) -> timedelta:
        """``baseline`` as a timedelta."""
        return _BASELINE.parse(self.baseline)

    @model_validator(mode="after")
    def _fits_defender_history(self) -> Self:
        if self.backend is not BackendName.DEFENDER:
            return self
        if self.span() + self.baseline_span() > _DEFENDER_HISTORY:
            raise ValueError(
                "on defender the window plus the baseline must fit in 30 days; shorten "
                "baseline or lookback"
            )
        return self


def _body(table: str, users: bool, row_limit: int) -> str:
    spelling = signin.SPELLINGS[table]
    time = spelling.time
    user_filter = f"| where {spelling.user} in~ (target_users)\n" if users else ""
    history_filter = f"| where {spelling.success}\n"
    if not spelling.defender:
        history_filter = '| where ResultType == "0"\n'
    return (
        f"let device_code = {table}\n"
        f"| where {time} between (baseline_start .. window_end)\n"
        f"| where {spelling.device_code} and {spelling.success}\n"
        f"{user_filter}"
        f"| project\n    {spelling.project()},\n    Key = tolower({spelling.user});\n"
        "let habitual = device_code\n"
        "| where SignInTime < window_start\n"
        "| distinct Key;\n"
        "let in_window = device_code\n"
        "| where SignInTime >= window_start\n"
        "| join kind=leftanti habitual on Key;\n"
        "let uses = in_window\n"
        "| summarize DeviceCodeSignIns = count() by Key;\n"
        "let first_uses = in_window\n"
        "| summarize arg_min(SignInTime, *) by Key;\n"
        f"let interrupts = {table}\n"
        f"| where {time} between (window_start .. window_end)\n"
        f"| where {spelling.device_code} and {spelling.interrupt}\n"
        "| summarize Interrupts = count() by SessionId;\n"
        f"let history = {table}\n"
        f"| where {time} >= baseline_start and {time} < window_start\n"
        f"{history_filter}"
        f"| project Key = tolower({spelling.user}), IPAddress, "
        f"Country = {spelling.column('Country')}\n"
        "| join kind=leftsemi (first_uses | project Key) on Key;\n"
        "let known_addresses = history\n"
        "| summarize AddressSignIns = count() by Key, IPAddress;\n"
        "let known_countries = history\n"
        "| summarize CountrySignIns = count() by Key, Country;\n"
        "let baseline_size = history\n"
        "| summarize BaselineSignIns = count() by Key;\n"
        "first_uses\n"
        "| join kind=leftouter uses on Key\n"
        "| join kind=leftouter interrupts on SessionId\n"
        "| join kind=leftouter known_addresses on Key, IPAddress\n"
        "| join kind=leftouter known_countries on Key, Country\n"
        "| join kind=leftouter baseline_size on Key\n"
        f"| project\n    {_OUTPUT},\n"
        "    DeviceCodeSignIns, Interrupts = coalesce(Interrupts, 0),\n"
        "    BaselineSignIns = coalesce(BaselineSignIns, 0),\n"
        "    AddressSignIns = coalesce(AddressSignIns, 0),\n"
        "    CountrySignIns = coalesce(CountrySignIns, 0)\n"
        "| order by SignInTime asc\n"
        f"| take {int(row_limit)}"
    )


class FirstUseHunt(Hunt):
    """A user's first successful device code sign-in after a baseline without one."""

    id = "device-code-first-use"
    title = "First use: a user's first device code sign-in"
    summary = (
        "Each user's first successful device code sign-in in the window when the baseline "
        "before it has none, with whether its IP address and country are new for the user."
    )
    techniques = FIRST_USE.techniques
    parameters = FirstUseParameters
    context = FIRST_USE
    tables = {
        BackendName.LOCAL: ("SigninLogs", "EntraIdSignInEvents", "AADSignInEventsBeta"),
        BackendName.SENTINEL: ("SigninLogs",),
        BackendName.DEFENDER: ("EntraIdSignInEvents", "AADSignInEventsBeta"),
    }
    limits = {
        BackendName.DEFENDER: "Keeps 30 days: lookback plus baseline must fit. No "
        "AuthenticationProtocol (device code is EndpointCall 'Cmsi:Cmsi') and no autonomous "
        "system number: no hosting-provider signal.",
        BackendName.SENTINEL: "The baseline needs SigninLogs retention covering it.",
    }
    signals = (
        "first-device-code",
        "unmanaged-device-code",
        "managed-device",
        "new-ip-for-user",
        "new-country-for-user",
        "interrupt-then-success",
        "broker-client",
        "device-registration",
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
        """The first-use query for ``table``; it reads the baseline before the window too."""
        assert isinstance(params, FirstUseParameters)
        baseline_start = start - params.baseline_span()
        bindings = [
            Binding("window_start", datetime_literal(start)),
            Binding("window_end", datetime_literal(end)),
            Binding("baseline_start", datetime_literal(baseline_start)),
        ]
        if params.users:
            bindings.append(Binding("target_users", dynamic_strings(params.users)))
        body = _body(table, bool(params.users), row_limit)
        text = compose(f"entra-hunt {self.id}: {self.title}", bindings, body)
        return RenderedQuery(self.id, table, text, baseline_start, end, row_limit)

    def notes(self, params: HuntParameters) -> list[str]:
        """Say what the baseline was."""
        assert isinstance(params, FirstUseParameters)
        return [
            f"The baseline is the {params.baseline} before the window: users with a device "
            "code sign-in there are habitual and not reported; data the backend lacks for "
            "that span counts as no use."
        ]

    def finding(self, row: Mapping[str, object], table: str, params: HuntParameters) -> Finding:
        """A user's first device code sign-in, triaged against the user's history."""
        assert isinstance(params, FirstUseParameters)
        cells = signin.row_text(row)
        when = signin.instant(row.get("SignInTime"))
        history = {name: _count(row.get(name)) for name in HISTORY_COLUMNS}
        signals = _first_use_signals(cells, history, params)
        late = signin.off_hours_signal(when, params.zone())
        if late:
            signals.append(late)
        outcome = triage(signals)
        return signin.finding(
            cells,
            id=f"first-use:{cells['RequestId'] or cells['CorrelationId']}",
            time=when,
            outcome=outcome,
            evidence=signin.evidence(cells, table, _EVIDENCE),
            subject="user",
            first_seen=when,
            events=history["DeviceCodeSignIns"] or None,
        )


def _first_use_signals(
    cells: Mapping[str, str | None], history: Mapping[str, int], params: FirstUseParameters
) -> list[Signal]:
    signals = [
        signal(
            "first-device-code",
            f"First device code sign-in for this user: none in the {params.baseline} before "
            f"the window ({history['DeviceCodeSignIns']} in the window)",
        )
    ]
    if signin.flag(cells["DeviceManaged"]) or signin.flag(cells["DeviceCompliant"]):
        signals.append(
            signal("managed-device", "Came from a managed or compliant device (a corporate one)")
        )
    else:
        signals.append(
            signal(
                "unmanaged-device-code",
                "Completed a device code sign-in from a device that is neither managed nor "
                "compliant",
            )
        )
    signals += signin.sign_in_signals(cells)
    if history["Interrupts"]:
        signals.append(
            signal(
                "interrupt-then-success",
                "The session shows a 50199 confirmation interrupt, then the successful sign-in",
            )
        )
    if history["BaselineSignIns"]:
        if not history["AddressSignIns"]:
            signals.append(
                signal(
                    "new-ip-for-user",
                    "The user never signed in from this IP address in the baseline "
                    f"({history['BaselineSignIns']} sign-ins)",
                )
            )
        if not history["CountrySignIns"]:
            signals.append(
                signal(
                    "new-country-for-user",
                    "The user never signed in from this country in the baseline",
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
