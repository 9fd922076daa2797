"""A realistic past working day for the demo: calibrated virtual sensors and their readings, published the
way bridges publish them, so the real broker and the real ingest store them.

Live data alone would take a day to fill a report. So the demo gives each simulated sensor a bias (as a
real device has), installs a calibration record that corrects it — as ``seatwatch calibrate`` would, a
couple of sensors left uncalibrated on purpose — and publishes the last working day's readings from the
same office model the live simulator uses (firmware_bridge.simulate.environment). Backfill readings are
1-minute intervals (``dur`` = the step) rather than 1-second ones: the report is the same, the demo is
60 times faster. Each minute's LAeq is the energy average of several samples of the model (principle 1).
"""

from __future__ import annotations

import bisect
import dataclasses
import math
import random
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta

from firmware_bridge.simulate.environment import office_lux, office_noise_db
from firmware_bridge.simulate.simulator import SensorBias
from seatwatch.core.calibration_records import CalibrationRecord, Instrument
from seatwatch.core.contract import Reading
from seatwatch.core.hours import OccupiedHours
from seatwatch.core.site import Site
from seatwatch.core.topics import batch_topic

SAMPLES_PER_STEP = 4
BATCH_READINGS = 200  # ~30 kB per message, well under the contract's 64 KiB
# Sensors left without a calibration record, so the report shows what an uncalibrated seat looks like.
UNCALIBRATED = ("ref-027", "nz-w-20")


def last_working_day(site: Site, today: date) -> date:
    """The most recent day before ``today`` with occupied hours (a weekday shift, not a holiday)."""
    day = today - timedelta(days=1)
    for _ in range(30):
        start = datetime.combine(day, datetime.min.time(), site.hours.timezone)
        if site.hours.intervals(start, start + timedelta(days=1)):
            return day
        day -= timedelta(days=1)
    return today - timedelta(days=1)


def sensor_biases(site: Site, seed: int) -> dict[str, SensorBias]:
    """How each simulated device misreads: a noise offset within ±2 dB, a lux gain within ±12 %."""
    rng = random.Random(seed)
    return {
        sensor: SensorBias(round(rng.uniform(-2.0, 2.0), 1), round(rng.uniform(0.88, 1.12), 3))
        for sensor in sorted(site.sensors)
    }


def calibration_records(
    site: Site, biases: dict[str, SensorBias], performed_at: datetime
) -> list[CalibrationRecord]:
    """Records that undo each bias (noise: raw + offset; light: raw × gain), valid for a year."""
    records = []
    for sensor_id in sorted(site.sensors):
        if sensor_id in UNCALIBRATED:
            continue
        bias = biases[sensor_id]
        for quantity in site.sensors[sensor_id].measures:
            noise = quantity == "noise"
            records.append(
                CalibrationRecord(
                    id=f"demo-{sensor_id}-{quantity}",
                    sensor=sensor_id,
                    quantity=quantity,
                    method="sound-calibrator" if noise else "reference-lux-meter",
                    performed_at=performed_at,
                    valid_until=performed_at + timedelta(days=365),
                    offset_db=-bias.noise_offset_db if noise else None,
                    gain=round(1.0 / bias.lux_gain, 4) if not noise else None,
                    reference_value=94.0 if noise else 500.0,
                    instrument=Instrument(
                        "demo calibrator" if noise else "demo lux meter",
                        "DEMO-1",
                        "IEC 60942 class 1" if noise else "JJG 245 grade 1",
                        (performed_at - timedelta(days=30)).date().isoformat(),
                        "DEMO-CERT-1",
                        (performed_at + timedelta(days=335)).date().isoformat(),
                    ),
                    operator="seatwatch demo",
                    notes="installed by seatwatch demo for its simulated sensors",
                )
            )
    return records


