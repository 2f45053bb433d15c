"""One sign-in event of the demo tenant, before it is written as any table's row.

A :class:`SignIn` holds the facts once (who, when, which app and resource, from where, on what
device, with which outcome); :mod:`._tables` renders it as a SigninLogs or
AADNonInteractiveUserSignInLogs row and as the matching Defender XDR rows. Outcome texts,
Conditional Access evaluation and authentication steps are derived here, so every table
agrees on them.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime

from entra_hunt.engine.demo._tenant import (
    AZURE_MANAGEMENT,
    SHAREPOINT,
    App,
    Client,
    Device,
    Network,
    User,
    new_token_id,
    new_uuid,
)

RESULT_DESCRIPTIONS: dict[int, str] = {
    0: "",
    50074: "Strong Authentication is required.",
    50126: "Error validating credentials due to invalid username or password.",
    50140: "This error occurred due to 'Keep me signed in' interrupt when the user was signing-in.",
    50199: "For security reasons, user confirmation is required for this request. "
    "Please repeat the request allowing user interaction.",
    53003: "Access has been blocked by Conditional Access policies. "
    "The access policy does not allow token issuance.",
    70016: "The provided request has not yet been authorized by the user. "
    "The user must input their code.",
    70020: "The device code has expired. The user did not complete the sign-in in time.",
}
_NOT_EVALUATED = frozenset({50074, 50126, 50140, 50199, 70016, 70020})


@dataclass(frozen=True)
class Ids:
    """The identifiers of one sign-in. Interrupt and success rows share a correlation id."""

    request: str
    correlation: str
    session: str
    token: str

    @classmethod
    def draw(cls, rng: random.Random, *, correlation: str = "", session: str = "") -> Ids:
        """Fresh ids, reusing the correlation or session id given."""
        return cls(
            request=new_uuid(rng),
            correlation=correlation or new_uuid(rng),
            session=session or new_uuid(rng),
            token=new_token_id(rng),
        )


@dataclass(frozen=True)
class SignIn:
    """The facts of one sign-in, independent of the table it is written to.

    ``auth`` says how the first factor was met: "token" (single sign-on, previously
    satisfied), "password", "password+mfa", "bad-password" or "none" (polling errors).
    """

    time: datetime
    user: User
    app: App
    resource: App
    network: Network
    device: Device
    client: Client
    ids: Ids
    result: int = 0
    interactive: bool = True
    protocol: str = "none"
    transfer: str = "none"
    incoming_token: str = "none"
    auth: str = "token"
    risk: str = "none"
    risk_events: tuple[str, ...] = ()
    endpoint_call: str = "OAuth2:Authorize"
    processing_ms: int = 120
    policies: list[dict[str, object]] = field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        """Evaluate Conditional Access once for every table."""
        object.__setattr__(self, "policies", _evaluate_policies(self))

    @property
    def description(self) -> str:
        """The ResultDescription text of the outcome."""
        return RESULT_DESCRIPTIONS[self.result]

    @property
    def mfa_required(self) -> bool:
        """True when the MFA policy applied (outside the trusted corporate egress)."""
        return not self.network.trusted and not self.user.is_room and self.result != 50126

    @property
    def ca_status(self) -> str:
        """ConditionalAccessStatus: failure if any policy failed, success if any applied."""
        results = {str(policy["result"]) for policy in self.policies}
        if "failure" in results:
            return "failure"
        return "success" if "success" in results else "notApplied"

    def authentication_steps(self) -> list[dict[str, object]]:
        """The AuthenticationDetails array: one entry per step taken."""
        when = self.time.strftime("%Y-%m-%dT%H:%M:%S.%f") + "0+00:00"
        primary: dict[str, object] = {
            "authenticationStepDateTime": when,
            "authenticationMethod": "Password",
            "succeeded": True,
            "authenticationStepResultDetail": "Correct password",
            "authenticationStepRequirement": "Primary authentication",
        }
        if self.auth == "none":
            return []
        if self.auth == "token":
            primary["authenticationMethod"] = "Previously satisfied"
            primary["authenticationStepResultDetail"] = (
                "First factor requirement satisfied by claim in the token"
            )
        if self.auth == "bad-password":
            primary["succeeded"] = False
            primary["authenticationStepResultDetail"] = "Invalid username or password"
        steps = [primary]
        if self.auth == "password+mfa" and self.result == 0:
            steps.append(
                {
                    "authenticationStepDateTime": when,
                    "authenticationMethod": "Mobile app notification",
                    "succeeded": True,
                    "authenticationStepResultDetail": "MFA successfully completed",
                    "authenticationStepRequirement": "Primary authentication",
                }
            )
        elif self.mfa_required and self.result == 0:
            steps.append(
                {
                    "authenticationStepDateTime": when,
                    "authenticationMethod": "Previously satisfied",
                    "succeeded": True,
                    "authenticationStepResultDetail": "MFA requirement satisfied by claim "
                    "in the token",
                    "authenticationStepRequirement": "Primary authentication",
                }
            )
        return steps

    def processing_details(self) -> list[dict[str, str]]:
        """The AuthenticationProcessingDetails array of {key, value} pairs."""
        details = [
            {"key": "Legacy TLS (TLS 1.0, 1.1, 3DES)", "value": "False"},
            {"key": "Is CAE Token", "value": "False"},
        ]
        if self.device.registered:
            details.append({"key": "Root Key Type", "value": "Unknown"})
        return details

    def network_details(self) -> list[dict[str, object]]:
        """The NetworkLocationDetails array: corporate egress is a trusted named location."""
        if not self.network.named_location:
            return []
        return [
            {"networkType": "trustedNamedLocation", "networkNames": [self.network.named_location]}
        ]


def _policy(policy_id: str, name: str, grant: list[str], result: str) -> dict[str, object]:
    return {
        "id": policy_id,
        "displayName": name,
        "enforcedGrantControls": grant if result in ("success", "failure") else [],
        "enforcedSessionControls": [],
        "result": result,
    }


def _evaluate_policies(signin: SignIn) -> list[dict[str, object]]:
    """The tenant's three Conditional Access policies, as evaluated for this sign-in."""
    evaluated = signin.result not in _NOT_EVALUATED
    device_ok = signin.device.compliant or signin.device.trust_type == "Hybrid Azure AD joined"

    mfa = "success" if evaluated and signin.mfa_required else "notApplied"
    azure = "notApplied"
    if evaluated and signin.resource == AZURE_MANAGEMENT:
        azure = "success" if signin.device.compliant else "failure"
    sharepoint = "notApplied"
    if evaluated and signin.resource == SHAREPOINT and not signin.user.guest:
        sharepoint = "success" if device_ok else "failure"

    return [
        _policy(
            "3f8a2c71-5d0e-4b69-a2f4-8c1e7d9b0a36",
            "CA001 - Require MFA outside trusted locations",
            ["Mfa"],
            mfa,
        ),
        _policy(
            "9b14e6d2-7a3c-4f58-b0e9-2d6c5a8f1e47",
            "CA002 - Require compliant device for Azure management",
            ["RequireCompliantDevice"],
            azure,
        ),
        _policy(
            "e5a9b3c8-2f4d-4e71-8c06-6d1f9a7b2e38",
            "CA003 - Require compliant or hybrid joined device for SharePoint",
            ["RequireCompliantDevice", "RequireDomainJoinedDevice"],
            sharepoint,
        ),
    ]
