"""The simulator other parts use from Python (tests, calibration, demo) and ``seatwatch simulate`` runs.

It creates one virtual device per reference or Modbus sensor of a site (or of one bridge), at the exact
``connection.port`` paths of the site file when their folder is writable (and not under /dev), else in
``port_dir``; ``port_for`` says where. Each device reports the office model of
:mod:`firmware_bridge.simulate.environment` at the seat it is installed at — or a forced steady source (a
calibrator) — through its own :class:`SensorBias`, so a calibration has something real to correct.
"""

from __future__ import annotations

import functools
import os
import random
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from firmware_bridge.modbus_profile import load_register_profile
from firmware_bridge.simulate.devices import ModbusBusSim, ReferenceDevice
from firmware_bridge.simulate.environment import office_lux, office_noise_db
from seatwatch.core.site import Sensor, Site
from seatwatch.core.vocabulary import Quantity

SIMULATED_DRIVERS = ("reference", "modbus")


@dataclass(frozen=True)
class SensorBias:
    """How a device misreads: noise = true + ``noise_offset_db``; lux = true × ``lux_gain``."""

    noise_offset_db: float = 0.0
    lux_gain: float = 1.0


class Simulator:
    """Virtual devices for a site's reference and Modbus sensors (audio inputs are not simulated)."""

    def __init__(
        self,
        site: Site,
        bridge: str | None = None,
        *,
        port_dir: Path,
        biases: dict[str, SensorBias] | None = None,
        seed: int = 0,
    ) -> None:
        self.site = site
        self.port_dir = Path(port_dir)
        self.biases = dict(biases or {})
        self.seed = seed
        self.sensors = {
            s.id: s
            for s in site.sensors.values()
            if s.driver in SIMULATED_DRIVERS and (bridge is None or s.bridge == bridge)
        }
        self._sources: dict[str, tuple[float | None, float | None]] = {}
        self._removed: set[str] = set()
        self._random = random.Random(seed)
        self._lock = threading.Lock()
        self._devices: dict[str, ReferenceDevice] = {}
        self._buses: dict[str, ModbusBusSim] = {}
        self._ports: dict[str, str] = {}

    # -- lifecycle ------------------------------------------------------------------------------
    def start(self) -> None:
        self.port_dir.mkdir(parents=True, exist_ok=True)
        buses: dict[str, list[Sensor]] = {}
        for sensor in self.sensors.values():
            if sensor.driver == "reference":
                path = self._place(sensor.connection["port"], sensor.id)
                device = ReferenceDevice(path, sensor.id, functools.partial(self._frame_levels, sensor))
                device.start()
                self._devices[sensor.id] = device
                self._ports[sensor.id] = str(path)
            else:
                buses.setdefault(sensor.connection["port"], []).append(sensor)
        for n, (port, members) in enumerate(buses.items()):
            path = self._place(port, f"bus-{n}")
            base = self.site.path.parent if self.site.path else None
            units = {}
            for sensor in members:
                profile = load_register_profile(sensor.connection["profile"], base)
                units[sensor.connection.get("address", profile.default_address)] = (sensor.id, profile)
                self._ports[sensor.id] = str(path)
            first = load_register_profile(members[0].connection["profile"], base)
            baud = members[0].connection.get("baud", first.default_baud)
            bus = ModbusBusSim(path, self.port_dir / f".bus-{n}.server", baud, units, self._modbus_value)
            bus.start()
            self._buses[port] = bus

    def stop(self) -> None:
        for device in self._devices.values():
            device.stop()
        for bus in self._buses.values():
            bus.stop()

    def __enter__(self) -> Simulator:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- what tests and demos steer -------------------------------------------------------------
    def port_for(self, sensor_id: str) -> str:
        """The pty path (a symlink) the bridge should open for ``sensor_id``."""
        return self._ports[sensor_id]

    def remove_device(self, sensor_id: str) -> None:
        """Unplug: a reference device's port vanishes; a Modbus transmitter stops answering."""
        with self._lock:
            self._removed.add(sensor_id)
        if sensor_id in self._devices:
            self._devices[sensor_id].stop()

    def restore_device(self, sensor_id: str) -> None:
        """Plug back in (a reference device restarts: hello frame, on a new pty behind the same path)."""
        with self._lock:
            self._removed.discard(sensor_id)
        if sensor_id in self._devices:
            self._devices[sensor_id].start()

    def set_source(self, sensor_id: str, noise_db: float | None = None, lux: float | None = None) -> None:
        """Force a steady true level (e.g. a 94 dB calibrator, a reference lamp) instead of the office."""
        with self._lock:
            self._sources[sensor_id] = (noise_db, lux)

    def clear_source(self, sensor_id: str) -> None:
        with self._lock:
            self._sources.pop(sensor_id, None)

    def inject(self, sensor_id: str, data: bytes) -> None:
        """Put raw bytes on a reference device's line: garbage, truncated or corrupted frames for tests."""
        self._devices[sensor_id].write(data)

    # -- the physics ----------------------------------------------------------------------------
    def true_levels(self, sensor_id: str, t: float) -> tuple[float, float, bool]:
        """(noise dB(A), lux, steady) at the sensor's seat at epoch second ``t``; steady = forced source."""
        moment = datetime.fromtimestamp(t, UTC)
        with self._lock:
            forced_noise, forced_lux = self._sources.get(sensor_id, (None, None))
        installation = self.site.installation_at(sensor_id, moment)
        seat = installation.seat if installation else sensor_id
        noise = (
            forced_noise if forced_noise is not None else office_noise_db(self.site, seat, moment, self.seed)
        )
        lux = forced_lux if forced_lux is not None else office_lux(self.site, seat, moment, self.seed)
        return noise, lux, forced_noise is not None

    def _bias(self, sensor_id: str) -> SensorBias:
        return self.biases.get(sensor_id, SensorBias())

    def _frame_levels(
        self, sensor: Sensor, t: float
    ) -> tuple[float | None, float | None, float | None, float | None]:
        noise, lux, steady = self.true_levels(sensor.id, t)
        bias = self._bias(sensor.id)
        laeq = noise + bias.noise_offset_db
        with self._lock:
            above = 0.0 if steady else self._random.uniform(2.0, 8.0)
            below = 0.0 if steady else self._random.uniform(2.0, 6.0)
        measures_noise = Quantity.NOISE in sensor.measures
        return (
            laeq if measures_noise else None,
            laeq + above if measures_noise else None,
            laeq - below if measures_noise else None,
            lux * bias.lux_gain if Quantity.LIGHT in sensor.measures else None,
        )

    def _modbus_value(self, sensor_id: str) -> float | None:
        """A transmitter's instantaneous value at the moment it is polled."""
        with self._lock:
            if sensor_id in self._removed:
                return None
        sensor = self.sensors[sensor_id]
        now = datetime.now(UTC).timestamp()
        noise, lux, steady = self.true_levels(sensor_id, now)
        bias = self._bias(sensor_id)
        if Quantity.NOISE in sensor.measures:
            with self._lock:
                wobble = 0.0 if steady else self._random.gauss(0.0, 2.0)
            return noise + bias.noise_offset_db + wobble
        return lux * bias.lux_gain

    def _place(self, port: str, fallback: str) -> Path:
        """The site's own port path when we may create it there, else a path in ``port_dir``."""
        wanted = Path(port)
        if wanted.is_absolute() and not str(wanted).startswith("/dev/"):
            try:
                wanted.parent.mkdir(parents=True, exist_ok=True)
                if os.access(wanted.parent, os.W_OK) and (wanted.is_symlink() or not wanted.exists()):
                    return wanted
            except OSError:
                pass
        return self.port_dir / fallback
