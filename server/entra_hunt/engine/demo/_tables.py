"""Render demo sign-ins and audit events as rows of the five local tables.

One :class:`~._signin.SignIn` becomes a SigninLogs row (interactive) or an
AADNonInteractiveUserSignInLogs row (non-interactive), and always an EntraIdSignInEvents and an
AADSignInEventsBeta row, the way Defender XDR holds both kinds in one table. Values take the
Kusto type of their column in :func:`~entra_hunt.engine.schema.table_schema`: JSON-bearing
columns are objects where the column is ``dynamic`` and JSON text where it is ``string``.
Every row carries every column of its table, in documented order.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from entra_hunt.engine.demo._signin import SignIn
from entra_hunt.engine.demo._tenant import (
    DEMO_END,
    MICROSOFT_SERVICES_TENANT,
    PARTNER_TENANT_ID,
    TENANT_ID,
    WORKSPACE_ID,
    resource_principal_id,
)
from entra_hunt.engine.schema import table_schema

Row = dict[str, object]

_AAD_RESOURCE = f"/tenants/{TENANT_ID}/providers/Microsoft.aadiam"
_RISK_NUMBERS = {"": 0, "hidden": 0, "none": 1, "low": 10, "medium": 50, "high": 100}
_RISK_STATES = {"none": 0, "confirmedSafe": 1, "remediated": 2, "dismissed": 3, "atRisk": 4}
_CA_NUMBERS = {"success": 0, "failure": 1, "notApplied": 2}


def _text(value: object) -> str:
    """JSON text, compact, the way Log Analytics stores JSON in string columns."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _conform(table: str, values: Row) -> Row:
    """Order ``values`` by the table's schema; refuse a missing or unknown column."""
    names = table_schema(table).names
    extra = set(values) - set(names)
    missing = set(names) - set(values)
    if extra or missing:
        raise ValueError(f"{table}: unknown columns {sorted(extra)}, missing {sorted(missing)}")
    return {name: values[name] for name in names}


def _billed(row: Row) -> float:
    return float(len(_text({k: v for k, v in row.items() if not isinstance(v, datetime)})))


def _device_detail(signin: SignIn) -> dict[str, object]:
    device = signin.device
    if not device.registered:
        return {"deviceId": "", "operatingSystem": device.os, "browser": signin.client.browser}
    return {
        "deviceId": device.device_id,
        "displayName": device.display_name,
        "operatingSystem": device.os,
        "browser": signin.client.browser,
        "isCompliant": device.compliant,
        "isManaged": device.managed,
        "trustType": device.trust_type,
    }


def _location(signin: SignIn) -> dict[str, object]:
    place = signin.network.place
    return {
        "city": place.city,
        "state": place.state,
        "countryOrRegion": place.country,
        "geoCoordinates": {"latitude": place.latitude, "longitude": place.longitude},
    }


def _status(signin: SignIn) -> dict[str, object]:
    if signin.result == 0:
        return {"errorCode": 0}
    return {"errorCode": signin.result, "failureReason": signin.description}


def _risk_events(signin: SignIn) -> str:
    return _text(list(signin.risk_events))


def _requirement(signin: SignIn) -> str:
    return "multiFactorAuthentication" if signin.mfa_required else "singleFactorAuthentication"


