"""Test and benchmark helpers: a small generated site, synthetic readings, and a bridge-style publisher.

:func:`publish_readings` sends readings the way bridges do (DESIGN.md: JSON arrays on the bridge batch
topic, QoS 1) over a persistent paho session, so it survives a broker restart: paho resends what the
broker did not acknowledge, and publishing returns only when every message was acknowledged.
"""

from __future__ import annotations

import random
import threading
import time
import uuid
from collections.abc import Iterable, Sequence
from pathlib import Path

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from seatwatch.contract import Reading, batch_topic, encode
from seatwatch.settings import load_services

BRIDGE = "gw-1"
ZONE = "agents"
NOISE_FLOOR_DB = 32.0
INSTALLED_FROM = "2020-01-01T00:00:00Z"


def sensor_ids(count: int) -> list[str]:
    return [f"nz-{n:04d}" for n in range(1, count + 1)]


def seat_of(sensor: str) -> str:
    """Seat ``S-0007`` holds sensor ``nz-0007`` in :func:`write_site`'s sites."""
    return "S-" + sensor.split("-", 1)[1]


def write_site(path: Path, site_id: str, sensors: int = 50, services: dict[str, str] | None = None) -> Path:
    """A valid site file: one agent zone, one seat per sensor, every sensor installed since 2020."""
    lines = [
        "[site]",
        f'id = "{site_id}"',
        'name = "test floor"',
        'timezone = "UTC"',
        "[hours]",
        'shifts = [{ name = "day", days = "mon-sun", start = "08:00", end = "20:00" }]',
        "[services]",
        *(f'{key} = "{value}"' for key, value in (services or {}).items()),
        "[[bridges]]",
        f'id = "{BRIDGE}"',
        "[[zones]]",
        f'id = "{ZONE}"',
        'name = "agents"',
        'kind = "agent"',
        f"area_m2 = {6.0 * sensors}",
    ]
    for n, sensor in enumerate(sensor_ids(sensors)):
        lines += ["[[seats]]", f'id = "{seat_of(sensor)}"', f'zone = "{ZONE}"', f"x = {n * 1.0}", "y = 1.0"]
        lines += [
            "[[sensors]]",
            f'id = "{sensor}"',
            f'bridge = "{BRIDGE}"',
            'measures = ["noise", "light"]',
            'driver = "mqtt"',
            f"noise_floor_db = {NOISE_FLOOR_DB}",
        ]
        lines += ["[[installations]]", f'sensor = "{sensor}"', f'seat = "{seat_of(sensor)}"']
        lines += [f"from = {INSTALLED_FROM}"]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def make_readings(count: int, sensors: int = 50, seed: int = 1, start_ms: int | None = None) -> list[Reading]:
    """``count`` readings spread round-robin over the sensors, one second apart per sensor, ending now."""
    rng = random.Random(seed)
    per_sensor = -(-count // sensors)
    start = start_ms if start_ms is not None else (int(time.time()) - per_sensor - 60) * 1000
    ids = sensor_ids(sensors)
    out = []
    for n in range(count):
        laeq = round(rng.uniform(30.0, 80.0), 1)
        out.append(
            Reading(
                ids[n % sensors], n // sensors, start + (n // sensors) * 1000, 1.0,
                laeq=laeq, lafmax=laeq + 6.0, lafmin=laeq - 6.0, lux=round(rng.uniform(0.0, 900.0), 1),
            )
        )  # fmt: skip
    return out


def publisher(mqtt_url: str, client_id: str | None = None) -> mqtt.Client:
    """A connected, looping QoS 1 publisher with a persistent session and a wide in-flight window."""
    host, port = load_services({"mqtt_url": mqtt_url}, env={}).mqtt_host_port
    client = mqtt.Client(
        CallbackAPIVersion.VERSION2,
        client_id=client_id or f"pub-{uuid.uuid4().hex[:8]}",
        protocol=mqtt.MQTTv5,
    )
    client.max_inflight_messages_set(1000)
    client.max_queued_messages_set(0)
    client.reconnect_delay_set(0.2, 2)
    props = Properties(PacketTypes.CONNECT)
    props.SessionExpiryInterval = 3600
    client.connect(host, port, clean_start=False, properties=props)
    client.loop_start()
    return client


def publish_payloads(
    client: mqtt.Client, messages: Iterable[tuple[str, bytes]], rate: float | None = None
) -> int:
    """Publish (topic, payload) pairs at QoS 1, at most ``rate`` messages/s; wait for every broker ack.

    Acks are counted in ``on_publish`` rather than with ``wait_for_publish``, which raises for a message
    published while disconnected — paho keeps such a message and sends it after the reconnect.
    """
    acked: set[int] = set()
    lock = threading.Lock()

    def on_publish(_c: mqtt.Client, _u: object, mid: int, _rc: object, _p: object) -> None:
        with lock:
            acked.add(mid)

    client.on_publish = on_publish
    mids = []
    started = time.monotonic()
    for n, (topic, payload) in enumerate(messages):
        if rate:
            ahead = started + n / rate - time.monotonic()
            if ahead > 0:
                time.sleep(ahead)
        mids.append(client.publish(topic, payload, qos=1).mid)
    deadline = time.monotonic() + 120
    while True:
        with lock:
            missing = len(set(mids) - acked)
        if not missing:
            return len(mids)
        if time.monotonic() > deadline:
            raise TimeoutError(f"the broker did not acknowledge {missing} publications within 120 s")
        time.sleep(0.02)


def batches(site_id: str, readings: Sequence[Reading], per_message: int = 100) -> list[tuple[str, bytes]]:
    """Bridge batch messages of ``per_message`` readings each."""
    topic = batch_topic(site_id, BRIDGE)
    return [
        (topic, encode(list(readings[i : i + per_message]))) for i in range(0, len(readings), per_message)
    ]


def publish_readings(
    mqtt_url: str,
    site_id: str,
    readings: Sequence[Reading],
    per_message: int = 100,
    rate: float | None = None,
) -> int:
    """Publish readings bridge-style (``rate`` in messages/s); returns the number of messages."""
    client = publisher(mqtt_url)
    try:
        return publish_payloads(client, batches(site_id, readings, per_message), rate)
    finally:
        client.disconnect()
        client.loop_stop()
