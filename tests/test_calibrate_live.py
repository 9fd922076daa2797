"""The installer's path end to end: a sensor publishing on the real Mosquitto, ``seatwatch calibrate`` as a
subprocess, the record in the local history, retained on MQTT and in the real InfluxDB."""

from __future__ import annotations

import json
import queue
import subprocess
import time
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from seatwatch.core.calibration_records import CalibrationRecord, load_records
from seatwatch.core.influxql import InfluxQLClient
from seatwatch.core.settings import load_services
from seatwatch.core.topics import calibration_subscription
from seatwatch.core.vocabulary import Quantity
from tests.calibrate_sensor import PublishingSensor, history, provenance, seatwatch, words, write_site

pytestmark = pytest.mark.integration


@pytest.fixture
def site(tmp_path: Path, mqtt_url: str, influx_url: str, influx_db: str, site_id: str) -> Path:
    return write_site(tmp_path, site_id, mqtt_url, influx_url, influx_db)


def _retained(mqtt_url: str, site_id: str) -> list[CalibrationRecord]:
    """Records a newly started ingest would receive: the retained messages on the records topics."""
    host, port = load_services({"mqtt_url": mqtt_url}, env={}).mqtt_host_port
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"{site_id}-retained")
    received: queue.Queue[mqtt.MQTTMessage] = queue.Queue()
    client.on_message = lambda _c, _u, m: received.put(m)
    client.connect(host, port)
    client.subscribe(calibration_subscription(site_id), qos=1)
    client.loop_start()
    time.sleep(1.0)
    client.loop_stop()
    client.disconnect()
    messages = [received.get() for _ in range(received.qsize())]
    assert all(m.retain for m in messages)
    return [CalibrationRecord.from_json(m.payload) for m in messages]


def _noise(site: Path, *extra: str | Path) -> subprocess.CompletedProcess[str]:
    return seatwatch(
        "calibrate",
        "noise",
        "--site",
        site,
        "--sensor",
        "nz-1",
        "--duration",
        "2",
        *provenance("noise"),
        *extra,
    )


def test_noise_calibration_recovers_the_bias_and_keeps_the_record(
    site: Path, mqtt_url: str, influx: InfluxQLClient, site_id: str
) -> None:
    with PublishingSensor(mqtt_url, site_id) as sensor:
        sensor.noise_db = 94.0 + 2.3  # calibrator seated on a sensor that reads 2.3 dB high
        result = _noise(site, "--timeout", "15", "--post-check", "--certificate", site.parent / "certs")
    assert result.returncode == 0, result.stderr
    assert "100%" in result.stderr and "stable" in result.stderr and "s left" in result.stderr
    assert "post-check: levels corrected by" in result.stderr
    [record] = history(site)
    assert record.offset_db == pytest.approx(-2.3, abs=0.1)
    assert record.post_deviation is not None and abs(record.post_deviation) < 0.1
    assert record.pre_deviation == pytest.approx(2.3, abs=0.1)
    assert record.instrument.accuracy_class == "IEC 60942 class 1" and record.operator == "Li Wei"
    assert record.method == "sound-calibrator" and record.reference_value == 94.0
    assert (record.valid_until - record.performed_at).days == 365
    assert record.id in result.stdout and "first calibration" in result.stdout
    assert "Post-check" in result.stdout and "passed" in result.stdout
    assert all(len(line) <= 80 for line in (result.stdout + result.stderr).splitlines())
    assert _retained(mqtt_url, site_id) == [record]
    assert load_records(influx, site_id).history("nz-1", Quantity.NOISE) == [record]
    page = (site.parent / "certs" / f"{record.id}.html").read_text()
    assert f"修正值 {record.offset_db:+.2f} dB" in page and "IEC 60942:2017 class 1 sound calibrator" in page


def test_light_calibration_recovers_the_gain(
    site: Path, mqtt_url: str, influx: InfluxQLClient, site_id: str
) -> None:
    with PublishingSensor(mqtt_url, site_id, sensor="lx-2") as sensor:
        sensor.lux = 520.0 * 0.85  # the reference meter reads 520 lx where the sensor reads 15 % low
        result = seatwatch(
            "calibrate", "light", "--site", site, "--sensor", "lx-2", "--reference-lux", "520",
            "--point", "170:200", "--duration", "1.5", "--timeout", "15", *provenance("light"),
        )  # fmt: skip
    assert result.returncode == 0, result.stderr
    [record] = history(site)
    assert record.gain is not None and 1.0 / record.gain == pytest.approx(0.85, rel=0.01)
    assert record.post_deviation is not None and record.post_deviation < 0.01
    assert record.pre_deviation == pytest.approx(0.15, abs=0.01)
    assert record.method == "reference-lux-meter" and "→520" in record.notes
    assert load_records(influx, site_id).history("lx-2", Quantity.LIGHT) == [record]


