"""Benchmark: time to judge a site from 1-minute data in a real influxd, and how it grows.

Usage: python benchmarks/bench_analysis.py [--seats 500,1000,2000] [--days 1,7] [--repeat 2] [--url URL]
       python benchmarks/bench_analysis.py --seats 2000 --days 30 --repeat 1   (the issue's full month:
       173 M points, about 25 minutes of writing and 4 GB of disk here)

Writes 1-minute noise and light readings (as ingest writes them, tests/compliance_data.py) into one
database: the largest site for the most days, the smaller sites for the fewest. Then, for each seat count
and each span written for it, it times three things over [START, START + days): ``seatwatch analyze``
(reads the readings, writes the hourly rollups and compliance points), the report from the rollups and
the report from the readings (``--source raw``); each report includes writing report.json, seats.csv and
report.html. Every measurement is repeated ``--repeat`` times with the load average printed, because the
machine is shared. Last, it scales the largest site to the issue's goal, 2,000 seats × 30 days, along a
straight line through its two longest spans (:func:`scaled`). Without --url it starts its own influxd in a
temporary folder (tests/services.py). The database is dropped at the end.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from analysis.compliance.engine import assess  # noqa: E402
from analysis.report.command import write_report  # noqa: E402
from analysis.report.document import report_document  # noqa: E402
from seatwatch.cli import main as cli  # noqa: E402
from seatwatch.core.influxql import InfluxQLClient, quote_ident  # noqa: E402
from seatwatch.core.rules.profile import load_rules_profile  # noqa: E402
from seatwatch.core.site import Site  # noqa: E402
from seatwatch.core.site_file import load_site  # noqa: E402
from tests.compliance_data import SiteSpec, calibration_line, light_lines, noise_lines, write  # noqa: E402
from tests.services import Influxd  # noqa: E402

TZ = ZoneInfo("Asia/Shanghai")
START = datetime(2026, 3, 2, tzinfo=TZ)
SEATS_PER_ZONE = 100
GOAL_SEATS, GOAL_DAYS = 2000, 30


def level(t: datetime) -> float:
    """About 20 distinct 1 dB bins per working hour (so rollups carry a realistic histogram), and a quiet
    night partly below the sensor's floor (so the below-floor statement has work)."""
    if 8 <= t.astimezone(TZ).hour < 22:
        return 44.0 + (t.minute * 37 % 60) / 3
    return 34.0 + t.minute % 5


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
    """Write the readings in 5,000-line /write bodies, two in flight while the next seat's lines are made
    (making lines is as slow as influxd storing them); returns (points, seconds)."""
    end = START + timedelta(days=days)
    points, began = 0, time.perf_counter()
    cal = [
        calibration_line(site.id, f"n-{s[0]}", q, START - timedelta(days=10), end + timedelta(days=300))
        for s in site.seats
        for q in ("noise", "light")
    ]
    write(url, db, cal)
    with ThreadPoolExecutor(max_workers=2) as pool:
        pending: list[Future[None]] = []
        for seat, zone, *_ in site.seats:
            lines = noise_lines(site.id, zone, seat, f"n-{seat}", START, end, level)
            lines += light_lines(site.id, zone, seat, f"n-{seat}", START, end, lux)
            points += len(lines)
            pending.append(pool.submit(write, url, db, lines))
            while len(pending) > 2:
                pending.pop(0).result()
        for job in pending:
            job.result()
    return points, time.perf_counter() - began


def timed_report(site: Site, client: InfluxQLClient, days: int, source: str, out: Path) -> float:
    began = time.perf_counter()
    end = START + timedelta(days=days)
    assessment = assess(site, load_rules_profile("iac-csc"), client, START, end, source=source)
    assert assessment.source == source, assessment.source
    write_report(report_document(assessment), out)
    return time.perf_counter() - began


def timed_analyze(site_path: Path, days: int) -> float:
    began = time.perf_counter()
    end = START + timedelta(days=days)
    status = cli(["analyze", "--site", str(site_path), "--from", START.isoformat(), "--to", end.isoformat()])
    assert status == 0, status
    return time.perf_counter() - began


