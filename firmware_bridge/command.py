"""``seatwatch bridge --site SITE.toml --bridge ID``: run a bridge's drivers and publish what they read.

One thread per reference device or audio input, one per Modbus bus; their readings meet here, where the
host clock is checked (before 2020 it is clearly wrong: readings are refused and counted, never published
with a false time), every reading is committed to the outbox, and the publisher drains the outbox to MQTT.
Statuses (per sensor and for the bridge, retained) carry the error counters an installer needs, and the
bridge's status its wall clock (``clock_ms``) so ingest can report clock skew.

Every thread is supervised (seatwatch/core/supervision.py): a driver thread that raises is logged with its
traceback, its sensors go offline with the reason, and it is restarted with backoff; the main loop's
body is guarded the same way. A full disk under the outbox does not stop the bridge: readings that cannot
be kept are counted per sensor as ``outbox_full`` (in the sensor's and the bridge's status), the problem is
logged once a minute, and the bridge resumes by itself when space returns. While any of this holds, the
bridge's status says ``degraded`` with the reasons.
"""

from __future__ import annotations

import argparse
import logging
import queue
import signal
import sqlite3
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from firmware_bridge.driver_config import DriverConfigError
from firmware_bridge.drivers.audio_input import AudioInputDriver
from firmware_bridge.drivers.modbus_rtu import ModbusBus
from firmware_bridge.drivers.reference_serial import ReferenceSerialDriver
from firmware_bridge.outbox import Outbox
from firmware_bridge.publisher import Publisher
from firmware_bridge.sensor_state import SensorState
from seatwatch.core.command_startup import EXIT_OK, EXIT_USAGE, load_site_and_services
from seatwatch.core.contract import EPOCH_2020_MS, VERSION, Reading, encode
from seatwatch.core.settings import load_services
from seatwatch.core.site import Site
from seatwatch.core.supervision import Supervisor
from seatwatch.core.throttled_log import ThrottledLog
from seatwatch.core.topics import sensor_status_topic

log = logging.getLogger("seatwatch.bridge")
STATUS_EVERY_S = 10.0


