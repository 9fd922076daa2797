"""Benchmark: the hourly analysis service on 1-second data — upkeep, late data, the monthly report, storage.

Usage: python benchmarks/bench_upkeep.py [--seats 200,500] [--hours 24] [--url URL --data-dir DIR]

Bridges send one reading per sensor per second. For each seat count N this writes N seats × ``--hours``
(default: the whole day) of 1 Hz noise and light readings (7,200 points per seat-hour, as ingest writes
them, each 5,000-line /write body with its change-journal points, seatwatch/core/change_journal.py) into its
own database, and measures the service ``seatwatch analyze --from D-23h --to D+1h --every 1h`` (a rolling
24-hour verdict every hour):

- the first run (catch-up): roll up the day's hours up to 23:00, judge the 23 windows that have ended;
  with fewer than 24 hours of readings, the earlier hours then get copies of the rolled-up ones so that
  every window judged afterwards holds 24 hours of rollups;
- (a) the hourly upkeep after one new hour: hour 23 written, then one run (roll up that hour, judge the
  window that just ended);
- (b) the upkeep after late data: every seat's readings of 10:00–11:00 arrive (an outbox replay), then
  one run (roll up that hour, found through the journal; judge again the 14 windows holding it);
- (c) the monthly report from rollups: the day's rollups copied to 29 more days (same points, shifted),
  then a 30-day report (assess + report.json, seats.csv, report.html; the PDF is left out);
- (d) storage per seat-day: ``du`` of the database's shard and WAL folders 60 s after writing, and again
  once influxd has compacted them (it is started with 10 s / 30 s cold durations for that), scaled from
  the hours written to 24;
- (e) peak memory: each of (a)–(c) runs in a fresh process (spawn) and reports its own peak RSS
  (``VmHWM``).

Each figure comes with the 1-minute load average when it started: the machine is shared. Last it fits
t = a + b·N through the two largest seat counts and extrapolates to 2,000 seats. Without --url it starts
its own influxd in a temporary folder (tests/services.py).
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import subprocess
import sys
import tempfile
import time
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from seatwatch.core.change_journal import change_lines  # noqa: E402
from seatwatch.core.influxql import InfluxQLClient, quote_ident  # noqa: E402
from tests.compliance_data import SiteSpec, calibration_line, write  # noqa: E402
from tests.services import Influxd  # noqa: E402

TZ = ZoneInfo("Asia/Shanghai")
DAY = datetime(2026, 3, 2, tzinfo=TZ)
SEATS_PER_ZONE = 100
GOAL_SEATS = 2000
LATE_HOUR = 10
BODY = 5000


def spec(seats: int) -> SiteSpec:
    ids = [f"S{i:05d}" for i in range(seats)]
    return SiteSpec(
        id=f"up{seats}",
        zones=[(f"z{z}", "agent", SEATS_PER_ZONE * 7.0) for z in range((seats + 99) // SEATS_PER_ZONE)],
        seats=[
            (s, f"z{i // SEATS_PER_ZONE}", (i % 40) * 1.5, (i // 40) * 1.5, None) for i, s in enumerate(ids)
        ],
        sensors=[(f"n-{s}", ("noise", "light")) for s in ids],
        installations=[(f"n-{s}", s, "2026-03-01T00:00:00+08:00", None) for s in ids],
    )


def _bodies(hours: range) -> tuple[list[str], list[str], list[str]]:
    """Per second of ``hours``: the noise and light field parts before the cal id, and the timestamp part
    after it. The level moves through ~20 1 dB bins an hour by day and sits near the floor at night, as
    in benchmarks/bench_analysis.py; the same for every seat, so lines are made by joining strings."""
    noise, light, tail = [], [], []
    for h in hours:
        for s in range(3600):
            t = DAY + timedelta(hours=h, seconds=s)
            laeq = 44.0 + (s * 37 % 1200) / 60 if 8 <= h < 22 else 34.0 + s % 5
            below = "true" if laeq < 35 else "false"
            noise.append(
                f"laeq={laeq!r},lafmax={laeq + 6:.1f},lafmin={laeq - 4:.1f},dur=1.0,"
                f"exposure={10 ** (laeq / 10)!r},raw_laeq={laeq - 1:.1f},below_floor={below},cal="
            )
            lux = 420.0 - s % 11
            light.append(f"lux={lux!r},raw_lux={lux / 1.1:.2f},cal=")
            tail.append(f" {int(t.timestamp()) * 10**9}")
    return noise, light, tail


def populate(url: str, db: str, site: SiteSpec, hours: range) -> tuple[int, float]:
    """Write ``hours`` of the day for every seat, 5,000-line bodies with their journal points, two in
    flight while the next seat's lines are made; returns (points, seconds)."""
    noise, light, tail = _bodies(hours)
    began, points = time.perf_counter(), 0

    def send(lines: list[str]) -> None:
        for i in range(0, len(lines), BODY):
            body = lines[i : i + BODY]
            # The journal points ingest writes with each body (every 1,800th line is enough to name every
            # hour a body of one seat's consecutive seconds touches, and keeps this cheap).
            write(url, db, body + change_lines([*body[::1800], body[-1]], time.time_ns()), BODY + 10)

    with ThreadPoolExecutor(max_workers=2) as pool:
        pending: list[Future[None]] = []
        for seat, zone, *_ in site.seats:
            head = f"sensor=n-{seat},site={site.id},seat={seat},zone={zone} "
            nh, lh = f"noise,{head}", f"light,{head}"
            cn, cl = f'"c-n-{seat}-noise"', f'"c-n-{seat}-light"'
            lines = [nh + b + cn + t for b, t in zip(noise, tail, strict=True)]
            lines += [lh + b + cl + t for b, t in zip(light, tail, strict=True)]
            points += len(lines)
            pending.append(pool.submit(send, lines))
            while len(pending) > 2:
                pending.pop(0).result()
        for job in pending:
            job.result()
    return points, time.perf_counter() - began


