"""Hourly rollups: per seat and bucket, the aggregates the engine needs, written by the engine itself.

A month of 1-minute readings for 2,000 seats is 173 million points, and aggregating them again for every
report is minutes of database time on a small server. So every ``seatwatch analyze`` run writes, for each
bucket of its window and each data seat, one ``seat_rollup`` point — energy, covered seconds, LAFmax,
below-floor seconds, the 1 dB level histogram of :mod:`analysis.compliance.laeq_histogram`, lux mean / count
/ sum / covered seconds / lowest reading and the local clock hour — tagged with the check hours the bucket
belongs to (``hours`` = "occupied", "unoccupied+night", …) and a ``calendar`` key. A report then aggregates
the rollups inside the database, a few rows per seat.

Keeping them right:

- **Up to date.** ``analyze --every 1h`` rolls up the hours that are new since its last run and those the
  change journal says received readings since then, however late (:mod:`analysis.compliance.upkeep`);
  ``seatwatch analyze --from … --to …`` rewrites every bucket of its period.
- **Complete.** Each analysed bucket also gets a ``seat_rollup_state`` point (fields ``seats`` and
  ``journal``, the change journal's ``written`` for its hour when it was rolled up). A report uses
  rollups only when every bucket of its period has one for the current calendar key; otherwise it reads
  the raw readings (``--source raw`` forces that).
- **Consistent.** The calendar key hashes the time zone, the shifts, the closed days, the clock windows,
  the bucket size and the rollup format: a change to any of them makes old rollups invisible rather than
  wrong.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from datetime import UTC, datetime, timedelta

import numpy as np

from analysis.compliance.laeq_histogram import BIN_COUNT, LEVEL_MIN
from analysis.compliance.reading_queries import SeatData
from analysis.compliance.stats import WindowStats, light_seconds
from analysis.compliance.windows import HoursWindow
from seatwatch.core.influxql import InfluxQLClient, quote_string
from seatwatch.core.line_protocol import line, series_key
from seatwatch.core.rules.profile import RulesProfile
from seatwatch.core.site import Site

MEASUREMENT = "seat_rollup"
STATE = "seat_rollup_state"
BINS = [f"h{LEVEL_MIN + i}" for i in range(BIN_COUNT)]
# 2: the level bins hold the readings' own seconds (format 1 spread each bucket's quintiles over them).
FORMAT = 2


def calendar_key(site: Site, profile: RulesProfile, wins: dict[str, HoursWindow], bucket_min: int) -> str:
    """A short hash of everything that decides which bucket belongs to which hours, and of the rollups'
    FORMAT (so rollups whose fields meant something else are ignored, not mixed in)."""
    hours = site.hours
    parts = {
        "format": FORMAT,
        "tz": site.timezone,
        "bucket": bucket_min,
        "shifts": sorted([sorted(s.days), s.start_min, s.end_min] for s in hours.shifts),
        "closed": sorted(d.isoformat() for d in hours.closed),
        "clock": {n: [c.start, c.end] for n, c in sorted(profile.clock_hours.items()) if n in wins},
        "names": sorted(wins),
    }
    return hashlib.sha1(json.dumps(parts).encode()).hexdigest()[:12]


def _hours_tags(wins: dict[str, HoursWindow]) -> dict[int, str]:
    names: dict[int, set[str]] = {}
    for name, window in wins.items():
        if name != "all":
            for t in window.bucket_starts.tolist():
                names.setdefault(t, set()).add(name)
    return {t: "+".join(sorted(n)) for t, n in names.items()}


def _hours_filter(name: str) -> str:
    if name == "all":
        return ""
    return f' AND "hours" =~ /(^|\\+){re.escape(name)}(\\+|$)/'


def rollup_lines(
    site: Site,
    data: dict[str, SeatData],
    wins: dict[str, HoursWindow],
    start: datetime,
    end: datetime,
    bucket_min: int,
    key: str,
    journal: dict[int, int] | None = None,
) -> list[str]:
    """The rollup and state points of an analysed window [start, end). ``journal`` (hour start in epoch
    ms -> ``written``) is the change journal as read before the readings; each state point keeps its
    hour's value, so the upkeep knows which write a rollup already includes."""
    tags_of = _hours_tags(wins)
    tz = site.hours.timezone
    bucket_s = bucket_min * 60.0
    out = []
    local_hour: dict[int, int] = {}  # bucket start -> local clock hour, shared by all seats
    for seat, d in data.items():
        rows: dict[int, dict[str, float | int]] = {}
        if d.noise is not None:
            n = d.noise
            for t, energy, dur, lafmax in zip(
                n.t.tolist(), *(n.column(c).tolist() for c in ("energy", "dur", "lafmax")), strict=True
            ):
                rows.setdefault(t, {}).update(energy=energy, dur=dur, lafmax=lafmax)
        if d.levels is not None:
            lv = d.levels
            for t, b, seconds in zip(lv.t.tolist(), lv.bins.tolist(), lv.seconds.tolist(), strict=True):
                rows.setdefault(t, {})[BINS[b]] = seconds
        if d.below_floor is not None:
            for t, below in zip(d.below_floor.t.tolist(), d.below_floor.column("dur").tolist(), strict=True):
                rows.setdefault(t, {})["below"] = below
        if d.light is not None:
            light = d.light
            columns = (light.column(c).tolist() for c in ("lux", "count", "lux_min"))
            seconds = light_seconds(light, d.light_period_s, bucket_s).tolist()
            for t, mean, count, low, covered in zip(light.t.tolist(), *columns, seconds, strict=True):
                if t not in local_hour:
                    local_hour[t] = datetime.fromtimestamp(t / 1000, UTC).astimezone(tz).hour
                rows.setdefault(t, {}).update(
                    lux=mean,
                    lux_n=count,
                    lux_sum=mean * count,
                    lux_dur=covered,
                    lux_min=low,
                    lh=local_hour[t],
                )
        series: dict[str, str] = {}  # hours tag -> escaped series key, built once per seat and tag
        for t, fields in rows.items():
            hours = tags_of.get(t, "none")
            if hours not in series:
                tags = {"site": site.id, "seat": seat, "calendar": key, "hours": hours}
                series[hours] = series_key(MEASUREMENT, tags)
            # Field names are ours and all values are numbers: formatted here, not through line(),
            # because a month of 2,000 seats is 1.4 million rollup points (docs/compliance.md).
            body = ",".join(f"{k}={float(v)!r}" for k, v in fields.items() if math.isfinite(v))
            out.append(f"{series[hours]} {body} {t * 1_000_000}")
    t, step = start, timedelta(minutes=bucket_min)
    journal = journal or {}
    while t < end:
        ms = int(t.timestamp()) * 1000
        fields = {"seats": len(data), "journal": journal.get(ms - ms % 3_600_000, 0)}
        out.append(line(STATE, {"site": site.id, "calendar": key}, fields, ms * 1_000_000))
        t += step
    return out


