"""Reading Microsoft Graph ``/auditLogs/signIns`` JSON as SigninLogs rows.

Offers :data:`GRAPH_TO_SIGNINLOGS`, the one table saying which Log Analytics column each Graph
``signIn`` property fills, and :class:`GraphMapper`, which applies it to one record. Values keep
their JSON type until the target column's type decides: ``status`` stays an object in the
dynamic ``Status`` column of SigninLogs but becomes JSON text in the string ``Status`` column of
AADNonInteractiveUserSignInLogs; arrays such as ``authenticationDetails`` become JSON text in
their string columns; ``autonomousSystemNumber`` becomes text; ``ResultType`` is
``str(status.errorCode)``. ``Type`` and ``Category`` are set as Log Analytics sets them.

A record whose ``signInEventTypes`` lacks ``interactiveUser`` but has ``nonInteractiveUser``, or
without that property has ``isInteractive: false``, goes to AADNonInteractiveUserSignInLogs.

Limits: service principal and managed identity sign-ins are skipped with a warning. These Graph
properties have no column and are dropped (logged once per file): ``appTokenProtectionStatus``,
``signInTokenProtectionStatus``, ``azureResourceId``, ``managedServiceIdentity``,
``privateLinkDetails``, ``servicePrincipalCredentialKeyId``,
``servicePrincipalCredentialThumbprint``. ``appliedConditionalAccessPolicies`` fills
``ConditionalAccessPolicies`` (what hunts read), not the newer string column
``AppliedConditionalAccessPolicies``.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass

from entra_hunt.engine.readers.loganalytics import SIGNIN_TABLES
from entra_hunt.engine.readers.rows import Cell, RowBuilder, SourceRow, show_value
from entra_hunt.errors import LoadError

__all__ = ["GRAPH_TO_SIGNINLOGS", "GraphField", "GraphMapper", "looks_like_graph"]

logger = logging.getLogger(__name__)


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


def _by_property() -> dict[str, tuple[GraphField, ...]]:
    grouped: dict[str, list[GraphField]] = {}
    for field in GRAPH_TO_SIGNINLOGS:
        grouped.setdefault(field.property, []).append(field)
    return {name: tuple(fields) for name, fields in grouped.items()}


_BY_PROPERTY = _by_property()

_NON_INTERACTIVE = "AADNonInteractiveUserSignInLogs"
_CATEGORY = {"SigninLogs": "SignInLogs", _NON_INTERACTIVE: "NonInteractiveUserSignInLogs"}
_WHO_PROPERTIES = frozenset({"userPrincipalName", "userId", "appId", "ipAddress"})
_MAX_IGNORED_SHOWN = 50


def looks_like_graph(keys: Mapping[str, object]) -> bool:
    """Whether a JSON record has the camelCase shape of a Graph ``signIn``."""
    return "createdDateTime" in keys and not _WHO_PROPERTIES.isdisjoint(keys)


class GraphMapper:
    """Turns one Graph ``signIn`` object into a row of the right sign-in table."""

    def __init__(self, label: str) -> None:
        """Map records of the file named ``label``."""
        self._label = label
        self._builders = {table: RowBuilder(table, label) for table in SIGNIN_TABLES}
        self._ignored: set[str] = set()
        self.skipped = 0

    def map(self, record: Mapping[str, object], line: int) -> SourceRow | None:
        """The typed row for the record on ``line``, or None for a sign-in kind not kept.

        Raises:
            LoadError: a value does not fit its column, or an object property is not one.
        """
        table = self._route(record)
        if table is None:
            self.skipped += 1
            return None
        builder = self._builders[table]
        cells: dict[str, Cell] = {
            "Type": ("Type", table),
            "Category": ("Category", _CATEGORY[table]),
        }

        for name, raw in record.items():
            fields = _BY_PROPERTY.get(name)
            if fields is None:
                if not name.startswith("@") and len(self._ignored) < _MAX_IGNORED_SHOWN:
                    self._ignored.add(name)
                continue
            for field in fields:
                if field.column not in builder.types:
                    continue
                if field.key is None:
                    cells[field.column] = (name, raw)
                else:
                    cells[field.column] = (f"{name}.{field.key}", self._part(raw, field, line))
        return builder.build(cells, line)

    def finish(self) -> None:
        """Log, once per file, what was left out."""
        if self._ignored:
            logger.info(
                "%s: ignored Graph properties without a sign-in column: %s",
                self._label,
                ", ".join(show_value(name) for name in sorted(self._ignored)),
            )
        if self.skipped:
            logger.warning(
                "%s: skipped %d service principal or managed identity sign-ins "
                "(only user sign-ins are loaded)",
                self._label,
                self.skipped,
            )

    def _part(self, raw: object, field: GraphField, line: int) -> object:
        if raw is None:
            return None
        if isinstance(raw, dict):
            return raw.get(field.key)
        raise LoadError(
            f"the value {show_value(raw)} is not an object with {field.key}",
            where=f"{self._label}, line {line}, field {field.property}",
            fix=f"Expected a Graph signIn whose {field.property} is a JSON object",
        )

    @staticmethod
    def _route(record: Mapping[str, object]) -> str | None:
        kinds = record.get("signInEventTypes")
        if isinstance(kinds, str):
            kinds = [kinds]
        if isinstance(kinds, list) and kinds:
            if "interactiveUser" in kinds:
                return "SigninLogs"
            if "nonInteractiveUser" in kinds:
                return _NON_INTERACTIVE
            return None
        interactive = record.get("isInteractive")
        if interactive is False or str(interactive).lower() == "false":
            return _NON_INTERACTIVE
        return "SigninLogs"
