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

from collections.abc import Mapping
from datetime import datetime

from pydantic import Field

from entra_hunt.context.device_code import BROKER_APP_ID, DEVICE_CODE_PHISHING
from entra_hunt.findings.models import Finding
from entra_hunt.findings.triage import Signal, signal, triage
from entra_hunt.hunts import signin
from entra_hunt.hunts.base import Hunt, RenderedQuery
from entra_hunt.hunts.kql import (
    Binding,
    datetime_literal,
    dynamic_strings,
    let_block,
    string_literal,
)
from entra_hunt.hunts.params import BackendName, HuntParameters, RiskFloor

__all__ = ["OUTPUT_COLUMNS", "DeviceCodeHunt", "DeviceCodeParameters"]

OUTPUT_COLUMNS = signin.OUTPUT_COLUMNS


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


# The output columns a finding's evidence names, each by its source column in the table.
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
    limits = {
        BackendName.DEFENDER: "No AuthenticationProtocol: device code is recognised by "
        "EndpointCall 'Cmsi:Cmsi'. No autonomous system number: no hosting-provider signal.",
    }
    signals = (
        "unmanaged-device-code",
        "broker-client",
        "hosting-provider-ip",
        "risky",
        "device-registration",
        "scripted-client",
        "off-hours",
        "trusted-location",
        "meeting-room-pattern",
    )

    def render(
        self, params: HuntParameters, table: str, start: datetime, end: datetime, row_limit: int
    ) -> RenderedQuery:
        """The hunt's KQL for ``table``; user values appear only in the ``let`` block."""
        assert isinstance(params, DeviceCodeParameters)
        spelling = signin.SPELLINGS[table]
        bindings = [
            Binding("window_start", datetime_literal(start)),
            Binding("window_end", datetime_literal(end)),
        ]
        filters = [
            f"where {spelling.time} between (window_start .. window_end)",
            f"where {spelling.device_code} and {spelling.success}",
            f"where {spelling.unmanaged}",
        ]
        if params.exclude_broker:
            bindings.append(Binding("broker_app_id", string_literal(BROKER_APP_ID)))
            filters.append(f"where {spelling.app_id} != broker_app_id")
        if params.users:
            bindings.append(Binding("target_users", dynamic_strings(params.users)))
            filters.append(f"where {spelling.user} in~ (target_users)")
        if params.risk is not RiskFloor.ANY:
            if spelling.defender:
                bindings.append(Binding("min_risk", str(params.risk.minimum_score())))
            else:
                bindings.append(Binding("risk_levels", dynamic_strings(params.risk.levels())))
            filters.append(f"where {spelling.risk}")
        text = (
            f"// entra-hunt {self.id}: {self.title}\n"
            + let_block(bindings)
            + table
            + "\n"
            + "".join(f"| {f}\n" for f in filters)
            + f"| project\n    {spelling.project()}\n"
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

    def finding(
        self, row: Mapping[str, object], table: str, params: HuntParameters | None = None
    ) -> Finding:
        """A matched sign-in as a triaged finding."""
        cells = signin.row_text(row)
        when = signin.instant(row.get("SignInTime"))
        signals = _signals(cells)
        if params is not None:
            late = signin.off_hours_signal(when, params.zone())
            if late:
                signals.append(late)
        outcome = triage(signals)
        return signin.finding(
            cells,
            id=cells["RequestId"] or f"{cells['CorrelationId']}@{when.isoformat()}",
            time=when,
            outcome=outcome,
            evidence=signin.evidence(cells, table, _EVIDENCE),
        )


def _signals(cells: Mapping[str, str | None]) -> list[Signal]:
    return [
        signal(
            "unmanaged-device-code",
            "Completed a device code sign-in from a device that is neither managed nor compliant",
        ),
        *signin.sign_in_signals(cells),
    ]