def peak_mb() -> float:
    """This process's peak resident memory (VmHWM: unlike ru_maxrss it starts afresh at exec)."""
    for row in Path("/proc/self/status").read_text().splitlines():
        if row.startswith("VmHWM:"):
            return int(row.split()[1]) / 1024
    return float("nan")


def _child(task: str, site_path: str, now_iso: str, out: Any) -> None:
    """Runs in a fresh process: one measured step, then its seconds and peak RSS (MB) on ``out``."""
    from analysis.compliance import command as ac
    from analysis.compliance.engine import assess
    from analysis.compliance.inputs import load_inputs
    from analysis.report.command import write_report
    from analysis.report.document import report_document

    start = (DAY - timedelta(hours=23)).isoformat()
    args = argparse.Namespace(
        site=site_path,
        start=start,
        end=(DAY + timedelta(hours=1)).isoformat(),
        profile=None,
        min_coverage=None,
    )
    inputs = load_inputs(args)
    sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - the per-window lines would drown the figures
    began = time.perf_counter()
    if task == "report":
        a = assess(
            inputs.site, inputs.profile, inputs.client, DAY, DAY + timedelta(days=30), source="rollups"
        )
        write_report(report_document(a), Path(site_path).parent / "report", pdf=False)
        done: Any = a.source
    else:
        done = ac.service_run(inputs, timedelta(hours=1), int(task), None, datetime.fromisoformat(now_iso))
    seconds = time.perf_counter() - began
    out.put((seconds, peak_mb(), done))


def measured(task: str, site_path: Path, now: datetime) -> tuple[float, float, Any, float]:
    """(seconds, peak MB, result, load average) of one step in a fresh process."""
    load = os.getloadavg()[0]
    ctx = multiprocessing.get_context("spawn")
    queue = ctx.Queue()
    proc = ctx.Process(target=_child, args=(task, str(site_path), now.isoformat(), queue))
    proc.start()
    seconds, peak, result = queue.get()
    proc.join()
    return seconds, peak, result, load


