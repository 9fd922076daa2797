"""The expanded uncertainty of a calibration, with its budget stated (GUM style, coverage factor 2).

A certificate's correction means little without how well it is known. Three contributions are combined
in quadrature, each a standard uncertainty:
- the reference instrument: its class tolerance (``reference_classes.toml``) as a rectangular
  distribution, tolerance / √3;
- repeatability: the standard deviation of the mean of the stable window's readings (for light, the
  worst point's, relative to its mean);
- the sensor's reporting resolution, 0.1 dB or 0.1 lx, half a step as a rectangular distribution;
and, for a light fit of two points or more, the fit: the root mean square of the relative residuals.
Noise values are in dB; light values are in % of the gain.
"""

from __future__ import annotations

import math
import statistics
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

CLASSES_FILE = Path(__file__).with_name("reference_classes.toml")
COVERAGE_FACTOR = 2.0
RESOLUTION = {"noise": 0.1, "light": 0.1}
"""Reporting step of the devices: levels in 0.1 dB, lux in 0.1 lx (hardware/PROTOCOL.md; Modbus ×10)."""


@dataclass(frozen=True)
class ReferenceClass:
    key: str
    quantity: str
    label: str
    tolerance: float
    unit: str
    confidence: str
    source: str
    names: tuple[str, ...]


def _normal(text: str) -> str:
    return " ".join(text.lower().split())


@cache
def reference_classes(path: Path = CLASSES_FILE) -> tuple[ReferenceClass, ...]:
    with path.open("rb") as f:
        doc = tomllib.load(f)
    return tuple(
        ReferenceClass(
            key,
            c["quantity"],
            c["label"],
            float(c["tolerance"]),
            c["unit"],
            c["confidence"],
            c["source"],
            tuple(c["names"]),
        )
        for key, c in doc["classes"].items()
    )


def reference_class(text: str, quantity: str) -> ReferenceClass:
    """The class an installer typed (``IEC 60942 class 1``); ValueError lists the names accepted."""
    wanted = _normal(text)
    known = [c for c in reference_classes() if c.quantity == quantity]
    for c in known:
        if wanted in {_normal(n) for n in c.names}:
            return c
    names = "; ".join(f"'{c.names[0]}'" for c in known)
    raise ValueError(
        f"--instrument-class {text!r} is not a {quantity} reference class seatwatch knows: {names}"
    )


def _standard_error(values: Sequence[float]) -> float:
    return statistics.stdev(values) / math.sqrt(len(values)) if len(values) > 1 else 0.0


def _finish(budget: dict[str, float]) -> dict[str, float]:
    combined = math.sqrt(sum(u * u for u in budget.values()))
    return {**budget, "k": COVERAGE_FACTOR, "expanded": COVERAGE_FACTOR * combined}


def noise_budget(reference: ReferenceClass, window: Sequence[float]) -> dict[str, float]:
    """Budget of an offset (dB): reference, repeatability, resolution, then ``k`` and ``expanded``."""
    return _finish(
        {
            "reference": reference.tolerance / math.sqrt(3),
            "repeatability": _standard_error(window),
            "resolution": RESOLUTION["noise"] / 2 / math.sqrt(3),
        }
    )


def light_budget(
    reference: ReferenceClass,
    raw_lux: Sequence[float],
    windows: Sequence[Sequence[float]],
    relative_residuals: Sequence[float],
) -> dict[str, float]:
    """Budget of a gain (%): reference; repeatability (worst measured window; points typed in with
    ``--point`` have none); resolution at the dimmest point; the fit (two points or more); ``k``;
    ``expanded``."""
    repeatability = [_standard_error(w) / statistics.fmean(w) for w in windows if statistics.fmean(w) > 0]
    budget = {
        "reference": reference.tolerance / math.sqrt(3),
        "repeatability": 100 * max(repeatability, default=0.0),
        "resolution": 100 * RESOLUTION["light"] / 2 / math.sqrt(3) / min(r for r in raw_lux if r > 0),
    }
    if len(relative_residuals) > 1:
        rms = math.sqrt(sum(r * r for r in relative_residuals) / (len(relative_residuals) - 1))
        budget["fit"] = 100 * rms
    return _finish(budget)
