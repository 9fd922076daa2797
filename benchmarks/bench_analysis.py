"""Benchmark: time to produce the compliance report from 1-minute data in a real influxd.

Usage: python benchmarks/bench_analysis.py [--seats 100,300] [--days 2,7] [--url URL]
       python benchmarks/bench_analysis.py --full 2000 [--url URL]

For each (seats, days) it writes 1-minute noise and light readings for every seat (as ingest writes them,
tests/compliance_data.py), then times the report: the InfluxQL aggregation, the engine and writing
report.json/seats.csv/report.html. It prints the figures and a linear extrapolation to the issue's goal,
2,000 seats × 30 days (172.8 million points), from the largest run's time per stored point, because writing
that much test data alone would take most of an hour on this 2-core machine; ``--full SEATS`` instead
measures the 30-day report of SEATS seats from rollups directly (one day analysed, its rollups copied to
the other days). Without --url it starts its
own influxd in a temporary folder (tests/services.py). Figures on a shared machine are depressed: say so
when quoting them.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from analysis.compliance.engine import assess  # noqa: E402
from analysis.compliance.rollups import rollup_lines  # noqa: E402
from analysis.report.document import report_document  # noqa: E402
from analysis.report.report_command import write_report  # noqa: E402
from analysis.rules.profile import load_profile  # noqa: E402
from seatwatch.cli import main as cli  # noqa: E402
from seatwatch.influxql import InfluxQLClient, quote_ident  # noqa: E402
from seatwatch.site import Site  # noqa: E402
from seatwatch.site_file import load_site  # noqa: E402
from tests.compliance_data import SiteSpec, calibration_line, light_lines, noise_lines, write  # noqa: E402
from tests.services import Influxd  # noqa: E402

TZ = ZoneInfo("Asia/Shanghai")
START = datetime(2026, 3, 2, tzinfo=TZ)
SEATS_PER_ZONE = 100
GOAL_SEATS, GOAL_DAYS = 2000, 30


def level(t: datetime) -> float:
    return 50.0 + (t.minute % 7) if 8 <= t.astimezone(TZ).hour < 22 else 36.0


def lux(t: datetime) -> float:
    return 420.0 - (t.minute % 11)


def spec(seats: int) -> SiteSpec:
    zones = (seats + SEATS_PER_ZONE - 1) // SEATS_PER_ZONE
    ids = [f"S{i:05d}" for i in range(seats)]
    return SiteSpec(
        id=f"bench{seats}",
        zones=[(f"z{z}", "agent", SEATS_PER_ZONE * 7.0) for z in range(zones)],
        seats=[
            (s, f"z{i // SEATS_PER_ZONE}", float(i % 40) * 1.5, float(i // 40) * 1.5, None)
            for i, s in enumerate(ids)
        ],
        sensors=[(f"n-{s}", ("noise", "light")) for s in ids],
        installations=[(f"n-{s}", s, "2026-03-01T00:00:00+08:00", None) for s in ids],
    )


def populate(url: str, db: str, site: SiteSpec, days: int) -> tuple[int, float]:
    """Write the readings; returns (points, seconds)."""
    end = START + timedelta(days=days)
    points, began = 0, time.perf_counter()
    cal = [
        calibration_line(site.id, f"n-{s[0]}", q, START - timedelta(days=10), end + timedelta(days=300))
        for s in site.seats
        for q in ("noise", "light")
    ]
    write(url, db, cal)
    for seat, zone, *_ in site.seats:
        lines = noise_lines(site.id, zone, seat, f"n-{seat}", START, end, level)
        lines += light_lines(site.id, zone, seat, f"n-{seat}", START, end, lux)
        write(url, db, lines)
        points += len(lines)
    return points, time.perf_counter() - began


def timed_report(site: Site, client: InfluxQLClient, days: int, source: str, out: Path) -> float:
    began = time.perf_counter()
    end = START + timedelta(days=days)
    assessment = assess(site, load_profile("iac-csc"), client, START, end, source=source)
    write_report(report_document(assessment), out)
    return time.perf_counter() - began


def full_scale(url: str, tmp: Path, seats: int, days: int) -> None:
    """The monthly report at full size: one day of readings for every seat is analysed, its rollups are
    copied to the other days (writing 173 M readings would take most of an hour here), and the report over
    the whole span is timed from the rollups."""
    db = f"bench_full_{seats}"
    client = InfluxQLClient(url, db, timeout_s=900)
    client.command(f"CREATE DATABASE {quote_ident(db)}")
    site_spec = spec(seats)
    points, write_s = populate(url, db, site_spec, 1)
    site = load_site(site_spec.write(tmp, url, db))
    began = time.perf_counter()
    day = assess(site, load_profile("iac-csc"), client, START, START + timedelta(days=1), source="raw")
    lines = rollup_lines(
        site, day.raw or {}, day.windows, day.start, day.end, day.bucket_minutes, day.calendar
    )
    analyze_s = time.perf_counter() - began
    began = time.perf_counter()
    for k in range(days):
        shift = k * 86400 * 10**9
        shifted = [f"{head} {int(ts) + shift}" for head, ts in (x.rsplit(" ", 1) for x in lines)]
        write(url, db, shifted)
    copy_s = time.perf_counter() - began
    report_s = timed_report(site, client, days, "rollups", tmp / "full")
    print(
        f"full scale: {seats} seats, 1 day of readings ({points:,} points, written in {write_s:.0f} s, "
        f"analysed in {analyze_s:.1f} s), {len(lines) * days:,} rollup points for {days} days "
        f"(written in {copy_s:.0f} s): monthly report from rollups {report_s:.1f} s (goal ≤ 60 s)",
        flush=True,
    )
    client.command(f"DROP DATABASE {quote_ident(db)}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seats", default="100,300")
    parser.add_argument("--days", default="2,7")
    parser.add_argument("--url", help="an influxd to use (default: start one)")
    parser.add_argument(
        "--full", type=int, metavar="SEATS", help="also time the 30-day report of SEATS seats"
    )
    args = parser.parse_args()
    server = None
    with tempfile.TemporaryDirectory() as tmp:
        url = args.url
        if url is None:
            server = Influxd(Path(tmp) / "influxd")
            server.start()
            url = server.url
        try:
            if args.full:
                full_scale(url, Path(tmp), args.full, GOAL_DAYS)
                return 0
            rows = []
            for seats in (int(s) for s in args.seats.split(",")):
                for days in (int(d) for d in args.days.split(",")):
                    db = f"bench_{seats}_{days}"
                    client = InfluxQLClient(url, db, timeout_s=900)
                    client.command(f"CREATE DATABASE {quote_ident(db)}")
                    site_spec = spec(seats)
                    points, write_s = populate(url, db, site_spec, days)
                    site_path = site_spec.write(Path(tmp), url, db)
                    site = load_site(site_path)
                    raw_s = timed_report(site, client, days, "raw", Path(tmp) / "raw")
                    began = time.perf_counter()
                    end = START + timedelta(days=days)
                    cli(
                        [
                            "analyze",
                            "--site",
                            str(site_path),
                            "--from",
                            START.isoformat(),
                            "--to",
                            end.isoformat(),
                        ]
                    )
                    analyze_s = time.perf_counter() - began
                    rollup_s = timed_report(site, client, days, "rollups", Path(tmp) / "rolled")
                    rows.append((seats, days, points, raw_s, analyze_s, rollup_s))
                    print(
                        f"seats {seats:5d}  days {days:3d}  points {points:>11,} "
                        f"(written in {write_s:6.1f} s)  report from readings {raw_s:6.2f} s "
                        f"({raw_s / points * 1e6:5.2f} µs/point)  analyze+rollups {analyze_s:6.2f} s  "
                        f"report from rollups {rollup_s:6.2f} s "
                        f"({rollup_s / (seats * days) * 1e3:5.2f} ms/seat-day)",
                        flush=True,
                    )
                    client.command(f"DROP DATABASE {quote_ident(db)}")
            seats, days, points, raw_s, analyze_s, rollup_s = max(rows, key=lambda r: r[2])
            goal_points = GOAL_SEATS * GOAL_DAYS * 1440 * 2
            per_seat_day = rollup_s / (seats * days) * GOAL_SEATS * GOAL_DAYS
            print(
                f"extrapolated linearly to {GOAL_SEATS} seats × {GOAL_DAYS} days ({goal_points:,} points) "
                f"from the {seats}×{days} run: report from rollups {per_seat_day:.0f} s (goal ≤ 60 s); "
                f"from the readings {raw_s / points * goal_points:.0f} s; "
                f"analyze (the month's rollups, once) {analyze_s / points * goal_points:.0f} s"
            )
        finally:
            if server is not None:
                server.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
