"""What the cloud backends share: safe service text, Retry-After, windows, retries."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from azure_fakes import FAKE_TOKEN

from entra_hunt.backends._cloud import (
    Retrying,
    parse_retry_after,
    safe_text,
    second_bounds,
    table_missing,
)
from entra_hunt.backends.defender import shared_limiter
from entra_hunt.errors import BackendError


def test_service_text_loses_control_characters_tokens_and_length() -> None:
    text = safe_text(f"bad\x1b[31m thing\r\n with token {FAKE_TOKEN} " + "word " * 50, limit=80)

    assert "\x1b" not in text and "\n" not in text
    assert FAKE_TOKEN not in text and "[redacted]" in text
    assert len(text) <= 80 and text.endswith("…")


def test_retry_after_reads_seconds_and_http_dates() -> None:
    now = datetime(2026, 11, 30, 12, 0, 0, tzinfo=UTC)

    assert parse_retry_after("7") == 7.0
    assert parse_retry_after("Mon, 30 Nov 2026 12:00:30 GMT", now) == 30.0
    assert parse_retry_after("soon") is None
    assert parse_retry_after(None) is None


def test_the_service_window_contains_the_query_window_in_whole_seconds() -> None:
    start = datetime(2026, 11, 1, 8, 30, 15, 999_999, tzinfo=UTC)
    end = datetime(2026, 11, 8, 8, 30, 15, 1, tzinfo=UTC)

    low, high = second_bounds(start, end)

    assert low == datetime(2026, 11, 1, 8, 30, 15, tzinfo=UTC) <= start
    assert high == datetime(2026, 11, 8, 8, 30, 16, tzinfo=UTC) > end


def test_a_missing_table_is_told_from_a_missing_column() -> None:
    table = "'take' operator: Failed to resolve table or column expression named 'SigninLogs'"
    column = "'where' operator: Failed to resolve column or scalar expression named 'Foo'"

    assert table_missing(table, "SigninLogs")
    assert not table_missing(column, "SigninLogs")
    assert not table_missing(table, "AADSignInEventsBeta")


def test_every_backend_for_one_graph_host_shares_one_call_budget() -> None:
    first = shared_limiter("https://graph.microsoft.us", 40)

    assert shared_limiter("https://graph.microsoft.us/", 40) is first
    assert shared_limiter("https://graph.microsoft.com", 40) is not first


@pytest.mark.anyio
async def test_retries_stop_at_the_limit_and_keep_the_last_error() -> None:
    calls = 0

    async def unavailable() -> None:
        nonlocal calls
        calls += 1
        raise BackendError("down", reason="unavailable", fix="wait")

    with pytest.raises(BackendError):
        await Retrying(max_retries=2, backoff=0.01).run(unavailable, service="test")

    assert calls == 3


@pytest.mark.anyio
async def test_errors_other_than_throttling_and_outages_are_not_retried() -> None:
    calls = 0

    async def forbidden() -> None:
        nonlocal calls
        calls += 1
        raise BackendError("no", reason="forbidden", fix="grant")

    with pytest.raises(BackendError):
        await Retrying(max_retries=3, backoff=0.01).run(forbidden, service="test")

    assert calls == 1
