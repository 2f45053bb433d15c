"""Export readers: sign-in and audit exports turned into typed rows for the local store.

Reads Log Analytics exports (SigninLogs, AADNonInteractiveUserSignInLogs, AuditLogs; CSV as
the portal writes it, JSON arrays or JSON lines), Microsoft Graph ``/auditLogs/signIns`` JSON
(response pages, single objects, arrays, JSON lines; the Entra admin center's JSON download is
the same), the Entra admin center's CSV download, and Defender advanced hunting exports of
EntraIdSignInEvents and AADSignInEventsBeta; plain or gzip-compressed, streamed record by
record. :func:`sniff` recognises a file and returns its :class:`Layout`, the data that says how
its fields fill the tables; :func:`read_export` applies it in Python, every failure a
:class:`~entra_hunt.errors.LoadError` naming the file, line and field. The DuckDB fast path in
:mod:`entra_hunt.engine.bulk` applies the same layouts in SQL.
"""

from entra_hunt.engine.readers.detect import (
    FORMATS,
    JsonShape,
    ReadStats,
    Sniffed,
    check_format,
    read_export,
    sniff,
)
from entra_hunt.engine.readers.graph import GRAPH_TO_SIGNINLOGS, GraphField
from entra_hunt.engine.readers.layout import Layout
from entra_hunt.engine.readers.portal import PORTAL_TO_SIGNINLOGS, PortalColumn
from entra_hunt.engine.readers.rows import RejectedRecord, SourceRow

__all__ = [
    "FORMATS",
    "GRAPH_TO_SIGNINLOGS",
    "PORTAL_TO_SIGNINLOGS",
    "GraphField",
    "JsonShape",
    "Layout",
    "PortalColumn",
    "ReadStats",
    "RejectedRecord",
    "Sniffed",
    "SourceRow",
    "check_format",
    "read_export",
    "sniff",
]