@dataclasses.dataclass(frozen=True)
class _DayHours(OccupiedHours):
    """The site calendar, answering ``is_occupied`` by bisection over one day's interval edges.

    The office model asks "is the floor occupied?" for every sample; the general calendar recomputes the
    shifts each time, which made the day's backfill take 40 s instead of a few. Same answers within the
    day it was made for. A subclass, so that it is an :class:`OccupiedHours` wherever the site's ``hours``
    goes (``intervals`` and the rest are the calendar's own).
    """

    # Not compared or hashed: the calendar's own functions cache on it by its fields.
    edges: tuple[datetime, ...] = dataclasses.field(default=(), compare=False)

    @classmethod
    def of_day(cls, hours: OccupiedHours, start: datetime, end: datetime) -> _DayHours:
        """``hours`` with the edges of its occupied intervals within [start, end)."""
        edges = tuple(t for interval in hours.intervals(start, end) for t in interval)
        return cls(hours.timezone, hours.shifts, hours.closed, edges)

    def is_occupied(self, t: datetime) -> bool:
        return bisect.bisect_right(self.edges, t) % 2 == 1


def _levels(
    site: Site, seat: str, start: datetime, step_s: int, seed: int
) -> tuple[float, float, float, float]:
    """(LAeq, max, min, mean lux) at ``seat`` over [start, start + step) from a few samples of the model."""
    moments = [
        start + timedelta(seconds=step_s * (k + 0.5) / SAMPLES_PER_STEP) for k in range(SAMPLES_PER_STEP)
    ]
    noise = [office_noise_db(site, seat, t, seed) for t in moments]
    laeq = 10 * math.log10(sum(10 ** (n / 10) for n in noise) / len(noise))
    lux = sum(office_lux(site, seat, t, seed) for t in moments) / len(moments)
    return laeq, max(noise), min(noise), lux


def day_readings(
    site: Site, bridge: str, day: date, step_s: int, biases: dict[str, SensorBias], seed: int
) -> Iterator[Reading]:
    """Every reading ``bridge``'s sensors would have sent over ``day`` (site-local), ``step_s`` apart."""
    start = datetime.combine(day, datetime.min.time(), site.hours.timezone).astimezone(UTC)
    end = start + timedelta(days=1)
    model = dataclasses.replace(site, hours=_DayHours.of_day(site.hours, start, end))
    sensors = sorted(site.sensors_of_bridge(bridge), key=lambda s: s.id)
    seq = dict.fromkeys((s.id for s in sensors), 0)
    for k in range(86_400 // step_s):
        t = start + timedelta(seconds=k * step_s)
        at_seat: dict[str, tuple[float, float, float, float]] = {}  # a seat's nz- and lx- share one model
        for sensor in sensors:
            installation = site.installation_at(sensor.id, t)
            if installation is None:
                continue
            seat = installation.seat
            if seat not in at_seat:
                at_seat[seat] = _levels(model, seat, t, step_s, seed)
            laeq, high, low, lux = at_seat[seat]
            bias = biases[sensor.id]
            noise = "noise" in sensor.measures
            light = "light" in sensor.measures
            seq[sensor.id] += 1
            yield Reading(
                sensor=sensor.id,
                seq=seq[sensor.id],
                ts=int(t.timestamp() * 1000),
                dur=float(step_s),
                laeq=round(laeq + bias.noise_offset_db, 1) if noise else None,
                lafmax=round(high + bias.noise_offset_db, 1) if noise else None,
                lafmin=round(low + bias.noise_offset_db, 1) if noise else None,
                lux=round(lux * bias.lux_gain, 1) if light else None,
            )


def publish_day(
    site: Site,
    day: date,
    step_s: int,
    biases: dict[str, SensorBias],
    seed: int,
    publish: Callable[[str, list[Reading]], None],
) -> int:
    """Publish the whole day as bridge batches through ``publish(topic, readings)``; returns the count."""
    count = 0
    for bridge in sorted(site.bridges):
        batch: list[Reading] = []
        for reading in day_readings(site, bridge, day, step_s, biases, seed):
            batch.append(reading)
            if len(batch) == BATCH_READINGS:
                publish(batch_topic(site.id, bridge), batch)
                count += len(batch)
                batch = []
        if batch:
            publish(batch_topic(site.id, bridge), batch)
            count += len(batch)
    return count
