"""Reading Microsoft Graph ``/auditLogs/signIns`` JSON as SigninLogs rows.

Offers :data:`GRAPH_TO_SIGNINLOGS`, the one table saying which Log Analytics column each Graph
``signIn`` property fills, and :func:`graph_layout`, the
:class:`~entra_hunt.engine.readers.layout.Layout` built from it. The Entra admin center's JSON
download holds the same ``signIn`` objects and is read with the same table. Values keep
their JSON type until the target column's type decides: ``status`` stays an object in the
dynamic ``Status`` column of SigninLogs but becomes JSON text in the string ``Status`` column of
AADNonInteractiveUserSignInLogs; arrays such as ``authenticationDetails`` become JSON text in
their string columns; ``autonomousSystemNumber`` becomes text; ``ResultType`` is
``str(status.errorCode)``. ``Type`` and ``Category`` are set as Log Analytics sets them.

A record whose ``signInEventTypes`` lacks ``interactiveUser`` but has ``nonInteractiveUser``, or
without that property has ``isInteractive: false``, goes to AADNonInteractiveUserSignInLogs.

Limits: service principal and managed identity sign-ins are left out with a warning. These
Graph properties have no column and are dropped: ``appTokenProtectionStatus``,
``signInTokenProtectionStatus``, ``azureResourceId``, ``managedServiceIdentity``,
``privateLinkDetails``, ``servicePrincipalCredentialKeyId``,
``servicePrincipalCredentialThumbprint``. ``appliedConditionalAccessPolicies`` fills
``ConditionalAccessPolicies`` (what hunts read), not the newer string column
``AppliedConditionalAccessPolicies``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from entra_hunt.engine.readers.layout import (
    ByEventType,
    Const,
    Field,
    Layout,
    Member,
    Source,
    TableLayout,
)
from entra_hunt.engine.readers.loganalytics import SIGNIN_TABLES
from entra_hunt.engine.schema import table_schema

__all__ = ["GRAPH_TO_SIGNINLOGS", "GraphField", "graph_layout", "looks_like_graph"]


@dataclass(frozen=True)
class GraphField:
    """One line of the mapping.

    Attributes:
        property: the Graph ``signIn`` property (camelCase).
        column: the Log Analytics column it fills; skipped for a table without it.
        key: if set, the column takes only this key of the property's object.
    """

    property: str
    column: str
    key: str | None = None


#: Graph signIn property -> SigninLogs / AADNonInteractiveUserSignInLogs column.
GRAPH_TO_SIGNINLOGS: tuple[GraphField, ...] = (
    GraphField("id", "Id"),
    GraphField("createdDateTime", "CreatedDateTime"),
    GraphField("createdDateTime", "TimeGenerated"),
    GraphField("userPrincipalName", "UserPrincipalName"),
    GraphField("userId", "UserId"),
    GraphField("userDisplayName", "UserDisplayName"),
    GraphField("userType", "UserType"),
    GraphField("alternateSignInName", "AlternateSignInName"),
    GraphField("signInIdentifier", "SignInIdentifier"),
    GraphField("signInIdentifierType", "SignInIdentifierType"),
    GraphField("appId", "AppId"),
    GraphField("appDisplayName", "AppDisplayName"),
    GraphField("appOwnerTenantId", "AppOwnerTenantId"),
    GraphField("resourceId", "ResourceIdentity"),
    GraphField("resourceDisplayName", "ResourceDisplayName"),
    GraphField("resourceServicePrincipalId", "ResourceServicePrincipalId"),
    GraphField("resourceTenantId", "ResourceTenantId"),
    GraphField("resourceOwnerTenantId", "ResourceOwnerTenantId"),
    GraphField("homeTenantId", "HomeTenantId"),
    GraphField("homeTenantName", "HomeTenantName"),
    GraphField("servicePrincipalId", "ServicePrincipalId"),
    GraphField("servicePrincipalName", "ServicePrincipalName"),
    GraphField("federatedCredentialId", "FederatedCredentialId"),
    GraphField("ipAddress", "IPAddress"),
    GraphField("ipAddressFromResourceProvider", "IPAddressFromResourceProvider"),
    GraphField("globalSecureAccessIpAddress", "GlobalSecureAccessIpAddress"),
    GraphField("isThroughGlobalSecureAccess", "IsThroughGlobalSecureAccess"),
    GraphField("autonomousSystemNumber", "AutonomousSystemNumber"),
    GraphField("location", "LocationDetails"),
    GraphField("location", "Location", key="countryOrRegion"),
    GraphField("networkLocationDetails", "NetworkLocationDetails"),
    GraphField("userAgent", "UserAgent"),
    GraphField("deviceDetail", "DeviceDetail"),
    GraphField("clientAppUsed", "ClientAppUsed"),
    GraphField("clientCredentialType", "ClientCredentialType"),
    GraphField("isInteractive", "IsInteractive"),
    GraphField("signInEventTypes", "SignInEventTypes"),
    GraphField("authenticationProtocol", "AuthenticationProtocol"),
    GraphField("originalTransferMethod", "OriginalTransferMethod"),
    GraphField("incomingTokenType", "IncomingTokenType"),
    GraphField("sessionId", "SessionId"),
    GraphField("correlationId", "CorrelationId"),
    GraphField("originalRequestId", "OriginalRequestId"),
    GraphField("uniqueTokenIdentifier", "UniqueTokenIdentifier"),
    GraphField("tokenIssuerName", "TokenIssuerName"),
    GraphField("tokenIssuerType", "TokenIssuerType"),
    GraphField("status", "Status"),
    GraphField("status", "ResultType", key="errorCode"),
    GraphField("status", "ResultDescription", key="failureReason"),
    GraphField("authenticationDetails", "AuthenticationDetails"),
    GraphField("authenticationMethodsUsed", "AuthenticationMethodsUsed"),
    GraphField("authenticationProcessingDetails", "AuthenticationProcessingDetails"),
    GraphField("authenticationRequirement", "AuthenticationRequirement"),
    GraphField("authenticationRequirementPolicies", "AuthenticationRequirementPolicies"),
    GraphField("authenticationContextClassReferences", "AuthenticationContextClassReferences"),
    GraphField("authenticationAppDeviceDetails", "AuthenticationAppDeviceDetails"),
    GraphField(
        "authenticationAppPolicyEvaluationDetails", "AuthenticationAppPolicyEvaluationDetails"
    ),
    GraphField("mfaDetail", "MfaDetail"),
    GraphField("appliedConditionalAccessPolicies", "ConditionalAccessPolicies"),
    GraphField("conditionalAccessStatus", "ConditionalAccessStatus"),
    GraphField("conditionalAccessAudiences", "ConditionalAccessAudiences"),
    GraphField("appliedEventListeners", "AppliedEventListeners"),
    GraphField("sessionLifetimePolicies", "SessionLifetimePolicies"),
    GraphField("crossTenantAccessType", "CrossTenantAccessType"),
    GraphField("isTenantRestricted", "IsTenantRestricted"),
    GraphField("flaggedForReview", "FlaggedForReview"),
    GraphField("riskDetail", "RiskDetail"),
    GraphField("riskEventTypes", "RiskEventTypes"),
    GraphField("riskEventTypes_v2", "RiskEventTypes_V2"),
    GraphField("riskLevelAggregated", "RiskLevelAggregated"),
    GraphField("riskLevelDuringSignIn", "RiskLevelDuringSignIn"),
    GraphField("riskState", "RiskState"),
    GraphField("processingTimeInMilliseconds", "ProcessingTimeInMilliseconds"),
    GraphField("processingTimeInMilliseconds", "ProcessingTimeInMs"),  # non-interactive name
)


_NON_INTERACTIVE = "AADNonInteractiveUserSignInLogs"
_CATEGORY = {"SigninLogs": "SignInLogs", _NON_INTERACTIVE: "NonInteractiveUserSignInLogs"}
_WHO_PROPERTIES = frozenset({"userPrincipalName", "userId", "appId", "ipAddress"})
#: Graph properties known to have no column: read past without a log line.
_DROPPED = (
    "appTokenProtectionStatus",
    "signInTokenProtectionStatus",
    "azureResourceId",
    "managedServiceIdentity",
    "privateLinkDetails",
    "servicePrincipalCredentialKeyId",
    "servicePrincipalCredentialThumbprint",
)


def looks_like_graph(keys: Mapping[str, object]) -> bool:
    """Whether a JSON record has the camelCase shape of a Graph ``signIn``."""
    return "createdDateTime" in keys and not _WHO_PROPERTIES.isdisjoint(keys)


def graph_layout(format: str = "graph-json") -> Layout:
    """The layout of Graph ``signIn`` records, from :data:`GRAPH_TO_SIGNINLOGS`."""
    tables = []
    for table in SIGNIN_TABLES:
        names = set(table_schema(table).names)
        sources: dict[str, Source] = {
            "Type": Const(table),
            "Category": Const(_CATEGORY[table]),
        }
        for mapped in GRAPH_TO_SIGNINLOGS:
            if mapped.column in names:
                sources[mapped.column] = (
                    Field((mapped.property,))
                    if mapped.key is None
                    else Member(mapped.property, mapped.key)
                )
        columns = tuple((c, sources[c]) for c in table_schema(table).names if c in sources)
        tables.append(TableLayout(table, columns, "createdDateTime"))
    properties = tuple(dict.fromkeys(mapped.property for mapped in GRAPH_TO_SIGNINLOGS))
    return Layout(
        format=format,
        tables=tuple(tables),
        route=ByEventType(
            event_types="signInEventTypes",
            is_interactive="isInteractive",
            interactive="SigninLogs",
            non_interactive=_NON_INTERACTIVE,
        ),
        fields=properties,
        labels={name: name for name in properties},
        json_values=True,
        kept_keys=frozenset(properties + _DROPPED),
    )
