"""Typed hunt parameters, validated once for every caller (MCP tool, CLI, scripts).

The field descriptions are what an assistant reads in ``tools/list``: they give units, bounds
and defaults. Validation errors name the parameter and say what to send instead.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Annotated, Self
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from entra_hunt.errors import ParameterError

__all__ = [
    "MAX_LOOKBACK",
    "MAX_OFFSET",
    "BackendName",
    "HuntParameters",
    "RiskFloor",
    "Upn",
    "Duration",
    "parse_duration",
    "parse_lookback",
]

#: The longest window a hunt accepts; Defender XDR allows less (30 days).
MAX_LOOKBACK = timedelta(days=365)
MIN_LOOKBACK = timedelta(minutes=5)
DEFAULT_LOOKBACK = "7d"
#: The furthest a page of findings can start (the runner reads at most this many rows).
MAX_OFFSET = 50_000

_LOOKBACK = re.compile(r"^\s*(\d{1,6})\s*(d|h|m)\s*$", re.ASCII)
_UNITS = {"d": "days", "h": "hours", "m": "minutes"}

# Characters Entra ID allows in a user principal name, plus '#' for guest (#EXT#) accounts.
_UPN = re.compile(r"^[A-Za-z0-9'._!#^~+&\-]{1,113}@[A-Za-z0-9\-]+(\.[A-Za-z0-9\-]+)+$")


class BackendName(StrEnum):
    """Where a hunt runs."""

    LOCAL = "local"
    SENTINEL = "sentinel"
    DEFENDER = "defender"


class RiskFloor(StrEnum):
    """The lowest sign-in risk a finding must carry."""

    ANY = "any"
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"

    def levels(self) -> list[str]:
        """Sentinel's risk strings at or above this floor (empty for any)."""
        order = ["low", "medium", "high"]
        return [] if self is RiskFloor.ANY else order[order.index(self.value) :]

    def minimum_score(self) -> int:
        """Defender's numeric risk at or above this floor: 10 low, 50 medium, 100 high."""
        return {"any": 0, "low": 10, "medium": 50, "high": 100}[self.value]


def parse_lookback(text: str) -> timedelta:
    """``'7d'``, ``'36h'`` or ``'90m'`` as a timedelta within the accepted bounds."""
    match = _LOOKBACK.match(text)
    if not match:
        raise ValueError(
            f"lookback {text[:40]!r} is not a duration: write a number and a unit, d (days), "
            "h (hours) or m (minutes), e.g. '7d' or '36h'"
        )
    amount = timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})
    if not MIN_LOOKBACK <= amount <= MAX_LOOKBACK:
        raise ValueError(f"lookback {text[:40]!r} is outside 5m to {MAX_LOOKBACK.days}d")
    return amount


def parse_duration(text: str, *, low: timedelta, high: timedelta, name: str) -> timedelta:
    """A ``'6h'``-style duration between ``low`` and ``high``; ValueError naming ``name``."""
    match = _LOOKBACK.match(text)
    if not match:
        raise ValueError(
            f"{name} {text[:40]!r} is not a duration: write a number and a unit, d (days), "
            "h (hours) or m (minutes), e.g. '6h'"
        )
    amount = timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})
    if not low <= amount <= high:
        raise ValueError(f"{name} {text[:40]!r} is outside {_say(low)} to {_say(high)}")
    return amount


@dataclass(frozen=True)
class Duration:
    """A hunt's duration parameter: its name and bounds, checked and read in one place."""

    name: str
    low: timedelta
    high: timedelta

    def parse(self, text: str) -> timedelta:
        """``text`` ('6h', '14d') as a timedelta within the bounds; ValueError naming it."""
        return parse_duration(text, low=self.low, high=self.high, name=self.name)

    def check(self, text: str) -> str:
        """A pydantic after-validator: ``text`` unchanged when it parses."""
        self.parse(text)
        return text


def _say(span: timedelta) -> str:
    if span % timedelta(days=1) == timedelta(0):
        return f"{span.days}d"
    if span % timedelta(hours=1) == timedelta(0):
        return f"{int(span.total_seconds() // 3600)}h"
    return f"{int(span.total_seconds() // 60)}m"


_ZONE = re.compile(r"^[A-Za-z][A-Za-z0-9_+\-]*(/[A-Za-z0-9_+\-]+){0,2}$")


def _check_timezone(name: str) -> str:
    try:
        if len(name) > 64 or not _ZONE.match(name):
            raise ValueError(name)
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise ValueError(
            f"{name[:60]!r} is not an IANA time zone such as 'UTC' or 'Europe/Paris' "
            "(if it is one, install the tzdata package)"
        ) from None
    return name


def _check_lookback(text: str | None) -> str | None:
    if text is not None:
        parse_lookback(text)
    return text