@pytest.mark.parametrize(
    ("level", "jitter", "reason"),
    [
        (45.0, 0.5, "level too low"),  # no calibrator: the sensor hears the office
        (94.0, 0.6, "level unstable"),  # calibrator slipping
    ],
)
def test_an_absent_or_unstable_calibrator_is_refused_and_nothing_recorded(
    site: Path, mqtt_url: str, influx: InfluxQLClient, site_id: str, level: float, jitter: float, reason: str
) -> None:
    with PublishingSensor(mqtt_url, site_id) as sensor:
        sensor.noise_db, sensor.noise_jitter_db = level, jitter
        result = _noise(site, "--timeout", "4")
    assert result.returncode == 1
    assert f"calibration refused: {reason}" in result.stderr and "nothing was recorded" in result.stderr
    assert "Traceback" not in result.stderr
    assert history(site) == []
    assert _retained(mqtt_url, site_id) == []
    assert len(load_records(influx, site_id)) == 0


def test_a_sensor_that_sends_nothing_is_refused(site: Path) -> None:
    result = _noise(site, "--timeout", "2")
    assert result.returncode == 1
    assert "no noise readings of nz-1 arrived within 2 s: is the bridge running" in words(result.stderr)
    assert history(site) == []


def test_history_list_show_due_export_and_drift(site: Path, mqtt_url: str, site_id: str) -> None:
    with PublishingSensor(mqtt_url, site_id) as sensor:
        sensor.noise_db = 96.3
        assert _noise(site, "--timeout", "15").returncode == 0
        sensor.noise_db = 95.5  # the sensor's sensitivity moved by 0.8 dB
        second = _noise(site, "--timeout", "15", "--valid-days", "10")
    assert second.returncode == 0, second.stderr
    assert "FLAGGED: drift over 0.5 dB" in words(second.stdout)
    first, latest = history(site)
    assert (
        latest.previous_id == first.id
        and latest.drift == pytest.approx(0.8, abs=0.1)
        and latest.drift_flagged
    )

    listing = seatwatch("calibrate", "list", "--site", site)
    assert listing.returncode == 0 and "source: InfluxDB" in listing.stderr
    lines = listing.stdout.splitlines()
    assert "superseded" in lines[0] and first.id in lines[0]
    assert "in force" in lines[1] and "DRIFT FLAGGED" in lines[1] and lines[-1] == "2 records"

    exported = seatwatch("calibrate", "list", "--site", site, "--json")
    assert [r["id"] for r in json.loads(exported.stdout)] == [first.id, latest.id]

    html = site.parent / "cert.html"
    shown = seatwatch("calibrate", "show", latest.id, "--site", site, "--json", "--html", html)
    assert shown.returncode == 0 and json.loads(shown.stdout.split("\ncertificate ")[0])["id"] == latest.id
    text = seatwatch("calibrate", "show", latest.id, "--site", site)
    assert text.returncode == 0 and "{" not in text.stdout
    assert f"Status in force Certificate / record no. {latest.id}" in words(text.stdout)
    assert "Drift drift since" in words(text.stdout) and "FLAGGED" in text.stdout
    assert "FLAGGED" in html.read_text() and "@media print" in html.read_text()

    due = seatwatch("calibrate", "due", "--site", site, "--days", "30")
    assert due.returncode == 0
    assert "nz-1         noise  due in 9 days" in due.stdout
    assert "nz-1         light  missing: never calibrated" in due.stdout
    assert "lx-2         light  missing" in due.stdout
    assert "3 sensor quantities need calibration within 30 days" in due.stdout


def test_without_influxdb_the_record_is_kept_locally_and_still_published(
    tmp_path: Path, mqtt_url: str, site_id: str
) -> None:
    site = write_site(tmp_path, site_id, mqtt_url, "http://127.0.0.1:9", "seatwatch")
    with PublishingSensor(mqtt_url, site_id) as sensor:
        sensor.noise_db = 96.3
        result = _noise(site, "--timeout", "15")
    assert result.returncode == 0, result.stderr
    assert "ingest writes the record when it receives it" in words(result.stderr)
    [record] = history(site)
    assert _retained(mqtt_url, site_id) == [record]
    listing = seatwatch("calibrate", "list", "--site", site)
    assert "source: local history" in listing.stderr and record.id in listing.stdout


def test_a_record_kept_while_the_broker_was_down_is_published_later(
    tmp_path: Path, mqtt_url: str, influx_url: str, influx_db: str, influx: InfluxQLClient, site_id: str
) -> None:
    offline = write_site(tmp_path, site_id, "mqtt://127.0.0.1:9", "http://127.0.0.1:9", influx_db)
    result = seatwatch(
        "calibrate",
        "light",
        "--site",
        offline,
        "--sensor",
        "lx-2",
        "--point",
        "442:520",
        *provenance("light"),
    )
    assert result.returncode == 1 and "not published to ingest yet" in words(result.stderr)
    [record] = history(offline)
    assert f"show {record.id} --site {offline}" in words(result.stderr)
    online = write_site(tmp_path, site_id, mqtt_url, influx_url, influx_db)
    again = seatwatch("calibrate", "show", record.id, "--site", online, "--publish")
    assert again.returncode == 0, again.stderr
    assert _retained(mqtt_url, site_id) == [record]
    assert load_records(influx, site_id).history("lx-2", Quantity.LIGHT) == [record]
    assert history(online) == [record]  # publishing again appends nothing
