"""Test support for the calibrate tests: a site file, a sensor that publishes its own readings on MQTT
(the ``mqtt`` driver's path), and the ``seatwatch`` command run as a real subprocess."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from seatwatch.core.calibration_records import CalibrationRecord
from seatwatch.core.contract import Reading, encode
from seatwatch.core.influxql import InfluxQLClient, quote_string
from seatwatch.core.settings import load_services
from seatwatch.core.topics import reading_topic

REPO = Path(__file__).resolve().parent.parent

MQTT_SENSORS = """\
[[sensors]]
id = "nz-1"
bridge = "gw-1"
measures = ["noise", "light"]
driver = "mqtt"
noise_floor_db = 30.0

[[sensors]]
id = "lx-2"
bridge = "gw-1"
measures = ["light"]
driver = "mqtt"

[[installations]]
sensor = "nz-1"
seat = "A-01"
from = 2025-01-01T00:00:00+08:00

[[installations]]
sensor = "lx-2"
seat = "A-02"
from = 2025-01-01T00:00:00+08:00
"""

REFERENCE_SENSOR = """\
[[sensors]]
id = "ref-1"
bridge = "gw-1"
measures = ["noise", "light"]
driver = "reference"
model = "seatwatch-ref-1 (ESP32-S3 + ICS-43434 + OPT3001)"
noise_floor_db = 32.0
connection = {{ port = "{port}", baud = 115200 }}

[[installations]]
sensor = "ref-1"
seat = "A-01"
from = 2025-01-01T00:00:00+08:00
"""
"""A reference sensor on a serial port ``{port}`` (for the simulator), installed at seat A-01."""

SITE_TOML = """\
[site]
id = "{site}"
name = "Calibration test floor"
timezone = "Asia/Shanghai"

[hours]
shifts = [{{ name = "day", days = "mon-sun", start = "00:00", end = "24:00" }}]

[services]
mqtt_url = "{mqtt_url}"
influx_url = "{influx_url}"
influx_db = "{influx_db}"
state_dir = "{state_dir}"

[[bridges]]
id = "gw-1"

[[zones]]
id = "agents"
name = "Agents"
kind = "agent"
area_m2 = 12.0

[[seats]]
id = "A-01"
zone = "agents"
x = 1.0
y = 1.0

[[seats]]
id = "A-02"
zone = "agents"
x = 3.0
y = 1.0

