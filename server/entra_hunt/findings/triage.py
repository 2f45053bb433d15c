"""Triage: turn a finding's signals into a severity with the reasons for it.

A hunt gives each matched sign-in a base weight (what the hunt itself means) and a list of
:class:`Signal` objects found in the row; signals that raise suspicion have positive weights,
benign patterns negative ones. The sum maps to a :class:`Severity`; the reasons are listed
strongest first so an analyst reads the decisive ones at the top.

Thresholds: 4 and above high, 2-3 medium, 1 low, 0 and below informational.
"""

from __future__ import annotations

from dataclasses import dataclass

from entra_hunt.findings.models import Severity

__all__ = ["Signal", "severity_for"]


@dataclass(frozen=True)
class Signal:
    """One observation about a sign-in, with its weight and a sentence saying why."""

    tag: str
    weight: int
    reason: str


def severity_for(signals: list[Signal]) -> tuple[Severity, list[str], list[str]]:
    """Severity, reasons (strongest first, signed weight shown) and tags for ``signals``."""
    score = sum(s.weight for s in signals)
    if score >= 4:
        severity = Severity.HIGH
    elif score >= 2:
        severity = Severity.MEDIUM
    elif score == 1:
        severity = Severity.LOW
    else:
        severity = Severity.INFORMATIONAL
    ordered = sorted(signals, key=lambda s: (-abs(s.weight), s.tag))
    reasons = [f"{s.reason} ({s.weight:+d})" for s in ordered]
    tags = [s.tag for s in ordered if s.tag]
    return severity, reasons, tags
