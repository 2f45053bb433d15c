"""Demo rows rendered as each export format the loader reads, for the loading tests.

Each renderer writes what the real exporter writes, quirks included: the Log Analytics portal's
``[UTC]`` headers, split ``_dynamic`` / ``_string`` columns and en-US dates; Graph ``signIn``
objects in pages, arrays and JSON lines; the Entra admin center download's duplicated and
badly spaced headers and display values; Defender's flat columns and numeric enums.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable
from datetime import UTC, datetime

from entra_hunt.engine.demo import encode_row, generate
from entra_hunt.engine.readers import GRAPH_TO_SIGNINLOGS
from entra_hunt.engine.schema import table_schema

Row = dict[str, object]
NON_INTERACTIVE = "AADNonInteractiveUserSignInLogs"

_PROTOCOL = {"deviceCode": "Device Code", "none": "None"}
_TRANSFER = {"deviceCodeFlow": "Device code flow", "none": "None"}
_CA = {"success": "Success", "failure": "Failure", "notApplied": "Not Applied"}
_REQUIREMENT = {
    "singleFactorAuthentication": "Single-factor authentication",
    "multiFactorAuthentication": "Multifactor authentication",
}
_TOKEN = {"none": "None", "primaryRefreshToken": "Primary refresh token"}
_CROSS = {"none": "None", "b2bCollaboration": "B2B collaboration"}

#: The admin center's header, quirks included (see EntraPortalSignInExportCsv.json).
PORTAL_HEADER = [
    "Date (UTC)",
    "Request ID",
    "User agent",
    "Correlation ID",
    "User ID",
    "User",
    "Username",
    "User type",
    "Cross tenant access type",
    "Incoming token type",
    "Authentication Protocol",
    "Unique token identifier",
    "Original transfer method",
    "Client credential type",
    "Token Protection - Sign In Session",
    "Token Protection - Sign In Session StatusCode",
    "Application",
    "Application ID ",
    "App owner tenant ID",
    "Resource",
    "Resource ID ",
    "Resource tenant ID",
    "Resource owner tenant ID",
    "Home tenant ID",
    "Home tenant name",
    "IP address",
    "Location",
    "Status",
    "Sign-in error code",
    "Failure reason",
    "Client app",
    "Device ID",
    "Browser",
    "Operating System",
    "Compliant",
    "Managed",
    "Join Type",
    "Multifactor authentication result",
    "Multifactor authentication auth method",
    "Multifactor authentication auth detail",
    "Authentication requirement",
    "Sign-in identifier",
    "Session ID",
    "IP address (seen by resource)",
    "Through Global Secure Access",
    "Global Secure Access IP address",
    "Autonomous system  number",
    "Flagged for review",
    "Token issuer type",
    "Incoming token type",
    "Token issuer name",
    "Latency",
    "Conditional Access",
    "Managed Identity type",
    "Associated Resource Id",
    "Federated Token Id",
    "Federated Token Issuer",
]


def sample() -> dict[str, list[Row]]:
    """A small slice of the demo dataset: every device code flow and some background."""
    tables = generate()
    signins = tables["SigninLogs"]
    flows = {r["CorrelationId"] for r in signins if r["AuthenticationProtocol"] == "deviceCode"}
    keep = [r for r in signins if r["CorrelationId"] in flows]
    keep += [r for r in signins if r["CorrelationId"] not in flows][:40]
    events = [r for r in tables["EntraIdSignInEvents"] if r["CorrelationId"] in flows]
    events += [r for r in tables["EntraIdSignInEvents"] if r["CorrelationId"] not in flows][:40]
    beta = [r for r in tables["AADSignInEventsBeta"] if r["CorrelationId"] in flows]
    return {
        "SigninLogs": keep,
        NON_INTERACTIVE: tables[NON_INTERACTIVE][:30],
        "EntraIdSignInEvents": events,
        "AADSignInEventsBeta": beta,
        "AuditLogs": tables["AuditLogs"],
    }


def us_time(value: datetime) -> str:
    """A time the way the Log Analytics portal exports it: ``4/28/2021, 2:08:45.221 PM``."""
    value = value.astimezone(UTC)
    hour = value.hour % 12 or 12
    half = "PM" if value.hour >= 12 else "AM"
    return (
        f"{value.month}/{value.day}/{value.year}, {hour}:{value.minute:02d}:"
        f"{value.second:02d}.{value.microsecond // 1000:03d} {half}"
    )


def iso_time(value: datetime) -> str:
    """A time as Graph writes it: ``2026-11-24T09:12:54.382Z``."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def _csv(header: list[str], records: Iterable[list[str]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(records)
    return out.getvalue()


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "True" if value else "False"
    if isinstance(value, dict | list):
        return json.dumps(value, indent=2)
    return str(value)


