"""The site model: one customer service centre's zones, seats, sensors and where each sensor was when.

Everything downstream asks the site the same questions — which seat was this sensor at, at that moment?
which sensors fed this seat during a period? is the floor occupied now? — so the answers live here, once.
Load a site with :func:`seatwatch.core.site_file.load_site`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from seatwatch.core.hours import OccupiedHours
from seatwatch.core.vocabulary import Quantity, ZoneKind

DRIVERS: tuple[str, ...] = ("reference", "modbus", "audio", "mqtt")


@dataclass(frozen=True)
class Zone:
    id: str
    name: str
    kind: ZoneKind
    area_m2: float


@dataclass(frozen=True)
class Seat:
    """A workstation. ``proxy_seat`` names the seat whose sensor stands for this one when it has none."""

    id: str
    zone: str
    x: float
    y: float
    proxy_seat: str | None = None


@dataclass(frozen=True)
class Sensor:
    """A device at a seat. ``connection`` is driver-specific (port, baud, Modbus address, profile...)."""

    id: str
    bridge: str
    measures: tuple[Quantity, ...]
    driver: str
    connection: dict[str, Any] = field(default_factory=dict)
    model: str = ""
    noise_floor_db: float | None = None


@dataclass(frozen=True)
class Installation:
    """``sensor`` was at ``seat`` from ``start`` (inclusive) until ``end`` (exclusive; None = still there)."""

    sensor: str
    seat: str
    start: datetime
    end: datetime | None = None

    def covers(self, t: datetime) -> bool:
        return self.start <= t and (self.end is None or t < self.end)

    def overlaps(self, start: datetime, end: datetime) -> bool:
        return self.start < end and (self.end is None or self.end > start)


@dataclass(frozen=True)
class Bridge:
    id: str
    name: str = ""


@dataclass(frozen=True)
class Site:
    id: str
    name: str
    timezone: str
    profile: str
    hours: OccupiedHours
    bridges: dict[str, Bridge]
    zones: dict[str, Zone]
    seats: dict[str, Seat]
    sensors: dict[str, Sensor]
    installations: tuple[Installation, ...]
    services: dict[str, Any]
    path: Path | None = None
    locale: str = "en"  # language of reports and certificates: "zh-CN" or "en" (seatwatch.core.i18n)

    def installation_at(self, sensor: str, t: datetime) -> Installation | None:
        """Where ``sensor`` was installed at ``t`` (None: not installed then)."""
        for inst in self.installations:
            if inst.sensor == sensor and inst.covers(t):
                return inst
        return None

    def data_seat(self, seat: str) -> str:
        """The seat whose readings represent ``seat``: itself, or its proxy seat."""
        return self.seats[seat].proxy_seat or seat

    def installations_for_seat(self, seat: str, start: datetime, end: datetime) -> list[Installation]:
        """Installations whose data stands for ``seat`` during [start, end), proxy seat resolved."""
        source = self.data_seat(seat)
        return [i for i in self.installations if i.seat == source and i.overlaps(start, end)]

    def seats_in_zone(self, zone: str) -> list[Seat]:
        return [s for s in self.seats.values() if s.zone == zone]

    def sensors_of_bridge(self, bridge: str) -> list[Sensor]:
        return [s for s in self.sensors.values() if s.bridge == bridge]
