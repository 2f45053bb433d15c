"""Log Analytics exports: SigninLogs, AADNonInteractiveUserSignInLogs and AuditLogs.

Offers the layouts of the CSV the Sentinel / Log Analytics portal writes and of the same rows
as JSON objects (arrays or JSON lines, e.g. from ``az monitor log-analytics query``), and the
tests that recognise them. Field names are the tables' own, with the portal's decorations
undone (see :mod:`.named`). ``TimeGenerated`` falls back to ``CreatedDateTime`` (sign-ins) or
``ActivityDateTime`` (audit), which older exports carry alone; ``ProcessingTimeInMilliseconds``
and ``ProcessingTimeInMs`` (the same value under the two tables' names) stand in for each other.

A sign-in row goes to the table its ``Type`` (or ``Category``) cell names, so an export of
``union SigninLogs, AADNonInteractiveUserSignInLogs`` splits correctly; without those cells a
row holding ``ProcessingTimeInMs`` or ``SignInEventTypes`` is non-interactive, any other is
``SigninLogs``. A file whose columns are AuditLogs' (a time, ``OperationName`` or
``ActivityDisplayName``, and ``TargetResources``, ``InitiatedBy`` or ``AADOperationType``)
loads into AuditLogs, e.g. the device registrations the campaign hunts join on.

Limits: service principal and managed identity sign-ins are left out with a warning (there is
no local table for them); a file mixing sign-ins and audit entries is refused by row.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from entra_hunt.engine.readers.layout import ByLogType, Field, Layout, OneTable, Route
from entra_hunt.engine.readers.named import columns_in, known_columns, named_layout
from entra_hunt.engine.readers.rows import show_value
from entra_hunt.errors import LoadError

__all__ = [
    "AUDIT_TABLES",
    "SIGNIN_TABLES",
    "audit_layout",
    "looks_like_auditlogs",
    "looks_like_loganalytics",
    "not_an_export",
    "signin_layout",
]

#: The local tables sign-in exports load into.
SIGNIN_TABLES = ("SigninLogs", "AADNonInteractiveUserSignInLogs")
AUDIT_TABLES = ("AuditLogs",)
_NON_INTERACTIVE = "AADNonInteractiveUserSignInLogs"

_OTHER_SIGNINS = (
    "AADServicePrincipalSignInLogs",
    "AADManagedIdentitySignInLogs",
    "ServicePrincipalSignInLogs",
    "ManagedIdentitySignInLogs",
)
_BY_TYPE: tuple[tuple[str, str | None], ...] = (
    ("SigninLogs", "SigninLogs"),
    (_NON_INTERACTIVE, _NON_INTERACTIVE),
    *((kind, None) for kind in _OTHER_SIGNINS),
)
_BY_CATEGORY: tuple[tuple[str, str | None], ...] = (
    ("SignInLogs", "SigninLogs"),
    ("NonInteractiveUserSignInLogs", _NON_INTERACTIVE),
    *((kind, None) for kind in _OTHER_SIGNINS),
)
_NON_INTERACTIVE_MARKERS = ("ProcessingTimeInMs", "SignInEventTypes")
_TIME_COLUMNS = ("TimeGenerated", "CreatedDateTime")
_WHO_COLUMNS = ("UserPrincipalName", "UserId", "AppId", "IPAddress")
_AUDIT_TIME = ("TimeGenerated", "ActivityDateTime")
_AUDIT_WHAT = ("OperationName", "ActivityDisplayName")
_AUDIT_DETAIL = ("TargetResources", "InitiatedBy", "AADOperationType")
_PREVIEW_NAMES = 8


def looks_like_loganalytics(names: Sequence[str]) -> bool:
    """Whether field ``names`` include a sign-in time and a user, app or address column."""
    columns = columns_in(names, known_columns(SIGNIN_TABLES))
    return bool(columns.intersection(_TIME_COLUMNS) and columns.intersection(_WHO_COLUMNS))


def looks_like_auditlogs(names: Sequence[str]) -> bool:
    """Whether field ``names`` are those of an AuditLogs export."""
    columns = columns_in(names, known_columns(AUDIT_TABLES))
    return all(columns.intersection(group) for group in (_AUDIT_TIME, _AUDIT_WHAT, _AUDIT_DETAIL))


def signin_layout(
    format: str, header: Sequence[str] | None, label: str, json_keys: Sequence[str] = ()
) -> Layout:
    """The layout of a Log Analytics sign-in export.

    ``header`` is the CSV header, or None for JSON, whose first record has ``json_keys``.
    """

    def route(field_of: Callable[[str], Field | None]) -> Route:
        markers = tuple(f for f in map(field_of, _NON_INTERACTIVE_MARKERS) if f is not None)
        return ByLogType(
            type_field=field_of("Type"),
            category_field=field_of("Category"),
            by_type=_BY_TYPE,
            by_category=_BY_CATEGORY,
            markers=markers,
            marker_table=_NON_INTERACTIVE,
            default="SigninLogs",
            tables=" or ".join(SIGNIN_TABLES),
        )

    time_fields = "TimeGenerated or CreatedDateTime"
    return named_layout(
        format,
        SIGNIN_TABLES,
        header,
        label=label,
        route=route,
        fallbacks={
            "TimeGenerated": ("CreatedDateTime",),
            "ProcessingTimeInMs": ("ProcessingTimeInMilliseconds",),
            "ProcessingTimeInMilliseconds": ("ProcessingTimeInMs",),
        },
        time_fields=dict.fromkeys(SIGNIN_TABLES, time_fields),
        json_keys=json_keys,
    )


def audit_layout(
    format: str, header: Sequence[str] | None, label: str, json_keys: Sequence[str] = ()
) -> Layout:
    """The layout of a Log Analytics AuditLogs export (CSV ``header``, or None for JSON)."""

    def route(field_of: Callable[[str], Field | None]) -> Route:
        type_field = field_of("Type")
        if type_field is None:
            return OneTable("AuditLogs")
        return ByLogType(
            type_field=type_field,
            category_field=None,
            by_type=(("AuditLogs", "AuditLogs"),),
            by_category=(),
            markers=(),
            marker_table="AuditLogs",
            default="AuditLogs",
            tables="AuditLogs",
        )

    return named_layout(
        format,
        AUDIT_TABLES,
        header,
        label=label,
        route=route,
        fallbacks={"TimeGenerated": ("ActivityDateTime",)},
        time_fields={"AuditLogs": "TimeGenerated or ActivityDateTime"},
        json_keys=json_keys,
    )


def not_an_export(names: Sequence[str], where: str) -> LoadError:
    """The error for a file whose columns (or keys) ``names`` no reader knows."""
    found = ", ".join(show_value(name) for name in names[:_PREVIEW_NAMES])
    if len(names) > _PREVIEW_NAMES:
        found += f" and {len(names) - _PREVIEW_NAMES} more"
    return LoadError(
        f"this is not a sign-in export: found the columns {found or 'none'}",
        where=where,
        fix=(
            f"Expected a Log Analytics export of {' or '.join(SIGNIN_TABLES)} with "
            f"{' or '.join(_TIME_COLUMNS)} and one of {', '.join(_WHO_COLUMNS)} (or of "
            "AuditLogs), a Microsoft Graph signIns JSON, an Entra admin center sign-in "
            "download, or a Defender advanced hunting export of EntraIdSignInEvents"
        ),
    )