def loganalytics_csv(rows_by_table: dict[str, list[Row]]) -> str:
    """The Log Analytics portal's CSV of a (union) query: [UTC] headers, split dynamics."""
    tables = list(rows_by_table)
    header: list[str] = []
    sources: list[tuple[str, str]] = []  # (column, how)
    seen: set[str] = set()
    for table in tables:
        for spec in table_schema(table).columns:
            if spec.name in seen:
                continue
            seen.add(spec.name)
            if spec.type == "dynamic":
                header += [f"{spec.name}_dynamic", f"{spec.name}_string"]
                sources += [(spec.name, "dynamic"), (spec.name, "empty")]
            elif spec.type == "datetime":
                header.append(f"{spec.name} [UTC]")
                sources.append((spec.name, "time"))
            else:
                header.append(spec.name)
                sources.append((spec.name, "plain"))
    records = []
    for table in tables:
        for row in rows_by_table[table]:
            cells = []
            for column, how in sources:
                value = row.get(column)
                if how == "empty" or value is None:
                    cells.append("")
                elif how == "time":
                    assert isinstance(value, datetime)
                    cells.append(us_time(value))
                elif isinstance(value, bool):
                    cells.append("TRUE" if value else "FALSE")
                else:
                    cells.append(_text(value))
            records.append(cells)
    return _csv(header, records)


def loganalytics_json_lines(rows: list[Row]) -> str:
    """Log Analytics rows as JSON lines (``az monitor log-analytics query`` style)."""
    return "".join(encode_row(row) + "\n" for row in rows)


def loganalytics_json_array(rows: list[Row]) -> str:
    """Log Analytics rows as one pretty-printed JSON array."""
    return json.dumps([json.loads(encode_row(row)) for row in rows], indent=2)


def graph_signins(rows_by_table: dict[str, list[Row]]) -> list[Row]:
    """SigninLogs / non-interactive rows as Graph ``signIn`` objects."""
    records = []
    dynamic = {c.name for c in table_schema("SigninLogs").columns if c.type == "dynamic"}
    for table, rows in rows_by_table.items():
        names = set(table_schema(table).names)
        for row in rows:
            record: Row = {}
            for mapped in GRAPH_TO_SIGNINLOGS:
                if mapped.key is not None or mapped.column not in names:
                    continue
                value = row.get(mapped.column)
                if isinstance(value, datetime):
                    value = iso_time(value)
                elif isinstance(value, str) and value and mapped.column in dynamic:
                    value = json.loads(value)
                record.setdefault(mapped.property, value)
            record["signInEventTypes"] = (
                ["nonInteractiveUser"] if table == NON_INTERACTIVE else ["interactiveUser"]
            )
            for text_column in ("authenticationDetails", "authenticationProcessingDetails"):
                value = record.get(text_column)
                if isinstance(value, str) and value.startswith("["):
                    record[text_column] = json.loads(value)
            records.append(record)
    return records


def graph_page(records: list[Row], next_link: bool = False) -> Row:
    """One Graph response page."""
    page: Row = {
        "@odata.context": "https://graph.microsoft.com/beta/$metadata#auditLogs/signIns",
        "value": records,
    }
    if next_link:
        page["@odata.nextLink"] = "https://graph.microsoft.com/beta/auditLogs/signIns?$skip=x"
    return page


