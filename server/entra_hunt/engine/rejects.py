"""Records left out by ``--skip-bad``: a reject file and a summary beside it.

Offers :class:`RejectLog`. While a file loads, each rejected record is appended, as one JSON
line, to a working file: its line, the error (what, where with file/line/field, and the fix)
and the record as read (CSV cells by header name, or the JSON object). When the load has landed
in the database, :meth:`RejectLog.publish` moves it to
``<database folder>/rejects/<file name>.<UTC time>.jsonl`` and writes
``<same>.summary.json`` next to it: counts read, loaded, skipped, the time range, and the
reasons by field with a first example, so the records can be fixed and loaded again.

Limits: the records are written as read, attacker-controlled text included; the files are for
the analyst, never for an assistant to follow.
"""

from __future__ import annotations

import json
import re
import shutil
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

from entra_hunt.engine.readers import RejectedRecord
from entra_hunt.engine.store import LoadReport

__all__ = ["RejectLog"]

_FIELD = re.compile(r", field (.+)$")
_SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass
class _Reason:
    count: int
    first_line: int
    example: str


class RejectLog:
    """The rejected records of one file, collected while it loads."""

    def __init__(self, work_dir: Path, file_name: str) -> None:
        """Collect into a working file in ``work_dir`` for the export named ``file_name``."""
        self.file_name = _SAFE_NAME.sub("_", file_name)[:120] or "export"
        self._path = work_dir / f"{self.file_name}.rejects.jsonl"
        self._handle: IO[str] | None = None
        self._reasons: dict[str, _Reason] = {}
        self.count = 0

    def add(self, rejected: RejectedRecord) -> None:
        """Append one rejected record."""
        if self._handle is None:
            self._handle = self._path.open("w", encoding="utf-8")
        error = rejected.error
        entry = {
            "line": rejected.line,
            "error": error.what,
            "where": error.where,
            "fix": error.fix,
            "record": rejected.record,
        }
        self._handle.write(json.dumps(entry, ensure_ascii=False, default=str) + "\n")
        self.count += 1
        found = _FIELD.search(error.where or "")
        field = found.group(1) if found else "(record)"
        reason = self._reasons.get(field)
        if reason is None:
            self._reasons[field] = _Reason(1, rejected.line, error.message)
        else:
            reason.count += 1

    def close(self) -> None:
        """Close the working file."""
        if self._handle is not None:
            self._handle.close()
            self._handle = None

    def publish(self, rejects_dir: Path, report: LoadReport) -> None:
        """Move the reject file into ``rejects_dir``, write its summary, name both in report."""
        self.close()
        if not self.count:
            return
        rejects_dir.mkdir(parents=True, exist_ok=True)
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S.%fZ")
        target = rejects_dir / f"{self.file_name}.{stamp}.jsonl"
        summary = rejects_dir / f"{self.file_name}.{stamp}.summary.json"
        shutil.move(self._path, target)
        body = {
            "source": report.source,
            "sha256": report.sha256,
            "format": report.format,
            "rows_read": report.rows_read,
            "rows_loaded": report.rows,
            "rows_skipped": report.rows_skipped,
            "rows_not_kept": report.rows_not_kept,
            "rows_by_table": report.rows_by_table,
            "first": report.first.isoformat() if report.first else None,
            "last": report.last.isoformat() if report.last else None,
            "reject_file": str(target),
            "reasons": [
                {"field": field, "count": r.count, "first_line": r.first_line, "example": r.example}
                for field, r in sorted(self._reasons.items(), key=lambda kv: -kv[1].count)
            ],
        }
        summary.write_text(json.dumps(body, indent=2, ensure_ascii=False) + "\n", "utf-8")
        report.reject_file = target
        report.summary_file = summary
