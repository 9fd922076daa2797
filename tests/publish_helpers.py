"""Test and benchmark helpers: a small generated site, synthetic readings, and publishing them.

:func:`publish_readings` *is* a bridge: it feeds readings into a bridge :class:`Outbox` and lets the bridge's
:class:`Publisher` drain it (batches with ids on the bridge batch topic, QoS 1), so tests see exactly what
bridges do through broker restarts and crashes — keeping every batch until ingest confirms it durable and
resending what is not confirmed. It returns when the outbox is empty, i.e. when ingest has confirmed all.

:func:`publish_payloads` sends ready-made messages as fast as the broker takes them (benchmarks, odd
payloads); it has no outbox, so it fails loudly when a message reached no subscriber instead of losing it.
"""

from __future__ import annotations

import random
import tempfile
import threading
import time
import uuid
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from firmware_bridge.outbox import Outbox
from firmware_bridge.publisher import Publisher
from seatwatch.core.contract import Reading, encode
from seatwatch.core.settings import load_services
from seatwatch.core.topics import batch_topic

BRIDGE = "gw-1"
ZONE = "agents"
NOISE_FLOOR_DB = 32.0
INSTALLED_FROM = "2020-01-01T00:00:00Z"


def sensor_ids(count: int) -> list[str]:
    return [f"nz-{n:04d}" for n in range(1, count + 1)]


def seat_of(sensor: str) -> str:
    """Seat ``S-0007`` holds sensor ``nz-0007`` in :func:`write_site`'s sites."""
    return "S-" + sensor.split("-", 1)[1]


def write_site(
    path: Path,
    site_id: str,
    sensors: int = 50,
    services: dict[str, str] | None = None,
    bridges: Sequence[str] = (BRIDGE,),
) -> Path:
    """A valid site file: one agent zone, one seat per sensor, every sensor installed since 2020.

    Sensors are shared round-robin among ``bridges`` (ingest refuses a reading that arrives on another
    bridge's batch topic, ``wrong_bridge``): :func:`bridge_of` says which."""
    lines = [
        "[site]",
        f'id = "{site_id}"',
        'name = "test floor"',
        'timezone = "UTC"',
        "[hours]",
        'shifts = [{ name = "day", days = "mon-sun", start = "08:00", end = "20:00" }]',
        "[services]",
        *(f'{key} = "{value}"' for key, value in (services or {}).items()),
        *(line for bridge in bridges for line in ("[[bridges]]", f'id = "{bridge}"')),
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
            f'bridge = "{bridges[n % len(bridges)]}"',
            'measures = ["noise", "light"]',
            'driver = "mqtt"',
            f"noise_floor_db = {NOISE_FLOOR_DB}",
        ]
        lines += ["[[installations]]", f'sensor = "{sensor}"', f'seat = "{seat_of(sensor)}"']
        lines += [f"from = {INSTALLED_FROM}"]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def bridge_of(sensor: str, bridges: Sequence[str] = (BRIDGE,)) -> str:
    """The bridge :func:`write_site` gave ``sensor`` to."""
    return bridges[(int(sensor.split("-", 1)[1]) - 1) % len(bridges)]


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
    client.reconnect_delay_set(0.2, 2)  # type: ignore[arg-type]  # paho annotates int; a float delay works
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
    unrouted: list[int] = []
    lock = threading.Lock()

    def on_publish(_c: mqtt.Client, _u: object, mid: int, reason: object, _p: object) -> None:
        with lock:
            acked.add(mid)
            if getattr(reason, "value", 0) != 0:  # 0x10 no subscriber, or a refusal: not delivered
                unrouted.append(mid)

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
            break
        if time.monotonic() > deadline:
            raise TimeoutError(f"the broker did not acknowledge {missing} publications within 120 s")
        time.sleep(0.02)
    if unrouted:
        raise RuntimeError(f"{len(unrouted)} of {len(mids)} messages matched no subscriber and are lost")
    return len(mids)


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
    timeout_s: float = 120.0,
    bridge_id: str = BRIDGE,
    env: Mapping[str, str] | None = None,
) -> int:
    """Publish readings through a bridge's outbox and publisher (``rate`` in messages/s of ``per_message``).

    ``env`` holds a secured broker's settings as a bridge's environment would (SEATWATCH_MQTT_CA_FILE,
    _USERNAME, _PASSWORD), and ``bridge_id`` the bridge whose topic that user may publish to.
    Returns the number of readings ingest confirmed; raises if the outbox is not empty ``timeout_s`` after
    the last reading went into it."""
    services = load_services({"mqtt_url": mqtt_url}, env=env or {})
    with tempfile.TemporaryDirectory(prefix="publish-") as folder:
        outbox = Outbox(Path(folder) / "outbox.sqlite")
        bridge = Publisher(services, site_id, bridge_id, outbox, batch_readings=per_message)
        bridge.start()
        try:
            started, added = time.monotonic(), 0
            while added < len(readings):
                due = len(readings) if not rate else int((time.monotonic() - started) * rate) * per_message
                if due > added:
                    outbox.add([encode(r).decode() for r in readings[added:due]])
                    added = min(due, len(readings))
                bridge.pump()
                time.sleep(0.005)
            deadline = time.monotonic() + timeout_s
            while outbox.depth():
                if time.monotonic() > deadline:
                    raise TimeoutError(
                        f"{outbox.depth()} readings still in the outbox after {timeout_s} s "
                        f"({bridge.unconfirmed} of them published and not confirmed by ingest)"
                    )
                bridge.pump()
                time.sleep(0.005)
            return bridge.published
        finally:
            bridge.stop()
            outbox.close()
