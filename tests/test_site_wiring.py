"""``seatwatch validate`` catches the wiring mistakes the bridge would refuse, and numbers it cannot use.

Each case is one mistake made in the example site, as an installer makes it. The validator must exit 2,
name the site-file key (with its line) and say what is wrong; before, each of these passed validation
and then either stopped the bridge on site or silently dropped a zone from the report.
"""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from tests.conftest import EXAMPLE_SITE, REPO

TEXT = EXAMPLE_SITE.read_text(encoding="utf-8")
SENSORS = [raw["id"] for raw in tomllib.loads(TEXT)["sensors"]]
ZONES = [raw["id"] for raw in tomllib.loads(TEXT)["zones"]]
SEATS = [raw["id"] for raw in tomllib.loads(TEXT)["seats"]]

NZ_W_02 = 'connection = { port = "/dev/ttyUSB0", baud = 9600, address = 2, profile = "renke-noise" }'
LX_W_01 = 'connection = { port = "/dev/ttyUSB0", baud = 9600, address = 101, profile = "renke-lux" }'
REF_002 = 'connection = { port = "/dev/serial/by-id/usb-seatwatch_ref-002-if00", baud = 115200 }'

CASES = {
    "unknown Modbus profile": (
        NZ_W_02,
        NZ_W_02.replace("renke-noise", "renke-nosie"),
        f"sensors[{SENSORS.index('nz-w-02')}].connection.profile",
        "no such shipped profile (renke-lux, renke-noise)",
    ),
    "light sensor with a noise profile": (
        LX_W_01,
        LX_W_01.replace("renke-lux", "renke-noise"),
        f"sensors[{SENSORS.index('lx-w-01')}].measures",
        "reads noise only",
    ),
    "two devices at one address on one bus": (
        NZ_W_02,
        NZ_W_02.replace("address = 2", "address = 1"),
        f"sensors[{SENSORS.index('nz-w-02')}].connection.address",
        f"also the address of sensor 'nz-w-01' (sensors[{SENSORS.index('nz-w-01')}])",
    ),
    "two baud rates on one bus": (
        NZ_W_02,
        NZ_W_02.replace("baud = 9600", "baud = 4800"),
        f"sensors[{SENSORS.index('nz-w-02')}].connection.baud",
        "differs from 9600",
    ),
    "baud left to a profile default that disagrees": (
        NZ_W_02,
        NZ_W_02.replace("baud = 9600, ", ""),
        f"sensors[{SENSORS.index('nz-w-02')}].connection.baud",
        "4800 baud (its profile's default_baud) differs from 9600",
    ),
    "two reference devices on one port": (
        REF_002,
        REF_002.replace("ref-002", "ref-001"),
        f"sensors[{SENSORS.index('ref-002')}].connection.port",
        "is also the port of sensor 'ref-001'",
    ),
    "a driver key the bridge does not know": (
        REF_002,
        REF_002.replace("baud", "baudrate"),
        f"sensors[{SENSORS.index('ref-002')}].connection.baudrate",
        "is not a reference driver key",
    ),
    "area nan": (
        "area_m2 = 120.0",
        "area_m2 = nan",
        f"zones[{ZONES.index('agents-west')}].area_m2",
        "must be a finite number, not nan",
    ),
    "x inf": (
        "x = 15.5\ny = 1.5",
        "x = inf\ny = 1.5",
        f"seats[{SEATS.index('W-01')}].x",
        "must be a finite number, not inf",
    ),
    "a date in year 1": (
        "from = 2025-09-01T09:00:00+08:00",
        "from = 0001-01-01T00:00:00+14:00",
        "installations[0].from",
        "dates must lie in 2000-2100",
    ),
}


def line_of(text: str, key: str) -> int:
    """The line of ``table[n].key[...]``: the n-th ``[[table]]`` header, then the first ``key =`` after it."""
    table, rest = key.split("[", 1)
    index, name = int(rest.split("]", 1)[0]), rest.split(".")[1]
    lines = text.splitlines()
    headers = [n for n, line in enumerate(lines) if line.strip() == f"[[{table}]]"]
    return next(
        n + 1 for n in range(headers[index], len(lines)) if lines[n].replace(" ", "").startswith(f"{name}=")
    )


def validate(tmp_path: Path, text: str) -> subprocess.CompletedProcess[str]:
    site = tmp_path / "site.toml"
    site.write_text(text, encoding="utf-8")
    return subprocess.run(
        [sys.executable, "-m", "seatwatch", "validate", str(site)],
        capture_output=True, text=True, cwd=REPO, timeout=60,
    )  # fmt: skip


@pytest.mark.parametrize("case", CASES)
def test_each_wiring_mistake_names_its_key_and_line_and_exits_2(case: str, tmp_path: Path) -> None:
    old, new, key, message = CASES[case]
    assert old in TEXT
    text = TEXT.replace(old, new, 1)
    line = line_of(text, key)
    result = validate(tmp_path, text)
    assert result.returncode == 2, result.stdout
    assert "Traceback" not in result.stderr
    *problems, summary = result.stderr.splitlines()
    assert len(problems) == 1, result.stderr
    assert problems[0].startswith(f"{tmp_path / 'site.toml'}:{line}: {key}: "), problems[0]
    assert message in problems[0]
    assert summary == f"{tmp_path / 'site.toml'}: 1 problem"


def test_the_example_passes_and_counts_read_right(tmp_path: Path) -> None:
    result = validate(tmp_path, TEXT)
    assert result.returncode == 0, result.stderr
    counts = "4 zones, 48 seats, 68 sensors (48 noise, 48 light) on 2 bridges, 68 installations"
    assert counts in result.stdout
