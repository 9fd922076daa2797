"""The hourly service follows late readings: the change journal brings them into the rollups and the
verdicts of their day at the next hourly run, with no manual rerun; rollups built an hour at a time give
the same figures as the readings."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from analysis.compliance.command import service_run, windows_touching
from analysis.compliance.engine import Assessment, assess
from analysis.compliance.inputs import Inputs
from analysis.compliance.upkeep import hour_spans
from ingest.writers.v1_http import V1HttpWriter
from seatwatch.core.change_journal import JournalWriter, change_lines, touched_hours
from seatwatch.core.influxql import InfluxQLClient
from seatwatch.core.rules.profile import load_rules_profile
from seatwatch.core.site_file import load_site
from tests.compliance_data import SiteSpec, calibration_line, light_lines, noise_lines, write

TZ = ZoneInfo("Asia/Shanghai")
D0 = datetime(2026, 3, 2, tzinfo=TZ)  # the service starts here; "today" is D0 + 4 days
TODAY = D0 + timedelta(days=4)
LATE_DAY = TODAY - timedelta(days=3)
EVERY = timedelta(hours=1)

SPEC = SiteSpec(
    id="late",
    zones=[("z", "agent", 30.0)],
    seats=[("A", "z", 1.0, 1.0, None), ("B", "z", 3.0, 1.0, None)],
    sensors=[("s-A", ("noise", "light")), ("s-B", ("noise", "light"))],
    installations=[
        ("s-A", "A", "2026-03-01T00:00:00+08:00", None),
        ("s-B", "B", "2026-03-01T00:00:00+08:00", None),
    ],
)


def occupied(t: datetime) -> bool:
    return 8 <= t.astimezone(TZ).hour < 22


def quiet(t: datetime) -> float:
    """50 dB while occupied (passes: ≤ 52 target), 36 dB background; two distinct bins for L10/L90."""
    return (49.0 if t.minute % 3 else 51.5) if occupied(t) else 36.0


def seat_a_before(t: datetime) -> float | None:
    """Seat A's bridge was cut off during the late day's working hours: nothing arrived then."""
    if LATE_DAY <= t < LATE_DAY + timedelta(days=1) and occupied(t):
        return None
    return quiet(t)


def loud(t: datetime) -> float | None:
    """What seat A's bridge sends once it is back: 70 dB for the hours it missed."""
    return 70.0 if LATE_DAY <= t < LATE_DAY + timedelta(days=1) and occupied(t) else None


def store(url: str, db: str, lines: list[str]) -> None:
    """Write readings in 5,000-line bodies through the writer ingest uses, journaled."""
    writer = JournalWriter(V1HttpWriter(url, db, None))
    for i in range(0, len(lines), 5000):
        writer.write(lines[i : i + 5000])


def readings(
    seat: str, level: Callable[[datetime], float | None], start: datetime, end: datetime
) -> list[str]:
    """Noise at ``level`` and light (420 lx less a little) whenever the seat's bridge sends at all."""
    lines = noise_lines(SPEC.id, "z", seat, f"s-{seat}", start, end, level)

    def lux(t: datetime) -> float | None:
        return None if level(t) is None else 420.0 - t.minute % 7

    return lines + light_lines(SPEC.id, "z", seat, f"s-{seat}", start, end, lux)


def verdict(client: InfluxQLClient, seat: str, check: str, window_start: datetime) -> tuple[str, float]:
    ns = int(window_start.timestamp()) * 10**9
    q = (
        f'SELECT "verdict", "value" FROM "compliance" WHERE "site" = \'{SPEC.id}\' AND "seat" = \'{seat}\' '
        f"AND \"check\" = '{check}' AND time = {ns}"
    )
    series = client.query(q)
    assert series, (seat, check, window_start)
    return series[0].values[-1][1], series[0].values[-1][2]


def same_figures(raw: Assessment, rolled: Assessment) -> None:
    assert raw.source == "raw" and rolled.source == "rollups"
    for a_seat, b_seat in zip(raw.seats, rolled.seats, strict=True):
        assert a_seat.daily == b_seat.daily
        for a, b in zip(a_seat.checks, b_seat.checks, strict=True):
            assert (b.check, b.verdict) == (a.check, a.verdict)
            assert b.value == pytest.approx(a.value, abs=1e-9) if a.value is not None else b.value is None
            assert b.coverage == pytest.approx(a.coverage, abs=1e-12)
            assert b.details.keys() == a.details.keys()
            for k, v in a.details.items():
                assert b.details[k] == (pytest.approx(v, abs=1e-9) if isinstance(v, float) else v), k


