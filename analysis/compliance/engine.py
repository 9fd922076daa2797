"""The compliance engine: for a site, a profile and a period, every seat's and zone's checks and verdicts.

What it computes and why is in docs/compliance.md. In short: the database returns per-bucket aggregates
per data seat (:mod:`analysis.compliance.reading_queries`); buckets lie wholly inside or outside each check's
hours (:mod:`analysis.compliance.windows`), so a check's value is combined exactly from its buckets — levels
as energy (docs/standards.md §5), illuminance as a time mean — and its coverage is the seconds of readings in
its hours over the length of those hours (docs/design.md). Seats without a sensor take the data of the seat
the site file names (``proxy_seat``); a swapped sensor needs nothing special because ingest tags each reading
with the seat the sensor was at.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

import numpy as np

from analysis.compliance.calibration_check import SensorCalibration, calibration_result, sensor_calibration
from analysis.compliance.daily import local_days, no_data, raw_daily, rollup_daily
from analysis.compliance.reading_queries import load_seat_data
from analysis.compliance.rollups import calendar_key, rollup_stats, rollups_complete
from analysis.compliance.stats import WindowStats, raw_stats
from analysis.compliance.verdict import CheckResult, judge, worst
from analysis.compliance.windows import HoursWindow, windows
from seatwatch.core.calibration_records import load_records
from seatwatch.core.influxql import InfluxQLClient
from seatwatch.core.photometry.uniformity import uniformity
from seatwatch.core.rules.profile import Check, RulesProfile
from seatwatch.core.site import Site, Zone
from seatwatch.core.vocabulary import Metric, Verdict, ZoneKind
from seatwatch.core.wording import site_period

UPPER_BOUND_SHARE = 0.5  # more of the covered time below the sensor's floor than this: value is a bound


class NoDataError(ValueError):
    """The site has no readings at all in the period: nothing to judge, so no report is written."""


@dataclass
class SeatResult:
    seat: str
    zone: str
    data_seat: str
    x: float
    y: float
    verdict: Verdict
    checks: list[CheckResult]
    daily: dict[str, list[float | None]] = field(default_factory=dict)


@dataclass
class ZoneResult:
    zone: str
    name: str
    kind: ZoneKind
    area_m2: float
    seats: int
    verdict: Verdict | None  # worst of the zone's own checks; None when the profile gives the kind none
    checks: list[CheckResult]


@dataclass
class Assessment:
    site: Site
    profile: RulesProfile
    start: datetime
    end: datetime
    generated_at: datetime
    bucket_minutes: int
    min_coverage: float
    days: list[datetime]
    seats: list[SeatResult]
    zones: list[ZoneResult]
    calibration: list[SensorCalibration]
    source: str  # "raw" or "rollups": where the figures came from
    calendar: str  # the rollup calendar key of this site, profile and period
    windows: dict[str, HoursWindow]

    def summary(self) -> dict[str, int]:
        counts: dict[str, int] = {v: sum(s.verdict == v for s in self.seats) for v in Verdict}
        return {"seats": len(self.seats), **counts}


def _coverage(seconds: float, window: HoursWindow) -> float:
    return min(1.0, seconds / window.seconds) if window.seconds > 0 else 0.0


def _hour_ranges(hours: list[int]) -> str:
    """[18, 19, 20, 21] -> '18:00–22:00' (local clock hours, ranges joined by commas)."""
    out, run = [], [hours[0]]
    for h in hours[1:]:
        if h == run[-1] + 1:
            run.append(h)
        else:
            out.append(run)
            run = [h]
    out.append(run)
    return ", ".join(f"{r[0]:02d}:00–{r[-1] + 1:02d}:00" for r in out)


class _Evaluator:
    def __init__(self, site: Site, wins: dict[str, HoursWindow], min_cov: float):
        self.site, self.wins, self.min_cov = site, wins, min_cov

    def laeq(self, check: Check, st: WindowStats) -> CheckResult:
        window = self.wins[check.hours]
        if st.noise_seconds <= 0:
            return judge(check, None, 0.0, self.min_cov)
        value = st.lafmax if check.metric == Metric.LAFMAX else st.laeq
        result = judge(check, value, _coverage(st.noise_seconds, window), self.min_cov)
        levels = st.percentiles()
        result.details.update(
            {
                "laeq_p10": levels.get(10),  # percentiles of the readings' LAeq, not a meter's LAF10/90
                "laeq_p90": levels.get(90),
                "lafmax": st.lafmax,
                "covered_hours": st.noise_seconds / 3600,
            }
        )
        if st.below_floor_seconds > 0:
            self._below_floor(result, st.below_floor_seconds, st.noise_seconds)
        return result

    @staticmethod
    def _below_floor(result: CheckResult, below: float, covered: float) -> None:
        """docs/standards.md §7: readings below the sensor's floor are not evidence; say how many, and do not
        let a value made mostly of them claim a failure it cannot measure."""
        result.details["below_floor_hours"] = below / 3600
        result.reasons.append(
            f"{below / 3600:.1f} h of {covered / 3600:.1f} h covered were below the sensor's measurable range"
        )
        if below / covered > UPPER_BOUND_SHARE:
            result.details["upper_bound"] = "yes"
            result.reasons.append("the value is an upper bound: the true level is at most this")
            if result.verdict == Verdict.FAIL:
                result.verdict = Verdict.INSUFFICIENT_DATA
                result.reasons.append("a level mostly below the sensor's floor cannot show a failure")

    def lux(self, check: Check, st: WindowStats) -> CheckResult:
        window = self.wins[check.hours]
        mean = st.lux_mean
        if mean is None:
            return judge(check, None, 0.0, self.min_cov)
        value = st.lux_lowest_bucket if check.aggregation == "hourly_min" else mean
        covered = st.lux_seconds
        result = judge(check, value, _coverage(covered, window), self.min_cov)
        below_s, hours = st.below.get(check.required, (0.0, []))
        result.details.update(
            {
                "mean_lux": mean,
                "min_lux": st.lux_lowest_reading,
                "below_required_share": below_s / covered if covered else None,
                "covered_hours": covered / 3600,
            }
        )
        if hours:
            result.reasons.append(
                f"below {check.required:g} lx for {below_s / 3600:.1f} h of {covered / 3600:.1f} h covered "
                f"({below_s / covered:.0%}), at local {_hour_ranges(hours)}"
            )
        return result

    def area(self, check: Check, zone: Zone) -> CheckResult:
        seats = len(self.site.seats_in_zone(zone.id))
        result = judge(check, zone.area_m2 / seats, 1.0, self.min_cov)
        result.reasons.append(f"zone area {zone.area_m2:g} m² ÷ {seats} seats")
        return result

    def seat_check(self, check: Check, zone: Zone, stats: dict[str, WindowStats]) -> CheckResult:
        if check.metric in (Metric.LAEQ, Metric.LAFMAX):
            return self.laeq(check, stats.get(check.hours, WindowStats()))
        if check.metric == Metric.LUX:
            return self.lux(check, stats.get(check.hours, WindowStats()))
        return self.area(check, zone)

    def uniformity(self, check: Check, zone: Zone, stats: dict[str, dict[str, WindowStats]]) -> CheckResult:
        """U0 = min/mean of the seats' mean lux over the check's hours, seats with enough coverage only."""
        window = self.wins[check.hours]
        sources = sorted({self.site.data_seat(s.id) for s in self.site.seats_in_zone(zone.id)})
        means = {}
        for source in sources:
            st = stats.get(source, {}).get(check.hours, WindowStats())
            if st.lux_mean is not None and _coverage(st.lux_seconds, window) >= self.min_cov:
                means[source] = st.lux_mean
        coverage = len(means) / len(sources) if sources else 0.0
        if len(means) < 2 or not any(means.values()):
            result = judge(check, None, coverage, self.min_cov)
            result.reasons.append("uniformity needs the mean lux of at least two seats with enough coverage")
            return result
        result = judge(check, uniformity(list(means.values())), coverage, self.min_cov)
        low = min(means, key=means.__getitem__)
        result.reasons.append(
            f"{len(means)} of {len(sources)} measured seats; lowest {low} at {means[low]:.0f} lx, "
            f"zone mean {np.mean(list(means.values())):.0f} lx"
        )
        return result


def _requirements(profile: RulesProfile, kinds: set[ZoneKind]) -> dict[str, list[float]]:
    """Per hours name, the lux requirements whose "time below" a report states."""
    out: dict[str, set[float]] = {}
    for kind in kinds:
        for c in profile.checks_for(kind):
            if c.metric == Metric.LUX:
                out.setdefault(c.hours, set()).add(c.required)
    return {k: sorted(v) for k, v in out.items()}


def hours_names(site: Site, profile: RulesProfile) -> set[str]:
    """The check hours the site's zones are judged over, and "occupied" (the report's daily charts)."""
    kinds = {z.kind for z in site.zones.values()}
    data = {c.hours for k in kinds for c in profile.checks_for(k) if c.metric != Metric.AREA_PER_SEAT}
    return data | {"occupied"}


def assess(
    site: Site,
    profile: RulesProfile,
    client: InfluxQLClient,
    start: datetime,
    end: datetime,
    min_coverage: float | None = None,
    source: str = "auto",
) -> Assessment:
    """Judge every seat and zone of ``site`` over [start, end) (aware datetimes).

    ``source``: "raw" aggregates the readings; "rollups" requires complete rollups; "auto" uses rollups
    when every bucket of the period has them (docs/compliance.md), else the readings.
    """
    min_cov = profile.min_coverage if min_coverage is None else min_coverage
    kinds = {z.kind for z in site.zones.values()}
    bucket_min, wins = windows(site, profile, hours_names(site, profile), start, end)
    key = calendar_key(site, profile, wins, bucket_min)
    requirements = _requirements(profile, kinds)
    days = local_days(start, end, site.hours.timezone)
    if source != "raw" and rollups_complete(client, site.id, key, start, end, bucket_min):
        stats = rollup_stats(client, site, key, set(wins), requirements, start, end)
        daily = rollup_daily(client, site.id, key, start, end, days)
        used = "rollups"
    elif source == "rollups":
        raise NoDataError(
            f"site {site.id!r} has no complete rollups from {start.isoformat()} to {end.isoformat()} for its "
            "current calendar; run 'seatwatch analyze' over the period first, or use --source raw"
        )
    else:
        raw = load_seat_data(client, site.id, start, end, bucket_min, len(site.seats))
        tz, bucket_s = site.hours.timezone, bucket_min * 60.0
        stats = {
            seat: {h: raw_stats(d, w, requirements.get(h, []), bucket_s, tz) for h, w in wins.items()}
            for seat, d in raw.items()
        }
        daily = {seat: raw_daily(d, wins["occupied"], days) for seat, d in raw.items()}
        used = "raw"
    if not stats:
        raise NoDataError(
            f"site {site.id!r} has no noise or light readings in "
            f"{site_period(start, end, site.hours.timezone)} (site time) "
            f"in database {client.database!r} at {client.url}"
        )
    book = load_records(client, site.id)
    evaluator = _Evaluator(site, wins, min_cov)
    statuses: dict[tuple[str, str, datetime], list[SensorCalibration]] = {}
    memo: dict[tuple[str, str], CheckResult] = {}
    no_days = no_data(days)
    seats: list[SeatResult] = []
    for seat in sorted(site.seats.values(), key=lambda s: s.id):
        zone = site.zones[seat.zone]
        source_seat = site.data_seat(seat.id)
        results = []
        for check in profile.checks_for(zone.kind):
            if check.scope != "seat":
                continue
            memo_key = (source_seat if check.metric != Metric.AREA_PER_SEAT else zone.id, check.id)
            if memo_key not in memo:
                memo[memo_key] = evaluator.seat_check(check, zone, stats.get(source_seat, {}))
            results.append(memo[memo_key])
        fed: list[SensorCalibration] = []
        for inst in site.installations_for_seat(seat.id, start, end):
            inst_key = (inst.sensor, inst.seat, inst.start)
            if inst_key not in statuses:
                statuses[inst_key] = sensor_calibration(site, book, inst, start, end)
            fed.extend(statuses[inst_key])
        results.append(calibration_result(fed))
        verdict = worst(r.verdict for r in results)
        seats.append(
            SeatResult(
                seat.id,
                zone.id,
                source_seat,
                seat.x,
                seat.y,
                verdict,
                results,
                daily.get(source_seat, no_days),
            )
        )
    zones = []
    for zone in sorted(site.zones.values(), key=lambda z: z.id):
        checks = [
            evaluator.uniformity(c, zone, stats) for c in profile.checks_for(zone.kind) if c.scope == "zone"
        ]
        members = [s for s in seats if s.zone == zone.id]
        # A zone's verdict is its own checks' (uniformity), not its worst seat's: the report counts the
        # seats by verdict beside it, so a passing uniformity is never shown as a zone "fail".
        zone_verdict = worst(c.verdict for c in checks) if checks else None
        zones.append(
            ZoneResult(zone.id, zone.name, zone.kind, zone.area_m2, len(members), zone_verdict, checks)
        )
    calibration = [s for group in statuses.values() for s in group]
    return Assessment(
        site=site,
        profile=profile,
        start=start,
        end=end,
        generated_at=datetime.now(UTC),
        bucket_minutes=bucket_min,
        min_coverage=min_cov,
        days=days.starts,
        seats=seats,
        zones=zones,
        calibration=sorted(calibration, key=lambda s: (s.sensor, s.quantity, s.installed[0])),
        source=used,
        calendar=key,
        windows=wins,
    )
