"""Helpers for the bridge and simulator tests: a 16-sensor site file, a bridge subprocess, an MQTT collector.

The bridge runs as a real ``seatwatch bridge`` subprocess (so a test can ``kill -9`` it) against real
pseudo-terminal devices from the simulator and a real Mosquitto.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt

from seatwatch.core.contract import encode_ack
from seatwatch.core.topics import (
    ack_topic,
    batch_topic,
    bridge_status_subscription,
    sensor_status_subscription,
)

REPO = Path(__file__).resolve().parent.parent
BRIDGE = "gw-test"


def write_site(
    folder: Path,
    site_id: str,
    mqtt_url: str,
    refs: int = 8,
    modbus_per_bus: int = 4,
    bridge: str = BRIDGE,
) -> Path:
    """A site whose ``refs`` reference sensors and 2 RS-485 buses (``modbus_per_bus`` noise + as many lux
    transmitters each) have their ports under ``folder/dev``. ``bridge`` names the one bridge: a broker
    whose ACL names bridges (deploy/mosquitto/) needs one of its own."""
    dev = folder / "dev"
    lines = [
        f'[site]\nid = "{site_id}"\nname = "bridge test"\ntimezone = "Asia/Shanghai"\n',
        '[hours]\nshifts = [{ name = "all", days = "daily", start = "00:00", end = "24:00" }]\n',
        f'[services]\nmqtt_url = "{mqtt_url}"\nstate_dir = "{folder / "state"}"\n',
        f'[[bridges]]\nid = "{bridge}"\n',
        '[[zones]]\nid = "z"\nname = "zone"\nkind = "agent"\narea_m2 = 200.0\n',
    ]
    sensors: list[tuple[str, str, str, str]] = []
    for n in range(refs):
        sensors.append(
            (f"ref-{n}", '["noise", "light"]', "reference", f'{{ port = "{dev}/ref-{n}", baud = 115200 }}')
        )
    for bus in range(2):
        for n in range(modbus_per_bus):
            port = f'port = "{dev}/rs485-{bus}", baud = 9600'
            sensors.append(
                (
                    f"nz-{bus}-{n}",
                    '["noise"]',
                    "modbus",
                    f'{{ {port}, address = {n + 1}, profile = "renke-noise" }}',
                )
            )
            sensors.append(
                (
                    f"lx-{bus}-{n}",
                    '["light"]',
                    "modbus",
                    f'{{ {port}, address = {n + 101}, profile = "renke-lux" }}',
                )
            )
    for n, (ident, measures, driver, connection) in enumerate(sensors):
        lines.append(f'[[seats]]\nid = "S-{n:02d}"\nzone = "z"\nx = {n % 8 * 1.5}\ny = {n // 8 * 2.0}\n')
        floor = "noise_floor_db = 30.0\n" if "noise" in measures else ""
        lines.append(
            f'[[sensors]]\nid = "{ident}"\nbridge = "{bridge}"\nmeasures = {measures}\ndriver = "{driver}"\n'
            f"{floor}connection = {connection}\n"
        )
        lines.append(f'[[installations]]\nsensor = "{ident}"\nseat = "S-{n:02d}"\nfrom = 2020-01-01\n')
    path = folder / "site.toml"
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def start_bridge(
    site: Path, log: Path, env: dict[str, str] | None = None, bridge: str = BRIDGE
) -> subprocess.Popen[bytes]:
    """``seatwatch bridge`` in its own process group, output to ``log``."""
    environment = {**os.environ, "PYTHONPATH": str(REPO), **(env or {})}
    environment.pop("SEATWATCH_MQTT_URL", None)
    with open(log, "ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "seatwatch", "bridge", "--site", str(site), "--bridge", bridge],
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=REPO,
            env=environment,
            start_new_session=True,
        )


def stop_bridge(process: subprocess.Popen[bytes], kill: bool = False) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGKILL if kill else signal.SIGTERM)
        process.wait(timeout=15)


class Collector:
    """Subscribes (QoS 1, persistent session) to a site's bridge batches and statuses; keeps every reading.

    It stands in for ingest: it confirms each batch it receives on the bridge's ack topic (its memory is
    its "durable"), so the bridge deletes the batch from its outbox, and it keeps each reading once —
    a bridge resends batches that were not confirmed in time, and ingest's writes are idempotent."""

    def __init__(self, mqtt_url: str, site_id: str, client_id: str | None = None) -> None:
        host, port = mqtt_url.split("://", 1)[1].rsplit(":", 1)
        self.site_id = site_id
        self.readings: list[dict[str, Any]] = []
        self._seen: set[tuple[str, int]] = set()
        self.statuses: dict[str, dict[str, Any]] = {}
        self.messages = 0
        self._lock = threading.Lock()
        self.client = mqtt.Client(
            mqtt.CallbackAPIVersion.VERSION2,
            client_id=client_id or f"collector-{site_id}",
            clean_session=False,
        )
        topics = [(batch_topic(site_id, BRIDGE), 1), (sensor_status_subscription(site_id), 1)]
        topics.append((bridge_status_subscription(site_id), 1))
        self.client.on_connect = lambda c, *_: c.subscribe(topics)
        self.client.on_message = self._on_message
        self.client.reconnect_delay_set(0.2, 1)  # type: ignore[arg-type]  # paho annotates int; a float delay works
        self.client.connect(host, int(port))
        self.client.loop_start()

    def _on_message(self, client: mqtt.Client, userdata: Any, message: mqtt.MQTTMessage) -> None:
        doc = json.loads(message.payload)
        with self._lock:
            if message.topic.endswith("/status"):
                key = doc.get("sensor") or f"_bridge/{doc.get('bridge')}"
                self.statuses[key] = doc
            else:
                self.messages += 1
                for reading in doc["readings"]:
                    key = (reading["sensor"], reading["ts"])
                    if key not in self._seen:
                        self._seen.add(key)
                        self.readings.append(reading)
        if not message.topic.endswith("/status"):
            client.publish(ack_topic(self.site_id, BRIDGE), encode_ack([doc["batch"]]), qos=1)

    def by_sensor(self) -> dict[str, list[dict[str, Any]]]:
        out: dict[str, list[dict[str, Any]]] = {}
        with self._lock:
            for reading in self.readings:
                out.setdefault(reading["sensor"], []).append(reading)
        return out

    def status(self, key: str) -> dict[str, Any]:
        with self._lock:
            return dict(self.statuses.get(key, {}))

    def close(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()


def wait_until(condition: Callable[[], bool], timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout_s} s waiting for {what}")
        time.sleep(0.2)