def scaled(rows: list[tuple[int, int, int, float, float, float]]) -> str:
    """The largest site's figures scaled to GOAL_DAYS: a straight line through its best run at each of
    its two longest spans (a fixed part per seat plus a part per seat-day; the report from rollups is
    mostly fixed part), or per seat-day from one span. Then per seat to GOAL_SEATS."""
    seats = max(r[0] for r in rows)
    best: dict[int, tuple[int, int, int, float, float, float]] = {}
    for r in rows:
        if r[0] == seats and (r[1] not in best or sum(r[3:]) < sum(best[r[1]][3:])):
            best[r[1]] = r
    spans = sorted(best)[-2:]
    figures = []
    for i in (3, 4, 5):
        if len(spans) == 2:
            (d1, t1), (d2, t2) = ((d, best[d][i]) for d in spans)
            figures.append(t2 + (t2 - t1) / (d2 - d1) * (GOAL_DAYS - d2))
        else:
            figures.append(best[spans[0]][i] / spans[0] * GOAL_DAYS)
    raw_s, analyze_s, rollup_s = (f * GOAL_SEATS / seats for f in figures)
    basis = " and ".join(f"{seats}×{d}" for d in spans)
    return (
        f"scaled from the best {basis} runs to {GOAL_SEATS} seats × {GOAL_DAYS} days "
        f"({GOAL_SEATS * GOAL_DAYS * 1440 * 2:,} points): report from rollups {rollup_s:.0f} s "
        "(goal ≤ 60 s); "
        f"report from the readings {raw_s:.0f} s; analyze (the month's rollups, once) {analyze_s:.0f} s"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seats", default="500,1000,2000")
    parser.add_argument("--days", default="1,7")
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--url", help="an influxd to use (default: start one)")
    args = parser.parse_args()
    seat_counts = sorted(int(s) for s in args.seats.split(","))
    spans = sorted(int(d) for d in args.days.split(","))
    server = None
    with tempfile.TemporaryDirectory() as tmp:
        url = args.url
        if url is None:
            server = Influxd(Path(tmp) / "influxd")
            server.start()
            url = server.url
        db = "bench_analysis"
        client = InfluxQLClient(url, db, timeout_s=3600)
        client.command(f"CREATE DATABASE {quote_ident(db)}")
        try:
            rows = []
            for seats in seat_counts:
                days_written = spans[-1] if seats == seat_counts[-1] else spans[0]
                site_spec = spec(seats)
                points, write_s = populate(url, db, site_spec, days_written)
                print(
                    f"wrote {seats} seats × {days_written} days: {points:,} points in {write_s:.0f} s "
                    f"({points / write_s:,.0f} points/s)",
                    flush=True,
                )
                site_path = site_spec.write(Path(tmp), url, db)
                site = load_site(site_path)
                for days in (d for d in spans if d <= days_written):
                    read = seats * days * 1440 * 2
                    for run in range(args.repeat):
                        load = os.getloadavg()[0]
                        analyze_s = timed_analyze(site_path, days)
                        rollup_s = timed_report(site, client, days, "rollups", Path(tmp) / "rolled")
                        raw_s = timed_report(site, client, days, "raw", Path(tmp) / "raw")
                        rows.append((seats, days, read, raw_s, analyze_s, rollup_s))
                        print(
                            f"seats {seats:5d}  days {days:3d}  points {read:>11,}  "
                            f"run {run + 1} (load {load:4.1f})  "
                            f"report from readings {raw_s:7.1f} s ({raw_s / read * 1e6:4.2f} µs/point)  "
                            f"analyze {analyze_s:7.1f} s  report from rollups {rollup_s:6.1f} s "
                            f"({rollup_s / (seats * days) * 1e3:5.2f} ms/seat-day)",
                            flush=True,
                        )
            print(scaled(rows), flush=True)
        finally:
            client.command(f"DROP DATABASE {quote_ident(db)}")
            if server is not None:
                server.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
