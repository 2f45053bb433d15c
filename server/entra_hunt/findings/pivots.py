"""Result models of the investigation pivots: a user's timeline and an ad-hoc query's rows.

The same pydantic classes are MCP structured output and the CLI's JSON. Text copied from the
logs is attacker controlled: capped by :func:`~entra_hunt.findings.models.untrusted_text` and
listed in ``untrusted_fields``.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, JsonValue

from entra_hunt.findings.models import TimeWindow

__all__ = ["QueryResult", "TimelineEvent", "TimelineSummary", "UserTimeline"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TimelineEvent(_Model):
    """One sign-in or directory event of the user, as one row of the timeline."""

    time: datetime = Field(description="When it happened, UTC.")
    table: str = Field(description="The table it came from.")
    kind: str = Field(
        description="'interactive sign-in', 'device code sign-in', 'non-interactive sign-in', "
        "'token from device code', 'device registration' or 'directory change'."
    )
    app: str | None = Field(description="Client app, or the service that logged an audit event.")
    resource: str | None = Field(description="Resource, or the audit event's target.")
    ip_address: str | None
    country: str | None
    city: str | None
    device_id: str | None
    device_name: str | None
    operating_system: str | None
    trust_type: str | None
    managed: str | None = Field(description="'true', 'false', '1', '0' or empty, as logged.")
    result: str | None = Field(description="ResultType / ErrorCode (0 is success), or Result.")
    protocol: str | None = Field(description="AuthenticationProtocol, or Defender EndpointCall.")
    token_type: str | None = Field(description="IncomingTokenType, e.g. primaryRefreshToken.")
    transfer_method: str | None = Field(description="OriginalTransferMethod, e.g. deviceCodeFlow.")
    user_agent: str | None
    session_id: str | None
    correlation_id: str | None
    operation: str | None = Field(description="Audit operation name, e.g. 'Register device'.")


class TimelineSummary(_Model):
    """Counts over the events returned."""

    events: int = Field(description="Events returned.")
    by_ip_address: dict[str, int]
    by_country: dict[str, int]
    by_device: dict[str, int] = Field(description="By device name or id ('unregistered').")
    by_app: dict[str, int]
    device_code_sign_ins: int
    device_registrations: int
    failures: int = Field(description="Sign-ins with a non-zero result.")


class UserTimeline(_Model):
    """A user's sign-ins and directory events around a moment, oldest first."""

    user: str
    backend: str
    dataset: str | None
    tables: list[str] = Field(description="Tables read.")
    window: TimeWindow = Field(description="The UTC window read: around minus/plus span.")
    query: str = Field(description="The exact KQL that ran.")
    complete: bool = Field(description="False when the backend returned partial results.")
    truncated: bool = Field(
        description="True when more events exist than max_events; narrow span to see all."
    )
    notes: list[str]
    summary: TimelineSummary
    events: list[TimelineEvent]
    untrusted_fields: list[str]


class QueryResult(_Model):
    """The rows of an ad-hoc read-only query, capped."""

    backend: str
    dataset: str | None
    table: str = Field(description="The first catalogue table the query names.")
    window: TimeWindow = Field(
        description="The time span the cloud backends were asked for (the local engine reads "
        "whatever the query selects)."
    )
    query: str = Field(description="The KQL as it ran, with the row cap appended.")
    columns: list[str]
    rows: list[dict[str, JsonValue]] = Field(description="Rows, text cells capped.")
    row_count: int = Field(description="Rows returned.")
    truncated: bool = Field(description="True when the row cap cut the result.")
    complete: bool = Field(description="False when the backend returned partial results.")
    notes: list[str]
