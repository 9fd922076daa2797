"""The whole path under every fault at once loses nothing (acceptance of issue #12).

Simulated devices on pseudo-terminals → two real ``seatwatch bridge`` processes → a real Mosquitto (its
shipped ``autosave_interval 60``) → two real ``seatwatch ingest`` processes on one shared subscription →
a real influxd, for about 150 s at 150 readings a second, during which:

- a second persistent subscriber sits on every bridge batch topic (so the broker answers Success even when
  no ingest is subscribed);
- each ingest is killed with ``kill -9`` once;
- Mosquitto is killed with ``kill -9`` while both ingest processes are down (what it held since its last
  autosave is gone, though the bridges had their PUBACKs);
- influxd is down for 60 s, and one ingest's spool sits on a 1 MiB disk that fills up.

Then the devices stop, the bridges drain, and every reading each bridge committed (its sensors' status
``readings``) must be in the database: per sensor, exactly that many points, one a second, no gap.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from firmware_bridge.simulate.simulator import Simulator
from seatwatch.core.influxql import InfluxQLClient
from seatwatch.core.site_file import load_site
from seatwatch.core.topics import (
    batch_topic,
    bridge_status_subscription,
    bridge_status_topic,
    sensor_status_subscription,
    sensor_status_topic,
)
from tests.bridge_support import start_bridge, stop_bridge, wait_until
from tests.ingest_process import IngestProcess
from tests.services import ServerProcess

pytestmark = [pytest.mark.integration, pytest.mark.slow]

BRIDGES = ("gw-a", "gw-b")
PER_BRIDGE = 75


def write_floor(folder: Path, site_id: str, mqtt_url: str) -> Path:
    dev = folder / "dev"
    lines = [
        f'[site]\nid = "{site_id}"\nname = "chaos floor"\ntimezone = "Asia/Shanghai"\n',
        '[hours]\nshifts = [{ name = "all", days = "daily", start = "00:00", end = "24:00" }]\n',
        f'[services]\nmqtt_url = "{mqtt_url}"\nstate_dir = "{folder / "bridge-state"}"\n',
        *(f'[[bridges]]\nid = "{bridge}"\n' for bridge in BRIDGES),
        '[[zones]]\nid = "z"\nname = "zone"\nkind = "agent"\narea_m2 = 2000.0\n',
    ]
    for b, bridge in enumerate(BRIDGES):
        for n in range(PER_BRIDGE):
            sensor, seat = f"ref-{b}-{n:02d}", f"S-{b}-{n:02d}"
            lines.append(f'[[seats]]\nid = "{seat}"\nzone = "z"\nx = {n * 1.0}\ny = {b * 2.0}\n')
            lines.append(
                f'[[sensors]]\nid = "{sensor}"\nbridge = "{bridge}"\nmeasures = ["noise", "light"]\n'
                f'driver = "reference"\nnoise_floor_db = 30.0\n'
                f'connection = {{ port = "{dev}/{sensor}", baud = 115200 }}\n'
            )
            lines.append(f'[[installations]]\nsensor = "{sensor}"\nseat = "{seat}"\nfrom = 2020-01-01\n')
    path = folder / "site.toml"
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


class Statuses:
    """Every retained status of the site, kept current (a plain client: it reconnects after a crash)."""

    def __init__(self, mqtt_url: str, site_id: str) -> None:
        host, port = mqtt_url.split("://", 1)[1].rsplit(":", 1)
        self.docs: dict[str, dict[str, Any]] = {}
        self._lock = threading.Lock()
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
        topics = [(sensor_status_subscription(site_id), 1), (bridge_status_subscription(site_id), 1)]
        self.client.on_connect = lambda c, *_: c.subscribe(topics)
        self.client.on_message = self._message
        self.client.reconnect_delay_set(0.2, 1)  # type: ignore[arg-type]  # paho annotates int; a float delay works
        self.client.connect(host, int(port))
        self.client.loop_start()

    def _message(self, _c: mqtt.Client, _u: object, message: mqtt.MQTTMessage) -> None:
        with self._lock:
            self.docs[message.topic] = json.loads(message.payload)

    def get(self, topic: str) -> dict[str, Any]:
        with self._lock:
            return dict(self.docs.get(topic, {}))

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def other_subscriber(mqtt_url: str, site_id: str) -> mqtt.Client:
    """A second persistent subscriber on the batch topics, as the ``calibrate`` user may be."""
    host, port = mqtt_url.split("://", 1)[1].rsplit(":", 1)
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"{site_id}-other", protocol=mqtt.MQTTv5)
    props = Properties(PacketTypes.CONNECT)
    props.SessionExpiryInterval = 3600
    client.on_connect = lambda c, *_: c.subscribe(batch_topic(site_id, "+"), qos=1)
    client.reconnect_delay_set(0.2, 2)  # type: ignore[arg-type]  # paho annotates int; a float delay works
    client.connect(host, int(port), clean_start=False, properties=props)
    client.loop_start()
    return client


def test_every_reading_is_stored_once_through_every_fault_at_once(
    private_mosquitto: Callable[[], ServerProcess],
    private_influxd: Callable[[], ServerProcess],
    small_disk: Callable[[int], Path],
    site_id: str,
    tmp_path: Path,
) -> None:
    broker, database = private_mosquitto(), private_influxd()
    mqtt_url, influx_url = broker.url, database.url
    site_path = write_floor(tmp_path, site_id, mqtt_url)
    site = load_site(site_path)
    statuses = Statuses(mqtt_url, site_id)
    other = other_subscriber(mqtt_url, site_id)
    spool_disk = small_disk(1024)
    ingests = [
        IngestProcess(site_path, tmp_path / "ingest", mqtt_url, influx_url, "chaos", f"{site_id}-{n}", "v1",
                      env={"SEATWATCH_STATE_DIR": str(tmp_path / "ingest" if n == 0 else spool_disk)})
        for n in range(2)
    ]  # fmt: skip
    for ingest in ingests:
        ingest.start().wait_ready()
    simulator = Simulator(site, port_dir=tmp_path / "ports")
    simulator.start()
    bridges = {b: start_bridge(site_path, tmp_path / f"{b}.log", bridge=b) for b in BRIDGES}
    started = time.monotonic()

    def at(second: float) -> None:
        time.sleep(max(0.0, started + second - time.monotonic()))

    try:
        at(15)
        ingests[0].kill()  # kill -9 number one
        ingests[0].start()
        at(30)
        ingests[1].kill()  # kill -9 number two: now both are down ...
        ingests[0].stop()
        at(33)
        broker.kill()  # ... and the broker dies without saving what it held since its last autosave
        broker.start()
        at(40)
        for ingest in ingests:
            ingest.start()
        at(55)
        database.stop()  # 60 s outage: one spool fills its 1 MiB disk
        at(115)
        database.start()
        at(140)
        simulator.stop()  # the devices stop; what the bridges committed must all arrive
        stopped = time.time()

        def drained() -> bool:
            docs = [statuses.get(bridge_status_topic(site_id, b)) for b in BRIDGES]
            return all(
                d.get("since", 0) > stopped * 1000 + 5000
                and d.get("outbox") == 0
                and d.get("unconfirmed") == 0
                for d in docs
            )

        wait_until(drained, 300, "both bridges to drain their outboxes")
        committed = {}
        for sensor in site.sensors:
            doc = statuses.get(sensor_status_topic(site_id, sensor))
            committed[sensor] = doc["readings"]
        for bridge in BRIDGES:
            doc = statuses.get(bridge_status_topic(site_id, bridge))
            assert doc["clock_refused"] == 0 and doc["outbox_full"] == 0 and doc["outbox_dropped"] == 0, doc
        influx = InfluxQLClient(influx_url, "chaos")
        rows = influx.query('SELECT count(laeq) FROM noise GROUP BY "sensor"')
        stored = {s.tags["sensor"]: int(s.values[0][1]) for s in rows}
        total = sum(committed.values())
        assert total >= 20_000, f"only {total} readings were produced"
        assert stored == committed, {
            s: (stored.get(s), n) for s, n in committed.items() if stored.get(s) != n
        }
        # One a second from each sensor's first reading to its last: no gap (a selector alone returns
        # the time of the point it selects).
        firsts = {
            s.tags["sensor"]: s.values[0][0]
            for s in influx.query('SELECT first(laeq) FROM noise GROUP BY "sensor"')
        }
        lasts = {
            s.tags["sensor"]: s.values[0][0]
            for s in influx.query('SELECT last(laeq) FROM noise GROUP BY "sensor"')
        }
        # Stamps follow the host clock minus the interval, so they sit a few ms either side of the second.
        gaps = {s: round((lasts[s] - firsts[s]) / 1000) + 1 - stored[s] for s in stored}
        assert set(gaps.values()) == {0}, {s: g for s, g in gaps.items() if g}
        resent = sum(statuses.get(bridge_status_topic(site_id, b))["resent_batches"] for b in BRIDGES)
        print(f"\nfull path: {total} readings of {len(committed)} sensors stored; {resent} batches resent")
        ingest_logs = "\n".join(i.output() for i in ingests)
        assert "Traceback" not in ingest_logs, ingest_logs[-3000:]
    finally:
        for process in bridges.values():
            stop_bridge(process)
        simulator.stop()
        for ingest in ingests:
            if ingest.process and ingest.process.poll() is None:
                ingest.stop()
        other.disconnect()
        other.loop_stop()
        statuses.close()
