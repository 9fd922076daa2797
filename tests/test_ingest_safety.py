"""Nothing acknowledged is ever lost, whatever the database, the disk or the input does (issue #12).

Each case once lost or stopped storing readings against the real Mosquitto 2.0.11 and influxd 1.6.7; each
runs here against real ones, and after every bad input a canary reading published next must be stored.
"""

from __future__ import annotations

import base64
import json
import math
import os
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from seatwatch.core.contract import Reading, encode, encode_batch
from seatwatch.core.influxql import InfluxQLClient
from seatwatch.core.line_protocol import write_v1
from seatwatch.core.settings import load_services
from seatwatch.core.topics import batch_topic, ingest_status_topic, reading_topic
from seatwatch.local_servers import Influxd
from tests.conftest import REPO, unavailable
from tests.ingest_process import IngestProcess, count, wait_for_count
from tests.publish_helpers import make_readings, publish_payloads, publish_readings, publisher, write_site
from tests.services import ServerProcess

pytestmark = pytest.mark.integration


class AuthInfluxd(Influxd):
    """influxd with ``auth-enabled = true``, set up as docs/deploy.md says."""

    def config(self) -> str:
        return super().config().replace("[http]\n", "[http]\n  auth-enabled = true\n")


def influxql(url: str, statement: str, auth: str | None = None) -> dict[str, Any]:
    """One InfluxQL statement as an administrator would type it (``auth`` = "user:password")."""
    body = urllib.parse.urlencode({"q": statement}).encode()
    request = urllib.request.Request(f"{url}/query", data=body, method="POST")
    if auth:
        user, password = auth.split(":", 1)
        request.add_header("Authorization", "Basic " + _basic(user, password))
    with urllib.request.urlopen(request, timeout=10) as response:
        doc: dict[str, Any] = json.load(response)
    assert "error" not in json.dumps(doc), doc
    return doc


def _basic(user: str, password: str) -> str:
    return base64.b64encode(f"{user}:{password}".encode()).decode()


def canary(mqtt_url: str, site_id: str, sensor: str = "nz-0001", seq: int = 999_999) -> int:
    """Publish one good reading on the sensor's own topic (QoS 1); returns its ts."""
    ts = (int(time.time()) - 5) * 1000 + seq % 1000
    client = publisher(mqtt_url)
    try:
        reading = Reading(sensor, seq, ts, 1.0, laeq=50.0, lux=300.0)
        publish_payloads(client, [(reading_topic(site_id, sensor), encode(reading))])
    finally:
        client.disconnect()
        client.loop_stop()
    return ts


def start_ingest(
    tmp_path: Path,
    site_id: str,
    mqtt_url: str,
    influx_url: str,
    influx_db: str,
    name: str,
    sensors: int,
    bridges: tuple[str, ...] = ("gw-1",),
) -> tuple[Path, IngestProcess]:
    """A site of ``sensors`` sensors and a running, connected ingest (v1 writer) for it."""
    site = write_site(tmp_path / "site.toml", site_id, sensors=sensors, bridges=bridges)
    ingest = IngestProcess(
        site, tmp_path / "state", mqtt_url, influx_url, influx_db, f"{site_id}-{name}", "v1"
    )
    return site, ingest.start().wait_ready()


def stored_at(influx: InfluxQLClient, sensor: str, ts: int, timeout_s: float = 30.0) -> bool:
    query = f"SELECT count(laeq) FROM noise WHERE sensor = '{sensor}' AND time = {ts}ms"
    return wait_for_count(influx, query, 1, timeout_s) == 1


def retained_status(
    mqtt_url: str, topic: str, want: Callable[[dict[str, Any]], bool], timeout_s: float
) -> dict[str, Any]:
    """Wait for a status on ``topic`` that satisfies ``want``; returns it (or the last one seen)."""
    seen: list[dict[str, Any]] = []
    got = threading.Event()

    def on_message(_c: mqtt.Client, _u: object, message: mqtt.MQTTMessage) -> None:
        doc = json.loads(message.payload)
        seen.append(doc)
        if want(doc):
            got.set()

    host, port = load_services({"mqtt_url": mqtt_url}, env={}).mqtt_host_port
    client = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
    client.on_message = on_message
    client.on_connect = lambda c, *_: c.subscribe(topic, qos=1)
    client.connect(host, port)
    client.loop_start()
    try:
        got.wait(timeout_s)
    finally:
        client.disconnect()
        client.loop_stop()
    return seen[-1] if seen else {}


