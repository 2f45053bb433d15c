"""Export readers: sign-in exports turned into typed rows for the local store.

Reads Log Analytics exports of SigninLogs and AADNonInteractiveUserSignInLogs (CSV as the
portal writes it, JSON arrays or JSON lines) and Microsoft Graph ``/auditLogs/signIns`` JSON
(response pages, single objects, arrays, JSON lines), plain or gzip-compressed, streamed record
by record. :func:`read_export` recognises the format; every value is typed by the official
table schema, and every failure is a :class:`~entra_hunt.errors.LoadError` naming the file,
line and field.
"""

from entra_hunt.engine.readers.detect import FORMATS, read_export
from entra_hunt.engine.readers.graph import GRAPH_TO_SIGNINLOGS, GraphField
from entra_hunt.engine.readers.rows import SourceRow

__all__ = ["FORMATS", "GRAPH_TO_SIGNINLOGS", "GraphField", "SourceRow", "read_export"]
