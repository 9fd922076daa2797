"""Ingest throughput, against its ceiling, on this machine (issue #4's performance goals).

Runs private Mosquitto and influxd (tests/services.py) and prints:

1. ceiling — the same points ingest would write, posted straight to InfluxDB's ``/write`` in ingest's
   batch size (readings/s);
2. end to end — N readings published bridge-style (JSON arrays of ``--per-message`` readings, QoS 1) through
   the broker into a ``seatwatch ingest`` subprocess until all are queryable (readings/s), and its ratio to
   the ceiling; the ingest process's resident memory is sampled throughout (flat = bounded);
3. single-reading messages — the messages/s ingest drains from a broker queue of one-reading messages
   (published while it was offline), against a bare paho QoS 1 subscriber draining the same kind of queue.

Usage: ``python -m benchmarks.bench_ingest [--readings 200000] [--single 20000]``;
``--readings 1000000`` is the memory run.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TypedDict

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from ingest.reading_points import PointMaker
from seatwatch.core.calibration_records import CalibrationBook
from seatwatch.core.influxql import InfluxQLClient
from seatwatch.core.line_protocol import write_v1
from seatwatch.core.site_file import load_site
from tests.ingest_process import IngestProcess, count
from tests.publish_helpers import batches, make_readings, publish_payloads, publisher, write_site
from tests.services import Influxd, Mosquitto

SENSORS = 50
BATCH = 5000


def readings_in_chunks(total: int, chunk: int = 10_000) -> Iterator[list]:
    """The readings of a run, chunk by chunk: only their encoded payloads are kept, not a million objects."""
    start = (int(time.time()) - total // SENSORS - 120) * 1000
    for first in range(0, total, chunk):
        size = min(chunk, total - first)
        yield make_readings(size, SENSORS, seed=first, start_ms=start + (first // SENSORS) * 1000)


def rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as status:
        for text in status:
            if text.startswith("VmRSS:"):
                return int(text.split()[1]) / 1024
    return 0.0


def ceiling(influx_url: str, site_file: Path, total: int) -> float:
    """Readings/s of ``/write`` alone for the same points, in ingest's batch size (lines prepared first)."""
    client = InfluxQLClient(influx_url, "ceiling")
    client.command('CREATE DATABASE "ceiling"')
    maker = PointMaker(load_site(site_file), CalibrationBook())
    bodies: list[list[str]] = []
    lines: list[str] = []
    for chunk in readings_in_chunks(min(total, 200_000)):
        for topic, payload in batches("bench", chunk, 100):
            lines += maker.convert(payload, topic).lines
    bodies = [lines[i : i + BATCH] for i in range(0, len(lines), BATCH)]
    started = time.perf_counter()
    for body in bodies:
        write_v1(influx_url, "ceiling", body)
    elapsed = time.perf_counter() - started
    return min(total, 200_000) / elapsed


class EndToEnd(TypedDict):
    """What :func:`end_to_end` measured: the rate, the time, and ingest's memory over the run."""

    readings_per_s: float
    seconds: float
    rss_mb_by_tenth: list[float]


