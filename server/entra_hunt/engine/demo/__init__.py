"""The bundled demo dataset: sign-in logs of Contoso Pharma, a fictional tenant.

Contoso Pharma (``contosopharma.example``) does not exist. Its 60 accounts, devices and
addresses are invented: the public IP addresses look like those of real providers so that
enrichment and hunts behave as on real data, but they point at no real host, person or
attacker. Only the Microsoft first-party application and resource ids are real.

:func:`generate` builds 14 days of sign-ins ending at :data:`DEMO_END` from a seeded
``random.Random`` (no clock, no network, no external data): about 2,800 interactive
sign-ins (SigninLogs), 500 non-interactive token refreshes (AADNonInteractiveUserSignInLogs),
the same events as Defender XDR rows (EntraIdSignInEvents and AADSignInEventsBeta) and a few
directory changes (AuditLogs). Into this background go the cases of :data:`PLANTED`, each
with its expected verdict. :func:`write_dataset` writes one gzip JSON-lines file per table,
byte-for-byte reproducible.

Regenerate the shipped copy with ``python -m entra_hunt.engine.demo server/entra_hunt/data/demo``.

Limits: times have millisecond precision (written with 7 fractional digits, the last ones
0). The Defender tables repeat the Sentinel events one for one, with ReportId equal to the
sign-in's request id and risk "none" as 1 (the documented enum: 0 is "not set"). The volume
is held to about 2,800 interactive sign-ins so that the five files stay under 1.5 MB.
"""

from __future__ import annotations

import gzip
import io
import json
import random
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from entra_hunt.engine.demo._cases import INSTRUCTION_USER_AGENT
from entra_hunt.engine.demo._noise import background_audit, background_signins
from entra_hunt.engine.demo._planted import PlantedCase, build_planted
from entra_hunt.engine.demo._tables import (
    Row,
    audit_row,
    beta_events_row,
    entraid_events_row,
    sentinel_row,
)
from entra_hunt.engine.demo._tenant import (
    DEMO_END,
    DEMO_START,
    TENANT_DOMAIN,
    TENANT_ID,
    TENANT_NAME,
)
from entra_hunt.engine.schema import TABLES, table_schema

__all__ = [
    "DEMO_END",
    "DEMO_SEED",
    "DEMO_START",
    "INSTRUCTION_USER_AGENT",
    "PLANTED",
    "TENANT_DOMAIN",
    "TENANT_ID",
    "TENANT_NAME",
    "PlantedCase",
    "dataset_file_name",
    "encode_row",
    "generate",
    "write_dataset",
]

#: The seed of the shipped dataset (after the Storm-2372 campaign it illustrates).
DEMO_SEED = 2372

#: Every planted case, ordered by first sign-in; the same whatever the seed.
_PLANTED_SIGNINS, _PLANTED_AUDIT, PLANTED = build_planted()

# Rows are ordered by account, then time, then a unique id: a user's rows sit together, which
# lets gzip find their shared values and keeps the shipped files small.
_ORDER = {
    "SigninLogs": ("UserPrincipalName", "Id"),
    "AADNonInteractiveUserSignInLogs": ("UserPrincipalName", "Id"),
    "EntraIdSignInEvents": ("AccountUpn", "RequestId"),
    "AADSignInEventsBeta": ("AccountUpn", "RequestId"),
    "AuditLogs": ("Type", "Id"),  # one Type: audit rows stay in time order
}


def generate(seed: int = DEMO_SEED) -> dict[str, list[Row]]:
    """The demo dataset: rows of every local table, ordered by account, then time.

    Values are typed by the column's Kusto type: ``string`` as str (ResultType "0" too),
    ``dynamic`` as dict or list, ``datetime`` as a UTC-aware datetime, ``bool``, ``int`` and
    ``long`` as int (bool for bool), ``real`` as float; ``None`` where the service leaves a
    non-string column empty. The seed varies the background only; planted cases are fixed.
    """
    rng = random.Random(seed)
    signins = background_signins(rng) + _PLANTED_SIGNINS
    audit = background_audit(rng) + _PLANTED_AUDIT

    tables: dict[str, list[Row]] = {name: [] for name in TABLES}
    for signin in signins:
        table, row = sentinel_row(signin)
        tables[table].append(row)
        tables["EntraIdSignInEvents"].append(entraid_events_row(signin))
        tables["AADSignInEventsBeta"].append(beta_events_row(signin))
    tables["AuditLogs"] = [audit_row(event) for event in audit]

    for name, rows in tables.items():
        rows.sort(key=_order_key(name))
    return tables


def _order_key(table: str) -> Callable[[Row], tuple[str, datetime, str]]:
    account, unique = _ORDER[table]
    time_column = table_schema(table).time_column

    def key(row: Row) -> tuple[str, datetime, str]:
        instant = row[time_column]
        assert isinstance(instant, datetime)
        return str(row[account]), instant, str(row[unique])

    return key


def _instant(value: datetime) -> str:
    """ISO 8601 the way Log Analytics writes it: UTC, 7 fractional digits, 'Z'."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f") + "0Z"


def encode_row(row: Row) -> str:
    """One row as a JSON line (no newline): datetimes as ISO text, dynamic values nested."""
    plain = {k: _instant(v) if isinstance(v, datetime) else v for k, v in row.items()}
    return json.dumps(plain, ensure_ascii=False, separators=(",", ":"))


def dataset_file_name(table: str) -> str:
    """The file name a table is written to: ``<Table>.jsonl.gz``."""
    return f"{table}.jsonl.gz"


def write_dataset(directory: Path, seed: int = DEMO_SEED) -> dict[str, Path]:
    """Write :func:`generate` as one gzip JSON-lines file per table into ``directory``.

    The bytes depend only on the seed (and the zlib build): rows in time order, no timestamp
    in the gzip header. Returns the path written for each table.
    """
    directory.mkdir(parents=True, exist_ok=True)
    written: dict[str, Path] = {}
    for table, rows in generate(seed).items():
        text = "".join(encode_row(row) + "\n" for row in rows).encode("utf-8")
        buffer = io.BytesIO()
        with gzip.GzipFile(filename="", mode="wb", fileobj=buffer, mtime=0) as archive:
            archive.write(text)
        path = directory / dataset_file_name(table)
        path.write_bytes(buffer.getvalue())
        written[table] = path
    return written