# -- the database: missing, password-protected, refusing points ------------------------------------


def test_a_fresh_influxd_without_the_database_stores_every_reading(
    mqtt_url: str, private_influxd: Callable[[], ServerProcess], site_id: str, tmp_path: Path
) -> None:
    database = private_influxd()
    url = database.url
    site = write_site(tmp_path / "site.toml", site_id, sensors=10)
    ingest = IngestProcess(site, tmp_path / "state", mqtt_url, url, "seatwatch", f"{site_id}-i").start()
    ingest.wait_ready()
    try:
        readings = make_readings(2_000, sensors=10)
        assert publish_readings(mqtt_url, site_id, readings, timeout_s=60) == len(readings)
        influx = InfluxQLClient(url, "seatwatch")
        assert wait_for_count(influx, "SELECT count(laeq) FROM noise", 2_000, 30) == 2_000
        # Each body carried its change-journal points (seatwatch/core/change_journal.py) for the hours it
        # touched.
        assert count(influx, "SELECT count(written) FROM seat_changes") >= 1
    finally:
        assert ingest.stop() == 0
    output = ingest.output()
    assert "had no such database: created it" in output, output[-2000:]
    assert not list((tmp_path / "state").rglob("refused/*.lp")), "nothing may be set aside for a 404"


@pytest.fixture
def auth_influxd(tmp_path: Path) -> Any:
    if not AuthInfluxd.available():
        unavailable("influxd is not installed")
    server = AuthInfluxd(tmp_path / "influxd-auth")
    server.start()
    url = server.url
    # docs/deploy.md, step by step: the first admin may be created without credentials.
    influxql(url, "CREATE USER admin WITH PASSWORD 'admin-secret' WITH ALL PRIVILEGES")
    for statement in (
        "CREATE DATABASE seatwatch",
        "CREATE USER seatwatch WITH PASSWORD 'sw-secret'",
        "GRANT ALL ON seatwatch TO seatwatch",
    ):
        influxql(url, statement, auth="admin:admin-secret")
    yield server
    server.stop()


@pytest.mark.parametrize("how", ["token", "url"])
def test_influxd_with_auth_as_the_deploy_doc_sets_it_up_stores_every_reading(
    how: str, auth_influxd: Influxd, mqtt_url: str, site_id: str, tmp_path: Path
) -> None:
    """``SEATWATCH_INFLUX_TOKEN=user:password`` (or the user in the URL) is HTTP basic auth on 1.x."""
    url = auth_influxd.url
    env = {"SEATWATCH_INFLUX_TOKEN": "seatwatch:sw-secret"}
    if how == "url":
        env = {}
        url = url.replace("http://", "http://seatwatch:sw-secret@")
    site = write_site(tmp_path / "site.toml", site_id, sensors=5)
    ingest = IngestProcess(site, tmp_path / "state", mqtt_url, url, "seatwatch", f"{site_id}-a", env=env)
    ingest.start().wait_ready()
    try:
        readings = make_readings(500, sensors=5)
        publish_readings(mqtt_url, site_id, readings, timeout_s=60)
        influx = InfluxQLClient(auth_influxd.url, "seatwatch", token="admin:admin-secret")
        assert wait_for_count(influx, "SELECT count(laeq) FROM noise", 500, 30) == 500
    finally:
        assert ingest.stop() == 0
    output = ingest.output()
    assert "sw-secret" not in output, "a password reached the log"
    assert "ERROR" not in output, output[-2000:]