def portal_csv(rows: list[Row]) -> str:
    """SigninLogs rows as the Entra admin center's download."""
    records = []
    for row in rows:
        device = row["DeviceDetail"]
        place = row["LocationDetails"]
        status = row["Status"]
        assert isinstance(device, dict) and isinstance(place, dict) and isinstance(status, dict)
        time = row["TimeGenerated"]
        assert isinstance(time, datetime)
        cells = {
            "Date (UTC)": iso_time(time),
            "Request ID": row["Id"],
            "User agent": row["UserAgent"],
            "Correlation ID": row["CorrelationId"],
            "User ID": row["UserId"],
            "User": row["UserDisplayName"],
            "Username": row["UserPrincipalName"],
            "User type": row["UserType"],
            "Cross tenant access type": _CROSS[str(row["CrossTenantAccessType"])],
            "Incoming token type": _TOKEN[str(row["IncomingTokenType"])],
            "Authentication Protocol": _PROTOCOL[str(row["AuthenticationProtocol"])],
            "Unique token identifier": row["UniqueTokenIdentifier"],
            "Original transfer method": _TRANSFER[str(row["OriginalTransferMethod"])],
            "Client credential type": "None",
            "Token Protection - Sign In Session": "Unbound",
            "Application": row["AppDisplayName"],
            "Application ID ": row["AppId"],
            "App owner tenant ID": row["AppOwnerTenantId"],
            "Resource": row["ResourceDisplayName"],
            "Resource ID ": row["ResourceIdentity"],
            "Resource tenant ID": row["ResourceTenantId"],
            "Home tenant ID": row["HomeTenantId"],
            "IP address": row["IPAddress"],
            "Location": f"{place['city']}, {place['state']}, {place['countryOrRegion']}",
            "Status": "Success" if status["errorCode"] == 0 else "Failure",
            "Sign-in error code": str(status["errorCode"]),
            "Failure reason": status.get("failureReason", "Other."),
            "Client app": row["ClientAppUsed"],
            "Device ID": device.get("deviceId", ""),
            "Browser": device.get("browser", ""),
            "Operating System": device.get("operatingSystem", ""),
            "Compliant": _text(device.get("isCompliant")),
            "Managed": _text(device.get("isManaged")),
            "Join Type": device.get("trustType", ""),
            "Authentication requirement": _REQUIREMENT[str(row["AuthenticationRequirement"])],
            "Session ID": row["SessionId"],
            "Through Global Secure Access": "No",
            "Autonomous system  number": row["AutonomousSystemNumber"],
            "Flagged for review": "No",
            "Token issuer type": "Azure AD",
            "Latency": row["ProcessingTimeInMilliseconds"],
            "Conditional Access": _CA[str(row["ConditionalAccessStatus"])],
        }
        records.append([_text(cells.get(name, "")) for name in PORTAL_HEADER])
    return _csv(PORTAL_HEADER, records)


def defender_csv(table: str, rows: list[Row]) -> str:
    """Defender advanced hunting rows as the portal's CSV export."""
    header = list(table_schema(table).names)
    records = []
    for row in rows:
        cells = []
        for name in header:
            value = row.get(name)
            cells.append(iso_time(value) if isinstance(value, datetime) else _text(value))
        records.append(cells)
    return _csv(header, records)


def auditlogs_csv(rows: list[Row]) -> str:
    """AuditLogs rows as the Log Analytics portal's CSV."""
    return loganalytics_csv({"AuditLogs": rows})


LEGACY_PORTAL_HEADER = [
    "CreatedDateTime",
    "UserPrincipalName",
    "UserDisplayName",
    "AppDisplayName",
    "IPAddress",
    "City",
    "Country",
    "Device",
    "Browser",
    "OS",
    "Status",
    "RiskState",
    "RiskLevelDuringSignIn",
    "RiskLevelAggregated",
    "ConditionalAccessStatus",
]


def legacy_portal_csv(rows: list[Row]) -> str:
    """SigninLogs rows as the older admin center download (flat columns, locale dates)."""
    records = []
    for row in rows:
        device, place, status = row["DeviceDetail"], row["LocationDetails"], row["Status"]
        assert isinstance(device, dict) and isinstance(place, dict) and isinstance(status, dict)
        time = row["CreatedDateTime"]
        assert isinstance(time, datetime)
        hour = time.hour % 12 or 12
        cells = [
            f"{time.month}/{time.day}/{time.year} {hour}:{time.minute:02d}:{time.second:02d} "
            + ("PM" if time.hour >= 12 else "AM"),
            row["UserPrincipalName"],
            row["UserDisplayName"],
            row["AppDisplayName"],
            row["IPAddress"],
            place["city"],
            place["countryOrRegion"],
            device.get("displayName", ""),
            device.get("browser", ""),
            device.get("operatingSystem", ""),
            "Success" if status["errorCode"] == 0 else "Failure",
            row["RiskState"],
            row["RiskLevelDuringSignIn"],
            row["RiskLevelAggregated"],
            _CA[str(row["ConditionalAccessStatus"])],
        ]
        records.append([_text(cell) for cell in cells])
    return _csv(LEGACY_PORTAL_HEADER, records)
