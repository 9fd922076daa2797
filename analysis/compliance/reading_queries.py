"""Reading per-seat, per-bucket figures from InfluxDB with InfluxQL, aggregated inside the database where
it can be.

A month of 1-minute data for 2,000 seats is 86 million points per measurement, but its hourly aggregates
are 1.4 million rows. What the engine reads:

- noise: ``sum(exposure)`` and ``sum(dur)`` (the energy and the covered seconds; level =
  10·lg(Σexposure/Σdur), docs/design.md — never ``mean(laeq)``) and ``max(lafmax)``; a second statement sums
  ``dur`` of ``below_floor`` readings (docs/standards.md §7).
- the distribution for laeq_p10/p90: every reading's ``laeq`` and ``dur``, streamed in chunks
  (:meth:`seatwatch.core.influxql.InfluxQLClient.stream`) and binned per bucket at once
  (:mod:`analysis.compliance.laeq_histogram`). This is the one raw read, and it is cheaper than what it
  replaced: five ``percentile()`` calls per bucket cost 5 µs per reading on influxd 1.6.7 and gave only an
  estimate; the stream costs about 2 µs and gives the exact 1 dB histogram (docs/compliance.md, Performance).
- light: ``mean(lux)``, ``count(lux)``, ``min(lux)`` and ``sum(dur)``. Ingest writes ``dur`` on light points
  (docs/design.md), so covered seconds are ``sum(dur)``; light points written before it did have none, and
  for them each seat's reporting period is the median spacing of the first readings of each of its sensors
  in the period (``LIMIT`` per series: ``elapsed()`` in a subquery cost 15 µs per reading); covered seconds
  are then count × period per bucket, capped at the bucket.

The aggregate statements and the stream run side by side (the database has a core to spare while Python
parses). Only ``GROUP BY time(), tag``, ``fill(none)`` and single-field aggregates are used: InfluxDB 1.6.7
refuses functions nested in aggregates, and ``OR`` between time ranges returns nothing there, so the hours
of a check are selected afterwards from the buckets (:mod:`analysis.compliance.windows`). Aggregates are
read in slices so that no single answer grows beyond a few hundred thousand rows.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import numpy as np

from analysis.compliance.laeq_histogram import LevelBinner, Levels
from seatwatch.core.influxql import InfluxQLClient, quote_ident, quote_string
from seatwatch.core.schema import Light, Noise, Tag

_EXPOSURE, _DUR, _LAFMAX = (quote_ident(f) for f in (Noise.EXPOSURE, Noise.DUR, Noise.LAFMAX))
_LUX, _LIGHT_DUR = quote_ident(Light.LUX), quote_ident(Light.DUR)
NOISE_COLUMNS = ("energy", "dur", "lafmax")
NOISE_SELECT = f"sum({_EXPOSURE}) AS energy, sum({_DUR}) AS dur, max({_LAFMAX}) AS lafmax"
LIGHT_COLUMNS = ("lux", "count", "lux_min", "dur")
LIGHT_SELECT = (
    f"mean({_LUX}) AS lux, count({_LUX}) AS count, min({_LUX}) AS lux_min, sum({_LIGHT_DUR}) AS dur"
)
ROWS_PER_SLICE = 400_000
PERIOD_SAMPLES = 241  # readings per light sensor whose spacings give its reporting period


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
    levels: Levels | None = None


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
    return f"{quote_ident(Tag.SITE)} = {quote_string(site)}{extra} AND time >= {a_ns} AND time < {b_ns}"


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
            f"GROUP BY time({bucket_min}m), {quote_ident(Tag.SEAT)} fill(none)"
        )
        for series in client.query(q):
            rows.setdefault(series.tags.get(Tag.SEAT, ""), []).extend(series.values)
    out: dict[str, Buckets] = {}
    for seat, values in rows.items():
        table = np.array(values, dtype=float)  # None (a null aggregate) becomes NaN
        cols = {name: table[:, i + 1] for i, name in enumerate(columns)}
        out[seat] = Buckets(table[:, 0].astype(np.int64), cols)
    return out


def load_seat_data(
    client: InfluxQLClient, site: str, start: datetime, end: datetime, bucket_min: int, seats: int
) -> dict[str, SeatData]:
    """Per data seat (the ``seat`` tag), the noise, below-floor, light and level buckets of [start, end)."""
    slices = _slices(start, end, bucket_min, seats)
    with ThreadPoolExecutor(max_workers=2) as pool:
        levels_job = pool.submit(_levels, client, site, start, end, bucket_min)
        noise = _collect(client, NOISE_SELECT, Noise.NAME, NOISE_COLUMNS, site, slices, bucket_min)
        floor = _collect(
            client,
            f"sum({_DUR}) AS dur",
            Noise.NAME,
            ("dur",),
            site,
            slices,
            bucket_min,
            f" AND {quote_ident(Noise.BELOW_FLOOR)} = true",
        )
        light = _collect(client, LIGHT_SELECT, Light.NAME, LIGHT_COLUMNS, site, slices, bucket_min)
        periods = _light_periods(client, site, start, end)
        levels = levels_job.result()
    out: dict[str, SeatData] = {}
    for seat in {*noise, *floor, *light}:
        out[seat] = SeatData(
            noise.get(seat), floor.get(seat), light.get(seat), periods.get(seat), levels.get(seat)
        )
    return out


def _levels(
    client: InfluxQLClient, site: str, start: datetime, end: datetime, bucket_min: int
) -> dict[str, Levels]:
    """Every reading's level binned per seat and bucket, streamed in time order (epoch minutes suffice:
    buckets are whole minutes)."""
    binner = LevelBinner(bucket_min)
    q = (
        f"SELECT {quote_ident(Noise.LAEQ)}, {_DUR} FROM {quote_ident(Noise.NAME)} "
        f"WHERE {_where(site, start, end)} GROUP BY {quote_ident(Tag.SEAT)}"
    )
    for series in client.stream(q, epoch="m"):
        binner.add(series.tags.get(Tag.SEAT, ""), series.values)
    return binner.result()


def _light_periods(client: InfluxQLClient, site: str, start: datetime, end: datetime) -> dict[str, float]:
    """Each seat's light reporting period in seconds: the median spacing of its sensors' first
    PERIOD_SAMPLES readings in the period (pooled over the seat's sensors, each spacing within one sensor)."""
    q = (
        f"SELECT {_LUX} FROM {quote_ident(Light.NAME)} WHERE {_where(site, start, end)} "
        f"GROUP BY {quote_ident(Tag.SEAT)}, {quote_ident(Tag.SENSOR)} LIMIT {PERIOD_SAMPLES}"
    )
    times: dict[tuple[str, str], list[int]] = {}
    for s in client.stream(q, epoch="ms"):
        times.setdefault((s.tags.get(Tag.SEAT, ""), s.tags.get(Tag.SENSOR, "")), []).extend(
            r[0] for r in s.values
        )
    spacings: dict[str, list[np.ndarray]] = {}
    for (seat, _), t in times.items():
        spacings.setdefault(seat, []).append(np.diff(np.array(t, dtype=np.int64)))
    out = {}
    for seat, parts in spacings.items():
        pooled = np.concatenate(parts)
        if len(pooled):
            out[seat] = float(np.median(pooled)) / 1000
    return out