def test_refused_credentials_hold_readings_with_one_clear_error_until_they_work(
    auth_influxd: Influxd, mqtt_url: str, site_id: str, tmp_path: Path
) -> None:
    """A user that does not exist yet: 401. Readings wait (spooled, acknowledged), one error names the URL
    and the user but not the password; once an admin creates the user, every reading is stored."""
    site = write_site(tmp_path / "site.toml", site_id, sensors=5)
    env = {"SEATWATCH_INFLUX_TOKEN": "late:late-secret"}
    ingest = IngestProcess(
        site, tmp_path / "state", mqtt_url, auth_influxd.url, "seatwatch", f"{site_id}-u", "v1", env=env
    )
    ingest.start().wait_ready()
    try:
        publish_readings(mqtt_url, site_id, make_readings(500, sensors=5), timeout_s=60)
        time.sleep(3)  # several retries
        assert ingest.metric("seatwatch_ingest_spool_batches") >= 1
        errors = [x for x in ingest.output().splitlines() if " ERROR " in x]
        assert len(errors) == 1, errors
        assert auth_influxd.url in errors[0] and "'late'" in errors[0] and "user:password" in errors[0]
        for statement in ("CREATE USER late WITH PASSWORD 'late-secret'", "GRANT ALL ON seatwatch TO late"):
            influxql(auth_influxd.url, statement, auth="admin:admin-secret")
        influx = InfluxQLClient(auth_influxd.url, "seatwatch", token="admin:admin-secret")
        assert wait_for_count(influx, "SELECT count(laeq) FROM noise", 500, 40) == 500
    finally:
        assert ingest.stop() == 0
    assert "late-secret" not in ingest.output()
    assert "takes writes again" in ingest.output()


def test_invalid_points_alone_are_set_aside_with_the_reason_and_replay_stores_them(
    mqtt_url: str, influx_url: str, influx_db: str, site_id: str, tmp_path: Path
) -> None:
    """influxd refuses a field type conflict (400): the batch is split until the bad points are alone;
    every other reading is stored; ``seatwatch ingest replay`` stores them once the cause is fixed."""
    influx = InfluxQLClient(influx_url, influx_db)
    # The cause: someone wrote raw_lux as a string into this database before seatwatch ran.
    stamp = (int(time.time()) - 3600) * 1000
    influx_write(influx_url, influx_db, [f'light,sensor=other raw_lux="broken" {stamp}000000'])
    site = write_site(tmp_path / "site.toml", site_id, sensors=5)
    state = tmp_path / "state"
    ingest = IngestProcess(site, state, mqtt_url, influx_url, influx_db, f"{site_id}-r", "v1").start()
    ingest.wait_ready()
    try:
        readings = make_readings(1_000, sensors=5)
        publish_readings(mqtt_url, site_id, readings, timeout_s=60)
        # Every noise point is stored; every light point conflicts (raw_lux is a float there).
        assert wait_for_count(influx, "SELECT count(laeq) FROM noise", 1_000, 30) == 1_000
        refused = sorted((state / "ingest" / f"{site_id}-r" / "refused").glob("*.lp"))
        deadline = time.monotonic() + 30
        while len(refused) < 1_000 and time.monotonic() < deadline:
            time.sleep(0.5)
            refused = sorted((state / "ingest" / f"{site_id}-r" / "refused").glob("*.lp"))
        # One file per refused point: each isolated. A batch resent while splitting took long may be
        # refused twice; the same points, so distinct lines are exactly the 1,000 light points.
        contents = [f.read_text() for f in refused]
        assert len(set(contents)) == 1_000 and all(c.startswith("light,") and "\n" not in c for c in contents)
        note = json.loads(refused[0].with_suffix(".why").read_text())
        assert note["status"] == 400 and "field type conflict" in note["reason"]
    finally:
        assert ingest.stop() == 0
    folder = state / "ingest" / f"{site_id}-r" / "refused"
    env = {"SEATWATCH_INFLUX_URL": influx_url, "SEATWATCH_INFLUX_DB": influx_db}
    files = len(list(folder.glob("*.lp")))
    again = run_seatwatch(["ingest", "replay", str(folder), "--site", str(site)], env)
    assert again.returncode == 0 and f"0 point(s) stored, {files} refused again" in again.stdout, again
    influx.command("DROP MEASUREMENT light")  # the fix: the stray string-typed light data goes
    fixed = run_seatwatch(["ingest", "replay", str(folder), "--site", str(site)], env)
    assert fixed.returncode == 0 and f"{files} point(s) stored, 0 refused again" in fixed.stdout, fixed
    assert count(influx, "SELECT count(lux) FROM light") == 1_000
    assert not list(folder.glob("*.lp")) and not list(folder.glob("*.why"))
    twice = run_seatwatch(["ingest", "replay", str(folder), "--site", str(site)], env)
    assert twice.returncode == 0 and "replayed 0 file(s)" in twice.stdout


def influx_write(url: str, database: str, lines: list[str]) -> None:
    write_v1(url, database, lines)


def run_seatwatch(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "PYTHONPATH": str(REPO), **env}
    return subprocess.run(
        [sys.executable, "-m", "seatwatch", *args],
        capture_output=True,
        text=True,
        env=environment,
        timeout=120,
    )