def _check_upn(value: str) -> str:
    if not _UPN.fullmatch(value):
        raise ValueError(
            f"{value[:80]!r} is not a user principal name like alice@contoso.com "
            "(letters, digits and ' . _ ! # ^ ~ + & - before the @)"
        )
    return value.lower()


def _as_utc(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    try:
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    except OverflowError:
        raise ValueError(f"{value.isoformat()} is outside the range of dates") from None


Upn = Annotated[str, AfterValidator(_check_upn)]


class HuntParameters(BaseModel):
    """What every hunt accepts: where it runs, over which window, for whom, how much back."""

    model_config = ConfigDict(extra="forbid", use_enum_values=False)

    backend: BackendName = Field(
        default=BackendName.LOCAL,
        description="Where to run: 'local' (default; the embedded database of loaded exports, "
        "or the bundled demo dataset when nothing is loaded), 'sentinel' (Log Analytics "
        "SigninLogs) or 'defender' (Defender XDR advanced hunting).",
    )
    lookback: Annotated[str | None, AfterValidator(_check_lookback)] = Field(
        default=None,
        description="How far back from now to hunt, e.g. '7d', '36h', '90m' (5m to 365d; "
        "Defender keeps 30d). Default '7d'. Leave empty when giving start and end.",
    )
    start: datetime | None = Field(
        default=None,
        description="Explicit window start, ISO 8601, UTC unless an offset is given. Needs end.",
    )
    end: datetime | None = Field(
        default=None,
        description="Explicit window end, ISO 8601, UTC unless an offset is given. Needs start.",
    )
    users: list[Upn] = Field(
        default_factory=list,
        max_length=50,
        description="Only these users (user principal names, up to 50). Empty: all users.",
    )
    max_findings: int = Field(
        default=50,
        ge=1,
        le=500,
        description="Most findings to return (1-500, default 50), most severe first. Counts "
        "in the summary always cover every match.",
    )
    table: str | None = Field(
        default=None,
        description="Override the table: for defender 'EntraIdSignInEvents' (default) or "
        "'AADSignInEventsBeta'; for local any loaded sign-in table. Usually left empty.",
    )
    offset: int = Field(
        default=0,
        ge=0,
        le=MAX_OFFSET,
        description="Skip this many findings (most severe first) to get the next page of a "
        "truncated result; use it with the same start and end (a result's next_page holds "
        "all three). Default 0.",
    )
    timezone: Annotated[str, AfterValidator(_check_timezone)] = Field(
        default="UTC",
        description="The office time zone, an IANA name such as 'Europe/Paris' (default "
        "'UTC'): sign-ins outside 07:00-20:00 Monday to Friday there get the 'off-hours' "
        "signal.",
    )

    @model_validator(mode="after")
    def _window_is_coherent(self) -> Self:
        self.start, self.end = _as_utc(self.start), _as_utc(self.end)
        if (self.start is None) != (self.end is None):
            raise ValueError("give both start and end, or neither (and use lookback)")
        if self.start is not None and self.lookback is not None:
            raise ValueError("give either lookback or start and end, not both")
        if self.start is not None and self.end is not None:
            if self.start >= self.end:
                raise ValueError("start must be before end")
            if self.end - self.start > MAX_LOOKBACK:
                raise ValueError(f"the window is longer than {MAX_LOOKBACK.days} days")
        return self

    def window(self, now: datetime) -> tuple[datetime, datetime]:
        """The UTC window to hunt: explicit start/end, or ``lookback`` back from ``now``."""
        if self.start is not None and self.end is not None:
            return self.start, self.end
        span = parse_lookback(self.lookback or DEFAULT_LOOKBACK)
        end = now.astimezone(UTC)
        return end - span, end

    def span(self) -> timedelta:
        """How long the window is: end minus start, or the lookback."""
        if self.start is not None and self.end is not None:
            return self.end - self.start
        return parse_lookback(self.lookback or DEFAULT_LOOKBACK)

    def zone(self) -> ZoneInfo:
        """The office time zone, for the off-hours signal."""
        return ZoneInfo(self.timezone)

    def has_explicit_window(self) -> bool:
        """True when the caller gave start and end rather than a lookback."""
        return self.start is not None


def parameter_error(exc: Exception, model: type[BaseModel]) -> ParameterError:
    """A pydantic validation failure as one readable :class:`ParameterError`."""
    from pydantic import ValidationError

    if not isinstance(exc, ValidationError):
        return ParameterError(str(exc))
    problems = []
    for err in exc.errors():
        where = ".".join(str(p) for p in err["loc"])
        message = str(err["msg"]).removeprefix("Value error, ")
        problems.append(f"{where}: {message}" if where else message)
    return ParameterError(
        "; ".join(problems),
        where="parameters",
        fix="Correct it and try again (the bounds are in --help, or in the MCP tool's input "
        "schema)",
    )
