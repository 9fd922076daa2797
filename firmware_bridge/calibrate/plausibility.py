"""The usual range of a sensor model's correction, kept as data in ``plausibility.toml``.

A gain of 104 from a sensor reading 5 lx against a 520 lx meter is arithmetic, not a calibration: the
sensor was covered or the meter read elsewhere. Each model's usual range (with a default for models not
listed) decides whether a result is plausible; one outside it is refused unless the installer confirms
it, and the confirmation travels with the record to the certificate.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

LIMITS_FILE = Path(__file__).with_name("plausibility.toml")
KEYS = {"noise": "noise_offset_db", "light": "light_gain"}


@dataclass(frozen=True)
class UsualRange:
    """[low, high] of a correction for one model and quantity, and where the numbers come from."""

    quantity: str
    low: float
    high: float
    model_key: str  # the plausibility.toml entry used ("default" when the model is not listed)
    source: str

    def contains(self, result: float) -> bool:
        return self.low <= result <= self.high

    def describe(self) -> str:
        """e.g. ``gain 0.5 to 2`` or ``offset -6 to +6 dB``, for messages and the certificate."""
        if self.quantity == "noise":
            return f"offset {self.low:+g} to {self.high:+g} dB"
        return f"gain {self.low:g} to {self.high:g}"


@cache
def _limits(path: Path) -> dict[str, dict[str, Any]]:
    with path.open("rb") as f:
        doc = tomllib.load(f)
    return {"default": doc["default"], **doc.get("models", {})}


def usual_range(model: str, quantity: str, path: Path = LIMITS_FILE) -> UsualRange:
    """The range for a sensor of site-file ``model``: its entry (exact, or the model's first word), else
    the default entry's."""
    limits = _limits(path)
    key = model if model in limits else model.split(" ", 1)[0]
    entry = limits.get(key) if key and key != "default" else None
    name = KEYS[quantity]
    if entry is None or name not in entry:
        key, entry = "default", limits["default"]
    low, high = entry[name]
    return UsualRange(quantity, float(low), float(high), key, str(entry.get("source", "")))