class SmallBodyInfluxd(Influxd):
    """influxd answering 413 to any body over 50 kB."""

    def config(self) -> str:
        return super().config().replace("max-body-size = 0", "max-body-size = 50000")


def test_a_body_too_large_for_the_server_is_split_and_stored(
    mqtt_url: str, site_id: str, tmp_path: Path
) -> None:
    server = SmallBodyInfluxd(tmp_path / "influxd-small")
    if not server.available():
        unavailable("influxd is not installed")
    server.start()
    try:
        site = write_site(tmp_path / "site.toml", site_id, sensors=10)
        ingest = IngestProcess(site, tmp_path / "state", mqtt_url, server.url, "sw", f"{site_id}-b", "v1")
        ingest.start().wait_ready()
        try:
            publish_readings(mqtt_url, site_id, make_readings(5_000, sensors=10), timeout_s=60)
            influx = InfluxQLClient(server.url, "sw")
            assert wait_for_count(influx, "SELECT count(laeq) FROM noise", 5_000, 30) == 5_000
        finally:
            assert ingest.stop() == 0
        assert not list((tmp_path / "state").rglob("refused/*.lp"))
    finally:
        server.stop()


# -- bad input: calibration records, site-file edits, floods, another bridge's sensors --------------


def _record(site_id: str, record_id: str, sensor: str, **fields: Any) -> tuple[str, bytes]:
    doc: dict[str, Any] = {
        "id": record_id,
        "sensor": sensor,
        "quantity": "noise",
        "method": "sound-calibrator",
        "performed_at": "2024-01-01T00:00:00+08:00",
        "valid_until": "2099-01-01T00:00:00+08:00",
        "offset_db": 1.0,
    }
    doc.update(fields)
    return f"seatwatch/v1/{site_id}/_calibration/{sensor}/{record_id}", json.dumps(doc).encode()


def test_malformed_retained_calibration_records_never_stop_ingest(
    mqtt_url: str, influx_url: str, influx_db: str, site_id: str, tmp_path: Path
) -> None:
    site, ingest = start_ingest(tmp_path, site_id, mqtt_url, influx_url, influx_db, "c", 3)
    influx = InfluxQLClient(influx_url, influx_db)
    bad = [
        _record(site_id, "nan", "nz-0001", offset_db=math.nan),
        _record(site_id, "list-id", "nz-0001", id=["x"]),
        _record(site_id, "year-one", "nz-0001", performed_at="0001-01-01T00:00:00+01:00"),
        _record(site_id, "string-offset", "nz-0002", offset_db="5"),
        _record(site_id, "negative-gain", "nz-0003", quantity="light", gain=-3, offset_db=None),
    ]
    client = publisher(mqtt_url)
    try:
        for n, (topic, payload) in enumerate(bad):
            info = client.publish(topic, payload, qos=1, retain=True)
            info.wait_for_publish(5)
            assert stored_at(influx, "nz-0001", canary(mqtt_url, site_id, seq=1000 + n)), bad[n]
        # A batch holding the sensor whose record was refused: every reading stored, uncalibrated.
        readings = make_readings(30, sensors=3)
        publish_readings(mqtt_url, site_id, readings, timeout_s=30)
        query = "SELECT count(laeq) FROM noise WHERE sensor = 'nz-0002' AND time < now() - 20s"
        assert wait_for_count(influx, query, 10, 20) == 10
        rows = influx.query("SELECT laeq, raw_laeq, cal FROM noise WHERE sensor = 'nz-0002'")[0].rows()
        assert all(row["laeq"] == row["raw_laeq"] and row["cal"] == "none" for row in rows)
        assert ingest.stop() == 0
        # The records are still retained: a restart reads them first and must not fail.
        ingest.start().wait_ready()
        assert stored_at(influx, "nz-0003", canary(mqtt_url, site_id, "nz-0003", seq=2000))
        assert ingest.metric('seatwatch_ingest_rejects_total{reason="bad_calibration"}') >= len(bad)
    finally:
        for topic, _ in bad:
            client.publish(topic, b"", qos=1, retain=True).wait_for_publish(5)
        client.disconnect()
        client.loop_stop()
        ingest.stop()
    output = ingest.output()
    assert "Traceback" not in output, output[-3000:]
    refusals = [x for x in output.splitlines() if "calibration record on" in x and "refused" in x]
    # Once per record and process (two runs here), not once per delivery: the restart read them twice,
    # prefetched and again from its subscription.
    assert len(refusals) == 2 * len(bad), refusals


