"""Synthetic SigninLogs at scale, generated inside DuckDB, for the benchmarks.

:func:`build` creates a database with the store's real schema (through
:class:`entra_hunt.engine.store.Store`) and fills SigninLogs with ``rows`` sign-ins spread over
30 days, every one of the table's 98 columns set. Every value is a hash of the row number and
the seed, so one ``(rows, matches, seed)`` always gives the same table, and the whole thing is
one ``INSERT ... SELECT`` over ``range(rows)``: 10 million rows (2.9 GB) took four and a half
minutes on two cores, where building them in Python would take hours.

The mix, chosen to look like a large tenant: a quarter of sign-ins from devices Entra does not
know, a tenth from registered but unmanaged ones, the rest from managed, compliant devices; 12
% failures; 0.1 % of sign-ins through the device code flow (an assumption: it sets how many
candidate rows the hunt has to read). Exactly ``matches`` rows are what the hunt
looks for (a completed device code sign-in from an unmanaged device: phishing kits on hosting
providers, scripted clients, the authentication broker, the Device Registration Service); the
other device code rows failed, or came from managed devices (meeting rooms, kiosks), so the
hunt has to read the JSON to tell them apart.

Limits: most values come from small pools (a dozen apps, six resources, twelve places, ten
user agents), so the file compresses better than a real export of the same size; ids, device
details and times are as varied as in a real tenant, and they are what the hunt's time goes to.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb

from entra_hunt.engine.schema import table_schema
from entra_hunt.engine.store import Store

__all__ = ["END", "GENERATOR_VERSION", "START", "Dataset", "build", "default_matches"]

#: Bump when the generated rows change, so cached databases are rebuilt.
GENERATOR_VERSION = 2

END = datetime(2026, 11, 1, tzinfo=UTC)
START = END - timedelta(days=30)

#: Share of all sign-ins that used the device code flow, and of those, the share the hunt
#: should report (completed, unmanaged device): 0.1 % and 30 %.
DEVICE_CODE_SHARE = 0.001
MATCH_SHARE = 0.3

TENANT_ID = "5b3c2f1e-8a47-4d6b-9c0e-2f71a6d4e8b3"
WORKSPACE_ID = "c1e7a3d9-4f02-4b6e-8d15-7a9e0c3b5f24"
MS_TENANT = "f8cdef31-a31e-4b4a-93e4-5f571e91255a"

_APPS = [
    ("Microsoft Office", "d3590ed6-52b3-4102-aeff-aad2292ab01c"),
    ("Microsoft Teams", "1fec8e78-bce4-4aaf-ab1b-5451cc387264"),
    ("Microsoft Outlook", "5d661950-3475-41cd-a2c3-d671a3162bc1"),
    ("Outlook Mobile", "27922004-5251-4030-b22d-91ecd9a37ea4"),
    ("OfficeHome", "4765445b-32c6-49b0-83e6-1d93765276ca"),
    ("One Outlook Web", "9199bf20-a13f-4107-85dc-02114787ef48"),
    ("OneDrive SyncEngine", "ab9b8c07-8f02-4f72-87fa-80105867a763"),
    ("Azure Portal", "c44b4083-3bb0-49c1-b47d-974e53cbdf3c"),
    ("Microsoft Teams Web Client", "5e3ce6c0-2b1f-4285-8d4b-75ee78787346"),
    ("Microsoft Azure CLI", "04b07795-8ddb-461a-bbee-02f9e1bf7b46"),
]
# What phishing kits request with a device code (Storm-2372 and its imitators).
_PHISH_APPS = [
    ("Microsoft Authentication Broker", "29d9ed98-a469-4536-ade2-f981bc1d605e"),
    ("Microsoft Office", "d3590ed6-52b3-4102-aeff-aad2292ab01c"),
    ("Microsoft Azure CLI", "04b07795-8ddb-461a-bbee-02f9e1bf7b46"),
    ("Microsoft Graph Command Line Tools", "14d82eec-204b-4c2f-b7e8-296a70dab67e"),
    ("Microsoft Teams", "1fec8e78-bce4-4aaf-ab1b-5451cc387264"),
]
_RESOURCES = [
    ("Microsoft Graph", "00000003-0000-0000-c000-000000000000"),
    ("Office 365 Exchange Online", "00000002-0000-0ff1-ce00-000000000000"),
    ("Office 365 SharePoint Online", "00000003-0000-0ff1-ce00-000000000000"),
    ("Microsoft Teams Services", "cc15fd57-2c6c-4117-a88c-83b1d56b4bbe"),
    ("Windows Azure Service Management API", "797f4846-ba00-4fd7-ba43-dac1f8f63013"),
    ("Device Registration Service", "01cb2876-7ebd-4aa4-9cc9-d28bd4d359a9"),
]
# city, state, country, latitude, longitude, ASN, first octets of its addresses
_PLACES = [
    ("Paris", "Ile-De-France", "FR", 48.8566, 2.3522, "3215", "193.57"),
    ("Lyon", "Auvergne-Rhone-Alpes", "FR", 45.764, 4.8357, "12322", "88.160"),
    ("London", "England", "GB", 51.5072, -0.1276, "2856", "81.2"),
    ("Frankfurt am Main", "Hessen", "DE", 50.1109, 8.6821, "3320", "91.64"),
    ("Madrid", "Madrid", "ES", 40.4168, -3.7038, "3352", "83.44"),
    ("New York", "New York", "US", 40.7128, -74.006, "7922", "73.12"),
    ("Seattle", "Washington", "US", 47.6062, -122.3321, "20115", "71.227"),
]
# Hosting providers where phishing kits redeem codes (in the hunt's ASN list).
_HOSTING = [
    ("Amsterdam", "Noord-Holland", "NL", 52.3676, 4.9041, "14061", "167.99"),
    ("Ashburn", "Virginia", "US", 39.0438, -77.4874, "16509", "3.91"),
    ("Falkenstein", "Saxony", "DE", 50.4779, 12.3713, "24940", "116.202"),
    ("Roubaix", "Hauts-de-France", "FR", 50.6942, 3.1746, "16276", "51.75"),
    ("Singapore", "Singapore", "SG", 1.3521, 103.8198, "20473", "45.32"),
]
_AGENTS = [
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/155.0.0.0 Safari/537.36 Edg/155.0.0.0",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/19.1 Safari/605.1.15",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 19_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like "
    "Gecko) Mobile/15E148",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:144.0) Gecko/20100101 Firefox/144.0",
    "Microsoft Office/16.0 (Windows NT 10.0; Microsoft Outlook 16.0.19328; Pro)",
]
_PHISH_AGENTS = [
    "python-requests/2.32.3",
    "",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/155.0.0.0 Safari/537.36",
    "axios/1.7.9",
    "Go-http-client/1.1",
]
_OS = ["Windows 11", "Windows 10", "MacOs", "Ios", "Android"]
_BROWSERS = ["Edge 155.0.0", "Chrome 155.0.0", "Safari 19.1", "Rich Client 4.78.0", "Firefox 144"]
_FAILURES = [
    ("50126", "Invalid username or password or Invalid on-premise username or password."),
    ("50074", "Strong Authentication is required."),
    (
        "50140",
        "This error occurred due to 'Keep me signed in' interrupt when the user was signing in.",
    ),
    ("53003", "Access has been blocked by Conditional Access policies."),
    ("50199", "For security reasons, user confirmation is required for this request."),
]
_FIRST = [
    "adele",
    "alex",
    "camille",
    "diego",
    "emma",
    "farah",
    "gabriel",
    "hana",
    "ines",
    "jonas",
    "karim",
    "lea",
    "marc",
    "nora",
    "omar",
    "paula",
    "quentin",
    "rosa",
    "sami",
    "tara",
]
_LAST = [
    "martin",
    "bernard",
    "dubois",
    "thomas",
    "robert",
    "richard",
    "petit",
    "durand",
    "leroy",
    "moreau",
    "simon",
    "laurent",
    "lefebvre",
    "michel",
    "garcia",
    "david",
    "bertrand",
    "roux",
    "vincent",
    "fournier",
]

_POLICIES = (
    '[{"id":"3f8a2c71-5d0e-4b69-a2f4-8c1e7d9b0a36","displayName":"CA001 - Require MFA '
    'outside trusted locations","enforcedGrantControls":[],"enforcedSessionControls":[],'
    '"result":"RESULT"},{"id":"9b14e6d2-7a3c-4f58-b0e9-2d6c5a8f1e47","displayName":"CA002 - '
    'Require compliant device for Azure management","enforcedGrantControls":[],'
    '"enforcedSessionControls":[],"result":"notApplied"},{"id":"e5a9b3c8-2f4d-4e71-8c06-'
    '6d1f9a7b2e38","displayName":"CA003 - Require compliant or hybrid joined device for '
    'SharePoint","enforcedGrantControls":[],"enforcedSessionControls":[],"result":"notApplied"}]'
)
_AUTH_DETAILS = (
    '[{"authenticationStepDateTime":"STEP","authenticationMethod":"METHOD","succeeded":true,'
    '"authenticationStepResultDetail":"First factor requirement satisfied by claim in the '
    'token","authenticationStepRequirement":"Primary authentication"}]'
)
_PROCESSING = (
    '[{"key":"Legacy TLS (TLS 1.0, 1.1, 3DES)","value":"False"},{"key":"Is CAE Token",'
    '"value":"False"},{"key":"Root Key Type","value":"Unknown"}]'
)


@dataclass(frozen=True)
class Dataset:
    """A generated database and what it holds."""

    path: Path
    rows: int
    matches: int
    device_code_rows: int
    bytes_on_disk: int
    build_seconds: float | None
    """Seconds to generate, or None when a cached file was reused."""


def default_matches(rows: int) -> int:
    """Matches in a dataset of ``rows`` sign-ins: 30 % of its 0.1 % device code sign-ins."""
    return round(rows * DEVICE_CODE_SHARE * MATCH_SHARE)


def build(folder: Path, rows: int, matches: int, *, seed: int = 2372) -> Dataset:
    """The database of ``rows`` sign-ins with exactly ``matches`` hunt matches, cached by name."""
    if not 0 <= matches <= rows:
        raise ValueError(f"matches must be between 0 and rows ({rows}), not {matches}")
    noise = max(0, round(rows * DEVICE_CODE_SHARE) - matches)
    path = folder / f"signins-{rows}-{matches}-s{seed}-v{GENERATOR_VERSION}.duckdb"
    if path.exists():
        return Dataset(path, rows, matches, matches + noise, path.stat().st_size, None)

    folder.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial")
    partial.unlink(missing_ok=True)
    began = time.perf_counter()
    Store(partial).close()  # the store's own tables, typed from the official schema
    con = duckdb.connect(str(partial))
    try:
        con.execute("SET TimeZone='UTC'")
        con.execute("SET enable_progress_bar=false")
        con.execute(_insert_sql(rows, matches, noise, seed))
        con.execute("CHECKPOINT")
    finally:
        con.close()
    partial.rename(path)
    seconds = time.perf_counter() - began
    return Dataset(path, rows, matches, matches + noise, path.stat().st_size, seconds)


def _list(values: list[str]) -> str:
    return "[" + ", ".join(_quote(v) for v in values) + "]"


def _quote(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _places(places: list[tuple[str, str, str, float, float, str, str]]) -> str:
    structs = [
        f"{{'city': {_quote(c)}, 'state': {_quote(s)}, 'country': {_quote(k)}, 'lat': {la}, "
        f"'lon': {lo}, 'asn': {_quote(a)}, 'net': {_quote(n)}}}"
        for c, s, k, la, lo, a, n in places
    ]
    return "[" + ", ".join(structs) + "]"


def _pairs(pairs: list[tuple[str, str]]) -> str:
    return "[" + ", ".join(f"{{'name': {_quote(a)}, 'id': {_quote(b)}}}" for a, b in pairs) + "]"


def _insert_sql(rows: int, matches: int, noise: int, seed: int) -> str:
    """One INSERT that draws every column from hashes of the row number and the seed."""
    span_ms = int((END - START).total_seconds() * 1000)
    start = START.strftime("%Y-%m-%d %H:%M:%S")
    # Rows whose number is a multiple of a stride are planted: the first `matches` multiples
    # of one stride are hunt matches, the first `noise` multiples of another (offset) are
    # device code sign-ins the hunt must not report.
    match_stride = rows // matches if matches else rows + 1
    noise_stride = rows // noise if noise else rows + 1
    users = max(500, rows // 500)
    draws = ", ".join(
        f"CAST(hash(i, {seed}, '{name}') >> 1 AS BIGINT) AS {name}"
        for name in ("hu", "ha", "hr", "hp", "hd", "hf", "hx", "hy", "hz", "ht")
    )
    base = f"""
    SELECT i, {draws},
        (i % {match_stride} = 0 AND i // {match_stride} < {matches}) AS planted,
        ((i + {noise_stride // 2}) % {noise_stride} = 0
            AND (i + {noise_stride // 2}) // {noise_stride} <= {noise}) AS devnoise
    FROM range({rows}) AS r(i)
    """
    pick = f"""
    SELECT *,
        hu % {users} AS u,
        md5(concat('row', i, '-', {seed})) AS m,
        CASE WHEN planted THEN {_places(_HOSTING)}[1 + hx % {len(_HOSTING)}]
             WHEN hx % 100 < 2 THEN {_places(_HOSTING)}[1 + hy % {len(_HOSTING)}]
             ELSE {_places(_PLACES)}[1 + hx % {len(_PLACES)}] END AS place,
        CASE WHEN planted THEN {_pairs(_PHISH_APPS)}[1 + ha % {len(_PHISH_APPS)}]
             WHEN devnoise THEN {_pairs(_APPS)}[2]
             ELSE {_pairs(_APPS)}[1 + ha % {len(_APPS)}] END AS app,
        CASE WHEN planted AND hr % 3 = 0 THEN {_pairs(_RESOURCES)}[6]
             ELSE {_pairs(_RESOURCES)}[1 + hr % 5] END AS res,
        CASE WHEN planted THEN 'deviceCode'
             WHEN devnoise THEN 'deviceCode'
             WHEN hp % 100 < 3 THEN 'ropc'
             WHEN hp % 100 < 5 THEN 'authenticationTransfer'
             ELSE 'none' END AS protocol,
        CASE WHEN planted THEN 0
             WHEN devnoise THEN (CASE WHEN hf % 2 = 0 THEN 1 + hf % 5 ELSE 0 END)
             WHEN hf % 100 < 12 THEN 1 + hf % 5 ELSE 0 END AS failure,
        -- device: 0 unknown, 1 registered but unmanaged, 2 managed and compliant
        CASE WHEN planted THEN (CASE WHEN hd % 4 = 0 THEN 1 ELSE 0 END)
             WHEN devnoise THEN 2
             WHEN hd % 100 < 25 THEN 0 WHEN hd % 100 < 35 THEN 1 ELSE 2 END AS device,
        CASE WHEN planted THEN {_list(_PHISH_AGENTS)}[1 + hz % {len(_PHISH_AGENTS)}]
             ELSE {_list(_AGENTS)}[1 + hz % {len(_AGENTS)}] END AS agent,
        CASE WHEN planted AND hy % 4 = 0 THEN 'medium'
             WHEN planted AND hy % 4 = 1 THEN 'high'
             WHEN hy % 1000 < 3 THEN 'low' ELSE 'none' END AS risk,
        TIMESTAMP '{start}' + to_milliseconds(
            (i * {span_ms}) // {rows} + ht % 997) AS t
    FROM base
    """
    columns = _columns(seed)
    names = table_schema("SigninLogs").names
    missing = set(names) - set(columns)
    extra = set(columns) - set(names)
    if missing or extra:
        raise AssertionError(f"generator columns: missing {missing}, unknown {extra}")
    select = ",\n        ".join(f'{columns[name]} AS "{name}"' for name in names)
    return f"""
    INSERT INTO SigninLogs BY NAME
    WITH base AS ({base}), picked AS ({pick}),
    named AS (SELECT *,
        {_list(_FIRST)}[1 + u % {len(_FIRST)}] AS first,
        {_list(_LAST)}[1 + (u // {len(_FIRST)}) % {len(_LAST)}] AS last,
        concat(first, '.', last, CASE WHEN u >= {len(_FIRST) * len(_LAST)}
            THEN CAST(u // {len(_FIRST) * len(_LAST)} AS VARCHAR) ELSE '' END) AS handle,
        md5(concat('user', u, '-', {seed})) AS um,
        md5(concat('device', u, '-', {seed})) AS dm
        FROM picked)
    SELECT
        {select}
    FROM named

    """


_DISPLAY_NAME = "concat(upper(first[1]), first[2:], ' ', upper(last[1]), last[2:])"


def _uuid(md5: str, offset: int = 0) -> str:
    o = offset
    return (
        f"concat(substr({md5}, {o + 1}, 8), '-', substr({md5}, {o + 9}, 4), '-4', "
        f"substr({md5}, {o + 14}, 3), '-a', substr({md5}, {o + 18}, 3), '-', "
        f"substr({md5}, {o + 21}, 12))"
    )


def _columns(seed: int) -> dict[str, str]:
    """One SQL expression per SigninLogs column, over the draws of ``named``."""
    failure_code = f"{_list([c for c, _ in _FAILURES])}[failure]"
    failure_text = f"{_list([t for _, t in _FAILURES])}[failure]"
    request_id = _uuid("m")
    device_detail = f"""CASE device
        WHEN 0 THEN json_object('deviceId', '', 'operatingSystem', {_list(_OS)}[1 + hd % 5],
            'browser', {_list(_BROWSERS)}[1 + hz % 5])
        WHEN 1 THEN json_object('deviceId', {_uuid("dm")}, 'displayName',
            concat('PERSONAL-', upper(substr(dm, 1, 6))),
            'operatingSystem', {_list(_OS)}[1 + hd % 5],
            'browser', {_list(_BROWSERS)}[1 + hz % 5], 'isCompliant', false,
            'isManaged', false, 'trustType', 'Azure AD registered')
        ELSE json_object('deviceId', {_uuid("dm")}, 'displayName',
            concat('CPH-', upper(substr(dm, 1, 6))),
            'operatingSystem', {_list(_OS[:2])}[1 + hd % 2],
            'browser', {_list(_BROWSERS)}[1 + hz % 5], 'isCompliant', true,
            'isManaged', true, 'trustType',
            CASE WHEN hd % 2 = 0 THEN 'Hybrid Azure AD joined' ELSE 'Azure AD joined' END)
        END"""
    trusted = "(place.asn = '3215' AND device = 2)"
    return {
        "TenantId": _quote(WORKSPACE_ID),
        "AADTenantId": _quote(TENANT_ID),
        "Agent": '\'{"agentType":"notAgentic"}\'::JSON',
        "AlternateSignInName": "''",
        "AppDisplayName": "app.name",
        "AppId": "app.id",
        "AppliedConditionalAccessPolicies": "''",
        "AppliedEventListeners": "NULL",
        "AppOwnerTenantId": _quote(MS_TENANT),
        "AuthenticationAppDeviceDetails": "''",
        "AuthenticationAppPolicyEvaluationDetails": "''",
        "AuthenticationContextClassReferences": "'[]'",
        "AuthenticationDetails": f"replace(replace({_quote(_AUTH_DETAILS)}, 'STEP', "
        "strftime(t, '%Y-%m-%dT%H:%M:%S.%f0+00:00')), 'METHOD', "
        "CASE WHEN hf % 3 = 0 THEN 'Password' ELSE 'Previously satisfied' END)",
        "AuthenticationMethodsUsed": "''",
        "AuthenticationProcessingDetails": _quote(_PROCESSING),
        "AuthenticationProtocol": "protocol",
        "AuthenticationRequirement": "CASE WHEN hf % 3 = 0 THEN 'multiFactorAuthentication' "
        "ELSE 'singleFactorAuthentication' END",
        "AuthenticationRequirementPolicies": "'[]'",
        "AuthenticatorAppLocation": "''",
        "AutonomousSystemNumber": "place.asn",
        "_BilledSize": "CAST(4200 + hx % 900 AS DOUBLE)",
        "Category": "'SignInLogs'",
        "ClientAppUsed": "CASE WHEN hz % 5 = 4 THEN 'Mobile Apps and Desktop clients' "
        "ELSE 'Browser' END",
        "ClientCredentialType": "'none'",
        "ClientSessionId": "''",
        "ConditionalAccessAudiences": "''",
        "ConditionalAccessPolicies": f"replace({_quote(_POLICIES)}, 'RESULT', "
        "CASE WHEN failure = 4 THEN 'failure' WHEN "
        f"{trusted} THEN 'notApplied' ELSE 'success' END)::JSON",
        "ConditionalAccessStatus": "CASE WHEN failure = 4 THEN 'failure' WHEN "
        f"{trusted} THEN 'notApplied' ELSE 'success' END",
        "CorrelationId": _uuid("md5(concat(m, 'c'))"),
        "CreatedDateTime": "t",
        "CrossTenantAccessType": "'none'",
        "DeviceDetail": device_detail,
        "DurationMs": "0",
        "FederatedCredentialId": "''",
        "FlaggedForReview": "false",
        "GlobalSecureAccessIpAddress": "''",
        "HomeTenantId": _quote(TENANT_ID),
        "HomeTenantName": "''",
        "Id": request_id,
        "Identity": _DISPLAY_NAME,
        "IncomingTokenType": "CASE WHEN hp % 7 = 0 THEN 'primaryRefreshToken' ELSE 'none' END",
        "IPAddressFromResourceProvider": "''",
        "IPAddress": "concat(place.net, '.', hy % 256, '.', 1 + hx % 254)",
        "_IsBillable": "'True'",
        "IsInteractive": "true",
        "IsRisky": "risk <> 'none'",
        "IsTenantRestricted": "false",
        "IsThroughGlobalSecureAccess": "false",
        "Level": "'4'",
        "Location": "place.country",
        "LocationDetails": "json_object('city', place.city, 'state', place.state, "
        "'countryOrRegion', place.country, 'geoCoordinates', "
        "json_object('latitude', place.lat, 'longitude', place.lon))",
        "MfaDetail": "'{}'::JSON",
        "NetworkLocationDetails": f"CASE WHEN {trusted} THEN "
        '\'[{"networkType":"trustedNamedLocation","networkNames":["Paris HQ egress"]}]\' '
        "ELSE '[]' END",
        "OperationName": "'Sign-in activity'",
        "OperationVersion": "'1.0'",
        "OriginalRequestId": request_id,
        "OriginalTransferMethod": "'none'",
        "ProcessingTimeInMilliseconds": "CAST(40 + ht % 900 AS VARCHAR)",
        "Resource": "'Microsoft.aadiam'",
        "ResourceDisplayName": "res.name",
        "ResourceGroup": "'Microsoft.aadiam'",
        "ResourceId": _quote(f"/tenants/{TENANT_ID}/providers/Microsoft.aadiam"),
        "ResourceIdentity": "res.id",
        "ResourceOwnerTenantId": _quote(MS_TENANT),
        "ResourceProvider": "''",
        "ResourceServicePrincipalId": _uuid("md5(res.id)"),
        "ResourceTenantId": _quote(TENANT_ID),
        "ResultDescription": f"CASE WHEN failure = 0 THEN '' ELSE {failure_text} END",
        "ResultSignature": "CASE WHEN failure = 0 THEN 'None' ELSE 'SUCCESS' END",
        "ResultType": f"CASE WHEN failure = 0 THEN '0' ELSE {failure_code} END",
        "RiskDetail": "'none'",
        "RiskEventTypes": "CASE WHEN risk = 'none' THEN '[]' ELSE '[\"unfamiliarFeatures\"]' END",
        "RiskEventTypes_V2": "CASE WHEN risk = 'none' THEN '[]' "
        "ELSE '[\"unfamiliarFeatures\"]' END",
        "RiskLevel": "''",
        "RiskLevelAggregated": "risk",
        "RiskLevelDuringSignIn": "risk",
        "RiskState": "CASE WHEN risk = 'none' THEN 'none' ELSE 'atRisk' END",
        "RootActorID": "''",
        "ServicePrincipalId": "''",
        "ServicePrincipalName": "''",
        "SessionId": _uuid("md5(concat(m, 's'))"),
        "SessionLifetimePolicies": "'[]'",
        "SignInIdentifier": "''",
        "SignInIdentifierType": "''",
        "SourceAppClientId": "''",
        "SourceSystem": "'Azure AD'",
        "Status": "CASE WHEN failure = 0 THEN '{\"errorCode\":0}'::JSON ELSE "
        f"json_object('errorCode', CAST({failure_code} AS INTEGER), 'failureReason', "
        f"{failure_text}) END",
        "TimeGenerated": "t",
        "TokenIssuerName": "''",
        "TokenIssuerType": "'AzureAD'",
        "TokenProtectionStatusDetails": '\'{"signInSessionStatus":"unbound"}\'::JSON',
        "Type": "'SigninLogs'",
        "UniqueTokenIdentifier": "translate(substr(to_base64(unhex(m)), 1, 22), '+/', '-_')",
        "UserAgent": "agent",
        "UserDisplayName": _DISPLAY_NAME,
        "UserId": _uuid("um"),
        "UserPrincipalName": "concat(handle, '@contoso.example')",
        "UserType": "'Member'",
    }


def check(path: Path) -> tuple[int, int]:
    """(rows, hunt matches) in a generated database, counted with plain SQL."""
    con = duckdb.connect(str(path), read_only=True)
    try:
        row = con.execute(
            "SELECT count(*), count(*) FILTER (WHERE AuthenticationProtocol = 'deviceCode' "
            "AND ResultType = '0' AND coalesce(DeviceDetail->>'$.isManaged', '') <> 'true' "
            "AND coalesce(DeviceDetail->>'$.isCompliant', '') <> 'true') FROM SigninLogs"
        ).fetchone()
    finally:
        con.close()
    assert row is not None
    return int(row[0]), int(row[1])