{sensors}"""


def write_site(
    folder: Path, site: str, mqtt_url: str, influx_url: str, influx_db: str, sensors: str = MQTT_SENSORS
) -> Path:
    """A two-seat site; ``sensors`` is the TOML of its sensors and installations."""
    path = folder / "site.toml"
    state = folder / "state"
    path.write_text(
        SITE_TOML.format(
            site=site,
            mqtt_url=mqtt_url,
            influx_url=influx_url,
            influx_db=influx_db,
            state_dir=state,
            sensors=sensors,
        )
    )
    return path


class PublishingSensor:
    """A sensor publishing a reading every ``dur`` seconds: ``level()`` and ``lux()`` give its values."""

    def __init__(self, mqtt_url: str, site: str, sensor: str = "nz-1", dur: float = 0.25) -> None:
        host, port = load_services({"mqtt_url": mqtt_url}, env={}).mqtt_host_port
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"{site}-{sensor}-sensor")
        self.client.connect(host, port)
        self.client.loop_start()
        self.topic = reading_topic(site, sensor)
        self.sensor = sensor
        self.dur = dur
        self.noise_db = 45.0
        self.noise_jitter_db = 0.02
        self.lux = 300.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._rng = random.Random(0)

    def __enter__(self) -> PublishingSensor:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.client.loop_stop()
        self.client.disconnect()

    def _run(self) -> None:
        seq = 0
        while not self._stop.wait(self.dur):
            seq += 1
            level = self.noise_db + self._rng.gauss(0.0, self.noise_jitter_db)
            ts = int(time.time() * 1000 - self.dur * 1000)
            lux = self.lux * (1 + self._rng.gauss(0.0, 0.002))
            reading = Reading(self.sensor, seq, ts, self.dur, laeq=level, lux=lux)
            self.client.publish(self.topic, encode(reading), qos=1)


def provenance(quantity: str, valid_from: date | None = None, valid_until: date | None = None) -> list[str]:
    """The provenance options a calibration needs, with a reference certificate valid from a month ago
    for a year unless dates are given."""
    today = datetime.now(UTC).date()
    start = valid_from or today - timedelta(days=30)
    end = valid_until or start + timedelta(days=365)
    model, serial, grade = (
        ("B&K 4231", "2458913", "IEC 60942 class 1")
        if quantity == "noise"
        else ("T-10A", "11223", "JJG 245 grade 1")
    )
    return [
        "--operator", "Li Wei",
        "--instrument-model", model,
        "--instrument-serial", serial,
        "--instrument-class", grade,
        "--instrument-cert-number", f"JL-{serial}-26",
        "--instrument-cert-valid-from", start.isoformat(),
        "--instrument-cert-valid-until", end.isoformat(),
    ]  # fmt: skip


class SimulateProcess:
    """``seatwatch simulate`` as a subprocess, its output lines collected; ``control`` steers its sources
    over the control topic and waits until the simulator says it applied them."""

    def __init__(self, mqtt_url: str, site_id: str, *args: str | Path) -> None:
        self.site_id = site_id
        self.lines: list[str] = []
        self._changed = threading.Condition()
        env = {k: v for k, v in os.environ.items() if not k.startswith("SEATWATCH_")}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "seatwatch", "simulate", *map(str, args)],
            cwd=REPO,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        threading.Thread(target=self._read, daemon=True).start()
        host, port = load_services({"mqtt_url": mqtt_url}, env={}).mqtt_host_port
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"{site_id}-rehearsal-test")
        self.client.connect(host, port)
        self.client.loop_start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            with self._changed:
                self.lines.append(line.rstrip("\n"))
                self._changed.notify_all()

    def wait_line(self, text: str, after: int = 0, timeout_s: float = 20.0) -> int:
        """Index of the first line from ``after`` on that contains ``text``."""
        deadline = time.monotonic() + timeout_s
        with self._changed:
            while True:
                for n in range(after, len(self.lines)):
                    if text in self.lines[n]:
                        return n
                left = deadline - time.monotonic()
                assert left > 0 and self.process.poll() is None, f"no {text!r} in {self.lines}"
                self._changed.wait(left)

    def control(self, sensor: str, doc: dict[str, Any]) -> None:
        after = len(self.lines)
        topic = f"seatwatch/v1/{self.site_id}/_simulate/{sensor}/source"
        self.client.publish(topic, json.dumps(doc), qos=1).wait_for_publish(5)
        self.wait_line(f"rehearsal: {sensor}: now", after)

    def stop(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()
        self.process.terminate()
        self.process.wait(timeout=20)


def seatwatch(*args: str | Path, timeout: float = 60.0) -> subprocess.CompletedProcess[str]:
    """Run ``python -m seatwatch ARGS`` as the user would, without a terminal."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SEATWATCH_")}
    return subprocess.run(
        [sys.executable, "-m", "seatwatch", *map(str, args)],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
    )


def words(text: str) -> str:
    """``text`` with each run of whitespace one space: what was said, however it was wrapped to 80 columns."""
    return " ".join(text.split())


def wait_for(condition: Callable[[], bool], timeout_s: float = 20.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, f"timed out after {timeout_s} s"
        time.sleep(0.2)


def start_seatwatch(log: Path, *args: str | Path) -> subprocess.Popen[bytes]:
    """A long-running ``seatwatch`` service (bridge, ingest) as a subprocess logging to ``log``."""
    with log.open("wb") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "seatwatch", *map(str, args)],
            cwd=REPO,
            stdout=out,
            stderr=subprocess.STDOUT,
        )


def stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def split_at_record(
    influx: InfluxQLClient, measurement: str, sensor: str, record: CalibrationRecord
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The sensor's stored points before the record's time, and from it on."""
    query = f'SELECT * FROM "{measurement}" WHERE "sensor" = {quote_string(sensor)}'
    rows = [row for s in influx.query(query) for row in s.rows()]
    performed_ms = record.performed_at.timestamp() * 1000
    return [r for r in rows if r["time"] < performed_ms], [r for r in rows if r["time"] >= performed_ms]


def history(site: Path) -> list[CalibrationRecord]:
    """The records in the site's local history file (its state_dir is beside the site file)."""
    path = site.parent / "state" / "calibrations.jsonl"
    return [CalibrationRecord.from_json(t) for t in path.read_text().splitlines()] if path.exists() else []