def test_a_bad_site_file_edit_keeps_the_last_good_site_and_the_next_good_edit_is_adopted(
    mqtt_url: str, influx_url: str, influx_db: str, site_id: str, tmp_path: Path
) -> None:
    site = write_site(tmp_path / "site.toml", site_id, sensors=2)
    good = site.read_text()
    ingest = IngestProcess(site, tmp_path / "state", mqtt_url, influx_url, influx_db, f"{site_id}-s", "v1")
    ingest.start().wait_ready()
    influx = InfluxQLClient(influx_url, influx_db)
    try:
        for n, edit in enumerate(
            [
                '[[installations]]\nsensor = "nz-0001"\nseat = "S-0002"\nfrom = 0001-01-01T00:00:00+14:00\n',
                '[[installations]]\nsensor = "nz-0001"\nseat = "S-0002"\nfrom = 9999-12-31T23:59:59-14:00\n',
                "[[zones]]\nid = 'x'\narea_m2 = nan\n",
                "[[seats]\n",
            ]
        ):
            site.write_text(good + edit)
            time.sleep(3)  # the reloader looks every 2 s
            assert stored_at(influx, "nz-0001", canary(mqtt_url, site_id, seq=3000 + n)), edit
        # A valid edit: nz-0001 moves to seat S-0009 from now on.
        moved = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(int(time.time()) - 30))
        original = '[[installations]]\nsensor = "nz-0001"\nseat = "S-0001"\nfrom = 2020-01-01T00:00:00Z\n'
        assert original in good
        site.write_text(
            good.replace(original, original + f"until = {moved}\n")
            + '[[seats]]\nid = "S-0009"\nzone = "agents"\nx = 9.0\ny = 1.0\n'
            + f'[[installations]]\nsensor = "nz-0001"\nseat = "S-0009"\nfrom = {moved}\n'
        )
        deadline = time.monotonic() + 20
        while "site file reloaded" not in ingest.output() and time.monotonic() < deadline:
            time.sleep(0.5)
        ts = canary(mqtt_url, site_id, seq=3999)
        query = f"SELECT count(laeq) FROM noise WHERE seat = 'S-0009' AND time = {ts}ms"
        assert wait_for_count(influx, query, 1, 20) == 1, ingest.output()[-3000:]
    finally:
        ingest.stop()
    assert ingest.process is not None and ingest.process.returncode == 0


def test_another_bridges_sensor_and_a_flood_of_bad_entries(
    mqtt_url: str, influx_url: str, influx_db: str, site_id: str, tmp_path: Path
) -> None:
    site, ingest = start_ingest(
        tmp_path, site_id, mqtt_url, influx_url, influx_db, "w", 4, bridges=("gw-1", "gw-2")
    )
    influx = InfluxQLClient(influx_url, influx_db)
    client = publisher(mqtt_url)
    try:
        ts = (int(time.time()) - 10) * 1000
        # nz-0001 belongs to gw-1; gw-2's credentials must not write its seat. nz-0002 is gw-2's own.
        forged = encode(Reading("nz-0001", 1, ts, 1.0, laeq=90.0)).decode()
        own = encode(Reading("nz-0002", 1, ts, 1.0, laeq=40.0)).decode()
        flood = b"[" + b",".join([b"1"] * 32_000) + b"]"
        publish_payloads(
            client,
            [
                (batch_topic(site_id, "gw-2"), encode_batch("gw-2-test-1-2", [forged, own])),
                (reading_topic(site_id, "nz-0003"), flood),
            ],
        )
        assert stored_at(influx, "nz-0002", ts)
        assert stored_at(influx, "nz-0004", canary(mqtt_url, site_id, "nz-0004", seq=4000))
        assert count(influx, f"SELECT count(laeq) FROM noise WHERE sensor = 'nz-0001' AND time = {ts}ms") == 0
        wrong = influx.query("SELECT sensor, detail, \"count\" FROM rejects WHERE reason = 'wrong_bridge'")
        assert wrong and wrong[0].rows()[0]["sensor"] == "nz-0001" and wrong[0].rows()[0]["count"] == 1
        assert "gw-1" in wrong[0].rows()[0]["detail"]
        flooded = influx.query("SELECT \"count\" FROM rejects WHERE reason = 'not_object'")
        assert [row["count"] for row in flooded[0].rows()] == [32_000]  # one point, not 32,000
    finally:
        client.disconnect()
        client.loop_stop()
        assert ingest.stop() == 0