class BridgeRunner:
    """The drivers, outbox and publisher of one bridge of a site."""

    def __init__(self, site: Site, bridge: str, state_dir: Path, services_env: dict[str, str] | None = None):
        if bridge not in site.bridges:
            raise DriverConfigError(
                f"bridge {bridge!r} is not in the site file (bridges: {', '.join(site.bridges)})"
            )
        sensors = [s for s in site.sensors_of_bridge(bridge) if s.driver != "mqtt"]
        if not sensors:
            raise DriverConfigError(
                f"bridge {bridge!r} has no serial, Modbus or audio sensors in the site file"
            )
        self.site = site
        self.bridge = bridge
        self.states = {s.id: SensorState(s.id, bridge, s.driver) for s in sensors}
        self._queue: queue.SimpleQueue[Reading] = queue.SimpleQueue()
        self.clock_refused = 0
        self.outbox_full = 0
        self.workers: list[tuple[str, Callable[[threading.Event], None]]] = []
        self.worker_sensors: dict[str, list[str]] = {}
        base = site.path.parent if site.path else None
        buses: dict[str, list] = {}
        for sensor in sensors:
            if sensor.driver == "reference":
                self.workers.append(
                    (sensor.id, ReferenceSerialDriver(sensor, self.states[sensor.id], self.emit).run)
                )
            elif sensor.driver == "audio":
                self.workers.append(
                    (sensor.id, AudioInputDriver(sensor, self.states[sensor.id], self.emit).run)
                )
            else:
                buses.setdefault(str(sensor.connection.get("port")), []).append(sensor)
        for port, members in buses.items():
            self.workers.append((f"modbus {port}", ModbusBus(members, self.states, self.emit, base).run))
            self.worker_sensors[f"modbus {port}"] = [m.id for m in members]
        services = load_services(site.services, env=services_env, base=base)
        self.outbox = Outbox(state_dir / f"outbox-{site.id}-{bridge}.sqlite")
        self.publisher = Publisher(services, site.id, bridge, self.outbox)
        self._stop = threading.Event()
        self.supervisor = Supervisor(log, on_failure=self._worker_failed)
        self._disk = ThrottledLog(log)  # the outbox cannot be written (a full disk)
        self._next_status = 0.0

    def emit(self, reading: Reading) -> None:
        """Drivers call this from their threads: one finished interval of one sensor."""
        self._queue.put(reading)

    def stop(self) -> None:
        self._stop.set()

    def run(self) -> None:
        """Run until :meth:`stop` (or SIGTERM/SIGINT via the command)."""
        self.publisher.start()
        for name, work in self.workers:
            self.supervisor.start(name, work, self._stop)
        tick = self.supervisor.guard("bridge-main", self._tick)
        try:
            while not self._stop.wait(0.1):
                tick()
        finally:
            self._stop.set()
            for thread in self.supervisor.threads:
                thread.join(timeout=2)
            self.supervisor.guard("bridge-main", self._store)()
            self.supervisor.guard("bridge-main", self._pump)()
            for state in self.states.values():
                state.set_offline("bridge stopped")
                self.publisher.set_status(sensor_status_topic(self.site.id, state.sensor), state.status())
            self.publisher.stop()
            self.outbox.close()

    def _tick(self) -> None:
        """One turn of the main loop: store, publish, and republish statuses that changed or are due."""
        self._store()
        self._pump()
        due = time.monotonic() >= self._next_status
        for state in self.states.values():
            changed = state.take_changed()
            status = state.status()
            if changed:
                level = logging.WARNING if "cannot open" in status["reason"] else logging.INFO
                log.log(level, "sensor %s %s %s", state.sensor, status["state"], status["reason"])
            if changed or due:
                self.publisher.set_status(sensor_status_topic(self.site.id, state.sensor), status)
        if due:
            self.publisher.set_status(self.publisher.status_topic, self.status())
            self._next_status = time.monotonic() + STATUS_EVERY_S

    def _pump(self) -> None:
        try:
            self.publisher.pump()
        except sqlite3.Error as exc:  # a full disk can refuse even the deletes of confirmed rows
            self._disk.problem(
                f"outbox {self.outbox.path}: {exc}: confirmed readings stay until there is room "
                "(they will be resent; ingest stores each once)",
                key="pump",
            )

    def _worker_failed(self, name: str, exc: BaseException) -> None:
        """A driver thread died: its sensors are offline (with why) until it runs again."""
        for sensor in self.worker_sensors.get(name, [name]):
            if sensor in self.states:
                self.states[sensor].set_offline(f"driver failed: {type(exc).__name__}: {exc}"[:200])

    def status(self) -> dict[str, Any]:
        """The bridge's retained status: how much waits in the outbox and what was refused or dropped."""
        reasons = self.supervisor.problems()
        if self._disk.active:
            reasons.append(f"outbox: {self._disk.active}")
        now_ms = int(time.time() * 1000)
        return {
            "v": VERSION,
            "bridge": self.bridge,
            "state": "degraded" if reasons else "online",
            "reasons": reasons,
            "since": now_ms,
            "clock_ms": now_ms,  # this bridge's wall clock: ingest reports the skew against its own
            "sensors": len(self.states),
            "sensors_online": sum(s.online for s in self.states.values()),
            "outbox": self.outbox.depth(),
            "outbox_dropped": self.outbox.dropped(),
            "outbox_full": self.outbox_full,  # readings the outbox could not keep (a full disk)
            "unconfirmed": self.publisher.unconfirmed,  # published, not yet confirmed durable by ingest
            "resent_batches": self.publisher.resent,
            "clock_refused": self.clock_refused,
            "published": self.publisher.published,
        }

    def _store(self) -> None:
        """Commit queued readings to the outbox, refusing those stamped by a clock set before 2020."""
        payloads: list[tuple[str, str]] = []
        while not self._queue.empty():
            reading = self._queue.get()
            if reading.ts < EPOCH_2020_MS:
                self.clock_refused += 1
                if self.clock_refused == 1:
                    log.error("host clock is before 2020: readings are refused until the clock is set (NTP?)")
                continue
            if reading.laeq is None and reading.lux is None:
                self.states[reading.sensor].count("empty")
                continue
            self.states[reading.sensor].counted_reading()
            payloads.append((reading.sensor, encode(reading).decode()))
        if not payloads:
            return
        try:
            dropped = self.outbox.add([p for _, p in payloads])
        except sqlite3.Error as exc:  # "database or disk is full": count what is lost, per sensor
            self.outbox_full += len(payloads)
            for sensor, _ in payloads:
                self.states[sensor].count("outbox_full")
            self._disk.problem(
                f"outbox {self.outbox.path} cannot keep readings ({exc}): {self.outbox_full} readings "
                "lost so far, counted per sensor as outbox_full; free space on that disk",
                key="add",
            )
            return
        self._disk.resolved(f"outbox {self.outbox.path} keeps readings again")
        if dropped:
            log.warning("outbox full: the %d oldest readings were dropped (counted in the status)", dropped)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.epilog = (
        "examples:\n  seatwatch bridge --site /etc/seatwatch/site.toml --bridge gw-east\n"
        "  seatwatch simulate --site site.toml --write-site sim.toml &   # a dry run without hardware\n"
        "  seatwatch bridge --site sim.toml --bridge gw-east"
    )
    parser.add_argument("--site", required=True, metavar="SITE.toml", help="the site file")
    parser.add_argument("--bridge", required=True, metavar="ID", help="which of the site's bridges this is")
    parser.add_argument(
        "--state-dir",
        type=Path,
        metavar="DIR",
        help="folder for the outbox (default: SEATWATCH_STATE_DIR, else the site file's services.state_dir)",
    )


def run(args: argparse.Namespace) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    site, services = load_site_and_services(args.site)  # a ConfigError: seatwatch.cli prints it, exit 2
    try:
        bridge = BridgeRunner(site, args.bridge, args.state_dir or services.state_dir)
    except (DriverConfigError, OSError, sqlite3.Error) as exc:
        print(f"seatwatch bridge: {args.site}: {exc}", file=sys.stderr)
        return EXIT_USAGE
    signal.signal(signal.SIGTERM, lambda *_: bridge.stop())
    signal.signal(signal.SIGINT, lambda *_: bridge.stop())
    log.info(
        "bridge %s of site %s: %d sensors, outbox %s",
        args.bridge,
        site.id,
        len(bridge.states),
        bridge.outbox.path,
    )
    bridge.run()
    return EXIT_OK
