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
from seatwatch.core.influxql import InfluxQLClient, quote_ident, quote_string
from seatwatch.core.line_protocol import line, series_key
from seatwatch.core.rules.profile import RulesProfile
from seatwatch.core.schema import SeatRollup, SeatRollupState
from seatwatch.core.site import Site

R = SeatRollup  # the measurement's names are on nearly every line here
BINS = [R.level_bin(LEVEL_MIN + i) for i in range(BIN_COUNT)]
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


def hours_filter(name: str) -> str:
    """The condition selecting rollups of check hours ``name`` (tagged alone or among others)."""
    if name == "all":
        return ""
    return f" AND {quote_ident(R.HOURS)} =~ /(^|\\+){re.escape(name)}(\\+|$)/"


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
                rows.setdefault(t, {}).update({R.ENERGY: energy, R.DUR: dur, R.LAFMAX: lafmax})
        if d.levels is not None:
            lv = d.levels
            for t, b, seconds in zip(lv.t.tolist(), lv.bins.tolist(), lv.seconds.tolist(), strict=True):
                rows.setdefault(t, {})[BINS[b]] = seconds
        if d.below_floor is not None:
            for t, below in zip(d.below_floor.t.tolist(), d.below_floor.column("dur").tolist(), strict=True):
                rows.setdefault(t, {})[R.BELOW] = below
        if d.light is not None:
            light = d.light
            columns = (light.column(c).tolist() for c in ("lux", "count", "lux_min"))
            seconds = light_seconds(light, d.light_period_s, bucket_s).tolist()
            for t, mean, count, low, covered in zip(light.t.tolist(), *columns, seconds, strict=True):
                if t not in local_hour:
                    local_hour[t] = datetime.fromtimestamp(t / 1000, UTC).astimezone(tz).hour
                rows.setdefault(t, {}).update(
                    {
                        R.LUX: mean,
                        R.LUX_N: count,
                        R.LUX_SUM: mean * count,
                        R.LUX_DUR: covered,
                        R.LUX_MIN: low,
                        R.LOCAL_HOUR: local_hour[t],
                    }
                )
        series: dict[str, str] = {}  # hours tag -> escaped series key, built once per seat and tag
        for t, fields in rows.items():
            hours = tags_of.get(t, "none")
            if hours not in series:
                tags = {R.SITE: site.id, R.SEAT: seat, R.CALENDAR: key, R.HOURS: hours}
                series[hours] = series_key(R.NAME, tags)
            # Field names are ours and all values are numbers: formatted here, not through line(),
            # because a month of 2,000 seats is 1.4 million rollup points (docs/compliance.md).
            body = ",".join(f"{k}={float(v)!r}" for k, v in fields.items() if math.isfinite(v))
            out.append(f"{series[hours]} {body} {t * 1_000_000}")
    t, step = start, timedelta(minutes=bucket_min)
    journal = journal or {}
    while t < end:
        ms = int(t.timestamp()) * 1000
        hour_journal = journal.get(ms - ms % 3_600_000, 0)
        fields = {SeatRollupState.SEATS: len(data), SeatRollupState.JOURNAL: hour_journal}
        tags = {SeatRollupState.SITE: site.id, SeatRollupState.CALENDAR: key}
        out.append(line(SeatRollupState.NAME, tags, fields, ms * 1_000_000))
        t += step
    return out


def rollups_where(site: str, key: str, start: datetime, end: datetime) -> str:
    """The condition selecting one site's rollups (and states) of calendar ``key`` in [start, end)."""
    a, b = int(start.timestamp()) * 10**9, int(end.timestamp()) * 10**9
    site_tag, calendar = quote_ident(R.SITE), quote_ident(R.CALENDAR)
    return (
        f"{site_tag} = {quote_string(site)} AND {calendar} = {quote_string(key)} "
        f"AND time >= {a} AND time < {b}"
    )


def rollups_complete(
    client: InfluxQLClient, site: str, key: str, start: datetime, end: datetime, bucket_min: int
) -> bool:
    """True when every bucket of [start, end) has been rolled up under ``key``."""
    expected = int((end - start).total_seconds() // (bucket_min * 60))
    seats, state = quote_ident(SeatRollupState.SEATS), quote_ident(SeatRollupState.NAME)
    where = rollups_where(site, key, start, end)
    series = client.query(f"SELECT count({seats}) FROM {state} WHERE {where}")
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
    where = rollups_where(site.id, key, start, end)
    f = {name: quote_ident(name) for name in (*R.FIELDS, *BINS)}
    select = (
        f"sum({f[R.ENERGY]}), sum({f[R.DUR]}), max({f[R.LAFMAX]}), sum({f[R.BELOW]}), sum({f[R.LUX_SUM]}), "
        f"sum({f[R.LUX_N]}), sum({f[R.LUX_DUR]}), min({f[R.LUX]}), min({f[R.LUX_MIN]}), "
        + ", ".join(f"sum({f[b]})" for b in BINS)
    )
    by_seat, rollups = f"GROUP BY {quote_ident(R.SEAT)}", quote_ident(R.NAME)
    out: dict[str, dict[str, WindowStats]] = {}
    for name in sorted(names):
        for series in client.query(
            f"SELECT {select} FROM {rollups} WHERE {where}{hours_filter(name)} {by_seat}"
        ):
            v = [np.nan if x is None else float(x) for x in series.values[0][1:]]
            z = [0.0 if np.isnan(x) else x for x in v]  # plain floats: they end up in line protocol
            out.setdefault(series.tags[R.SEAT], {})[name] = WindowStats(
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
            dark = f"FROM {rollups} WHERE {where}{hours_filter(name)} AND {f[R.LUX]} < {float(required)!r}"
            # Aggregated in the database (a sum and at most 24 distinct clock hours per seat), so a dark
            # month is not one row per bucket in memory.
            for series in client.query(f"SELECT sum({f[R.LUX_DUR]}) {dark} {by_seat}"):
                below[series.tags[R.SEAT]] = (float(series.values[0][1] or 0.0), set())
            for series in client.query(f"SELECT distinct({f[R.LOCAL_HOUR]}) {dark} {by_seat}"):
                seconds, _ = below.get(series.tags[R.SEAT], (0.0, set()))
                below[series.tags[R.SEAT]] = (seconds, {int(r[1]) for r in series.values if r[1] is not None})
            for seat, stats in out.items():
                if name in stats:
                    seconds, hours = below.get(seat, (0.0, set()))
                    stats[name].below[required] = (seconds, sorted(hours))
    return out