# -- disks fill up -----------------------------------------------------------------------------------


def _database_returns_and_all_is_stored(
    database: ServerProcess, url: str, sender: threading.Thread, done: list[int]
) -> None:
    """influxd comes back: the publishing bridge gets all 20,000 readings confirmed, and all are stored."""
    database.start()
    sender.join(timeout=240)
    assert done == [20_000]
    influx = InfluxQLClient(url, "sw")
    assert wait_for_count(influx, "SELECT count(laeq) FROM noise", 20_000, 60) == 20_000


def test_a_full_spool_disk_holds_acknowledgements_and_loses_nothing(
    mqtt_url: str,
    private_influxd: Callable[[], ServerProcess],
    small_disk: Callable[[int], Path],
    site_id: str,
    tmp_path: Path,
) -> None:
    database = private_influxd()
    url = database.url
    InfluxQLClient(url, "sw").command('CREATE DATABASE "sw"')
    disk = small_disk(2048)
    site = write_site(tmp_path / "site.toml", site_id, sensors=20)
    env = {"SEATWATCH_STATE_DIR": str(disk)}  # the spool on the small disk; the log elsewhere
    ingest = IngestProcess(site, tmp_path / "state", mqtt_url, url, "sw", f"{site_id}-d", "v1", env=env)
    ingest.start().wait_ready()
    topic = ingest_status_topic(site_id, f"{site_id}-d")
    readings = make_readings(20_000, sensors=20)
    done: list[int] = []
    try:
        database.stop()
        sender = threading.Thread(
            target=lambda: done.append(publish_readings(mqtt_url, site_id, readings, timeout_s=240))
        )
        sender.start()
        status = retained_status(mqtt_url, topic, lambda d: d.get("state") == "degraded", 60)
        assert status.get("state") == "degraded", status
        assert any("spool" in reason for reason in status["reasons"]), status
        time.sleep(10)  # held for a while: the log must not flood and the service must not die
        assert ingest.process is not None and ingest.process.poll() is None
        _database_returns_and_all_is_stored(database, url, sender, done)
        status = retained_status(mqtt_url, topic, lambda d: d.get("state") == "online", 60)
        assert status.get("state") == "online", status
    finally:
        ingest.stop()
    spool_lines = [x for x in ingest.output().splitlines() if "spool" in x and ("ERROR" in x or "WARN" in x)]
    assert len(spool_lines) <= 10, spool_lines[:20]


def test_a_spool_smaller_than_a_batch_neither_spins_nor_drops(
    mqtt_url: str, private_influxd: Callable[[], ServerProcess], site_id: str, tmp_path: Path
) -> None:
    database = private_influxd()
    url = database.url
    InfluxQLClient(url, "sw").command('CREATE DATABASE "sw"')
    database.stop()
    site = write_site(tmp_path / "site.toml", site_id, sensors=20)
    extra = ("--spool-max-mb", "1", "--batch-size", "8000")
    ingest = IngestProcess(site, tmp_path / "state", mqtt_url, url, "sw", f"{site_id}-m", "v1", extra)
    ingest.start().wait_ready()
    done: list[int] = []
    try:
        sender = threading.Thread(
            target=lambda: done.append(
                publish_readings(mqtt_url, site_id, make_readings(20_000, sensors=20), timeout_s=240)
            )
        )
        sender.start()
        time.sleep(20)
        assert ingest.process is not None and ingest.process.poll() is None
        _database_returns_and_all_is_stored(database, url, sender, done)
    finally:
        ingest.stop()
    lines = ingest.output().splitlines()
    assert len(lines) < 200, f"{len(lines)} log lines: {lines[-20:]}"


# -- the broker: crashes, other subscribers ----------------------------------------------------------