def end_to_end(
    mqtt_url: str, influx_url: str, site_file: Path, site_id: str, state: Path, total: int, per_message: int
) -> EndToEnd:
    database = f"e2e_{per_message}"
    client = InfluxQLClient(influx_url, database)
    client.command(f'CREATE DATABASE "{database}"')
    # A group of its own: a stopped member of a shared group keeps receiving its share (ingest/README.md).
    name = f"bench-{per_message}"
    ingest = IngestProcess(site_file, state, mqtt_url, influx_url, database, name, "v1", ("--group", name))
    ingest.start().wait_ready()
    assert ingest.process is not None
    memory: list[float] = []
    # Encoded before the clock starts: bridges run elsewhere; here they would take CPU from ingest.
    messages = [m for chunk in readings_in_chunks(total) for m in batches(site_id, chunk, per_message)]
    pub = publisher(mqtt_url)
    thread = threading.Thread(target=publish_payloads, args=(pub, messages))
    started = time.perf_counter()
    thread.start()
    stored = 0
    deadline = time.monotonic() + 900
    while stored < total:
        if time.monotonic() > deadline:
            raise TimeoutError(f"only {stored} of {total} readings stored after 900 s; see {ingest.log}")
        time.sleep(0.5)
        memory.append(rss_mb(ingest.process.pid))
        stored = count(client, "SELECT count(laeq) FROM noise")
    elapsed = time.perf_counter() - started
    thread.join()
    pub.disconnect()
    pub.loop_stop()
    ingest.stop()
    tenth = max(1, len(memory) // 10)
    return {
        "readings_per_s": total / elapsed,
        "seconds": elapsed,
        "rss_mb_by_tenth": [round(max(memory[i : i + tenth]), 1) for i in range(0, len(memory), tenth)],
    }


def _queue_single_messages(mqtt_url: str, site_id: str, total: int) -> None:
    """Publish ``total`` one-reading messages while the consumer under test is offline (they queue)."""
    pub = publisher(mqtt_url)
    publish_payloads(pub, (m for chunk in readings_in_chunks(total) for m in batches(site_id, chunk, 1)))
    pub.disconnect()
    pub.loop_stop()


def single_messages_ingest(
    mqtt_url: str, influx_url: str, site_file: Path, site_id: str, state: Path, total: int
) -> float:
    """Messages/s ingest drains from a queue of one-reading messages, from its connection to the last one."""
    client = InfluxQLClient(influx_url, "single")
    client.command('CREATE DATABASE "single"')
    ingest = IngestProcess(site_file, state, mqtt_url, influx_url, "single", "bench-single", "v1")
    ingest.start().wait_ready()  # creates the persistent session and its subscription
    ingest.stop()
    _queue_single_messages(mqtt_url, site_id, total)
    ingest.start().wait_ready()
    connected = ingest.output().rsplit("connected to ", 1)[0].rsplit("\n", 1)[-1][:23]
    started = time.mktime(time.strptime(connected[:19], "%Y-%m-%d %H:%M:%S")) + int(connected[20:23]) / 1000
    while count(client, "SELECT count(laeq) FROM noise") < total:
        time.sleep(0.2)
    elapsed = time.time() - started
    ingest.stop()
    return total / elapsed


def single_messages_bare(mqtt_url: str, site_id: str, total: int) -> float:
    """Messages/s a plain paho subscriber (QoS 1, automatic acks) drains from the same kind of queue."""
    host, port = mqtt_url.removeprefix("mqtt://").split(":")
    received = 0
    finished = threading.Event()

    def on_message(*_args: object) -> None:
        nonlocal received
        received += 1
        if received == total:
            finished.set()

    def connect() -> mqtt.Client:
        sub = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"bare-{site_id}", protocol=mqtt.MQTTv5)
        sub.on_message = on_message
        props = Properties(PacketTypes.CONNECT)
        props.SessionExpiryInterval = 3600
        sub.connect(host, int(port), clean_start=False, properties=props)
        sub.loop_start()
        return sub

    sub = connect()
    sub.subscribe(f"seatwatch/v1/{site_id}-bare/_bridge/+/readings", qos=1)
    time.sleep(0.5)
    sub.disconnect()
    sub.loop_stop()
    _queue_single_messages(mqtt_url, f"{site_id}-bare", total)
    started = time.perf_counter()
    sub = connect()
    finished.wait(600)
    elapsed = time.perf_counter() - started
    sub.disconnect()
    sub.loop_stop()
    return total / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--readings", type=int, default=200_000, help="readings in the batched run")
    parser.add_argument("--per-message", type=int, default=100, help="readings per bridge message")
    parser.add_argument("--single", type=int, default=20_000, help="readings in the one-per-message run")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-ingest-"))
    broker, influxd = Mosquitto(work / "mosquitto"), Influxd(work / "influxd")
    broker.start()
    influxd.start()
    try:
        site_id = "bench"
        site_file = write_site(work / "site.toml", site_id, sensors=SENSORS)
        load = os.getloadavg()
        top = ceiling(influxd.url, site_file, args.readings)
        e2e = end_to_end(
            broker.url, influxd.url, site_file, site_id, work / "state", args.readings, args.per_message
        )
        single = single_messages_ingest(
            broker.url, influxd.url, site_file, site_id, work / "state", args.single
        )
        bare = single_messages_bare(broker.url, site_id, args.single)
        figures = {
            "cpus": os.cpu_count(),
            "load_before": [round(x, 2) for x in load],
            "load_after": [round(x, 2) for x in os.getloadavg()],
            "readings": args.readings,
            "per_message": args.per_message,
            "ceiling_readings_per_s": round(top),
            "e2e_readings_per_s": round(e2e["readings_per_s"]),
            "e2e_to_ceiling": round(e2e["readings_per_s"] / top, 2),
            "e2e_seconds": round(e2e["seconds"], 1),
            "ingest_rss_mb_by_tenth_of_run": e2e["rss_mb_by_tenth"],
            "single_readings": args.single,
            "single_msg_per_s": round(single),
            "bare_paho_qos1_receive_msg_per_s": round(bare),
            "single_to_bare": round(single / bare, 2),
        }
        width = max(map(len, figures))
        for key, value in figures.items():
            print(f"{key:<{width}}  {value}")
        print(json.dumps(figures))
    finally:
        broker.stop()
        influxd.stop()


if __name__ == "__main__":
    main()
