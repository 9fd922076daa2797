"""The report's daily series across DST (Europe/Berlin, 2026): days from local midnight to local midnight
— 23 h on 2026-03-29, 25 h on 2026-10-25 — and the same values from the readings and from the rollups.

The expected values are computed here from the readings written, day by day with zoneinfo, not with
seatwatch's code. Each local day has its own level and light (the light falls from day to day and is lowest
in the first hour of a day), so an hour counted in the wrong day moves that day's LAeq and lowest lux.
"""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from analysis.compliance.daily import local_days
from analysis.compliance.engine import assess
from analysis.compliance.inputs import parse_moment
from seatwatch.cli import main
from seatwatch.core.influxql import InfluxQLClient
from seatwatch.core.rules.profile import load_rules_profile
from seatwatch.core.site_file import load_site
from tests.compliance_data import SiteSpec, light_lines, minutes, noise_lines, write

BERLIN = ZoneInfo("Europe/Berlin")
STEP_S = 300


def level(t: datetime) -> float:
    local = t.astimezone(BERLIN)
    return 45.0 + 4.0 * (local.day % 4) + (local.hour % 3)


def lux(t: datetime) -> float:
    local = t.astimezone(BERLIN)
    return 700.0 - 10.0 * local.day + local.hour


def midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=BERLIN)


def expected_daily(first: date, days: int) -> dict[str, list[float | None]]:
    """Per local day: the energy mean of its 5-minute levels and the lowest hourly mean of its lux."""
    laeq: list[float | None] = []
    low: list[float | None] = []
    for i in range(days):
        a, b = midnight(first + timedelta(days=i)), midnight(first + timedelta(days=i + 1))
        times = list(minutes(a.astimezone(UTC), b.astimezone(UTC), STEP_S))  # aware + timedelta is wall time
        laeq.append(round(10 * math.log10(sum(10 ** (level(t) / 10) for t in times) / len(times)), 1))
        hourly: dict[datetime, list[float]] = {}
        for t in times:
            hourly.setdefault(t.replace(minute=0, second=0), []).append(lux(t))
        low.append(round(min(sum(v) / len(v) for v in hourly.values()), 0))
    return {"laeq_occupied": laeq, "lux_min_occupied": low}


@pytest.mark.parametrize(
    ("first", "change", "hours"),
    [(date(2026, 3, 28), date(2026, 3, 29), 23), (date(2026, 10, 24), date(2026, 10, 25), 25)],
)
def test_local_days_have_23_and_25_hours_across_dst(first: date, change: date, hours: int) -> None:
    start, end = midnight(first), midnight(first + timedelta(days=3))
    days = local_days(start, end, BERLIN)
    assert days.starts == [midnight(first + timedelta(days=i)) for i in range(3)]
    assert days.ends == [midnight(first + timedelta(days=i)) for i in range(1, 4)]
    # Timestamps, not ``e - d``: Python subtracts two times of one zone as wall-clock times.
    lengths = {
        d.date(): (e.timestamp() - d.timestamp()) / 3600 for d, e in zip(days.starts, days.ends, strict=True)
    }
    assert lengths == {first: 24, change: hours, change + timedelta(days=1): 24}
    # One stretch up to the change day's end, one after it: the midnights' UTC offset changed.
    (off_a, a0, a1), (off_b, b0, b1) = days.stretches()
    assert (a0, a1, b0, b1) == (start, midnight(change + timedelta(days=1)), a1, end)
    assert off_a == int(start.timestamp()) % 86400 and off_b == int(a1.timestamp()) % 86400 != off_a


@pytest.mark.integration
@pytest.mark.parametrize("first", [date(2026, 3, 28), date(2026, 10, 24)])
def test_readings_and_rollups_give_the_same_local_days_across_dst(
    first: date, influx_url: str, influx_db: str, tmp_path: Path
) -> None:
    spec = SiteSpec(
        id=f"dst{first.month}",
        timezone="Europe/Berlin",
        shifts=[("daily", "00:00", "24:00")],
        zones=[("z", "agent", 12.0)],
        seats=[("B1", "z", 1.0, 1.0, None)],
        sensors=[("s-b", ("noise", "light"))],
        installations=[("s-b", "B1", "2026-01-01T00:00:00+01:00", None)],
    )
    start = parse_moment(first.isoformat(), BERLIN, "--from")
    end = parse_moment((first + timedelta(days=3)).isoformat(), BERLIN, "--to")
    lines = noise_lines(spec.id, "z", "B1", "s-b", start, end, level, step_s=STEP_S)
    lines += light_lines(spec.id, "z", "B1", "s-b", start, end, lux, step_s=STEP_S)
    write(influx_url, influx_db, lines)
    path = spec.write(tmp_path, influx_url, influx_db)
    site = load_site(path)
    profile = load_rules_profile("iac-csc")
    client = InfluxQLClient(influx_url, influx_db)

    raw = assess(site, profile, client, start, end, source="raw")
    args = ["analyze", "--site", str(path), "--from", start.isoformat(), "--to", end.isoformat()]
    assert main(args) == 0
    rolled = assess(site, profile, client, start, end, source="rollups")

    expected = expected_daily(first, 3)
    assert raw.days == rolled.days == [midnight(first + timedelta(days=i)) for i in range(3)]
    (raw_seat,), (rolled_seat,) = raw.seats, rolled.seats
    assert raw_seat.daily == expected
    assert rolled_seat.daily == expected