def copy_rollups(
    client: InfluxQLClient,
    url: str,
    db: str,
    site: str,
    source: tuple[datetime, datetime],
    offsets: list[timedelta],
) -> int:
    """Copy the seat_rollup and seat_rollup_state points of ``source`` shifted by each offset; returns
    points written."""
    a, b = (int(t.timestamp()) * 10**9 for t in source)
    copied = 0
    tag_sets = (
        ("seat_rollup", ("calendar", "hours", "seat", "site")),
        ("seat_rollup_state", ("calendar", "site")),
    )
    for measurement, tag_keys in tag_sets:
        where = f"\"site\" = '{site}' AND time >= {a} AND time < {b}"
        for series in client.query(f'SELECT * FROM "{measurement}" WHERE {where}', epoch="ns"):
            cols = series.columns
            lines = []
            for row in series.values:
                tags = ",".join(f"{k}={row[cols.index(k)]}" for k in tag_keys)
                fields = ",".join(
                    f"{c}={int(v)}i" if c in ("seats", "journal") else f"{c}={float(v)!r}"
                    for c, v in zip(cols, row, strict=True)
                    if c not in tag_keys and c != "time" and v is not None
                )
                lines += [
                    f"{measurement},{tags} {fields} {row[0] + int(d.total_seconds()) * 10**9}"
                    for d in offsets
                ]
            write(url, db, lines)
            copied += len(lines)
    return copied


def du_mb(data_dir: Path, db: str) -> float:
    total = 0
    for sub in ("data", "wal"):
        folder = data_dir / sub / db
        if folder.exists():
            total += int(
                subprocess.run(
                    ["du", "-sb", str(folder)], capture_output=True, text=True, check=True
                ).stdout.split()[0]
            )
    return total / 1e6


def compacted_mb(data_dir: Path, db: str) -> float:
    """``du`` once every shard is one fully compacted TSM file: influxd compacts a shard after its writes
    go cold (30 s when this benchmark starts influxd, see main), which takes minutes for a day at 1 Hz;
    polled every 30 s for up to 15 minutes."""
    for _ in range(30):
        shards = [p for p in (data_dir / "data" / db).glob("*/*") if p.is_dir()]
        if all(len(list(p.glob("*.tsm"))) <= 1 and not list(p.glob("*.tmp")) for p in shards):
            break
        time.sleep(30)
    return du_mb(data_dir, db)