def test_a_broker_crash_while_ingest_is_down_and_another_subscriber_lose_nothing(
    private_mosquitto: Callable[[], ServerProcess],
    influx_url: str,
    influx_db: str,
    site_id: str,
    tmp_path: Path,
) -> None:
    """Mosquitto ``kill -9`` (autosave 60 s) while ingest is down used to lose every reading published
    since the last save, and a second persistent subscriber made the broker answer Success after a
    restart while no ingest was subscribed: bridges deleted on PUBACK. Now they wait for ingest's ack."""
    broker = private_mosquitto()
    mqtt_url = broker.url
    host, port = load_services({"mqtt_url": mqtt_url}, env={}).mqtt_host_port
    other = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"{site_id}-other", protocol=mqtt.MQTTv5)
    props = Properties(PacketTypes.CONNECT)
    props.SessionExpiryInterval = 3600
    other.on_connect = lambda c, *_: c.subscribe(batch_topic(site_id, "gw-1"), qos=1)
    other.reconnect_delay_set(0.2, 1)  # type: ignore[arg-type]  # paho annotates int; a float delay works
    other.connect(host, port, clean_start=False, properties=props)
    other.loop_start()
    site, ingest = start_ingest(tmp_path, site_id, mqtt_url, influx_url, influx_db, "k", 10)
    readings = make_readings(4_000, sensors=10)
    done: list[int] = []
    sender = threading.Thread(
        target=lambda: done.append(publish_readings(mqtt_url, site_id, readings, rate=10, timeout_s=300))
    )
    try:
        sender.start()
        time.sleep(3)
        ingest.stop()
        time.sleep(3)  # readings queue at the broker for ingest's session (and reach `other`)
        broker.kill()
        broker.start()
        time.sleep(3)  # the broker answers Success (other's session), though no ingest is subscribed
        ingest.start().wait_ready()
        time.sleep(3)
        broker.restart()  # a graceful restart with ingest up: it forgets ingest's $share subscription
        sender.join(timeout=300)
        assert done == [4_000]
        influx = InfluxQLClient(influx_url, influx_db)
        assert wait_for_count(influx, "SELECT count(laeq) FROM noise", 4_000, 60) == 4_000
        assert count(influx, "SELECT count(lux) FROM light") == 4_000
    finally:
        other.disconnect()
        other.loop_stop()
        ingest.stop()


# -- clocks and command lines --------------------------------------------------------------------------


def test_each_bridges_clock_skew_is_reported_never_applied(
    mqtt_url: str, influx_url: str, influx_db: str, site_id: str, tmp_path: Path
) -> None:
    site, ingest = start_ingest(tmp_path, site_id, mqtt_url, influx_url, influx_db, "t", 2)
    client = publisher(mqtt_url)
    try:
        ahead = int(time.time() * 1000) + 42_000  # this bridge's clock runs 42 s fast
        doc = {"v": 1, "bridge": "gw-1", "state": "online", "clock_ms": ahead, "outbox": 7}
        topic = f"seatwatch/v1/{site_id}/_bridge/gw-1/status"
        client.publish(topic, json.dumps(doc), qos=1).wait_for_publish(5)
        ts = canary(mqtt_url, site_id, seq=5000)
        influx = InfluxQLClient(influx_url, influx_db)
        assert stored_at(influx, "nz-0001", ts)  # stored at its own time: never moved
        status = retained_status(
            mqtt_url,
            ingest_status_topic(site_id, f"{site_id}-t"),
            lambda d: "gw-1" in d.get("bridge_clock_skew_s", {}),
            20,
        )
        assert 41.0 < status["bridge_clock_skew_s"]["gw-1"] < 43.0, status
        assert 41.0 < ingest.metric('seatwatch_ingest_bridge_clock_skew_seconds{bridge="gw-1"}') < 43.0
        rows = influx.query("SELECT clock_skew_s, outbox FROM bridge_status WHERE bridge = 'gw-1'")[0].rows()
        assert 41.0 < rows[0]["clock_skew_s"] < 43.0 and rows[0]["outbox"] == 7
    finally:
        client.disconnect()
        client.loop_stop()
        ingest.stop()


@pytest.mark.parametrize("moment", ["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00", "1999-12-31"])
def test_extreme_dates_on_the_command_line_are_usage_errors(moment: str, tmp_path: Path) -> None:
    site = write_site(tmp_path / "site.toml", "t-dates", sensors=1)
    env = {"SEATWATCH_INFLUX_URL": "http://127.0.0.1:9"}
    for command in ("analyze", "report"):
        args = [command, "--site", str(site), "--from", moment, "--to", "2026-01-01"]
        if command == "report":
            args += ["--out", str(tmp_path / "out")]
        done = run_seatwatch(args, env)
        assert done.returncode == 2, (command, done.stderr)
        assert "outside 2000–2100" in done.stderr and "Traceback" not in done.stderr, done.stderr
