"""Threat context for the follow-on hunts: what happens after a device code phish succeeds.

Kept as data, one :class:`~entra_hunt.findings.models.ThreatContext` per hunt: the broker chain
(device registration and a primary refresh token), one source phishing many users, the replay
of tokens from the device code grant, and a user's first device code sign-in. Sources:
Microsoft Threat Intelligence on Storm-2372 (2025-02-13, updated 2025-02-14), Volexity on
Russian actors phishing device codes (2025-02-13), MITRE ATT&CK, and Microsoft Learn on
refresh tokens, primary refresh tokens and the Conditional Access authentication flows policy.
"""

from __future__ import annotations

from entra_hunt.context.device_code import DEVICE_CODE_PHISHING
from entra_hunt.findings.models import Action, Reference, Technique, ThreatContext

__all__ = ["BROKER_CHAIN", "FIRST_USE", "ONE_SOURCE", "TOKEN_REPLAY"]

_PHISHING, _TOKEN_THEFT = DEVICE_CODE_PHISHING.techniques
_STORM_2372, _APPEL, _BLOCK_FLOWS, _FLOWS = DEVICE_CODE_PHISHING.references
_REVOKE, _DEVICES, _RESET, _BLOCK, _TRACE = DEVICE_CODE_PHISHING.recommended_actions

_DEVICE_REGISTRATION = Technique(
    id="T1098.005",
    name="Account Manipulation: Device Registration",
    tactic="Persistence",
    url="https://attack.mitre.org/techniques/T1098/005/",
)
_ALTERNATE_TOKEN = Technique(
    id="T1550.001",
    name="Use Alternate Authentication Material: Application Access Token",
    tactic="Defense Evasion, Lateral Movement",
    url="https://attack.mitre.org/techniques/T1550/001/",
)
_VOLEXITY = Reference(
    title="Multiple Russian threat actors targeting Microsoft device code authentication",
    publisher="Volexity",
    url="https://www.volexity.com/blog/2025/02/13/"
    "multiple-russian-threat-actors-targeting-microsoft-device-code-authentication/",
    published="2025-02-13",
)
_PRT = Reference(
    title="Understanding Primary Refresh Token (PRT) in Microsoft Entra ID",
    publisher="Microsoft Learn",
    url="https://learn.microsoft.com/en-us/entra/identity/devices/concept-primary-refresh-token",
)
_REFRESH_TOKENS = Reference(
    title="Refresh tokens in the Microsoft identity platform",
    publisher="Microsoft Learn",
    url="https://learn.microsoft.com/en-us/entra/identity-platform/refresh-tokens",
)
_DELETE_DEVICE = Action(
    title="Disable and delete the device the attacker registered",
    why="A registered device holds a primary refresh token that keeps working after the "
    "user's password is reset and can satisfy device-based Conditional Access.",
    how="Entra admin center > Devices > All devices, search the device id or name from the "
    "finding's steps, Disable, then Delete; then revoke the user's sessions.",
)
_REQUIRE_MFA_TO_REGISTER = Action(
    title="Require MFA, from a trusted place, to register devices",
    why="The broker chain registers a device with the phished token alone.",
    how="Conditional Access policy for the user action 'Register or join devices', "
    "granting only with multifactor authentication (and, where possible, only from "
    "trusted locations); set the device setting 'Require MFA to register or join' to No so "
    "the policy governs.",
)

BROKER_CHAIN = ThreatContext(
    attack=(
        "After a device code phish with the Microsoft Authentication Broker client, the "
        "attacker redeems the refresh token for the Device Registration Service, registers a "
        "device of their own in Entra ID, and requests a primary refresh token (PRT) for it. "
        "From then on they sign in as the user from 'their' registered device."
    ),
    campaign=(
        "Storm-2372 switched to the broker client in February 2025 (Microsoft's update of "
        "2025-02-14). Public tooling (ROADtools' roadtx) performs the whole sequence in "
        "minutes, which is why the steps follow each other closely in the logs."
    ),
    why_it_matters=(
        "A registered device with a PRT is persistence: it survives password resets, can "
        "satisfy Conditional Access that trusts registered devices, and gives single sign-on "
        "to every resource the user can reach. Revoking sessions alone does not remove it."
    ),
    techniques=[_TOKEN_THEFT, _DEVICE_REGISTRATION, _ALTERNATE_TOKEN],
    references=[_STORM_2372, _PRT, _VOLEXITY, _BLOCK_FLOWS],
    recommended_actions=[_DELETE_DEVICE, _REVOKE, _REQUIRE_MFA_TO_REGISTER, _BLOCK, _TRACE],
)

