"""Threat context for device code phishing, kept as data and served with every result.

Sources: Microsoft Threat Intelligence on Storm-2372 (2025-02-13, updated 2025-02-14 with the
move to the Microsoft Authentication Broker client), MITRE ATT&CK, Microsoft Learn on the
Conditional Access authentication flows policy, and Jeffrey Appel's guide to device code flow
abuse.
"""

from __future__ import annotations

from entra_hunt.findings.models import Action, Reference, Technique, ThreatContext

__all__ = ["BROKER_APP_ID", "DEVICE_CODE_PHISHING"]

#: Microsoft Authentication Broker: noisy during device onboarding, and Storm-2372's client
#: of choice from February 2025 to register devices and obtain primary refresh tokens.
BROKER_APP_ID = "29d9ed98-a469-4536-ade2-f981bc1d605e"

DEVICE_CODE_PHISHING = ThreatContext(
    attack=(
        "Device code phishing abuses the OAuth 2.0 device authorization grant. The attacker "
        "starts a device code sign-in, sends the victim the code with a lure (a meeting invite, "
        "a chat message) and the victim enters it at microsoft.com/devicelogin, completing MFA "
        "themselves. The tokens are issued to the attacker's session, not the victim's device, "
        "so the successful sign-in comes from a device the organisation does not manage."
    ),
    campaign=(
        "Storm-2372, assessed by Microsoft with medium confidence to align with Russian "
        "interests, has run device code phishing since August 2024 against governments, NGOs, "
        "IT services, defence, telecoms, health, higher education and energy, using fake "
        "Microsoft Teams meeting invitations and messaging apps. From February 2025 it requested "
        "tokens for the Microsoft Authentication Broker client, used them to register an "
        "attacker-controlled device in Entra ID, and obtained a primary refresh token that "
        "gives lasting access to the victim's resources."
    ),
    why_it_matters=(
        "A device code phish defeats MFA: the victim satisfies it. The attacker leaves with "
        "access and refresh tokens (and, through the broker client, possibly a registered "
        "device and a primary refresh token) that survive a password change until sessions are "
        "revoked. Mail, files and Teams are exfiltrated through Microsoft Graph, and the "
        "account is then used to phish colleagues."
    ),
    techniques=[
        Technique(
            id="T1566.002",
            name="Phishing: Spearphishing Link",
            tactic="Initial Access",
            url="https://attack.mitre.org/techniques/T1566/002/",
        ),
        Technique(
            id="T1528",
            name="Steal Application Access Token",
            tactic="Credential Access",
            url="https://attack.mitre.org/techniques/T1528/",
        ),
    ],
    references=[
        Reference(
            title="Storm-2372 conducts device code phishing campaign",
            publisher="Microsoft Threat Intelligence (Microsoft Security blog)",
            url="https://www.microsoft.com/en-us/security/blog/2025/02/13/"
            "storm-2372-conducts-device-code-phishing-campaign/",
            published="2025-02-13",
        ),
        Reference(
            title="How to protect against device code flow abuse (Storm-2372 attacks) and "
            "block the authentication flow",
            publisher="Jeffrey Appel",
            url="https://jeffreyappel.nl/how-to-protect-against-device-code-flow-abuse-"
            "storm-2372-attacks-and-block-the-authentication-flow/",
        ),
        Reference(
            title="Block authentication flows with Conditional Access policy",
            publisher="Microsoft Learn",
            url="https://learn.microsoft.com/en-us/entra/identity/conditional-access/"
            "policy-block-authentication-flows",
        ),
        Reference(
            title="Conditional Access: authentication flows",
            publisher="Microsoft Learn",
            url="https://learn.microsoft.com/en-us/entra/identity/conditional-access/"
            "concept-authentication-flows",
        ),
    ],
    recommended_actions=[
        Action(
            title="Revoke the user's sessions",
            why="Refresh tokens issued to the attacker stay valid until revoked.",
            how="Entra admin center > Users > the user > Revoke sessions, or "
            "Revoke-MgUserSignInSession -UserId <upn> with Microsoft Graph PowerShell.",
        ),
        Action(
            title="Review devices registered by the user",
            why="Through the broker client the attacker can register a device and obtain a "
            "primary refresh token that outlives a password reset.",
            how="Entra admin center > Devices > All devices, filtered by the user as owner; "
            "check AuditLogs for 'Register device' around the finding's time; delete unknown "
            "devices.",
        ),
        Action(
            title="Reset credentials and re-register MFA methods",
            why="The phish may have come with other credential theft, and attacker-added MFA "
            "methods give a way back in.",
            how="Reset the password, require MFA re-registration, and review the user's "
            "authentication methods for ones they did not add.",
        ),
        Action(
            title="Block the device code flow with Conditional Access",
            why="Most users never need it; blocking it removes the attack path.",
            how="Create a Conditional Access policy with Conditions > Authentication flows > "
            "Device code flow, grant Block, excluding only the accounts and locations that "
            "need it (meeting-room devices, specific admin workstations).",
        ),
        Action(
            title="Look for what the tokens were used for",
            why="Storm-2372 exfiltrated mail through Microsoft Graph and phished colleagues "
            "from the compromised account.",
            how="Hunt the session id and IP of the finding in AADNonInteractiveUserSignInLogs, "
            "MicrosoftGraphActivityLogs and the unified audit log (MailItemsAccessed).",
        ),
    ],
)
