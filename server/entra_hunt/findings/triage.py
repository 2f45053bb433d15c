"""Triage: turn a finding's signals into a severity and a confidence, with the reasons.

A hunt looks at what it matched and lists the :class:`Signal` objects that apply, each named
by a tag of :data:`SIGNALS` (one catalogue for every hunt, documented in the README): signals
that raise suspicion have positive weights, benign patterns negative ones.

Severity is the sum of the weights: 4 and above high, 2-3 medium, 1 low, 0 and below
informational. Confidence counts independent signals rather than adding weights: each strong
signal for an attack (weight 2 or more) counts 1, each weak one (weight 1) counts one half, and
each benign pattern takes 1 off. Three or more is high, two to two and a half medium, less low.
Reasons are listed strongest first so an analyst reads the decisive ones at the top.
"""

from __future__ import annotations

from dataclasses import dataclass

from entra_hunt.findings.models import Confidence, Severity

__all__ = ["SIGNALS", "Signal", "SignalSpec", "Triage", "severity_for", "signal", "triage"]


@dataclass(frozen=True)
class SignalSpec:
    """One documented signal: its tag, its usual weight and what it means."""

    tag: str
    weight: int
    meaning: str


#: Every signal a hunt can raise, with its usual weight (risk scales with the level).
SIGNALS: dict[str, SignalSpec] = {
    spec.tag: spec
    for spec in (
        SignalSpec(
            "unmanaged-device-code",
            2,
            "completed a device code sign-in from a device neither managed nor compliant",
        ),
        SignalSpec("broker-client", 2, "client is the Microsoft Authentication Broker"),
        SignalSpec(
            "hosting-provider-ip",
            2,
            "IP of a hosting provider, by autonomous system (tables with an ASN only)",
        ),
        SignalSpec("risky", 1, "sign-in or aggregated risk low / medium / high (+1 / +2 / +3)"),
        SignalSpec("device-registration", 1, "token for the Device Registration Service"),
        SignalSpec("scripted-client", 1, "empty or scripting-library user agent"),
        SignalSpec(
            "interrupt-then-success",
            1,
            "a 50199 confirmation interrupt, then success, in the same sign-in session",
        ),
        SignalSpec(
            "registered-device",
            1,
            "followed by 'Register device' in AuditLogs for the same user",
        ),
        SignalSpec(
            "prt-from-new-device",
            1,
            "followed by sign-ins with a primary refresh token from the newly registered device",
        ),
        SignalSpec(
            "new-device-unmanaged",
            2,
            "the newly registered device is neither managed nor compliant when it is used",
        ),
        SignalSpec(
            "several-users-one-source",
            2,
            "one IP or /24 completed device code sign-ins for several users (+3 for 3 or more)",
        ),
        SignalSpec("new-ip-for-user", 1, "an IP the user did not use in the baseline window"),
        SignalSpec(
            "new-country-for-user", 2, "a country the user did not sign in from in the baseline"
        ),
        SignalSpec(
            "token-ip-changed",
            1,
            "a token of the device code sign-in was used from another IP address",
        ),
        SignalSpec(
            "token-country-changed",
            2,
            "a token of the device code sign-in was used from another country",
        ),
        SignalSpec(
            "token-agent-changed",
            1,
            "a token of the device code sign-in was used with another user agent",
        ),
        SignalSpec("first-device-code", 1, "the user's first device code sign-in in the baseline"),
        SignalSpec(
            "off-hours",
            1,
            "outside working hours (07:00-20:00, Monday to Friday, in the office time zone)",
        ),
        SignalSpec("trusted-location", -2, "from a trusted named location (a corporate network)"),
        SignalSpec(
            "meeting-room-pattern",
            -1,
            "a Teams Rooms device: room account on Android, with Teams or the broker",
        ),
        SignalSpec(
            "managed-device",
            -2,
            "from a managed or compliant device (a CLI on a corporate laptop)",
        ),
        SignalSpec(
            "device-enrolled",
            -2,
            "the newly registered device is managed or compliant (enrolled, as in onboarding)",
        ),
    )
}


@dataclass(frozen=True)
class Signal:
    """One observation about a finding, with its weight and a sentence saying why."""

    tag: str
    weight: int
    reason: str


def signal(tag: str, reason: str, weight: int | None = None) -> Signal:
    """The catalogued signal ``tag`` with this finding's ``reason``; weight from the catalogue."""
    spec = SIGNALS[tag]
    return Signal(tag, spec.weight if weight is None else weight, reason)


@dataclass(frozen=True)
class Triage:
    """The outcome of triage for one finding."""

    severity: Severity
    confidence: Confidence
    score: int
    reasons: list[str]
    tags: list[str]
    confidence_reason: str


def _severity(score: int) -> Severity:
    if score >= 4:
        return Severity.HIGH
    if score >= 2:
        return Severity.MEDIUM
    if score == 1:
        return Severity.LOW
    return Severity.INFORMATIONAL


def _confidence(signals: list[Signal]) -> tuple[Confidence, str]:
    strong = sorted({s.tag for s in signals if s.weight >= 2})
    weak = sorted({s.tag for s in signals if s.weight == 1} - set(strong))
    benign = sorted({s.tag for s in signals if s.weight < 0})
    net = len(strong) + len(weak) / 2 - len(benign)
    level = Confidence.HIGH if net >= 3 else Confidence.MEDIUM if net >= 2 else Confidence.LOW
    said = f"strong signals: {', '.join(strong) or 'none'}; weak: {', '.join(weak) or 'none'}"
    if benign:
        said += f"; benign patterns: {', '.join(benign)}"
    return level, said


def triage(signals: list[Signal]) -> Triage:
    """Severity, confidence, score, reasons (strongest first, signed weight shown) and tags."""
    score = sum(s.weight for s in signals)
    confidence, why = _confidence(signals)
    ordered = sorted(signals, key=lambda s: (-abs(s.weight), s.tag))
    return Triage(
        severity=_severity(score),
        confidence=confidence,
        score=score,
        reasons=[f"{s.reason} ({s.weight:+d})" for s in ordered],
        tags=[s.tag for s in ordered if s.tag],
        confidence_reason=why,
    )


def severity_for(signals: list[Signal]) -> tuple[Severity, list[str], list[str]]:
    """Severity, reasons and tags for ``signals`` (see :func:`triage` for the whole outcome)."""
    outcome = triage(signals)
    return outcome.severity, outcome.reasons, outcome.tags
