"""The error vocabulary every layer speaks.

Each error a user or an assistant can meet says three things: what went wrong, where (a file,
line and field, a parameter, a backend and table) and what to do next. Layers below the MCP
surface raise these; the MCP tools and the CLI render them, never a stack trace.
"""

from __future__ import annotations

__all__ = [
    "BackendError",
    "DataError",
    "EntraHuntError",
    "LoadError",
    "ParameterError",
    "QueryError",
]


class EntraHuntError(Exception):
    """Base class: a failure with a place and a next step.

    Attributes:
        what: one sentence on what went wrong, free of raw SDK text.
        where: the file/line/field, parameter or backend it concerns, if any.
        fix: what the user should do next.
    """

    kind = "error"

    def __init__(self, what: str, *, where: str | None = None, fix: str | None = None) -> None:
        """Build the error from its three parts."""
        self.what = what
        self.where = where
        self.fix = fix
        super().__init__(self.message)

    @property
    def message(self) -> str:
        """The whole error as one readable paragraph."""
        parts = [self.what.rstrip(".") + "."]
        if self.where:
            parts.insert(0, f"{self.where}:")
        if self.fix:
            parts.append(self.fix.rstrip(".") + ".")
        return " ".join(parts)


class ParameterError(EntraHuntError):
    """A hunt or tool parameter is out of bounds or contradicts another."""

    kind = "invalid_parameter"


class LoadError(EntraHuntError):
    """An export could not be loaded; the database was left as it was.

    ``where`` names the file and, when known, the line (1-based, as an editor counts) and the
    field, e.g. ``signins.csv, line 14, field CreatedDateTime [UTC]``.
    """

    kind = "load_failed"


class DataError(EntraHuntError):
    """The local database is missing, unreadable or has no table the hunt needs."""

    kind = "data_unavailable"


class QueryError(EntraHuntError):
    """A rendered query was refused by the engine (a defect in a shipped hunt)."""

    kind = "query_failed"


class BackendError(EntraHuntError):
    """A backend service failed; ``reason`` is one of the shared vocabulary words.

    Reasons: ``throttled``, ``timed_out``, ``unauthorised``, ``forbidden``, ``not_found``,
    ``unavailable``, ``bad_response``, ``not_configured``.
    """

    kind = "backend_failed"

    def __init__(
        self,
        what: str,
        *,
        reason: str,
        where: str | None = None,
        fix: str | None = None,
        retry_after_seconds: float | None = None,
    ) -> None:
        """Build a backend failure with its vocabulary word and optional retry hint."""
        self.reason = reason
        self.retry_after_seconds = retry_after_seconds
        super().__init__(what, where=where, fix=fix)
