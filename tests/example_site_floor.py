"""The example site (examples/site.toml, 48 seats) with one working day of readings in a real influxd.

The report tests render what an auditor of that floor would get: every installed sensor reports each
minute of Monday 2026-03-02 (Shanghai), written the way ingest writes (tests/compliance_data.py), with
calibration records that name their reference instruments. Levels vary by seat so the report has passes,
marginals and failures: seats E-05 and W-05 are loud (57 dB), E-10 is dark after 18:00 (180 lx).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from seatwatch.core.calibration_records import CalibrationRecord, Instrument, record_line
from seatwatch.core.influxql import InfluxQLClient, quote_ident
from seatwatch.core.site import Site
from seatwatch.core.site_file import load_site
from seatwatch.core.vocabulary import Quantity
from tests.compliance_data import light_lines, noise_lines, write

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "site.toml"
SHANGHAI = ZoneInfo("Asia/Shanghai")
START = datetime(2026, 3, 2, tzinfo=SHANGHAI)  # a Monday: shifts 08:00–15:00 and 15:00–22:00
END = datetime(2026, 3, 3, tzinfo=SHANGHAI)
LOUD = {"E-05": 57.0, "W-05": 57.0}
DARK_SEAT = "E-10"
CALIBRATED_AT = datetime(2026, 2, 20, 10, 30, tzinfo=SHANGHAI)


def site_copy(folder: Path, influx_url: str, influx_db: str, locale: str | None = None) -> Path:
    """examples/site.toml with its services pointed at the test database (and ``locale`` if given)."""
    text = EXAMPLE.read_text(encoding="utf-8")
    text = re.sub(r'^influx_url = ".*"$', f'influx_url = "{influx_url}"', text, count=1, flags=re.M)
    text = re.sub(r'^influx_db = ".*"$', f'influx_db = "{influx_db}"', text, count=1, flags=re.M)
    text = re.sub(r'^state_dir = ".*"\n', "", text, count=1, flags=re.M)
    if locale is not None:
        text = text.replace("[site]\n", f'[site]\nlocale = "{locale}"\n', 1)
    path = folder / "site.toml"
    path.write_text(text, encoding="utf-8")
    return path


def _occupied(t: datetime) -> bool:
    return 8 <= t.astimezone(SHANGHAI).hour < 22


def _record(site: Site, sensor: str, quantity: str, n: int) -> CalibrationRecord:
    noise = quantity == "noise"
    instrument = (
        Instrument(
            "B&K 4231 sound calibrator", f"SC-{2400 + n % 3}", "1", "2026-01-15", "JL-2026-0117", "2027-01-14"
        )
        if noise
        else Instrument(
            "Konica Minolta T-10A illuminance meter",
            f"LM-{7100 + n % 2}",
            "1",
            "2026-01-08",
            "GZ-2026-031",
            "2027-01-07",
        )
    )
    return CalibrationRecord(
        id=f"cal-{sensor}-{quantity}",
        sensor=sensor,
        quantity=Quantity(quantity),
        method="sound-calibrator" if noise else "reference-lux-meter",
        performed_at=CALIBRATED_AT.astimezone(UTC),
        valid_until=(CALIBRATED_AT + timedelta(days=365)).astimezone(UTC),
        offset_db=1.0 if noise else None,
        gain=1.1 if not noise else None,
        reference_value=94.0 if noise else 500.0,
        instrument=instrument,
        operator="Li Wei 李伟",
    )


def floor_lines(site: Site) -> list[str]:
    lines: list[str] = []
    for n, inst in enumerate(site.installations):
        if not inst.overlaps(START, END):
            continue
        seat = site.seats[inst.seat]
        sensor = site.sensors[inst.sensor]
        level = LOUD.get(seat.id, 47.0 + (n % 7))  # 47–53 dB: passes and marginals

        def noise(t: datetime, level: float = level) -> float:
            return level if _occupied(t) else 36.0

        def lux(t: datetime, dark: bool = seat.id == DARK_SEAT, base: float = 320.0 + 40 * (n % 7)) -> float:
            return 180.0 if dark and t.astimezone(SHANGHAI).hour >= 18 else base

        span = (max(START, inst.start), min(END, inst.end or END))
        if "noise" in sensor.measures:
            lines += noise_lines(site.id, seat.zone, seat.id, sensor.id, *span, noise)
        if "light" in sensor.measures:
            lines += light_lines(site.id, seat.zone, seat.id, sensor.id, *span, lux)
        for quantity in sensor.measures:
            lines.append(record_line(site.id, _record(site, sensor.id, quantity, n)))
    return lines


@pytest.fixture(scope="module")
def example_db(influx_url: str) -> Iterator[str]:
    name = f"t_{uuid.uuid4().hex[:12]}"
    client = InfluxQLClient(influx_url, name)
    client.command(f"CREATE DATABASE {quote_ident(name)}")
    write(influx_url, name, floor_lines(load_site(EXAMPLE)))
    yield name
    client.command(f"DROP DATABASE {quote_ident(name)}")
