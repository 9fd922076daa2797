"""Generated alert rules and the sensor-health roster, run against a real influxd: one seat fed 70 dB,
one sensor stopped, calibrations fresh and nearly due."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest

from dashboards import bundle
from seatwatch.core.calibration_records import CalibrationRecord, record_line
from seatwatch.core.influxql import InfluxQLClient
from seatwatch.core.line_protocol import line, write_v1
from seatwatch.core.settings import load_services
from seatwatch.core.site import Installation, Site
from seatwatch.core.site_file import load_site
from seatwatch.core.vocabulary import Quantity
from tests.conftest import EXAMPLE_SITE
from tests.dashboards_evaluate import evaluate, outer_join, static_rows
from tests.dashboards_macros import expand

pytestmark = pytest.mark.integration
S = 1_000_000_000


def _installed(site: Site, sensor: str) -> Installation:
    """Where ``sensor`` is installed now (every sensor used here is)."""
    inst = site.installation_at(sensor, datetime.now(UTC))
    assert inst is not None, sensor
    return inst


def _reading(site: Site, sensor: str, t_s: int, laeq: float) -> list[str]:
    inst = _installed(site, sensor)
    tags = {"site": site.id, "zone": site.seats[inst.seat].zone, "seat": inst.seat, "sensor": sensor}
    noise: dict[str, float | bool | str] = {"laeq": laeq, "lafmax": laeq + 3, "lafmin": laeq - 3, "dur": 60.0}
    noise |= {"exposure": 60 * 10 ** (laeq / 10), "raw_laeq": laeq, "below_floor": False, "cal": "c"}
    light: dict[str, float | str] = {"lux": 400.0, "raw_lux": 400.0, "cal": "c"}
    return [line("noise", tags, noise, t_s * S), line("light", tags, light, t_s * S)]


def _calibration(site_id: str, sensor: str, days_ago: int) -> str:
    performed = datetime.now(UTC) - timedelta(days=days_ago)
    record = CalibrationRecord(
        f"cal-{sensor}",
        sensor,
        Quantity.NOISE,
        "sound-calibrator",
        performed,
        performed + timedelta(days=365),
        0.1,
    )
    return record_line(site_id, record)


def test_noise_silent_and_calibration_rules_and_roster(influx_url: str, influx: InfluxQLClient) -> None:
    site = load_site(EXAMPLE_SITE)
    built = bundle.build(site, load_services(site.services, env={}))
    loud, quiet, stopped = "ref-001", "ref-002", "ref-003"
    seat_of = {s: _installed(site, s).seat for s in (loud, quiet, stopped)}
    now = int(time.time())
    lines = []
    for minute in range(14):  # the last 14 minutes: 70 dB at one seat, 50 dB at another
        lines += _reading(site, loud, now - 60 * (minute + 1), 70.0)
        lines += _reading(site, quiet, now - 60 * (minute + 1), 50.0)
    for minute in range(30, 45):  # the stopped sensor's last reading is 31 minutes old
        lines += _reading(site, stopped, now - 60 * minute, 50.0)
    lines += [_calibration(site.id, loud, 30), _calibration(site.id, quiet, 350)]  # due in 15 days
    write_v1(influx_url, influx.database, lines)

    rules = {r["uid"]: r for g in built.rule_groups for r in g.rules}
    uid = f"sw-{site.id}-"
    # Noise: the loud seat alone, at its energy mean (70 dB readings only), above the required 55.
    (fired,) = evaluate(rules[uid + "noise-agents-east"], influx)
    assert fired["labels"]["seat"] == seat_of[loud] and fired["value"] == pytest.approx(70.0, abs=1e-9)
    assert fired["labels"] | {"site": site.id, "zone": "agents-east", "check": "noise"} == fired["labels"]
    assert evaluate(rules[uid + "light-agents-east"], influx) == []  # 400 lx is above 200
    # Silent: the stopped sensor fires (no rows), the reporting ones do not; never-reported ones do too.
    silent = {r["labels"]["sensor"] for u, r in rules.items() if "-silent-" in u and evaluate(r, influx)}
    assert stopped in silent and loud not in silent and quiet not in silent
    assert silent == set(site.sensors) - {loud, quiet}
    (stale,) = evaluate(rules[uid + f"silent-{stopped}"], influx)
    assert stale["labels"]["seat"] == seat_of[stopped] and stale["labels"]["check"] == "sensor-silent"
    # Calibration: calibrated 30 days ago is fine; 350 days ago with 365-day validity is due within 30.
    assert evaluate(rules[uid + f"cal-{loud}-noise"], influx) == []
    assert evaluate(rules[uid + f"cal-{quiet}-noise"], influx) != []
    # Ingest: readings in the last 5 minutes, no rejects.
    assert evaluate(rules[uid + "ingest-lag"], influx) == []
    assert evaluate(rules[uid + "ingest-rejects"], influx) == []
    assert evaluate(rules[uid + "ingest-lag"], influx, now_s=now + 3600) != []  # an hour of silence

    # The health roster: every noise sensor of the site file, the stopped one marked STALE.
    health = next(d for d in built.dashboards if d["uid"].endswith("-health"))
    roster = next(p for p in health["panels"] if p["title"].startswith("Noise sensors of the site file"))
    frame, query = roster["targets"]
    stamp = now * 1000
    answer = influx.query(expand(query["query"], stamp - 86_400_000, stamp, "1m", {}))
    counted = [
        {**s.tags, **{k: v for k, v in row.items() if k != "time"}} for s in answer for row in s.rows()
    ]
    rows = {r["sensor"]: r for r in outer_join([static_rows(frame), counted], "sensor")}
    expected = {s for s, sensor in site.sensors.items() if "noise" in sensor.measures}
    assert set(rows) == expected
    column = next(o["matcher"]["options"] for o in roster["fieldConfig"]["overrides"])
    mapping = next(
        p["value"]
        for o in roster["fieldConfig"]["overrides"]
        for p in o["properties"]
        if p["id"] == "mappings"
    )
    shown = {
        s: mapping[0]["options"]["result"]["text"] if r[column] is None else r[column]
        for s, r in rows.items()
    }
    # readings at now-60 s … now-540 s fall within the last 10 minutes (now-600 s is at the edge): 9
    assert shown[stopped] == "STALE" and shown[loud] == 9 and shown[quiet] == 9
    assert rows[stopped]["seat"] == seat_of[stopped]

    # The calibration table: every noise sensor; the two calibrated ones with their due dates, the rest
    # "never calibrated".
    calibrations = next(p for p in health["panels"] if p["title"].startswith("Noise calibrations"))
    frame, query = calibrations["targets"]
    answer = influx.query(expand(query["query"], stamp - 86_400_000, stamp, "1m", {}))
    due = [{**s.tags, "valid until": row["valid until"]} for s in answer for row in s.rows()]
    table = {r["sensor"]: r["valid until"] for r in outer_join([static_rows(frame), due], "sensor")}
    assert set(table) == expected
    year = timedelta(days=365).total_seconds() * 1000
    assert table[loud] == pytest.approx((now - 30 * 86400) * 1000 + year, abs=2000)
    assert table[quiet] == pytest.approx((now - 350 * 86400) * 1000 + year, abs=2000)
    never = {s for s, v in table.items() if v is None}
    assert never == expected - {loud, quiet}


def test_occupied_hours_interval_follows_the_shifts() -> None:
    """The noise and light rules notify in occupied hours: the time interval is the site's shifts."""
    site = load_site(EXAMPLE_SITE)
    interval = bundle.build(site, load_services(site.services, env={})).time_interval
    spans = [
        (tuple(i["weekdays"]), i["times"][0]["start_time"], i["times"][0]["end_time"], i["location"])
        for i in interval["time_intervals"]
    ]
    weekdays = ("monday", "tuesday", "wednesday", "thursday", "friday")
    # examples/site.toml: early 08-15 and late 15-22 Monday to Friday, Saturday 09-17, Asia/Shanghai
    assert spans == [
        (weekdays, "08:00", "15:00", "Asia/Shanghai"),
        (weekdays, "15:00", "22:00", "Asia/Shanghai"),
        (("saturday",), "09:00", "17:00", "Asia/Shanghai"),
    ]