def test_late_readings_change_their_day_at_the_next_hourly_run(
    influx_url: str, influx_db: str, tmp_path: Path
) -> None:
    client = InfluxQLClient(influx_url, influx_db)
    cal_end = TODAY + timedelta(days=30)
    write(
        influx_url,
        influx_db,
        [
            calibration_line(SPEC.id, f"s-{s}", q, D0 - timedelta(days=5), cal_end)
            for s in "AB"
            for q in ("noise", "light")
        ],
    )
    store(influx_url, influx_db, readings("A", seat_a_before, D0, TODAY + timedelta(hours=1)))
    store(influx_url, influx_db, readings("B", quiet, D0, TODAY + timedelta(hours=1)))
    site = load_site(SPEC.write(tmp_path, influx_url, influx_db))
    profile = load_rules_profile(site.profile)
    inputs = Inputs(site, profile, D0, D0 + timedelta(days=1), client, influx_url, influx_db, None)

    # The service's first run catches up: it rolls up four days and judges the 73 windows that ended.
    done = service_run(inputs, EVERY, 0, None, TODAY + timedelta(minutes=3))
    assert done == 73
    day_window = round((LATE_DAY - D0) / EVERY)  # the window that is exactly the late day
    assert verdict(client, "A", "noise", LATE_DAY)[0] == "insufficient_data"
    assert verdict(client, "B", "noise", LATE_DAY)[0] == "pass"

    # Seat A's bridge delivers the late day's readings; until the next hourly run nothing changes.
    late = readings("A", loud, LATE_DAY, LATE_DAY + timedelta(days=1))
    assert sorted(touched_hours(late)[SPEC.id]) == [
        int((LATE_DAY + timedelta(hours=h)).timestamp()) * 10**9 for h in range(8, 22)
    ]
    store(influx_url, influx_db, late)
    assert verdict(client, "A", "noise", LATE_DAY)[0] == "insufficient_data"

    done = service_run(inputs, EVERY, done, None, TODAY + timedelta(hours=1, minutes=3))
    assert done == 74
    value_verdict = verdict(client, "A", "noise", LATE_DAY)
    assert value_verdict[0] == "fail"
    assert value_verdict[1] == pytest.approx(70.0, abs=1e-9)  # every occupied reading of the day is 70 dB
    assert verdict(client, "B", "noise", LATE_DAY)[0] == "pass"
    # Windows that overlap the late day but started the day before were judged again too.
    assert verdict(client, "A", "noise", LATE_DAY - timedelta(hours=10))[0] == "fail"
    assert day_window in windows_touching(
        D0, D0 + timedelta(days=1), EVERY, done, hour_spans([int(LATE_DAY.timestamp()) * 1000])
    )

    # The late day's rollups, built by the hourly runs, give the figures the readings give.
    end = LATE_DAY + timedelta(days=1)
    rolled = assess(site, profile, client, LATE_DAY, end, source="rollups")
    raw = assess(site, profile, client, LATE_DAY, end, source="raw")
    same_figures(raw, rolled)
    noise = next(c for c in next(s for s in rolled.seats if s.seat == "A").checks if c.check == "noise")
    assert noise.coverage == pytest.approx(1.0)


def test_windows_touching_a_span() -> None:
    start = datetime(2026, 3, 1, tzinfo=ZoneInfo("UTC"))
    hour = [(start + timedelta(hours=30), start + timedelta(hours=31))]
    # 24 h windows every hour: hour 30 lies in the windows starting at hours 7 … 30.
    assert windows_touching(start, start + timedelta(days=1), EVERY, 100, hour) == set(range(7, 31))
    assert windows_touching(start, start + timedelta(days=1), EVERY, 10, hour) == set(range(7, 10))
    assert windows_touching(start, start + timedelta(days=1), timedelta(days=1), 5, hour) == {1}


def test_journal_names_each_site_hour_a_body_touches() -> None:
    hour = 3600 * 10**9
    t0 = 1_772_380_800 * 10**9  # a whole UTC hour
    lines = [
        f"noise,sensor=s1,site=east,seat=A,zone=z laeq=50.0,dur=1.0 {t0 + hour - 1}",
        f"light,sensor=s1,site=east,seat=A,zone=z lux=400.0 {t0 + hour}",
        f"noise,seat=B,site=west laeq=50.0,dur=1.0 {t0 + 5 * hour + 7}",
        f'rejects,reason=bad,site=east detail="x" {t0 + 9 * hour}',  # not a reading: not journaled
        f'calibration,quantity=noise,sensor=s1,site=east id="c" {t0 + 9 * hour}',
    ]
    assert touched_hours(lines) == {"east": {t0, t0 + hour}, "west": {t0 + 5 * hour}}
    assert change_lines(lines, 42) == [
        f"seat_changes,site=east written=42i {t0}",
        f"seat_changes,site=east written=42i {t0 + hour}",
        f"seat_changes,site=west written=42i {t0 + 5 * hour}",
    ]
