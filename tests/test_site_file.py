"""The site file validator: the example is valid; mistakes are all reported, with file, line and key."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from seatwatch.core.config_errors import ConfigError
from seatwatch.core.site_file import load_site
from tests.conftest import EXAMPLE_SITE

SMALL = """\
[site]
id = "s1"
name = "Small site"
timezone = "Asia/Shanghai"

[hours]
shifts = [{ name = "day", days = "mon-fri", start = "08:00", end = "18:00" }]

[services]
mqtt_url = "mqtt://127.0.0.1:1883"

[[bridges]]
id = "gw"

[[zones]]
id = "Z"
kind = "agent"
area_m2 = 40.0

[[seats]]
id = "A"
zone = "Z"
x = 1.0
y = 1.0

[[seats]]
id = "B"
zone = "Z"
x = 3.0
y = 1.0
proxy_seat = "A"

[[sensors]]
id = "n1"
bridge = "gw"
measures = ["noise", "light"]
driver = "reference"
noise_floor_db = 32.0
connection = { port = "/dev/ttyUSB0" }

[[sensors]]
id = "n2"
bridge = "gw"
measures = ["noise"]
driver = "mqtt"
noise_floor_db = 30.0

[[installations]]
sensor = "n1"
seat = "A"
from = 2025-01-01
until = 2025-06-01T12:00:00+08:00

[[installations]]
sensor = "n2"
seat = "A"
from = 2025-06-01T12:00:00+08:00
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "site.toml"
    path.write_text(text)
    return path


def test_example_site_is_valid_and_complete() -> None:
    site = load_site(EXAMPLE_SITE)
    assert site.timezone == "Asia/Shanghai"
    assert len(site.seats) == 48
    assert {z.kind for z in site.zones.values()} == {"agent", "training", "meeting"}
    assert sum(z.kind == "agent" for z in site.zones.values()) == 2
    assert len(site.bridges) == 2
    # every seat has a sensor for each quantity, installed well in the past and still there
    now = datetime.now(UTC)
    for seat in site.seats:
        quantities = {
            q for i in site.installations_for_seat(seat, now, now) for q in site.sensors[i.sensor].measures
        }
        assert quantities == {"noise", "light"}, seat
    # shifts cover 08:00-22:00 on a weekday, Shanghai time
    monday = datetime(2026, 11, 23, 0, 0, tzinfo=site.hours.timezone)
    spans = site.hours.intervals(monday, monday.replace(hour=23, minute=59))
    assert [
        (a.astimezone(site.hours.timezone).hour, b.astimezone(site.hours.timezone).hour) for a, b in spans
    ] == [(8, 22)]


def test_swapped_sensor_keeps_history_straight(tmp_path: Path) -> None:
    site = load_site(write(tmp_path, SMALL))
    before = datetime(2025, 5, 1, tzinfo=UTC)
    after = datetime(2025, 7, 1, tzinfo=UTC)
    first, later = site.installation_at("n1", before), site.installation_at("n2", after)
    assert first is not None and first.seat == "A"
    assert site.installation_at("n1", after) is None
    assert later is not None and later.seat == "A"
    assert site.data_seat("B") == "A"
    assert [i.sensor for i in site.installations_for_seat("B", before, after)] == ["n1", "n2"]


def test_five_mistakes_give_five_messages_with_keys_and_lines(tmp_path: Path) -> None:
    broken = (
        SMALL.replace('timezone = "Asia/Shanghai"', 'timezone = "Asia/Shanghay"')  # 1 bad time zone
        .replace("area_m2 = 40.0\n", "")  # 2 zone without area
        .replace('seat = "A"\nfrom = 2025-01-01', 'seat = "Q"\nfrom = 2025-01-01')  # 3 unknown seat
        .replace('end = "18:00"', 'end = "25:00"')  # 4 bad hours
        .replace(
            '[[bridges]]\nid = "gw"\n', '[[bridges]]\nid = "gw"\n\n[[bridges]]\nid = "gw"\n'
        )  # 5 duplicate
    )
    path = write(tmp_path, broken)
    with pytest.raises(ConfigError) as caught:
        load_site(path)
    problems = caught.value.problems
    text = "\n".join(str(p) for p in problems)
    assert len(problems) == 5, text
    keys = {p.key for p in problems}
    assert keys == {
        "site.timezone",
        "zones[0].area_m2",
        "installations[0].seat",
        "hours.shifts[0].end",
        "bridges[1].id",
    }, text
    lines = broken.splitlines()
    for problem in problems:
        assert problem.file == str(path)
        assert problem.line is not None, problem
        written = lines[problem.line - 1]
        leaf = problem.key.rsplit(".", 1)[-1]
        # the line named is where the key is written (or its table/inline table, for a missing key)
        assert leaf in written or "[[zones]]" in written or "shifts" in written, (problem, written)


def test_overlaps_unknown_keys_and_secrets_are_reported_without_the_secret(tmp_path: Path) -> None:
    broken = SMALL.replace("until = 2025-06-01T12:00:00+08:00", "until = 2025-07-01T12:00:00+08:00").replace(
        'mqtt_url = "mqtt://127.0.0.1:1883"', 'mqtt_url = "mqtt://127.0.0.1:1883"\nmqtt_password = "hunter2"'
    )
    broken = broken.replace("x = 3.0", 'x = 3.0\ncolour = "red"')
    path = write(tmp_path, broken)
    result = subprocess.run(
        [sys.executable, "-m", "seatwatch", "validate", str(path)], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 2
    assert "hunter2" not in result.stderr + result.stdout
    assert "services.mqtt_password: secrets do not belong in the site file" in result.stderr
    assert "seats[1].colour: unknown key" in result.stderr
    assert "installations[1].from: seat 'A' already has sensor 'n1' measuring noise" in result.stderr
    assert "3 problems" in result.stderr


def test_validate_command_accepts_the_example() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "seatwatch", "validate", str(EXAMPLE_SITE)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "48 seats" in result.stdout


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[site\nid=1", "not valid TOML"),
        ("", "missing [site] table"),
    ],
)
def test_unreadable_files_name_the_problem(tmp_path: Path, text: str, expected: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_site(write(tmp_path, text))
    assert expected in str(caught.value)
    assert str(tmp_path / "site.toml") in str(caught.value)


@pytest.mark.parametrize("key", ["mqtt_url", "influx_url", "grafana_url"])
def test_a_url_with_a_password_in_the_site_file_is_refused_without_echoing_it(
    tmp_path: Path, key: str
) -> None:
    url = {"mqtt_url": "mqtts://u:s3cr3t@broker:8883", "influx_url": "http://u:s3cr3t@db:8086",
           "grafana_url": "https://u:s3cr3t@grafana"}[key]  # fmt: skip
    line = 'mqtt_url = "mqtt://127.0.0.1:1883"'
    text = SMALL.replace(line, f'{key} = "{url}"' if key == "mqtt_url" else f'{line}\n{key} = "{url}"')
    result = subprocess.run(
        [sys.executable, "-m", "seatwatch", "validate", str(write(tmp_path, text))],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert f"services.{key}: the URL carries a password" in result.stderr
    assert "s3cr3t" not in result.stderr + result.stdout