def run_one(url: str, data_dir: Path, folder: Path, seats: int, hours: int) -> dict[str, float]:
    db = f"bench_upkeep_{seats}"
    client = InfluxQLClient(url, db, timeout_s=3600)
    client.command(f"DROP DATABASE {quote_ident(db)}")
    client.command(f"CREATE DATABASE {quote_ident(db)}")
    site = spec(seats)
    site_path = site.write(folder, url, db)
    cal_end = DAY + timedelta(days=300)
    cal = [
        calibration_line(site.id, f"n-{s[0]}", q, DAY - timedelta(days=10), cal_end)
        for s in site.seats
        for q in ("noise", "light")
    ]
    write(url, db, cal)
    fig: dict[str, float] = {}

    def say(text: str) -> None:
        print(f"N={seats}: {text}", flush=True)

    def step(label: str, task: str, now: datetime, key: str) -> Any:
        seconds, mb, result, load = measured(task, site_path, now)
        say(f"{label}: {seconds:.1f} s, peak {mb:.0f} MB, load {load:.1f}")
        fig[key], fig[f"{key}_mb"] = seconds, mb
        return result

    first = 24 - hours  # readings are written for the day's last ``hours`` hours
    points, secs = populate(url, db, site, range(first, 23))
    say(f"wrote hours {first:02d}-23 of the day: {points:,} points in {secs:.0f} s ({points / secs:,.0f}/s)")
    settle = timedelta(minutes=3)
    done = step(
        f"first run (roll up hours up to 23, {23 - first} with readings; judge 23 windows)",
        "0",
        DAY + timedelta(hours=23) + settle,
        "first",
    )
    if first:  # the day's earlier hours get copies of the rolled-up ones, so each window has 24 h to judge
        copied = 0
        for h in range(first):
            src = DAY + timedelta(hours=first + h % (23 - first))
            copied += copy_rollups(
                client, url, db, site.id, (src, src + timedelta(hours=1)), [DAY + timedelta(hours=h) - src]
            )
        say(f"copied rollups into hours 00-{first - 1:02d} ({copied:,} points)")
    points, secs = populate(url, db, site, range(23, 24))
    say(f"wrote hour 23: {points:,} points in {secs:.0f} s")
    done = step(
        "(a) hourly upkeep after one new hour", str(done), DAY + timedelta(hours=24) + settle, "hourly"
    )
    time.sleep(60)
    fig["du_mb"] = du_mb(data_dir, db) * 24 / hours
    per_seat_day = fig["du_mb"] * 1e3 / seats
    say(
        f"(d) storage 60 s after writing {hours} h, scaled to 24 h: {fig['du_mb']:.0f} MB = "
        f"{per_seat_day:.0f} kB per seat-day ({fig['du_mb'] * 1e6 / (seats * 172800):.2f} B/point)"
    )
    points, secs = populate(url, db, site, range(LATE_HOUR, LATE_HOUR + 1))
    say(
        f"late data: readings for {LATE_HOUR}:00-{LATE_HOUR + 1}:00 arrive, {points:,} points in {secs:.0f} s"
    )
    late_now = DAY + timedelta(hours=24, minutes=5) + settle
    step(
        "(b) upkeep after late data (1 h rolled up, the 14 windows holding it judged again)",
        str(done),
        late_now,
        "late",
    )
    copied = copy_rollups(
        client, url, db, site.id, (DAY, DAY + timedelta(days=1)), [timedelta(days=d) for d in range(1, 30)]
    )
    say(f"copied the day's rollups to 29 more days ({copied:,} points)")
    step("(c) 30-day report from rollups", "report", DAY, "report")
    fig["du_compacted_mb"] = compacted_mb(data_dir, db) * 24 / hours
    say(
        f"(d) storage once influxd has compacted (readings and rollups), scaled to 24 h: "
        f"{fig['du_compacted_mb']:.0f} MB = {fig['du_compacted_mb'] * 1e3 / seats:.0f} kB per seat-day "
        f"({fig['du_compacted_mb'] * 1e6 / (seats * 172800):.2f} B/point)"
    )
    return fig


def extrapolate(figs: dict[int, dict[str, float]]) -> None:
    n1, n2 = sorted(figs)[-2:]
    for key in ("hourly", "late", "report", "hourly_mb", "late_mb", "report_mb", "du_mb", "du_compacted_mb"):
        t1, t2 = figs[n1][key], figs[n2][key]
        slope = (t2 - t1) / (n2 - n1)
        at_goal = t2 + slope * (GOAL_SEATS - n2)
        print(
            f"{key}: {n1} seats {t1:.1f}, {n2} seats {t2:.1f} (×{t2 / t1:.2f} for ×{n2 / n1:.2f} seats); "
            f"straight line a + b·N: {GOAL_SEATS} seats ≈ {at_goal:.1f}; "
            f"proportional: {t2 * GOAL_SEATS / n2:.1f}",
            flush=True,
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seats", default="200,500")
    parser.add_argument("--hours", type=int, default=24, help="hours of readings per seat (4-24, default 24)")
    parser.add_argument("--url", help="an influxd to use (default: start one); needs --data-dir")
    parser.add_argument("--data-dir", type=Path, help="that influxd's folder holding data/ and wal/")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        server = None
        url, data_dir = args.url, args.data_dir
        if url is None:
            # influxd's own defaults wait 10 min (cache snapshot) and 4 h (full compaction) after the last
            # write; the storage figure is for compacted shards, so let them go cold sooner.
            os.environ.setdefault("INFLUXDB_DATA_CACHE_SNAPSHOT_WRITE_COLD_DURATION", "10s")
            os.environ.setdefault("INFLUXDB_DATA_COMPACT_FULL_WRITE_COLD_DURATION", "30s")
            server = Influxd(Path(tmp) / "influxd")
            server.start()
            url, data_dir = server.url, Path(tmp) / "influxd"
        try:
            figs = {
                n: run_one(url, data_dir, Path(tmp), n, args.hours)
                for n in sorted(int(s) for s in args.seats.split(","))
            }
            if len(figs) >= 2:
                extrapolate(figs)
        finally:
            if server is not None:
                server.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
