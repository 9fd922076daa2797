"""Test sites and readings for the compliance engine, written the way ingest writes them (docs/design.md).

``noise`` points carry laeq, lafmax, lafmin, dur, exposure = dur·10^(laeq/10), raw_laeq, below_floor and
cal; ``light`` points lux, raw_lux and cal; tags site, zone, seat (where the sensor was then) and sensor.
Calibration records go to the ``calibration`` measurement through
:func:`seatwatch.core.calibration_records.record_line`. The benchmark uses the same writers, so what it times
is what the tests check.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from seatwatch.core.calibration_records import CalibrationRecord, Instrument, record_line
from seatwatch.core.line_protocol import write_v1
from seatwatch.core.vocabulary import Quantity

Level = Callable[[datetime], float | None]  # value at a reading's start; None = no reading then


def steady(value: float) -> Level:
    """The same ``value`` at every reading (a function, so each caller in a loop binds its own)."""
    return lambda _t: value


@dataclass
class SiteSpec:
    """A small site file: zones (id, kind, m²), seats (id, zone, x, y, proxy), sensors (id, measures),
    installations (sensor, seat, from, until) with ISO date-times."""

    id: str
    timezone: str = "Asia/Shanghai"
    shifts: list[tuple[str, str, str]] = field(default_factory=lambda: [("daily", "08:00", "22:00")])
    zones: list[tuple[str, str, float]] = field(default_factory=list)
    seats: list[tuple[str, str, float, float, str | None]] = field(default_factory=list)
    sensors: list[tuple[str, tuple[str, ...]]] = field(default_factory=list)
    installations: list[tuple[str, str, str, str | None]] = field(default_factory=list)
    profile: str = "iac-csc"

    def toml(self, influx_url: str, influx_db: str) -> str:
        out = [
            f'[site]\nid = "{self.id}"\nname = "Test site {self.id}"\ntimezone = "{self.timezone}"\n'
            f'profile = "{self.profile}"\n',
            "[hours]\nshifts = [\n"
            + "".join(f'  {{ days = "{d}", start = "{a}", end = "{b}" }},\n' for d, a, b in self.shifts)
            + "]\n",
            f'[services]\ninflux_url = "{influx_url}"\ninflux_db = "{influx_db}"\n',
            '[[bridges]]\nid = "gw"\n',
        ]
        out += [f'[[zones]]\nid = "{z}"\nkind = "{k}"\narea_m2 = {a}\n' for z, k, a in self.zones]
        for s, z, x, y, proxy in self.seats:
            extra = f'proxy_seat = "{proxy}"\n' if proxy else ""
            out.append(f'[[seats]]\nid = "{s}"\nzone = "{z}"\nx = {x}\ny = {y}\n{extra}')
        for s, measures in self.sensors:
            floor = "noise_floor_db = 32.0\n" if "noise" in measures else ""
            listed = ", ".join(f'"{m}"' for m in measures)
            out.append(
                f'[[sensors]]\nid = "{s}"\nbridge = "gw"\nmeasures = [{listed}]\ndriver = "mqtt"\n{floor}'
            )
        for sensor, seat, start, until in self.installations:
            end = f"until = {until}\n" if until else ""
            out.append(f'[[installations]]\nsensor = "{sensor}"\nseat = "{seat}"\nfrom = {start}\n{end}')
        return "\n".join(out)

    def write(self, folder: Path, influx_url: str, influx_db: str) -> Path:
        path = folder / f"{self.id}.toml"
        path.write_text(self.toml(influx_url, influx_db), encoding="utf-8")
        return path


def minutes(start: datetime, end: datetime, step_s: int = 60) -> Iterable[datetime]:
    t = start
    while t < end:
        yield t
        t += timedelta(seconds=step_s)


def _lines(
    measurement: str,
    ids: tuple[str, str, str, str],
    start: datetime,
    end: datetime,
    step_s: int,
    fields: Callable[[datetime], str | None],
) -> list[str]:
    site, zone, seat, sensor = ids
    head = f"{measurement},sensor={sensor},site={site},seat={seat},zone={zone}"
    out = []
    for t in minutes(start, end, step_s):
        body = fields(t)
        if body is not None:
            out.append(f"{head} {body} {int(t.timestamp()) * 1_000_000_000}")
    return out


def noise_lines(
    site: str,
    zone: str,
    seat: str,
    sensor: str,
    start: datetime,
    end: datetime,
    level: Level,
    step_s: int = 60,
    floor_db: float = 32.0,
) -> list[str]:
    """One ``noise`` point per step with LAeq ``level(t)``; readings within 3 dB of the floor are marked."""

    def fields(t: datetime) -> str | None:
        laeq = level(t)
        if laeq is None:
            return None
        below = "true" if laeq < floor_db + 3 else "false"
        return (
            f"laeq={laeq!r},lafmax={laeq + 6.0!r},lafmin={laeq - 4.0!r},dur={float(step_s)!r},"
            f"exposure={step_s * 10 ** (laeq / 10)!r},raw_laeq={laeq - 1.0!r},below_floor={below},"
            f'cal="c-{sensor}-noise"'
        )

    return _lines("noise", (site, zone, seat, sensor), start, end, step_s, fields)


def light_lines(
    site: str, zone: str, seat: str, sensor: str, start: datetime, end: datetime, lux: Level, step_s: int = 60
) -> list[str]:
    """One ``light`` point per step with ``lux(t)`` and no ``dur``, as light points were written before ingest
    stored ``dur`` on them (docs/design.md): the engine's fallback, count × median reporting period."""

    def fields(t: datetime) -> str | None:
        value = lux(t)
        if value is None:
            return None
        return f'lux={float(value)!r},raw_lux={value / 1.1!r},cal="c-{sensor}-light"'

    return _lines("light", (site, zone, seat, sensor), start, end, step_s, fields)


def calibration_line(site: str, sensor: str, quantity: str, performed: datetime, until: datetime) -> str:
    record = CalibrationRecord(
        id=f"c-{sensor}-{quantity}-{int(performed.timestamp())}",
        sensor=sensor,
        quantity=Quantity(quantity),
        method="sound-calibrator" if quantity == "noise" else "reference-lux-meter",
        performed_at=performed.astimezone(UTC),
        valid_until=until.astimezone(UTC),
        offset_db=1.0 if quantity == "noise" else None,
        gain=1.1 if quantity == "light" else None,
        operator="test",
        instrument=Instrument(
            "B&K 4231" if quantity == "noise" else "T-10A",
            "2458913",
            "IEC 60942 class 1" if quantity == "noise" else "JJG 245 grade 1",
            (performed - timedelta(days=200)).date().isoformat(),
            "JL-2458913",
            (performed + timedelta(days=165)).date().isoformat(),
        ),
    )
    return record_line(site, record)


def write(url: str, db: str, lines: list[str], batch: int = 5000) -> None:
    for i in range(0, len(lines), batch):
        write_v1(url, db, lines[i : i + batch])
