"""Defender XDR advanced hunting exports of EntraIdSignInEvents and AADSignInEventsBeta.

Offers the recognition and the layout of the CSV the Defender portal's "Export" writes from an
advanced hunting result (and of the same rows as JSON objects, e.g. the ``results`` of a
``runHuntingQuery`` response saved as an array). Columns carry the tables' own names. The table
is told by the columns: ``AadDeviceId`` or ``RiskDetails`` are only in the deprecated
AADSignInEventsBeta; any other export loads into EntraIdSignInEvents. ``Timestamp`` falls back
to ``TimeGenerated``.

Limits: the export must keep the table's column names (a ``project`` that renames columns
cannot be placed); numeric enums (risk levels, Conditional Access status) stay numbers, as
Defender writes them.
"""

from __future__ import annotations

from collections.abc import Sequence

from entra_hunt.engine.readers.layout import Layout, OneTable
from entra_hunt.engine.readers.named import columns_in, known_columns, named_layout

__all__ = ["DEFENDER_TABLES", "defender_layout", "defender_table", "looks_like_defender"]

DEFENDER_TABLES = ("EntraIdSignInEvents", "AADSignInEventsBeta")
_BETA_ONLY = ("AadDeviceId", "RiskDetails")
_WHO = ("AccountUpn", "AccountObjectId")
_WHAT = ("EndpointCall", "LogonType", "ApplicationId", "Application")


def looks_like_defender(names: Sequence[str]) -> bool:
    """Whether field ``names`` are those of a Defender sign-in events export."""
    columns = columns_in(names, known_columns(DEFENDER_TABLES))
    return "Timestamp" in columns and all(columns.intersection(g) for g in (_WHO, _WHAT))


def defender_table(names: Sequence[str]) -> str:
    """The table an export with field ``names`` comes from."""
    columns = columns_in(names, known_columns(DEFENDER_TABLES))
    return "AADSignInEventsBeta" if columns.intersection(_BETA_ONLY) else "EntraIdSignInEvents"


def defender_layout(
    format: str,
    header: Sequence[str] | None,
    table: str,
    label: str,
    json_keys: Sequence[str] = (),
) -> Layout:
    """The layout of a Defender export into ``table`` (CSV ``header``, or None for JSON)."""
    return named_layout(
        format,
        (table,),
        header,
        label=label,
        route=lambda _: OneTable(table),
        fallbacks={"Timestamp": ("TimeGenerated",)},
        time_fields={table: "Timestamp"},
        json_keys=json_keys,
    )
