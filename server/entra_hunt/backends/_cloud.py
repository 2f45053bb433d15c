"""What the two cloud backends share: clouds, retries, a call budget and safe service text.

Offers the endpoints of each Microsoft cloud (public, US Government, US DoD, China), a retry
loop that honours ``Retry-After`` within a deadline, a process-wide rate limiter, and helpers
that turn a service's error text into one short, printable sentence. Reads nothing and calls
nothing by itself.

Limits: the rate limiter counts calls made by this process only; other tools hunting in the
same tenant share the service's quota without our knowing.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import TypeVar

import anyio

from entra_hunt.errors import BackendError

__all__ = [
    "CLOUDS",
    "Cloud",
    "MissingTableError",
    "RateLimiter",
    "Retrying",
    "TableRange",
    "origin",
    "parse_retry_after",
    "safe_text",
    "second_bounds",
    "table_missing",
]

logger = logging.getLogger(__name__)

T = TypeVar("T")


@dataclass(frozen=True)
class Cloud:
    """The hosts one Microsoft cloud serves its APIs from."""

    name: str
    logs_endpoint: str
    graph_endpoint: str
    authority_host: str
    hunting_available: bool = True


#: Known clouds by the name ENTRA_HUNT_CLOUD takes.
CLOUDS: dict[str, Cloud] = {
    "public": Cloud(
        "public",
        "https://api.loganalytics.io",
        "https://graph.microsoft.com",
        "login.microsoftonline.com",
    ),
    "usgov": Cloud(
        "usgov",
        "https://api.loganalytics.us",
        "https://graph.microsoft.us",
        "login.microsoftonline.us",
    ),
    "usgov-dod": Cloud(
        "usgov-dod",
        "https://api.loganalytics.us",
        "https://dod-graph.microsoft.us",
        "login.microsoftonline.us",
    ),
    # Graph's runHuntingQuery is not offered by the cloud operated by 21Vianet.
    "china": Cloud(
        "china",
        "https://api.loganalytics.azure.cn",
        "https://microsoftgraph.chinacloudapi.cn",
        "login.chinacloudapi.cn",
        hunting_available=False,
    ),
}


class MissingTableError(BackendError):
    """The service says a table does not exist (reason ``not_found``); probes expect it."""

    def __init__(self, what: str, *, table: str, where: str, fix: str) -> None:
        """Say which ``table`` is missing."""
        self.table = table
        super().__init__(what, reason="not_found", where=where, fix=fix)


@dataclass(frozen=True)
class TableRange:
    """How many sign-ins a service table holds, and from when to when."""

    table: str
    rows: int
    first: datetime | None
    last: datetime | None

    @classmethod
    def from_values(cls, table: str, values: dict[str, object]) -> TableRange:
        """Read a ``summarize Rows = count(), First = min(..), Last = max(..)`` row."""
        rows = values.get("Rows") or 0
        return cls(
            table, int(str(rows)), _instant(values.get("First")), _instant(values.get("Last"))
        )

    def sentence(self, dataset: str) -> str:
        """The range as a note for a result or a check."""
        if not self.rows or self.first is None or self.last is None:
            return f"{self.table} in {dataset} holds no rows."
        return (
            f"{self.table} in {dataset} holds {self.rows} sign-ins from "
            f"{self.first.isoformat()} to {self.last.isoformat()}."
        )


def _instant(value: object) -> datetime | None:
    if isinstance(value, str) and value:
        value = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if isinstance(value, datetime):
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    return None


_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")
_SPACE = re.compile(r"\s+")
# Bearer tokens and other long opaque strings never reach a message.
_OPAQUE = re.compile(r"\beyJ[\w-]+\.[\w-]+\.[\w-]*|\b[A-Za-z0-9+/_-]{60,}={0,2}")
_NAMED = re.compile(r"(?:table|column|expression)[^']*named '([^']{1,200})'", re.IGNORECASE)


def safe_text(text: object, limit: int = 240) -> str:
    """Service text as one short printable line: no control characters, tokens or dumps."""
    flat = _SPACE.sub(" ", _CONTROL.sub(" ", str(text))).strip()
    flat = _OPAQUE.sub("[redacted]", flat)
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


def table_missing(message: str, table: str) -> bool:
    """True when a Kusto error says ``table`` could not be resolved (the table is absent).

    Kusto words it "Failed to resolve table or column expression named 'X'" (SEM0100); the
    name must be the table's, since an unknown column is a defect, not a missing table.
    """
    if "resolve" not in message.lower():
        return False
    match = _NAMED.search(message)
    if match:
        return match.group(1) == table
    return f"'{table}'" in message


def origin(endpoint: str) -> str:
    """``https://host[:port]`` of an endpoint given with or without scheme and path."""
    text = endpoint.strip().rstrip("/")
    if "://" not in text:
        text = "https://" + text
    scheme, _, rest = text.partition("://")
    return f"{scheme}://{rest.split('/', 1)[0]}"


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (seconds or an HTTP date), if usable."""
    if not value:
        return None
    text = value.strip()
    try:
        return max(0.0, float(text))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def second_bounds(start: datetime, end: datetime) -> tuple[datetime, datetime]:
    """A window in whole seconds that contains ``[start, end]`` with its end excluded.

    Services take the API's timespan as half-open and intersect it with the in-query filter,
    which is inclusive at both ends; widening to whole seconds keeps every row the filter
    matches and sends a timespan every service parses.
    """
    low = start.astimezone(UTC).replace(microsecond=0)
    high = end.astimezone(UTC).replace(microsecond=0) + timedelta(seconds=1)
    return low, high


class RateLimiter:
    """At most ``calls`` calls in any ``period`` seconds, shared by every task and event loop.

    Each caller reserves the earliest slot the budget allows, then sleeps until it; the
    reservation is synchronous, so no lock is held across an ``await``.
    """

    def __init__(self, calls: int, period: float = 60.0) -> None:
        """Allow ``calls`` calls per ``period`` seconds."""
        if calls < 1 or period <= 0:
            raise ValueError("a rate limit needs at least one call per positive period")
        self.calls = calls
        self.period = period
        self._slots: deque[float] = deque()
        self._lock = threading.Lock()

    def reserve(self) -> float:
        """Book the next slot; the seconds to wait before using it."""
        with self._lock:
            now = time.monotonic()
            while self._slots and self._slots[0] <= now - self.period:
                self._slots.popleft()
            slot = now
            if len(self._slots) >= self.calls:
                slot = max(now, self._slots[-self.calls] + self.period)
            self._slots.append(slot)
            return slot - now

    async def acquire(self) -> None:
        """Wait until a call is within the budget."""
        delay = self.reserve()
        if delay > 0:
            logger.info("rate limit: waiting %.1f s before the next call", delay)
            await anyio.sleep(delay)


_RETRYABLE = ("throttled", "unavailable")


@dataclass(frozen=True)
class Retrying:
    """How a backend retries a throttled or unavailable call.

    Attributes:
        max_retries: retries after the first attempt (0: none).
        max_wait: most seconds spent waiting between attempts, in total, for one query.
        backoff: seconds before the first retry when the service names no wait; doubles.
    """

    max_retries: int = 3
    max_wait: float = 60.0
    backoff: float = 1.0

    async def run(self, attempt: Callable[[], Awaitable[T]], *, service: str) -> T:
        """Call ``attempt`` until it succeeds, fails for good, or the budget is spent."""
        waited = 0.0
        retries = 0
        while True:
            try:
                return await attempt()
            except BackendError as exc:
                if exc.reason not in _RETRYABLE or retries >= self.max_retries:
                    raise
                wait = exc.retry_after_seconds
                if wait is None:
                    wait = self.backoff * (2**retries)
                if waited + wait > self.max_wait:
                    raise
                retries += 1
                waited += wait
                logger.warning(
                    "%s: %s, retry %d of %d in %.1f s",
                    service,
                    exc.reason,
                    retries,
                    self.max_retries,
                    wait,
                )
                await anyio.sleep(wait)