def _sentinel_common(signin: SignIn) -> Row:
    """The columns SigninLogs and AADNonInteractiveUserSignInLogs share, as in SigninLogs."""
    user = signin.user
    at_risk = signin.risk not in ("none", "hidden")
    return {
        "TenantId": WORKSPACE_ID,
        "AADTenantId": TENANT_ID,
        "Agent": {"agentType": "notAgentic"},
        "AlternateSignInName": "",
        "AppDisplayName": signin.app.name,
        "AppId": signin.app.app_id,
        "AppliedEventListeners": None,
        "AppOwnerTenantId": MICROSOFT_SERVICES_TENANT,
        "AuthenticationContextClassReferences": "[]",
        "AuthenticationDetails": _text(signin.authentication_steps()),
        "AuthenticationMethodsUsed": "",
        "AuthenticationProcessingDetails": _text(signin.processing_details()),
        "AuthenticationProtocol": signin.protocol,
        "AuthenticationRequirement": _requirement(signin),
        "AuthenticationRequirementPolicies": "[]",
        "AuthenticatorAppLocation": "",
        "AutonomousSystemNumber": str(signin.network.asn),
        "_BilledSize": 0.0,
        "ClientAppUsed": signin.client.kind,
        "ClientCredentialType": "none",
        "ClientSessionId": "",
        "ConditionalAccessAudiences": "",
        "ConditionalAccessPolicies": signin.policies,
        "ConditionalAccessStatus": signin.ca_status,
        "CorrelationId": signin.ids.correlation,
        "CreatedDateTime": signin.time,
        "CrossTenantAccessType": "b2bCollaboration" if user.guest else "none",
        "DeviceDetail": _device_detail(signin),
        "DurationMs": 0,
        "FederatedCredentialId": "",
        "GlobalSecureAccessIpAddress": "",
        "HomeTenantId": PARTNER_TENANT_ID if user.guest else TENANT_ID,
        "HomeTenantName": "",
        "Id": signin.ids.request,
        "Identity": user.display_name,
        "IncomingTokenType": signin.incoming_token,
        "IPAddress": signin.network.ip,
        "_IsBillable": "True",
        "IsInteractive": signin.interactive,
        "IsRisky": at_risk,
        "IsTenantRestricted": False,
        "IsThroughGlobalSecureAccess": False,
        "Level": "4",
        "Location": signin.network.place.country,
        "LocationDetails": _location(signin),
        "MfaDetail": {},
        "NetworkLocationDetails": _text(signin.network_details()),
        "OperationName": "Sign-in activity",
        "OperationVersion": "1.0",
        "OriginalRequestId": signin.ids.request,
        "OriginalTransferMethod": signin.transfer,
        "ResourceDisplayName": signin.resource.name,
        "ResourceGroup": "Microsoft.aadiam",
        "ResourceIdentity": signin.resource.app_id,
        "ResourceOwnerTenantId": MICROSOFT_SERVICES_TENANT,
        "ResourceServicePrincipalId": resource_principal_id(signin.resource),
        "ResourceTenantId": TENANT_ID,
        "ResultDescription": signin.description,
        "ResultSignature": "None",
        "ResultType": str(signin.result),
        "RiskDetail": "none",
        "RiskEventTypes": _risk_events(signin),
        "RiskEventTypes_V2": _risk_events(signin),
        "RiskLevelAggregated": signin.risk,
        "RiskLevelDuringSignIn": signin.risk,
        "RiskState": "atRisk" if at_risk else "none",
        "ServicePrincipalId": "",
        "SessionId": signin.ids.session,
        "SessionLifetimePolicies": "[]",
        "SignInIdentifierType": "",
        "SourceSystem": "Azure AD",
        "Status": _status(signin),
        "TimeGenerated": signin.time,
        "TokenIssuerName": "",
        "TokenIssuerType": "AzureAD",
        "TokenProtectionStatusDetails": {"signInSessionStatus": "unbound"},
        "UniqueTokenIdentifier": signin.ids.token,
        "UserAgent": signin.client.user_agent,
        "UserDisplayName": user.display_name,
        "UserId": user.object_id,
        "UserPrincipalName": user.upn,
        "UserType": "Guest" if user.guest else "Member",
    }


