"""The distribution of LAeq readings per seat and bucket: covered seconds in 1 dB bins, kept sparse.

LAeq p10/p90 over a check's hours cannot be pooled from per-bucket percentiles, and the database cannot
histogram (InfluxQL has no GROUP BY on a field value; one ``count()`` statement per bin is a scan per
bin). So the engine streams the readings' ``laeq`` and ``dur`` once
(:mod:`analysis.compliance.reading_queries`) and bins them here: every reading adds its ``dur`` to the bin of
its level in its bucket. Percentiles read from these bins are exact to within the 1 dB bin, whatever the
levels do within a bucket; the same bins are stored in the rollups (``h20`` … ``h120``), so reports from
rollups give the same p10/p90.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

LEVEL_MIN, LEVEL_MAX = 20, 120  # histogram range in dB(A); levels outside are clamped to the end bins
BIN_COUNT = LEVEL_MAX - LEVEL_MIN + 1


def level_bins(levels: np.ndarray) -> np.ndarray:
    """Histogram bin index of each level (1 dB bins from LEVEL_MIN, clamped)."""
    return np.clip(np.floor(levels) - LEVEL_MIN, 0, LEVEL_MAX - LEVEL_MIN).astype(np.int64)


@dataclass
class Levels:
    """One seat's non-empty (bucket, bin) cells: bucket start (epoch ms), bin index, covered seconds;
    sorted by bucket, then bin."""

    t: np.ndarray
    bins: np.ndarray
    seconds: np.ndarray

    def histogram(self, bucket_starts: np.ndarray) -> np.ndarray:
        """Seconds per bin over the buckets in ``bucket_starts``."""
        mask = np.isin(self.t, bucket_starts)
        return np.bincount(self.bins[mask], weights=self.seconds[mask], minlength=BIN_COUNT).astype(float)


def _reduce(keys: np.ndarray, seconds: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sum ``seconds`` per distinct key (keys come back sorted)."""
    unique, inverse = np.unique(keys, return_inverse=True)
    return unique, np.bincount(inverse, weights=seconds, minlength=len(unique))


class LevelBinner:
    """Accumulates readings chunk by chunk, reducing each chunk at once so that memory holds cells,
    not readings (a month of 1-min readings is 43,200 per seat; its cells a few thousand)."""

    def __init__(self, bucket_min: int) -> None:
        self.bucket_min = bucket_min
        self._parts: dict[str, list[tuple[np.ndarray, np.ndarray]]] = {}

    def add(self, seat: str, rows: Sequence[Sequence[float | None]]) -> None:
        """Rows of [time in epoch minutes, laeq, dur]; readings without a level are skipped."""
        table = np.array(rows, dtype=float)  # None becomes NaN
        if not len(table):
            return
        ok = np.isfinite(table[:, 1])
        bucket = (table[ok, 0].astype(np.int64) // self.bucket_min) * self.bucket_min
        keys = bucket * BIN_COUNT + level_bins(table[ok, 1])
        self._parts.setdefault(seat, []).append(_reduce(keys, np.nan_to_num(table[ok, 2])))

    def result(self) -> dict[str, Levels]:
        out = {}
        for seat, parts in self._parts.items():
            keys, seconds = _reduce(
                np.concatenate([k for k, _ in parts]), np.concatenate([s for _, s in parts])
            )
            keep = seconds > 0
            minutes, bins = np.divmod(keys[keep], BIN_COUNT)
            out[seat] = Levels(minutes * 60_000, bins, seconds[keep])
        return out
