"""Waiting for a stable window of live readings: the common step of every guided calibration.

A reference is only worth comparing with once the sensor has settled on it — the calibrator seated, the
lux meter held still — so the installer's readings are taken from the most recent ``duration`` seconds
that a quantity-specific judge accepts, and a refusal always carries the judge's reason for the last
full window (too low, unstable, ...) rather than a bare timeout.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from seatwatch.core.contract import Reading


class CalibrationRefused(Exception):
    """The measurement cannot serve as a calibration; the message tells the installer why and what to do."""


@dataclass(frozen=True)
class StableWindow:
    """The most recent readings' values and durations (seconds), oldest first."""

    values: tuple[float, ...]
    durations: tuple[float, ...]

    @property
    def seconds(self) -> float:
        return sum(self.durations)


@dataclass(frozen=True)
class Verdict:
    """A window's summary ``value`` (a level or a mean), its ``spread``, and why it is unusable (or None)."""

    value: float
    spread: float
    problem: str | None


Judge = Callable[[StableWindow], Verdict]
Progress = Callable[[StableWindow | None, Verdict | None, float, float], None]
"""Called on every reading (and every idle second with None): window, verdict, fraction of the duration
filled, and seconds left before the timeout — so a readout can show both how full the window is and how
long the installer still has."""


class ReadingSource(Protocol):
    def next(self, timeout_s: float) -> Reading | None: ...


def wait_for_stable(
    source: ReadingSource,
    value_of: Callable[[Reading], float | None],
    duration_s: float,
    timeout_s: float,
    judge: Judge,
    progress: Progress,
    what: str,
) -> tuple[Verdict, StableWindow]:
    """The verdict and readings of the first full window the judge accepts; raises
    :class:`CalibrationRefused` when none comes within ``timeout_s``. ``what`` names the readings in
    messages ("noise readings of nz-01").
    """
    deadline = time.monotonic() + timeout_s
    recent: deque[tuple[float, float]] = deque()
    last_problem: str | None = None
    received = 0
    while (remaining := deadline - time.monotonic()) > 0:
        reading = source.next(min(remaining, 1.0))
        value = value_of(reading) if reading is not None else None
        if reading is None or value is None:
            progress(None, None, 0.0, max(0.0, deadline - time.monotonic()))
            continue
        received += 1
        recent.append((value, reading.dur))
        while len(recent) > 1 and sum(d for _, d in recent) - recent[0][1] >= duration_s - 1e-9:
            recent.popleft()
        window = StableWindow(tuple(v for v, _ in recent), tuple(d for _, d in recent))
        verdict = judge(window)
        filled = min(1.0, window.seconds / duration_s)
        progress(window, verdict, filled, max(0.0, deadline - time.monotonic()))
        if filled >= 1.0 - 1e-9:
            if verdict.problem is None:
                return verdict, window
            last_problem = verdict.problem
    if received == 0:
        raise CalibrationRefused(
            f"no {what} arrived within {timeout_s:g} s: is the bridge running and the sensor connected?"
        )
    if last_problem is None:
        raise CalibrationRefused(
            f"only {received} {what} arrived within {timeout_s:g} s, not enough for a {duration_s:g} s window"
        )
    raise CalibrationRefused(f"{last_problem} (gave up after {timeout_s:g} s)")