def signinlogs_row(signin: SignIn) -> Row:
    """The SigninLogs row of an interactive sign-in."""
    values = _sentinel_common(signin)
    values.update(
        {
            "AppliedConditionalAccessPolicies": "",
            "AuthenticationAppDeviceDetails": "",
            "AuthenticationAppPolicyEvaluationDetails": "",
            "FlaggedForReview": False,
            "IPAddressFromResourceProvider": "",
            "ProcessingTimeInMilliseconds": str(signin.processing_ms),
            "Resource": "Microsoft.aadiam",
            "ResourceId": _AAD_RESOURCE,
            "ResourceProvider": "",
            "RiskLevel": "",
            "RootActorID": "",
            "ServicePrincipalName": "",
            "SignInIdentifier": "",
            "SourceAppClientId": "",
            "Category": "SignInLogs",
            "Type": "SigninLogs",
        }
    )
    values["_BilledSize"] = _billed(values)
    return _conform("SigninLogs", values)


_NONINTERACTIVE_TEXT = (
    "Agent",
    "ConditionalAccessPolicies",
    "DeviceDetail",
    "LocationDetails",
    "MfaDetail",
    "Status",
    "TokenProtectionStatusDetails",
)


def noninteractive_row(signin: SignIn) -> Row:
    """The AADNonInteractiveUserSignInLogs row of a non-interactive sign-in."""
    values = _sentinel_common(signin)
    for name in _NONINTERACTIVE_TEXT:
        values[name] = _text(values[name])
    values.update(
        {
            "ProcessingTimeInMs": str(signin.processing_ms),
            "SignInEventTypes": '["nonInteractiveUser"]',
            "Category": "NonInteractiveUserSignInLogs",
            "Type": "AADNonInteractiveUserSignInLogs",
        }
    )
    values["_BilledSize"] = _billed(values)
    return _conform("AADNonInteractiveUserSignInLogs", values)


def sentinel_row(signin: SignIn) -> tuple[str, Row]:
    """The Sentinel table and row a sign-in lands in, by interactivity."""
    if signin.result == 0 and signin.ca_status == "failure":
        raise ValueError(f"{signin.user.upn} at {signin.time}: success despite a CA failure")
    if signin.interactive:
        return "SigninLogs", signinlogs_row(signin)
    return "AADNonInteractiveUserSignInLogs", noninteractive_row(signin)


def _defender_common(signin: SignIn) -> Row:
    user = signin.user
    device = signin.device
    place = signin.network.place
    logon = "interactiveUser" if signin.interactive else "nonInteractiveUser"
    return {
        "Timestamp": signin.time,
        "Application": signin.app.name,
        "ApplicationId": signin.app.app_id,
        "LogonType": f'["{logon}"]',
        "EndpointCall": signin.endpoint_call,
        "ErrorCode": signin.result,
        "CorrelationId": signin.ids.correlation,
        "SessionId": signin.ids.session,
        "AccountDisplayName": user.display_name,
        "AccountObjectId": user.object_id,
        "AccountUpn": user.upn,
        "IsExternalUser": 1 if user.guest else 0,
        "IsGuestUser": user.guest,
        "AlternateSignInName": "",
        "LastPasswordChangeTimestamp": DEMO_END
        - timedelta(days=user.password_changed_days_ago, hours=7, minutes=13),
        "ResourceDisplayName": signin.resource.name,
        "ResourceId": signin.resource.app_id,
        "ResourceTenantId": TENANT_ID,
        "DeviceName": device.display_name,
        "OSPlatform": device.os,
        "DeviceTrustType": device.trust_type,
        "IsManaged": int(device.managed),
        "IsCompliant": int(device.compliant),
        "AuthenticationProcessingDetails": _text(signin.processing_details()),
        "AuthenticationRequirement": _requirement(signin),
        "RiskLevelAggregated": _RISK_NUMBERS[signin.risk],
        "RiskLevelDuringSignIn": _RISK_NUMBERS[signin.risk],
        "RiskEventTypes": _risk_events(signin),
        "RiskState": _RISK_STATES["none" if signin.risk in ("none", "hidden") else "atRisk"],
        "UserAgent": signin.client.user_agent,
        "ClientAppUsed": signin.client.kind,
        "Browser": signin.client.browser,
        "ConditionalAccessPolicies": _text(signin.policies),
        "ConditionalAccessStatus": _CA_NUMBERS[signin.ca_status],
        "IPAddress": signin.network.ip,
        "Country": place.country,
        "State": place.state,
        "City": place.city,
        "Latitude": str(place.latitude),
        "Longitude": str(place.longitude),
        "NetworkLocationDetails": _text(signin.network_details()),
        "RequestId": signin.ids.request,
        # Defender documents ReportId only as the event's unique id; the sign-in's request id
        # is that id here (an assumption, and it halves the id entropy of the shipped files).
        "ReportId": signin.ids.request,
        "EntraIdDeviceId": device.device_id,
    }


