"""Occupied hours across midnight and DST, settings precedence and secrecy, and the command line."""

from __future__ import annotations

import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from seatwatch.cli import COMMANDS
from seatwatch.core.hours import OccupiedHours, Shift, parse_days, total_seconds
from seatwatch.core.settings import load_services


def test_night_shift_crossing_midnight_belongs_to_its_start_day() -> None:
    tz = ZoneInfo("Asia/Shanghai")
    hours = OccupiedHours(tz, (Shift("night", parse_days("mon-fri"), 22 * 60, 6 * 60),))
    # Friday 22:00 → Saturday 06:00 is occupied; Saturday 22:00 is not
    friday = datetime(2026, 11, 27, 20, 0, tzinfo=tz)
    spans = hours.intervals(friday, friday + timedelta(days=2))
    assert [(a.astimezone(tz), b.astimezone(tz)) for a, b in spans] == [
        (datetime(2026, 11, 27, 22, 0, tzinfo=tz), datetime(2026, 11, 28, 6, 0, tzinfo=tz))
    ]
    assert hours.is_occupied(datetime(2026, 11, 28, 1, 0, tzinfo=tz))
    assert not hours.is_occupied(datetime(2026, 11, 28, 23, 0, tzinfo=tz))


def test_dst_change_day_has_its_true_length() -> None:
    tz = ZoneInfo("Europe/Paris")
    hours = OccupiedHours(tz, (Shift("all day", parse_days("daily"), 0, 24 * 60),))
    day = datetime(2026, 3, 29, tzinfo=tz)  # clocks go forward: a 23-hour day
    spans = hours.intervals(day, datetime(2026, 3, 30, tzinfo=tz))
    assert total_seconds(spans) == 23 * 3600
    unoccupied = hours.unoccupied_intervals(day, datetime(2026, 3, 30, tzinfo=tz))
    assert unoccupied == []


def test_closed_dates_and_day_ranges() -> None:
    tz = ZoneInfo("Asia/Shanghai")
    holiday = datetime(2026, 10, 1).date()
    hours = OccupiedHours(tz, (Shift("day", parse_days(["sat-mon"]), 9 * 60, 17 * 60),), frozenset({holiday}))
    assert parse_days("sat-mon") == frozenset({5, 6, 0})
    week = datetime(2026, 9, 28, tzinfo=tz)  # a Monday
    spans = hours.intervals(week, week + timedelta(days=7))
    assert [a.astimezone(tz).weekday() for a, _ in spans] == [0, 5, 6]
    with pytest.raises(ValueError, match="not a day name"):
        parse_days("funday")
    with pytest.raises(ValueError, match="no time zone"):
        hours.intervals(datetime(2026, 1, 1), datetime(2026, 1, 2))


def test_environment_wins_and_secrets_stay_hidden(tmp_path: Path) -> None:
    (tmp_path / "token").write_text("s3cret-token\n")
    table = {"influx_url": "http://db:8086", "influx_token_file": "token", "mqtt_url": "mqtt://broker:1883"}
    services = load_services(table, env={"SEATWATCH_INFLUX_URL": "http://other:8086"}, base=tmp_path)
    assert services.influx_url == "http://other:8086"
    assert services.influx_token == "s3cret-token"
    assert services.mqtt_host_port == ("broker", 1883)
    assert "s3cret" not in repr(services)
    from_env = load_services(table, env={"SEATWATCH_INFLUX_TOKEN": "env-token"}, base=tmp_path)
    assert from_env.influx_token == "env-token"
    assert load_services({"mqtt_url": "mqtts://b.example"}, env={}).mqtt_host_port == ("b.example", 8883)


def test_missing_secret_file_names_the_file_not_a_value(tmp_path: Path) -> None:
    from seatwatch.core.config_errors import ConfigError

    with pytest.raises(ConfigError, match=r"services.influx_token_file: cannot read secret file"):
        load_services({"influx_token_file": "nope"}, env={}, base=tmp_path)


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "seatwatch", *args], capture_output=True, text=True, timeout=60
    )


def test_version_and_help_for_every_command() -> None:
    from seatwatch import __version__

    assert run("--version").stdout.strip() == f"seatwatch {__version__}"
    top = run("--help")
    assert top.returncode == 0
    for name in COMMANDS:
        assert name in top.stdout
        helped = run(name, "--help")
        assert helped.returncode == 0, (name, helped.stderr)
        assert f"seatwatch {name}" in helped.stdout


def test_no_command_is_a_usage_error() -> None:
    assert run().returncode == 2
    assert run("frobnicate").returncode == 2


def test_is_occupied_agrees_with_intervals_over_a_week_with_a_holiday() -> None:
    tz = ZoneInfo("Asia/Shanghai")
    shifts = (
        Shift("day", parse_days("mon-fri"), 8 * 60, 22 * 60),
        Shift("night", parse_days("fri"), 22 * 60, 6 * 60),
    )
    hours = OccupiedHours(tz, shifts, frozenset({datetime(2026, 10, 1).date()}))
    start = datetime(2026, 9, 28, tzinfo=tz)
    spans = hours.intervals(start, start + timedelta(days=7))
    for step in range(0, 7 * 24 * 60, 7):
        t = start + timedelta(minutes=step)
        assert hours.is_occupied(t) == any(a <= t < b for a, b in spans), t
