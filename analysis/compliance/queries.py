"""Reading per-seat, per-bucket aggregates from InfluxDB with InfluxQL, aggregated inside the database.

The engine never pulls raw readings: a month of 1-minute data for 2,000 seats is 86 million points per
measurement, but its hourly aggregates are 1.4 million rows. Every figure the engine needs can be combined
from per-bucket sums, counts, extremes and a few quantiles:

- noise: ``sum(exposure)`` and ``sum(dur)`` (the energy and the covered seconds; level =
  10·lg(Σexposure/Σdur), DESIGN.md — never ``mean(laeq)``), ``max(lafmax)``, ``min(lafmin)`` and the
  10/30/50/70/90th percentiles of the 1-min LAeq values (to estimate L10/L90 over many buckets);
  a second statement sums ``dur`` of ``below_floor`` readings (STANDARDS.md §7).
- light: ``mean(lux)``, ``count(lux)``, ``min(lux)`` and ``sum(dur)`` when light points carry a duration.
  DESIGN.md gives light points no ``dur``, so a third statement finds each seat's reporting period as the
  median spacing of its readings (``median(elapsed)`` in a subquery, on the first day of the period and on
  the whole period only for seats with no readings that day, because elapsed is costly); covered seconds
  are then count × period per bucket, capped at the bucket.

The statements run two at a time (the database has cores to spare while Python parses an answer).

Only ``GROUP BY time(), tag``, ``fill(none)`` and single-field aggregates are used: InfluxDB 1.6.7
refuses functions nested in aggregates, and ``OR`` between time ranges returns nothing there, so the hours
of a check are selected afterwards from the buckets (:mod:`analysis.compliance.windows`). The period is
read in slices so that no single answer grows beyond a few hundred thousand rows.
"""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import numpy as np

from seatwatch.influxql import InfluxQLClient, quote_ident, quote_string

NOISE_COLUMNS = ("energy", "dur", "lafmax", "lafmin", "p10", "p30", "p50", "p70", "p90")
NOISE_SELECT = (
    'sum("exposure") AS energy, sum("dur") AS dur, max("lafmax") AS lafmax, min("lafmin") AS lafmin, '
    + ", ".join(f'percentile("laeq", {q}) AS p{q}' for q in (10, 30, 50, 70, 90))
)
LIGHT_COLUMNS = ("lux", "count", "lux_min", "dur")
LIGHT_SELECT = 'mean("lux") AS lux, count("lux") AS count, min("lux") AS lux_min, sum("dur") AS dur'
ROWS_PER_SLICE = 400_000


@dataclass
class Buckets:
    """One seat's buckets of one measurement: bucket start (epoch ms) and one float array per column."""

    t: np.ndarray
    columns: dict[str, np.ndarray] = field(default_factory=dict)

    def column(self, name: str) -> np.ndarray:
        return self.columns[name]


@dataclass
class SeatData:
    noise: Buckets | None = None
    below_floor: Buckets | None = None
    light: Buckets | None = None
    light_period_s: float | None = None


def _slices(start: datetime, end: datetime, bucket_min: int, seats: int) -> list[tuple[datetime, datetime]]:
    """Split [start, end) on bucket boundaries so each answer holds at most ROWS_PER_SLICE rows."""
    buckets_per_slice = max(1, ROWS_PER_SLICE // max(1, seats))
    step = timedelta(minutes=bucket_min * buckets_per_slice)
    out, a = [], start
    while a < end:
        out.append((a, min(end, a + step)))
        a += step
    return out


def _where(site: str, a: datetime, b: datetime, extra: str = "") -> str:
    a_ns, b_ns = int(a.timestamp() * 1e9), int(b.timestamp() * 1e9)
    return f'"site" = {quote_string(site)}{extra} AND time >= {a_ns} AND time < {b_ns}'


def _collect(
    client: InfluxQLClient,
    select: str,
    measurement: str,
    columns: tuple[str, ...],
    site: str,
    slices: list[tuple[datetime, datetime]],
    bucket_min: int,
    extra: str = "",
) -> dict[str, Buckets]:
    rows: dict[str, list[list[float | None]]] = {}
    for a, b in slices:
        q = (
            f"SELECT {select} FROM {quote_ident(measurement)} WHERE {_where(site, a, b, extra)} "
            f'GROUP BY time({bucket_min}m), "seat" fill(none)'
        )
        for series in client.query(q):
            rows.setdefault(series.tags.get("seat", ""), []).extend(series.values)
    out: dict[str, Buckets] = {}
    for seat, values in rows.items():
        table = np.array(values, dtype=float)  # None (a null aggregate) becomes NaN
        cols = {name: table[:, i + 1] for i, name in enumerate(columns)}
        out[seat] = Buckets(table[:, 0].astype(np.int64), cols)
    return out


def load_seat_data(
    client: InfluxQLClient, site: str, start: datetime, end: datetime, bucket_min: int, seats: int
) -> dict[str, SeatData]:
    """Per data seat (the ``seat`` tag), the noise, below-floor and light buckets of [start, end)."""
    slices = _slices(start, end, bucket_min, seats)
    with ThreadPoolExecutor(max_workers=2) as pool:
        noise_job = pool.submit(
            _collect, client, NOISE_SELECT, "noise", NOISE_COLUMNS, site, slices, bucket_min
        )
        floor_job = pool.submit(
            _collect,
            client,
            'sum("dur") AS dur',
            "noise",
            ("dur",),
            site,
            slices,
            bucket_min,
            ' AND "below_floor" = true',
        )
        light_job = pool.submit(
            _collect, client, LIGHT_SELECT, "light", LIGHT_COLUMNS, site, slices, bucket_min
        )
        noise, floor, light = noise_job.result(), floor_job.result(), light_job.result()
    periods = _light_periods(client, site, start, min(end, start + timedelta(days=1)))
    missing = sorted(set(light) - set(periods))
    if missing:
        periods |= _light_periods(client, site, start, end, missing)
    out: dict[str, SeatData] = {}
    for seat in {*noise, *floor, *light}:
        out[seat] = SeatData(noise.get(seat), floor.get(seat), light.get(seat), periods.get(seat))
    return out


def _light_periods(
    client: InfluxQLClient, site: str, start: datetime, end: datetime, seats: list[str] | None = None
) -> dict[str, float]:
    """Each seat's light reporting period in seconds: the median spacing of its sensors' readings."""
    only = ""
    if seats:
        only = ' AND "seat" =~ /^(' + "|".join(re.escape(s).replace("/", r"\/") for s in seats) + ")$/"
    q = (
        'SELECT median("e") AS period FROM (SELECT elapsed("lux", 1ms) AS e FROM "light" '
        f'WHERE {_where(site, start, end, only)} GROUP BY "seat", "sensor") GROUP BY "seat"'
    )
    return {
        s.tags.get("seat", ""): float(s.values[0][1]) / 1000
        for s in client.query(q)
        if s.values and s.values[0][1]
    }