def entraid_events_row(signin: SignIn) -> Row:
    """The EntraIdSignInEvents row (Defender XDR, GA table) of any sign-in."""
    values = _defender_common(signin)
    values.update(
        {
            "TokenIssuerType": "AzureAD",
            "GatewayJA4": "",
            "TenantId": TENANT_ID,
            "Type": "EntraIdSignInEvents",
            "SourceSystem": "",
            "TimeGenerated": signin.time,
            "UniqueTokenId": signin.ids.token,
            "IsSignInThroughGlobalSecureAccess": False,
        }
    )
    return _conform("EntraIdSignInEvents", values)


def beta_events_row(signin: SignIn) -> Row:
    """The AADSignInEventsBeta row (Defender XDR, deprecated table) of any sign-in."""
    values = _defender_common(signin)
    values.update(
        {"AadDeviceId": signin.device.device_id, "TokenIssuerType": 0, "RiskDetails": None}
    )
    return _conform("AADSignInEventsBeta", values)


@dataclass(frozen=True)
class AuditEvent:
    """One Entra audit log entry (directory or device registration activity)."""

    time: datetime
    operation: str
    category: str
    service: str
    operation_type: str
    record_id: str
    correlation: str
    initiated_by: dict[str, object]
    targets: list[dict[str, object]]
    details: list[dict[str, str]]


def directory_record_id(rng: random.Random, correlation: str) -> str:
    """A Core Directory audit record id: ``Directory_<correlation>_<5 letters>_<9 digits>``."""
    letters = "".join(rng.choice("ABCDEFGHJKLMNPQRSTUVWXYZ") for _ in range(5))
    return f"Directory_{correlation}_{letters}_{rng.randint(10**8, 10**9 - 1)}"


def audit_row(event: AuditEvent) -> Row:
    """The AuditLogs row of an audit event."""
    initiator = event.initiated_by.get("user") or event.initiated_by.get("app") or {}
    assert isinstance(initiator, dict)
    values: Row = {
        "AADOperationType": event.operation_type,
        "AADTenantId": TENANT_ID,
        "ActivityDateTime": event.time,
        "ActivityDisplayName": event.operation,
        "AdditionalDetails": event.details,
        "_BilledSize": 0.0,
        "Category": event.category,
        "CorrelationId": event.correlation,
        "DurationMs": 0,
        "Id": event.record_id,
        "Identity": str(initiator.get("displayName") or initiator.get("userPrincipalName", "")),
        "_IsBillable": "True",
        "Level": "4",
        "Location": "",
        "LoggedByService": event.service,
        "OperationName": event.operation,
        "OperationVersion": "1.0",
        "Resource": "Microsoft.aadiam",
        "ResourceGroup": "Microsoft.aadiam",
        "ResourceId": _AAD_RESOURCE,
        "ResourceProvider": "",
        "Result": "success",
        "ResultDescription": "",
        "ResultReason": "",
        "ResultSignature": "None",
        "ResultType": "",
        "SourceSystem": "Azure AD",
        "TargetResources": event.targets,
        "TimeGenerated": event.time,
        "Type": "AuditLogs",
        "InitiatedBy": event.initiated_by,
    }
    values["_BilledSize"] = _billed(values)
    return _conform("AuditLogs", values)