def _where(site: str, key: str, start: datetime, end: datetime) -> str:
    a, b = int(start.timestamp()) * 10**9, int(end.timestamp()) * 10**9
    return (
        f'"site" = {quote_string(site)} AND "calendar" = {quote_string(key)} AND time >= {a} AND time < {b}'
    )


def rollups_complete(
    client: InfluxQLClient, site: str, key: str, start: datetime, end: datetime, bucket_min: int
) -> bool:
    """True when every bucket of [start, end) has been rolled up under ``key``."""
    expected = int((end - start).total_seconds() // (bucket_min * 60))
    series = client.query(f'SELECT count("seats") FROM "{STATE}" WHERE {_where(site, key, start, end)}')
    return bool(series) and series[0].values[0][1] == expected


def rollup_stats(
    client: InfluxQLClient,
    site: Site,
    key: str,
    names: set[str],
    requirements: dict[str, list[float]],
    start: datetime,
    end: datetime,
) -> dict[str, dict[str, WindowStats]]:
    """Per data seat and hours name, :class:`WindowStats` aggregated by the database from the rollups."""
    where = _where(site.id, key, start, end)
    select = (
        'sum("energy"), sum("dur"), max("lafmax"), sum("below"), sum("lux_sum"), sum("lux_n"), '
        'sum("lux_dur"), min("lux"), min("lux_min"), ' + ", ".join(f'sum("{b}")' for b in BINS)
    )
    out: dict[str, dict[str, WindowStats]] = {}
    for name in sorted(names):
        for series in client.query(
            f'SELECT {select} FROM "{MEASUREMENT}" WHERE {where}{_hours_filter(name)} GROUP BY "seat"'
        ):
            v = [np.nan if x is None else float(x) for x in series.values[0][1:]]
            z = [0.0 if np.isnan(x) else x for x in v]  # plain floats: they end up in line protocol
            out.setdefault(series.tags["seat"], {})[name] = WindowStats(
                noise_energy=z[0],
                noise_seconds=z[1],
                lafmax=None if np.isnan(v[2]) else v[2],
                below_floor_seconds=z[3],
                lux_sum=z[4],
                lux_count=z[5],
                lux_seconds=z[6],
                lux_lowest_bucket=None if np.isnan(v[7]) else v[7],
                lux_lowest_reading=None if np.isnan(v[8]) else v[8],
                histogram=np.nan_to_num(np.array(v[9:])),
            )
        for required in requirements.get(name, []):
            below: dict[str, tuple[float, set[int]]] = {}
            dark = f'FROM "{MEASUREMENT}" WHERE {where}{_hours_filter(name)} AND "lux" < {float(required)!r}'
            # Aggregated in the database (a sum and at most 24 distinct clock hours per seat), so a dark
            # month is not one row per bucket in memory.
            for series in client.query(f'SELECT sum("lux_dur") {dark} GROUP BY "seat"'):
                below[series.tags["seat"]] = (float(series.values[0][1] or 0.0), set())
            for series in client.query(f'SELECT distinct("lh") {dark} GROUP BY "seat"'):
                seconds, _ = below.get(series.tags["seat"], (0.0, set()))
                below[series.tags["seat"]] = (seconds, {int(r[1]) for r in series.values if r[1] is not None})
            for seat, stats in out.items():
                if name in stats:
                    seconds, hours = below.get(seat, (0.0, set()))
                    stats[name].below[required] = (seconds, sorted(hours))
    return out


def rollup_daily(
    client: InfluxQLClient, site: Site, key: str, start: datetime, end: datetime, midnights: np.ndarray
) -> dict[str, dict[str, list[float | None]]]:
    """Per data seat and local day: occupied LAeq and lowest bucket lux (the report's charts).

    Days are grouped at the first day's local midnight; after a DST change they are off by that hour,
    which moves nothing for day shifts and is said in docs/compliance.md."""
    offset_s = int(midnights[0] // 1000) % 86400 if len(midnights) else 0
    q = (
        f'SELECT sum("energy"), sum("dur"), min("lux") FROM "{MEASUREMENT}" '
        f"WHERE {_where(site.id, key, start, end)}{_hours_filter('occupied')} "
        f'GROUP BY time(1d, {offset_s}s), "seat" fill(none)'
    )
    out: dict[str, dict[str, list[float | None]]] = {}
    days = len(midnights)
    for series in client.query(q):
        laeq: list[float | None] = [None] * days
        lux: list[float | None] = [None] * days
        for t, energy, dur, low in series.values:
            i = int(np.searchsorted(midnights, t + 2 * 3600 * 1000, side="right")) - 1
            if not 0 <= i < days:
                continue
            if energy and dur:
                laeq[i] = round(10 * float(np.log10(energy / dur)), 1)
            if low is not None:
                lux[i] = round(float(low), 0)
        out[series.tags["seat"]] = {"laeq_occupied": laeq, "lux_min_occupied": lux}
    return out
