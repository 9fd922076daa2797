"""The installer's dry run at full size: every sensor of the example floor, read by the real bridges.

Run: ``python benchmarks/bench_simulated_floor.py [WARM_S] [WINDOW_S]`` (defaults 15 and 60). It starts
Mosquitto and InfluxDB on loopback, ``seatwatch simulate --site examples/site.toml --write-site COPY``, the
real ingest (whose acknowledgements the bridges wait for) and ``seatwatch bridge --site COPY`` for each
bridge, then counts with its own MQTT subscriber how many distinct intervals each sensor published per
second of the window. Prints one line per sensor and the minimum, median and maximum; asserts nothing.
Goal (issue #14): each of the 68 sensors about one reading a second.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from pathlib import Path

import paho.mqtt.client as mqtt

from seatwatch.core.site_file import load_site
from seatwatch.core.topics import batch_topic
from seatwatch.local_servers import Influxd, Mosquitto

REPO = Path(__file__).resolve().parent.parent
EXAMPLE = REPO / "examples" / "site.toml"


def seatwatch(*args: str, env: dict[str, str], log: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "seatwatch", *args],
        stdout=subprocess.PIPE if args[0] == "simulate" else subprocess.DEVNULL,
        stderr=log.open("w"),
        text=True,
        env=env,
    )


def measure(warm_s: float, window_s: float) -> dict[str, float]:
    """Readings per second of each sensor over ``window_s``, after ``warm_s`` of start-up."""
    work = Path(tempfile.mkdtemp(prefix="bench-floor-"))
    broker, influx = Mosquitto(work / "mosquitto"), Influxd(work / "influxd")
    broker.start()
    influx.start()
    query = urllib.parse.urlencode({"q": "CREATE DATABASE seatwatch"}).encode()
    urllib.request.urlopen(urllib.request.Request(f"{influx.url}/query", data=query), timeout=10).close()
    env = dict(
        os.environ,
        SEATWATCH_MQTT_URL=broker.url,
        SEATWATCH_INFLUX_URL=influx.url,
        SEATWATCH_STATE_DIR=str(work / "state"),
    )
    site = load_site(EXAMPLE)
    copy = work / "site.toml"
    seen: dict[str, set[int]] = {}
    lock = threading.Lock()

    def on_message(_client: mqtt.Client, _userdata: object, message: mqtt.MQTTMessage) -> None:
        doc = json.loads(message.payload)
        with lock:
            for reading in doc["readings"] if isinstance(doc, dict) else doc:
                seen.setdefault(reading["sensor"], set()).add(reading["ts"])

    host, port = broker.url.rsplit("/", 1)[1].split(":")
    subscriber = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
    subscriber.on_message = on_message
    subscriber.connect(host, int(port))
    subscriber.subscribe(batch_topic(site.id, "+"), qos=1)
    subscriber.loop_start()
    simulate = seatwatch("simulate", "--site", str(EXAMPLE), "--write-site", str(copy), env=env,
                         log=work / "simulate.log")  # fmt: skip
    assert simulate.stdout is not None
    for _ in site.sensors:  # one line per simulated device, then the copy is written
        simulate.stdout.readline()
    while not copy.exists():
        time.sleep(0.1)
    children = [seatwatch("ingest", "--site", str(copy), env=env, log=work / "ingest.log")]
    children += [
        seatwatch("bridge", "--site", str(copy), "--bridge", b, env=env, log=work / f"bridge-{b}.log")
        for b in sorted(site.bridges)
    ]
    try:
        time.sleep(warm_s)
        start_ms = time.time() * 1000
        time.sleep(window_s)
        end_ms = time.time() * 1000 - 3000  # the last seconds' batches may still be in flight
    finally:
        for child in (*reversed(children), simulate):
            child.terminate()
            child.wait(timeout=30)
        subscriber.loop_stop()
        broker.stop()
        influx.stop()
    span_s = (end_ms - start_ms) / 1000
    with lock:
        return {
            sensor: sum(start_ms <= ts < end_ms for ts in seen.get(sensor, set())) / span_s
            for sensor in sorted(site.sensors)
        }


def main() -> None:
    warm_s = float(sys.argv[1]) if len(sys.argv) > 1 else 15.0
    window_s = float(sys.argv[2]) if len(sys.argv) > 2 else 60.0
    rates = measure(warm_s, window_s)
    for sensor, rate in rates.items():
        print(f"{sensor}\t{rate:.3f} readings/s")
    ordered = sorted(rates.values())
    print(
        f"{len(rates)} sensors over {window_s:.0f} s: min {ordered[0]:.3f}, "
        f"median {ordered[len(ordered) // 2]:.3f}, max {ordered[-1]:.3f} readings/s"
    )


if __name__ == "__main__":
    main()
