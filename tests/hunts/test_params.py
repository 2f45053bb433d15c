"""Hunt parameters: bounds, coherence, and hostile values that must not reshape a query."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from entra_hunt.hunts import DeviceCodeHunt, DeviceCodeParameters
from entra_hunt.hunts.kql import string_literal
from entra_hunt.hunts.params import parameter_error

NOW = datetime(2026, 11, 30, tzinfo=UTC)


def test_default_window_is_seven_days_back_from_now() -> None:
    start, end = DeviceCodeParameters().window(NOW)

    assert (start, end) == (NOW - timedelta(days=7), NOW)


@pytest.mark.parametrize(
    ("lookback", "span"),
    [("36h", timedelta(hours=36)), ("90m", timedelta(minutes=90)), ("30d", timedelta(days=30))],
)
def test_lookback_accepts_days_hours_and_minutes(lookback: str, span: timedelta) -> None:
    start, end = DeviceCodeParameters(lookback=lookback).window(NOW)

    assert end - start == span


@pytest.mark.parametrize(
    ("arguments", "expected"),
    [
        ({"lookback": "7 weeks"}, "lookback"),
        ({"lookback": "0m"}, "outside 5m"),
        ({"lookback": "400d"}, "outside 5m"),
        ({"start": "2026-11-01T00:00:00Z"}, "give both start and end"),
        ({"start": "2026-11-02T00:00:00Z", "end": "2026-11-01T00:00:00Z"}, "before end"),
        (
            {"lookback": "7d", "start": "2026-11-01T00:00:00Z", "end": "2026-11-02T00:00:00Z"},
            "either lookback or start",
        ),
        ({"users": ["not an upn"]}, "users.0"),
        ({"users": [f"u{i}@x.example" for i in range(51)]}, "users"),
        ({"max_findings": 0}, "max_findings"),
        ({"max_findings": 501}, "max_findings"),
        ({"risk": "severe"}, "risk"),
        ({"backend": "splunk"}, "backend"),
        ({"surprise": 1}, "surprise"),
    ],
)
def test_bad_parameters_are_refused_with_the_parameter_named(
    arguments: dict[str, object], expected: str
) -> None:
    with pytest.raises(ValidationError) as caught:
        DeviceCodeParameters.model_validate(arguments)

    message = parameter_error(caught.value, DeviceCodeParameters).message
    assert expected in message
    assert "Correct it and try again" in message


def test_explicit_times_without_offset_are_read_as_utc() -> None:
    params = DeviceCodeParameters(start="2026-11-01T08:00:00", end="2026-11-01T12:00:00+02:00")

    assert params.window(NOW) == (
        datetime(2026, 11, 1, 8, tzinfo=UTC),
        datetime(2026, 11, 1, 10, tzinfo=UTC),
    )


def test_user_names_are_matched_case_insensitively_and_stored_lowercase() -> None:
    params = DeviceCodeParameters(users=["Alice.Smith@Contoso.Example"])

    assert params.users == ["alice.smith@contoso.example"]


def test_guest_and_apostrophe_upns_are_accepted() -> None:
    params = DeviceCodeParameters(
        users=["o'neil@contoso.example", "bob_fabrikam.com#EXT#@contoso.onmicrosoft.com"]
    )

    query = DeviceCodeHunt().render(params, "SigninLogs", NOW - timedelta(days=1), NOW, 10)
    assert '"o\'neil@contoso.example"' in query.text
    assert "bob_fabrikam.com#ext#@contoso.onmicrosoft.com" in query.text


@given(st.text(alphabet=st.characters(exclude_categories=("Cs",)), max_size=80))
@settings(max_examples=300, deadline=None)
def test_hostile_user_values_are_rejected_or_quoted(value: str) -> None:
    try:
        params = DeviceCodeParameters(users=[value])
    except ValidationError:
        return
    text = DeviceCodeHunt().render(params, "SigninLogs", NOW - timedelta(days=1), NOW, 10).text
    assert f"let target_users = dynamic([{string_literal(value.lower())}]);" in text
