"""The Entra admin center's sign-in download (CSV) as SigninLogs rows.

Offers :data:`PORTAL_TO_SIGNINLOGS`, the one table saying which SigninLogs column each portal
column fills, and :func:`portal_layout`. The download (``InteractiveSignIns_<dates>.csv``,
``NonInteractiveSignIns_<dates>.csv``) has quirks this reader absorbs:

- headers are matched by name after trimming and collapsing spaces, case-insensitively, so
  ``Application ID `` (trailing space) and ``Autonomous system  number`` (double space) match;
- ``Incoming token type`` appears twice; the first non-empty cell wins;
- display values become the API's spelling where the hunts compare them (``Device Code`` is
  ``deviceCode``, ``Device code flow`` is ``deviceCodeFlow``, ``Not Applied`` is
  ``notApplied``); unknown values pass unchanged;
- flattened objects are rebuilt: ``Device ID``, ``Browser``, ``Operating System``,
  ``Compliant``, ``Managed`` and ``Join Type`` form ``DeviceDetail``; ``Location``
  (``City, State, CC``) forms ``LocationDetails``; the error code and failure reason form
  ``Status``;
- dates are ISO 8601 (``Date (UTC)``) or the en-US form of older downloads.

The older download layout (PascalCase ``CreatedDateTime``, ``UserPrincipalName``, ``City``,
``Device``, ``OS``, ``Status``...) is read with :data:`LEGACY_PORTAL_TO_SIGNINLOGS`.

The file name decides the table: a name containing ``NonInteractive`` loads into
AADNonInteractiveUserSignInLogs, any other into SigninLogs (the two downloads share a header).
The JSON download holds Graph ``signIn`` objects and is read by :mod:`.graph`.

Limits: the download flattens what it shows, so columns it lacks stay empty (device display
name, authentication details, Conditional Access policies, risk); ``Status`` and
``Multifactor authentication result`` have no column of their own and are dropped. Downloads
of service principal or managed identity sign-ins and the ``AuthDetails`` companion files are
refused with a message. Slash dates other than en-US with AM/PM are refused as ambiguous.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from entra_hunt.engine.readers.layout import (
    Const,
    Field,
    JsonObject,
    Layout,
    LocationPart,
    MemberKind,
    OneTable,
    Source,
    TableLayout,
    Translate,
)
from entra_hunt.engine.schema import table_schema
from entra_hunt.errors import LoadError

__all__ = [
    "LEGACY_PORTAL_TO_SIGNINLOGS",
    "PORTAL_TO_SIGNINLOGS",
    "PortalColumn",
    "legacy_portal_layout",
    "looks_like_legacy_portal",
    "looks_like_portal",
    "portal_companion_error",
    "portal_layout",
    "portal_table",
]

_NON_INTERACTIVE = "AADNonInteractiveUserSignInLogs"

Values = tuple[tuple[str, str], ...]

_PROTOCOLS: Values = (
    ("none", "none"),
    ("device code", "deviceCode"),
    ("ropc", "ropc"),
    ("oauth2", "oAuth2"),
    ("saml 2.0", "saml20"),
    ("ws-federation", "wsFederation"),
    ("authentication transfer", "authenticationTransfer"),
    ("native auth", "nativeAuth"),
)
_TRANSFER: Values = (
    ("none", "none"),
    ("device code flow", "deviceCodeFlow"),
    ("authentication transfer", "authenticationTransfer"),
)
_REQUIREMENT: Values = (
    ("single-factor authentication", "singleFactorAuthentication"),
    ("multifactor authentication", "multiFactorAuthentication"),
    ("multi-factor authentication", "multiFactorAuthentication"),
)
_CONDITIONAL_ACCESS: Values = (
    ("success", "success"),
    ("failure", "failure"),
    ("not applied", "notApplied"),
)
_CROSS_TENANT: Values = (
    ("none", "none"),
    ("b2b collaboration", "b2bCollaboration"),
    ("b2b direct connect", "b2bDirectConnect"),
    ("microsoft support", "microsoftSupport"),
    ("service provider", "serviceProvider"),
    ("passthrough", "passthrough"),
)
_TOKEN_TYPES: Values = (
    ("none", "none"),
    ("primary refresh token", "primaryRefreshToken"),
    ("refresh token", "refreshToken"),
    ("saml 1.1", "saml11"),
    ("saml 2.0", "saml20"),
    ("remote desktop token", "remoteDesktopToken"),
)
_CREDENTIALS: Values = (
    ("none", "none"),
    ("client secret", "clientSecret"),
    ("client assertion", "clientAssertion"),
    ("federated identity credential", "federatedIdentityCredential"),
    ("managed identity", "managedIdentity"),
    ("certificate", "certificate"),
)
_ISSUERS: Values = (
    ("azure ad", "AzureAD"),
    ("microsoft entra id", "AzureAD"),
    ("ad federation services", "ADFederationServices"),
)
_YES_NO: Values = (("yes", "true"), ("no", "false"))


@dataclass(frozen=True)
class PortalColumn:
    """One line of the mapping.

    Attributes:
        header: the portal's column header, as Microsoft writes it (spaces tidied).
        column: the SigninLogs column it fills.
        key: if set, the column is a JSON object and this cell fills that key.
        kind: ``text``, ``bool`` or ``int`` for an object key; ``city``, ``state`` or
            ``country`` to take that part of a ``City, State, CC`` cell.
        values: display value -> API spelling, for columns the portal prettifies.
    """

    header: str
    column: str
    key: str | None = None
    kind: str = "text"
    values: Values = ()


#: Entra admin center sign-in download column -> SigninLogs column.
PORTAL_TO_SIGNINLOGS: tuple[PortalColumn, ...] = (
    PortalColumn("Date (UTC)", "TimeGenerated"),
    PortalColumn("Date (UTC)", "CreatedDateTime"),
    PortalColumn("Request ID", "Id"),
    PortalColumn("Request ID", "OriginalRequestId"),
    PortalColumn("User agent", "UserAgent"),
    PortalColumn("Correlation ID", "CorrelationId"),
    PortalColumn("User ID", "UserId"),
    PortalColumn("User", "UserDisplayName"),
    PortalColumn("User", "Identity"),
    PortalColumn("Username", "UserPrincipalName"),
    PortalColumn("User type", "UserType"),
    PortalColumn("Cross tenant access type", "CrossTenantAccessType", values=_CROSS_TENANT),
    PortalColumn("Incoming token type", "IncomingTokenType", values=_TOKEN_TYPES),
    PortalColumn("Authentication Protocol", "AuthenticationProtocol", values=_PROTOCOLS),
    PortalColumn("Unique token identifier", "UniqueTokenIdentifier"),
    PortalColumn("Original transfer method", "OriginalTransferMethod", values=_TRANSFER),
    PortalColumn("Client credential type", "ClientCredentialType", values=_CREDENTIALS),
    PortalColumn(
        "Token Protection - Sign In Session",
        "TokenProtectionStatusDetails",
        key="signInSessionStatus",
    ),
    PortalColumn(
        "Token Protection - Sign In Session StatusCode",
        "TokenProtectionStatusDetails",
        key="signInSessionStatusCode",
        kind="int",
    ),
    PortalColumn("Application", "AppDisplayName"),
    PortalColumn("Application ID", "AppId"),
    PortalColumn("App owner tenant ID", "AppOwnerTenantId"),
    PortalColumn("Resource", "ResourceDisplayName"),
    PortalColumn("Resource ID", "ResourceIdentity"),
    PortalColumn("Resource tenant ID", "ResourceTenantId"),
    PortalColumn("Resource owner tenant ID", "ResourceOwnerTenantId"),
    PortalColumn("Home tenant ID", "HomeTenantId"),
    PortalColumn("Home tenant name", "HomeTenantName"),
    PortalColumn("IP address", "IPAddress"),
    PortalColumn("Location", "Location", kind="country"),
    PortalColumn("Location", "LocationDetails", key="city", kind="city"),
    PortalColumn("Location", "LocationDetails", key="state", kind="state"),
    PortalColumn("Location", "LocationDetails", key="countryOrRegion", kind="country"),
    PortalColumn("Sign-in error code", "ResultType"),
    PortalColumn("Sign-in error code", "Status", key="errorCode", kind="int"),
    PortalColumn("Failure reason", "Status", key="failureReason"),
    PortalColumn("Failure reason", "ResultDescription"),
    PortalColumn("Client app", "ClientAppUsed"),
    PortalColumn("Device ID", "DeviceDetail", key="deviceId"),
    PortalColumn("Operating System", "DeviceDetail", key="operatingSystem"),
    PortalColumn("Browser", "DeviceDetail", key="browser"),
    PortalColumn("Compliant", "DeviceDetail", key="isCompliant", kind="bool"),
    PortalColumn("Managed", "DeviceDetail", key="isManaged", kind="bool"),
    PortalColumn("Join Type", "DeviceDetail", key="trustType"),
    PortalColumn("Multifactor authentication auth method", "MfaDetail", key="authMethod"),
    PortalColumn("Multifactor authentication auth detail", "MfaDetail", key="authDetail"),
    PortalColumn("Authentication requirement", "AuthenticationRequirement", values=_REQUIREMENT),
    PortalColumn("Sign-in identifier", "SignInIdentifier"),
    PortalColumn("Session ID", "SessionId"),
    PortalColumn("IP address (seen by resource)", "IPAddressFromResourceProvider"),
    PortalColumn("Through Global Secure Access", "IsThroughGlobalSecureAccess", values=_YES_NO),
    PortalColumn("Global Secure Access IP address", "GlobalSecureAccessIpAddress"),
    PortalColumn("Autonomous system number", "AutonomousSystemNumber"),
    PortalColumn("Flagged for review", "FlaggedForReview", values=_YES_NO),
    PortalColumn("Token issuer type", "TokenIssuerType", values=_ISSUERS),
    PortalColumn("Token issuer name", "TokenIssuerName"),
    PortalColumn("Latency", "ProcessingTimeInMilliseconds"),
    PortalColumn("Latency", "ProcessingTimeInMs"),
    PortalColumn("Conditional Access", "ConditionalAccessStatus", values=_CONDITIONAL_ACCESS),
)

#: The older admin center download (PascalCase headers, locale dates) -> SigninLogs column.
#: It has no authentication protocol or device state, so device code hunts find nothing in it;
#: ``Status`` ``Success`` becomes ResultType ``0``, other statuses are kept as written.
LEGACY_PORTAL_TO_SIGNINLOGS: tuple[PortalColumn, ...] = (
    PortalColumn("CreatedDateTime", "TimeGenerated"),
    PortalColumn("CreatedDateTime", "CreatedDateTime"),
    PortalColumn("UserPrincipalName", "UserPrincipalName"),
    PortalColumn("UserDisplayName", "UserDisplayName"),
    PortalColumn("AppDisplayName", "AppDisplayName"),
    PortalColumn("IPAddress", "IPAddress"),
    PortalColumn("City", "LocationDetails", key="city"),
    PortalColumn("Country", "LocationDetails", key="countryOrRegion"),
    PortalColumn("Country", "Location"),
    PortalColumn("Device", "DeviceDetail", key="displayName"),
    PortalColumn("Browser", "DeviceDetail", key="browser"),
    PortalColumn("OS", "DeviceDetail", key="operatingSystem"),
    PortalColumn("Status", "ResultType", values=(("success", "0"),)),
    PortalColumn("RiskState", "RiskState"),
    PortalColumn("RiskLevelDuringSignIn", "RiskLevelDuringSignIn"),
    PortalColumn("RiskLevelAggregated", "RiskLevelAggregated"),
    PortalColumn("ConditionalAccessStatus", "ConditionalAccessStatus", values=_CONDITIONAL_ACCESS),
)
_LEGACY_MARKERS = ("createddatetime", "userprincipalname", "status")
_LEGACY_FLAT = ("city", "country", "device", "browser", "os")

_PARTS = {"city": 1, "state": 2, "country": 3}
_CATEGORY = {"SigninLogs": "SignInLogs", _NON_INTERACTIVE: "NonInteractiveUserSignInLogs"}
_MARKERS = ("date (utc)", "request id", "username")
_SERVICE_PRINCIPAL = "service principal id"
_AUTH_DETAILS = ("request id", "authentication method")
_LETTERS = re.compile(r"[^a-z]")


def _tidy(header: str) -> str:
    return " ".join(header.split()).lower()


def looks_like_portal(header: Sequence[str]) -> bool:
    """Whether a CSV header is an Entra admin center download of some sign-in kind."""
    tidy = {_tidy(name) for name in header}
    return "date (utc)" in tidy and "request id" in tidy


def looks_like_legacy_portal(header: Sequence[str]) -> bool:
    """Whether a CSV header is the older admin center download (flat City, Device, OS...)."""
    tidy = {_tidy(name) for name in header}
    flat = sum(name in tidy for name in _LEGACY_FLAT)
    return all(name in tidy for name in _LEGACY_MARKERS) and flat >= 2


def portal_table(file_name: str) -> str:
    """The table a download belongs to, by its file name (the two kinds share a header)."""
    letters = _LETTERS.sub("", file_name.lower())
    return _NON_INTERACTIVE if "noninteractive" in letters else "SigninLogs"


def portal_layout(header: Sequence[str], file_name: str, label: str) -> Layout:
    """The layout of an Entra admin center sign-in download with this ``header``.

    Raises:
        LoadError: the download is of service principal or managed identity sign-ins, or
            lacks the user and date columns.
    """
    tidy = [_tidy(name) for name in header]
    if _SERVICE_PRINCIPAL in tidy:
        raise LoadError(
            "this is a download of service principal or managed identity sign-ins; "
            "entra-hunt loads user sign-ins",
            where=f"{label}, line 1",
            fix="Download the 'User sign-ins (interactive)' or '(non-interactive)' tab",
        )
    if not all(marker in tidy for marker in _MARKERS):
        raise LoadError(
            "this download lacks the Date (UTC), Request ID or Username column",
            where=f"{label}, line 1",
            fix="Download the sign-ins again as CSV from the Entra admin center",
        )

    return _layout(PORTAL_TO_SIGNINLOGS, header, file_name, "Date (UTC)")


def legacy_portal_layout(header: Sequence[str], file_name: str) -> Layout:
    """The layout of the older admin center download (:data:`LEGACY_PORTAL_TO_SIGNINLOGS`)."""
    return _layout(LEGACY_PORTAL_TO_SIGNINLOGS, header, file_name, "CreatedDateTime")


def _layout(
    mapping: tuple[PortalColumn, ...], header: Sequence[str], file_name: str, time_fields: str
) -> Layout:
    tidy = [_tidy(name) for name in header]
    positions: dict[str, list[str]] = {}
    for position, name in enumerate(tidy):
        positions.setdefault(name, []).append(f"c{position}")
    mapped = {_tidy(entry.header) for entry in mapping}
    ignored = tuple(name for name, t in zip(header, tidy, strict=True) if t not in mapped)

    table = portal_table(file_name)
    names = table_schema(table).names
    sources: dict[str, Source] = {
        "Type": Const(table),
        "Category": Const(_CATEGORY[table]),
        "IsInteractive": Const("true" if table == "SigninLogs" else "false"),
    }
    objects: dict[str, list[tuple[str, Field | Translate | LocationPart, MemberKind]]] = {}
    for entry in mapping:
        keys = positions.get(_tidy(entry.header))
        if not keys or entry.column not in names:
            continue
        cell = Field(tuple(keys))
        source: Field | Translate | LocationPart = cell
        if entry.values:
            source = Translate(cell, entry.values)
        elif entry.kind in _PARTS:
            source = LocationPart(cell, _PARTS[entry.kind])
        if entry.key is None:
            sources[entry.column] = source
            continue
        kind: MemberKind = "bool" if entry.kind == "bool" else "text"
        if entry.kind == "int":
            kind = "int"
        objects.setdefault(entry.column, []).append((entry.key, source, kind))
    for column, members in objects.items():
        sources[column] = JsonObject(tuple(members))

    columns = tuple((c, sources[c]) for c in names if c in sources)
    labels = {f"c{position}": name for position, name in enumerate(header)}
    return Layout(
        format="portal-csv",
        tables=(TableLayout(table, columns, time_fields),),
        route=OneTable(table),
        fields=tuple(labels),
        labels=labels,
        json_values=False,
        ignored=ignored,
    )


def portal_companion_error(header: Sequence[str], label: str) -> LoadError | None:
    """A clearer error for the download's ``AuthDetails`` companion file, else None."""
    tidy = {_tidy(name) for name in header}
    if all(name in tidy for name in _AUTH_DETAILS) and "date (utc)" not in tidy:
        return LoadError(
            "this is the authentication details file of a sign-in download, not the sign-ins",
            where=f"{label}, line 1",
            fix="Load the InteractiveSignIns_*.csv or NonInteractiveSignIns_*.csv file of "
            "the same download",
        )
    return None
