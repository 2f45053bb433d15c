"""Timing helpers: interleaved rounds and medians, so ratios come from one noisy run."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Samples", "interleaved", "timed"]


@dataclass
class Samples:
    """Wall-clock seconds of repeated runs of one contender."""

    name: str
    seconds: list[float] = field(default_factory=list)
    result: Any = None

    @property
    def median(self) -> float:
        """The median run, in seconds."""
        return statistics.median(self.seconds)

    def as_dict(self) -> dict[str, Any]:
        """The samples for results.json."""
        return {
            "median_s": self.median,
            "min_s": min(self.seconds),
            "max_s": max(self.seconds),
            "runs": len(self.seconds),
        }


def timed(call: Callable[[], Any]) -> tuple[float, Any]:
    """Seconds ``call`` took, and what it returned."""
    began = time.perf_counter()
    result = call()
    return time.perf_counter() - began, result


def interleaved(
    contenders: dict[str, Callable[[], Any]],
    rounds: dict[str, int],
    warm: Collection[str] = (),
) -> dict[str, Samples]:
    """Run each contender ``rounds[name]`` times, round-robin; those in ``warm`` once before.

    Round-robin rather than one contender after the other: on a shared machine, a noisy
    minute then slows every contender alike and leaves their ratio alone.
    """
    samples = {name: Samples(name) for name in contenders}
    for name in warm:
        samples[name].result = contenders[name]()
    for index in range(max(rounds.values())):
        for name, call in contenders.items():
            if index < rounds[name]:
                seconds, result = timed(call)
                samples[name].seconds.append(seconds)
                samples[name].result = result
    return samples