ONE_SOURCE = ThreatContext(
    attack=(
        "A phishing kit redeems the device codes of every victim who enters one from the "
        "same host, so one IP address (or one /24 of a hosting provider) completes device "
        "code sign-ins for several users within hours."
    ),
    campaign=(
        "Storm-2372 sent its lures to many people of the same organisation, and both "
        "Microsoft and Volexity describe campaigns run from small sets of hosting-provider "
        "addresses. A corporate egress address does the same thing legitimately when several "
        "engineers sign in to command-line tools with device codes."
    ),
    why_it_matters=(
        "One source reaching several users is a campaign, not a mistake: every user it reached "
        "needs the response, including those whose sign-in looked unremarkable alone."
    ),
    techniques=[_PHISHING, _TOKEN_THEFT],
    references=[_STORM_2372, _VOLEXITY, _APPEL, _BLOCK_FLOWS],
    recommended_actions=[
        Action(
            title="Treat every user the source reached as compromised",
            why="The kit redeemed each code it was given; a sign-in that completed issued tokens.",
            how="For each user in the finding: revoke sessions, review registered devices and "
            "MFA methods, and hunt their token use (run the token replay hunt for them).",
        ),
        Action(
            title="Block the source",
            why="The same host may still hold codes being entered.",
            how="Add the IP or range to a Conditional Access named location and block it, or "
            "block it at the proxy; keep the evidence first.",
        ),
        _BLOCK,
        _TRACE,
    ],
)

TOKEN_REPLAY = ThreatContext(
    attack=(
        "The refresh token from a device code grant is a bearer credential: whoever holds it "
        "can redeem it from anywhere. Sign-ins descended from the grant (OriginalTransferMethod "
        "'deviceCodeFlow' in AADNonInteractiveUserSignInLogs) that come from an IP address, "
        "country or user agent the device code sign-in did not use show the token travelling."
    ),
    campaign=(
        "Storm-2372 and the actors Volexity described phished a code from one host and then "
        "used the tokens from other infrastructure, mostly through Microsoft Graph to read mail "
        "and files; refresh tokens stay valid for 90 days unless revoked."
    ),
    why_it_matters=(
        "Token replay is what the attacker does with a phished sign-in: reading mail, files "
        "and Teams. It continues after a password change until sessions are revoked, and it "
        "shows where the attacker operates from."
    ),
    techniques=[_TOKEN_THEFT, _ALTERNATE_TOKEN],
    references=[_STORM_2372, _REFRESH_TOKENS, _VOLEXITY],
    recommended_actions=[_REVOKE, _TRACE, _RESET, _BLOCK],
)

FIRST_USE = ThreatContext(
    attack=(
        "Most people never use the device code flow. A user's first device code sign-in, "
        "measured against a baseline of the weeks before, is rare enough to review each time: "
        "phishing victims, new staff setting up tools and newly installed meeting-room "
        "devices all appear here, and the triage signals tell them apart."
    ),
    campaign=DEVICE_CODE_PHISHING.campaign,
    why_it_matters=(
        "A first use is cheap to review and catches phishing the unmanaged-device hunt can "
        "miss, for example when the attacker presents a device that Entra ID knows."
    ),
    techniques=[_PHISHING, _TOKEN_THEFT],
    references=[_STORM_2372, _APPEL, _FLOWS, _BLOCK_FLOWS],
    recommended_actions=[
        Action(
            title="Ask the user",
            why="A first use by a person who did not expect to sign in to a device is phishing.",
            how="Contact the user out of band (not by mail or chat from the account): did they "
            "enter a code at microsoft.com/devicelogin, on which device, for what?",
        ),
        _REVOKE,
        _BLOCK,
        _DEVICES,
    ],
)
