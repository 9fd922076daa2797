"""The compliance engine against data written to a real influxd, one scenario per seat (issue #6)."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from analysis.compliance.engine import Assessment, SeatResult, assess
from analysis.compliance.inputs import parse_moment
from seatwatch.cli import main
from seatwatch.core.influxql import InfluxQLClient
from seatwatch.core.rules.profile import load_rules_profile
from seatwatch.core.site_file import load_site
from tests import compliance_floor
from tests.compliance_data import SiteSpec, light_lines, noise_lines, write
from tests.compliance_floor import END, SPEC, START

pytestmark = pytest.mark.integration
floor_db = compliance_floor.floor_db  # the module-scoped fixture that writes the test floor


@pytest.fixture(scope="module")
def floor(influx_url: str, floor_db: str, tmp_path_factory: pytest.TempPathFactory) -> Assessment:
    path = SPEC.write(tmp_path_factory.mktemp("floor"), influx_url, floor_db)
    site = load_site(path)
    return assess(
        site, load_rules_profile(site.profile), InfluxQLClient(influx_url, floor_db), START, END, source="raw"
    )


def seat(a: Assessment, seat_id: str) -> SeatResult:
    return next(s for s in a.seats if s.seat == seat_id)


def check(a: Assessment, seat_id: str, check_id: str):  # noqa: ANN201 - a CheckResult
    return next(c for c in seat(a, seat_id).checks if c.check == check_id)


def test_good_seat_passes_every_check(floor: Assessment) -> None:
    good = seat(floor, "GOOD")
    assert good.verdict == "pass", [(c.check, c.verdict, c.reasons) for c in good.checks]
    noise = check(floor, "GOOD", "noise")
    assert noise.value == pytest.approx(48.0, abs=0.01)
    assert noise.coverage == pytest.approx(1.0, abs=0.001)
    assert check(floor, "GOOD", "background").value == pytest.approx(36.0, abs=0.01)
    assert check(floor, "GOOD", "area").value == pytest.approx(7.0)
    assert noise.details["laeq_p10"] == pytest.approx(48.0, abs=0.5)  # 1 dB histogram bins


def test_energy_mean_fails_where_arithmetic_mean_would_pass(floor: Assessment) -> None:
    noise = check(floor, "ENERGY", "noise")
    assert noise.verdict == "fail"
    assert noise.value == pytest.approx(61.03, abs=0.05)  # the arithmetic mean would be 52.0
    assert noise.details["laeq_p10"] == pytest.approx(64.0, abs=0.5)
    assert noise.details["laeq_p90"] == pytest.approx(40.0, abs=0.5)
    assert seat(floor, "ENERGY").verdict == "fail"


def test_light_below_requirement_only_in_the_evening(floor: Assessment) -> None:
    light = check(floor, "EVENING", "light")
    assert light.verdict == "fail"
    assert light.value == pytest.approx(150.0)
    assert light.details["mean_lux"] == pytest.approx((10 * 400 + 4 * 150) / 14, abs=0.5)
    assert light.details["below_required_share"] == pytest.approx(4 / 14, abs=0.01)
    assert any("18:00–22:00" in r for r in light.reasons), light.reasons


def test_sixty_percent_coverage_is_insufficient_not_pass(floor: Assessment) -> None:
    for check_id in ("noise", "light", "background"):
        result = check(floor, "SPARSE", check_id)
        assert result.verdict == "insufficient_data", (check_id, result.reasons)
        assert result.coverage == pytest.approx(0.6, abs=0.01)
        assert any("60%" in r for r in result.reasons)
    assert seat(floor, "SPARSE").verdict == "insufficient_data"


def test_swapped_sensor_data_is_attributed_to_the_seat(floor: Assessment) -> None:
    swap = check(floor, "SWAP", "noise")
    assert swap.value == pytest.approx(50.0, abs=0.01)
    assert swap.coverage == pytest.approx(1.0, abs=0.001)  # day 1 from nz-a, day 2 from nz-b
    calibration = check(floor, "SWAP", "calibration")
    assert calibration.details["sensors"] == "lx-swap, nz-a, nz-b"
    moved = check(floor, "MOVED", "noise")
    assert moved.value == pytest.approx(58.0, abs=0.01)  # only nz-a's day at MOVED
    assert moved.coverage == pytest.approx(0.5, abs=0.01)
    assert moved.verdict == "insufficient_data"


def test_seat_using_another_seats_sensor(floor: Assessment) -> None:
    proxy, good = seat(floor, "PROXY"), seat(floor, "GOOD")
    assert proxy.data_seat == "GOOD"
    assert [(c.check, c.value, c.verdict) for c in proxy.checks] == [
        (c.check, c.value, c.verdict) for c in good.checks
    ]
    assert check(floor, "PROXY", "calibration").details["sensors"] == "s-GOOD"


def test_expired_calibration_keeps_the_seat_from_passing(floor: Assessment) -> None:
    calibration = check(floor, "EXPIRED", "calibration")
    assert calibration.verdict == "insufficient_data"
    assert any("s-EXPIRED (noise)" in r and "2026-03-03 04:00" in r for r in calibration.reasons)
    assert check(floor, "EXPIRED", "noise").verdict == "pass"  # the data itself is fine
    assert seat(floor, "EXPIRED").verdict == "insufficient_data"


def test_background_below_the_sensor_floor_is_an_upper_bound(floor: Assessment) -> None:
    background = check(floor, "QUIET", "background")
    assert background.details["upper_bound"] == "yes"
    assert any("below the sensor's measurable range" in r for r in background.reasons)


def test_zone_uniformity_uses_seat_means(floor: Assessment) -> None:
    (zone,) = floor.zones
    (uniformity,) = zone.checks
    assert uniformity.check == "uniformity"
    assert uniformity.value is not None and 0.8 < uniformity.value < 1.0
    assert floor.summary()["seats"] == 9


def test_hours_are_taken_in_the_sites_time_zone_across_dst(
    influx_url: str, influx_db: str, tmp_path: Path
) -> None:
    """New York moves to summer time on 2026-03-08: occupied 09:00–17:00 local is 14:00–22:00 UTC before
    and 13:00–21:00 UTC after. Loud only in local office hours: any UTC or fixed-offset slip mixes the
    60 dB hours into the 35 dB background and shows here."""
    ny = ZoneInfo("America/New_York")
    spec = SiteSpec(
        id="dst",
        timezone="America/New_York",
        shifts=[("daily", "09:00", "17:00")],
        zones=[("z", "agent", 12.0)],
        seats=[("NY1", "z", 1.0, 1.0, None)],
        sensors=[("s-ny", ("noise", "light"))],
        installations=[("s-ny", "NY1", "2026-03-01T00:00:00-05:00", None)],
    )
    start, end = parse_moment("2026-03-07", ny, "--from"), parse_moment("2026-03-10", ny, "--to")

    def level(t: datetime) -> float:
        return 60.0 if 9 <= t.astimezone(ny).hour < 17 else 35.5

    lines = noise_lines("dst", "z", "NY1", "s-ny", start, end, level)
    lines += light_lines("dst", "z", "NY1", "s-ny", start, end, lambda t: 300.0)
    write(influx_url, influx_db, lines)
    site = load_site(spec.write(tmp_path, influx_url, influx_db))
    result = assess(site, load_rules_profile("iac-csc"), InfluxQLClient(influx_url, influx_db), start, end)
    (ny1,) = result.seats
    noise = next(c for c in ny1.checks if c.check == "noise")
    background = next(c for c in ny1.checks if c.check == "background")
    assert noise.value == pytest.approx(60.0, abs=0.01)
    assert background.value == pytest.approx(35.5, abs=0.01)
    assert noise.coverage == pytest.approx(1.0, abs=0.001)
    assert background.coverage == pytest.approx(1.0, abs=0.001)
    assert end - start == timedelta(hours=71)  # the period itself lost an hour to DST


def test_rollups_give_the_same_verdicts_as_the_readings(
    influx_url: str, floor_db: str, floor: Assessment, tmp_path: Path
) -> None:
    """``analyze`` writes rollups; a report over the same period then reads them and agrees with the raw
    figures (values to rounding, L10/L90 exactly: both come from the same histogram)."""
    site = SPEC.write(tmp_path, influx_url, floor_db)
    assert main(["analyze", "--site", str(site), "--from", START.isoformat(), "--to", END.isoformat()]) == 0
    client = InfluxQLClient(influx_url, floor_db)
    rolled = assess(floor.site, floor.profile, client, START, END, source="auto")
    assert rolled.source == "rollups" and floor.source == "raw"
    for raw_seat, rolled_seat in zip(floor.seats, rolled.seats, strict=True):
        assert rolled_seat.verdict == raw_seat.verdict, raw_seat.seat
        assert rolled_seat.daily == raw_seat.daily, raw_seat.seat
        for a, b in zip(raw_seat.checks, rolled_seat.checks, strict=True):
            assert (b.check, b.verdict, b.reasons) == (a.check, a.verdict, a.reasons), raw_seat.seat
            assert b.value == pytest.approx(a.value, abs=1e-6) if a.value is not None else b.value is None
            assert b.coverage == pytest.approx(a.coverage, abs=1e-9)
            for k, v in a.details.items():
                assert b.details[k] == (pytest.approx(v, abs=1e-6) if isinstance(v, float) else v), (
                    k,
                    a.check,
                )
    assert rolled.zones[0].checks[0].value == pytest.approx(floor.zones[0].checks[0].value)
