"""Triage: severity from summed weights, confidence from agreeing signals, reasons in order."""

from __future__ import annotations

import pytest

from entra_hunt.findings.triage import SIGNALS, Signal, signal, triage
from entra_hunt.hunts import CATALOGUE


@pytest.mark.parametrize(
    ("weights", "severity"),
    [
        ((2, 2), "high"),
        ((2, 1), "medium"),
        ((2,), "medium"),
        ((1,), "low"),
        ((2, -2), "informational"),
    ],
)
def test_severity_is_the_sum_of_weights_against_fixed_thresholds(
    weights: tuple[int, ...], severity: str
) -> None:
    signals = [Signal(f"s{i}", w, f"reason {i}") for i, w in enumerate(weights)]

    assert triage(signals).severity.value == severity
    assert triage(signals).score == sum(weights)


def test_confidence_counts_strong_signals_whole_weak_ones_half_and_benign_ones_against() -> None:
    strong = [signal("hosting-provider-ip", "a"), signal("unmanaged-device-code", "b")]
    weak = [signal("scripted-client", "c"), signal("off-hours", "d")]
    benign = [signal("trusted-location", "e")]

    assert triage(strong + weak).confidence.value == "high"
    assert triage(strong).confidence.value == "medium"
    assert triage(strong + weak + benign).confidence.value == "medium"
    assert triage(weak + benign).confidence.value == "low"
    assert "trusted-location" in triage(strong + benign).confidence_reason


def test_reasons_are_listed_strongest_first_with_their_signed_weight() -> None:
    outcome = triage(
        [
            signal("scripted-client", "scripted"),
            signal("trusted-location", "trusted"),
            signal("risky", "risky", 3),
        ]
    )

    assert outcome.reasons == ["risky (+3)", "trusted (-2)", "scripted (+1)"]
    assert outcome.tags == ["risky", "trusted-location", "scripted-client"]


def test_every_hunt_raises_only_catalogued_signals_and_benign_ones_lower_severity() -> None:
    for hunt in CATALOGUE.values():
        assert set(hunt.signals) <= set(SIGNALS), hunt.id
    for tag in ("trusted-location", "meeting-room-pattern", "managed-device", "device-enrolled"):
        assert SIGNALS[tag].weight < 0
    for tag in ("unmanaged-device-code", "broker-client", "interrupt-then-success", "off-hours"):
        assert SIGNALS[tag].weight > 0
