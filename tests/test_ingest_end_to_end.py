"""``seatwatch ingest`` end to end: real Mosquitto, real influxd, ingest as a subprocess."""

from __future__ import annotations

import json
import math
import random
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from seatwatch.core.calibration_records import CalibrationRecord
from seatwatch.core.contract import MAX_PAYLOAD_BYTES, Reading, encode
from seatwatch.core.influxql import InfluxQLClient
from seatwatch.core.topics import batch_topic, calibration_topic, reading_topic
from seatwatch.core.vocabulary import Quantity
from tests.ingest_process import IngestProcess, count, wait_for_count
from tests.publish_helpers import (
    BRIDGE,
    NOISE_FLOOR_DB,
    batches,
    make_readings,
    publish_payloads,
    publish_readings,
    publisher,
    seat_of,
    write_site,
)

pytestmark = pytest.mark.integration

NOISE_COUNT = "SELECT count(laeq) FROM noise"


def _record(
    rid: str, sensor: str, quantity: str, at_ms: int, *, offset_db: float | None = None,
    gain: float | None = None,
) -> CalibrationRecord:
    performed = datetime.fromtimestamp(at_ms / 1000, UTC)
    valid_until = datetime(2099, 1, 1, tzinfo=UTC)
    return CalibrationRecord(
        rid, sensor, Quantity(quantity), "test", performed, valid_until, offset_db=offset_db, gain=gain
    )


def _publish_records(mqtt_url: str, site_id: str, records: list[CalibrationRecord]) -> None:
    client = publisher(mqtt_url)
    messages = [(calibration_topic(site_id, r.sensor, r.id), r.to_json().encode()) for r in records]
    for topic, payload in messages:
        client.publish(topic, payload, qos=1, retain=True).wait_for_publish(10)
    client.disconnect()
    client.loop_stop()


def _ingest(
    tmp_path: Path, site_file: Path, mqtt_url: str, influx_url: str, db: str, name: str
) -> IngestProcess:
    return IngestProcess(site_file, tmp_path / "state", mqtt_url, influx_url, db, name).start().wait_ready()


def test_10k_readings_calibrated_tagged_and_energy_correct(
    mqtt_url: str, influx_url: str, influx_db: str, influx: InfluxQLClient, site_id: str, tmp_path: Path
) -> None:
    site_file = write_site(tmp_path / "site.toml", site_id, sensors=50)
    readings = make_readings(10_000, sensors=50, seed=4)
    start_ms, mid_ms = readings[0].ts, readings[5_000].ts
    # Noise records exist before ingest starts (retained: read at start-up); nz-0001..10 get a second one
    # half-way; light gains arrive while ingest runs.
    early = [
        _record(f"n1-{n}", f"nz-{n:04d}", "noise", start_ms - 60_000, offset_db=1.5) for n in range(1, 26)
    ]
    later = [_record(f"n2-{n}", f"nz-{n:04d}", "noise", mid_ms, offset_db=-0.5) for n in range(1, 11)]
    light = [_record(f"l1-{n}", f"nz-{n:04d}", "light", start_ms - 60_000, gain=1.25) for n in range(1, 21)]
    _publish_records(mqtt_url, site_id, early + later)
    ingest = _ingest(tmp_path, site_file, mqtt_url, influx_url, influx_db, f"{site_id}-a")
    try:
        _publish_records(mqtt_url, site_id, light)
        time.sleep(1)
        publish_readings(mqtt_url, site_id, readings, per_message=100)
        assert wait_for_count(influx, NOISE_COUNT, 10_000) == 10_000, ingest.output()[-3000:]
        assert count(influx, "SELECT count(lux) FROM light") == 10_000
        # Light coverage is summed from the light points themselves (docs/design.md: coverage = sum of dur).
        assert influx.query('SELECT sum("dur") FROM light')[0].values[0][1] == sum(r.dur for r in readings)
        assert count(influx, "SELECT count(offset_db) FROM calibration") == len(early + later)
        assert count(influx, "SELECT count(gain) FROM calibration") == len(light)
    finally:
        assert ingest.stop() == 0

    def offset(r: Reading) -> tuple[float, str]:
        n = int(r.sensor[3:])
        if n <= 10 and r.ts >= mid_ms:
            return -0.5, f"n2-{n}"
        return (1.5, f"n1-{n}") if n <= 25 else (0.0, "none")

    # Per seat: the database's energy mean equals the energy mean of the calibrated inputs to 0.01 dB.
    by_seat: dict[str, list[float]] = {}
    for r in readings:
        assert r.laeq is not None
        by_seat.setdefault(seat_of(r.sensor), []).append(r.laeq + offset(r)[0])
    stored = influx.query('SELECT 10*log10(sum("exposure")/sum("dur")) FROM noise GROUP BY seat')
    assert len(stored) == 50
    for series in stored:
        levels = by_seat[series.tags["seat"]]
        expected = 10 * math.log10(sum(10 ** (x / 10) for x in levels) / len(levels))
        assert series.values[0][1] == pytest.approx(expected, abs=0.01)

    # Row by row for one sensor with two noise records and a light gain.
    rows = influx.query("SELECT * FROM noise WHERE sensor = 'nz-0003'")[0].rows()
    mine = {r.ts: r for r in readings if r.sensor == "nz-0003"}
    assert len(rows) == len(mine)
    for row in rows:
        r = mine[row["time"]]
        shift, cal = offset(r)
        assert r.laeq is not None and r.lafmax is not None  # every reading made here has noise
        assert (row["seat"], row["zone"], row["cal"]) == ("S-0003", "agents", cal)
        assert row["raw_laeq"] == r.laeq and row["laeq"] == pytest.approx(r.laeq + shift)
        assert row["lafmax"] == pytest.approx(r.lafmax + shift) and row["dur"] == 1.0
        assert row["exposure"] == pytest.approx(10 ** ((r.laeq + shift) / 10))
        assert row["below_floor"] == (r.laeq + shift < NOISE_FLOOR_DB + 3)
    light_rows = influx.query("SELECT * FROM light WHERE sensor = 'nz-0003' LIMIT 5")[0].rows()
    for row in light_rows:
        assert row["cal"] == "l1-3" and row["lux"] == pytest.approx(row["raw_lux"] * 1.25)


def _bad_payloads(site_id: str, rng: random.Random, now_ms: int) -> list[tuple[str, bytes, str]]:
    """1,000 (topic, payload, expected reason) triples, each refused for exactly one reason."""
    bridge = batch_topic(site_id, BRIDGE)

    def good(**changes: object) -> dict[str, object]:
        doc: dict[str, object] = {
            "v": 1, "sensor": f"nz-{rng.randint(1, 10):04d}", "seq": rng.randint(0, 10**6),
            "ts": now_ms - rng.randint(10**6, 10**7), "dur": 1.0, "noise": {"laeq": 50.0},
        }  # fmt: skip
        doc.update(changes)
        return {k: v for k, v in doc.items() if v is not None}

    makers = [
        (
            "bad_json",
            lambda: b'{"v":1,"sensor":' + bytes([rng.randint(0, 255) for _ in range(rng.randint(0, 20))]),
        ),
        ("not_object", lambda: json.dumps(rng.choice([17, "text", None, True])).encode()),
        ("missing_key", lambda: json.dumps(good(ts=None)).encode()),
        ("wrong_type", lambda: json.dumps(good(seq="12")).encode()),
        ("out_of_range", lambda: json.dumps(good(noise={"laeq": rng.uniform(161, 1e6)})).encode()),
        ("bad_version", lambda: json.dumps(good(v=rng.randint(2, 9))).encode()),
        ("clock_past", lambda: json.dumps(good(ts=rng.randint(0, 1_500_000_000_000))).encode()),
        ("clock_future", lambda: json.dumps(good(ts=now_ms + rng.randint(10**7, 10**10))).encode()),
        ("unknown_sensor", lambda: json.dumps(good(sensor=f"ghost-{rng.randint(0, 99)}\n,x=y")).encode()),
        ("not_installed", lambda: json.dumps(good(sensor="nz-spare")).encode()),
        ("too_large", lambda: b"[" + b" " * MAX_PAYLOAD_BYTES + b"]"),
    ]
    out = []
    for n in range(1_000):
        reason, make = makers[n % len(makers)]
        out.append((bridge, make(), reason))
    # sensor_mismatch needs a per-sensor topic: replace a tenth of the bad_json ones.
    for n in range(0, 1_000, 110):
        doc = good(sensor="nz-0002")
        out[n] = (reading_topic(site_id, "nz-0001"), json.dumps(doc).encode(), "sensor_mismatch")
    return out


def test_fuzzed_bad_payloads_are_counted_and_never_stop_ingest(
    mqtt_url: str, influx_url: str, influx_db: str, influx: InfluxQLClient, site_id: str, tmp_path: Path
) -> None:
    site_file = write_site(tmp_path / "site.toml", site_id, sensors=10)
    with site_file.open("a") as handle:  # a sensor that is known but was never installed
        handle.write('[[sensors]]\nid = "nz-spare"\nbridge = "gw-1"\nmeasures = ["noise"]\n')
        handle.write('driver = "mqtt"\nnoise_floor_db = 32.0\n')
    rng = random.Random(7)
    bad = _bad_payloads(site_id, rng, int(time.time() * 1000))
    expected: dict[str, int] = {}
    for _topic, _payload, reason in bad:
        expected[reason] = expected.get(reason, 0) + 1
    good = make_readings(5_000, sensors=10, seed=5)
    messages = batches(site_id, good, per_message=50)
    mixed = list(messages) + [(topic, payload) for topic, payload, _ in bad]
    rng.shuffle(mixed)
    ingest = _ingest(tmp_path, site_file, mqtt_url, influx_url, influx_db, f"{site_id}-f")
    try:
        client = publisher(mqtt_url)
        publish_payloads(client, mixed)
        client.disconnect()
        client.loop_stop()
        assert wait_for_count(influx, NOISE_COUNT, 5_000) == 5_000, ingest.output()[-3000:]
        total = sum(expected.values())
        assert wait_for_count(influx, "SELECT count(detail) FROM rejects", total) == total
        stored = {s.tags["reason"]: int(s.values[0][1]) for s in influx.query(
            "SELECT count(detail) FROM rejects GROUP BY reason")}  # fmt: skip
        assert stored == expected
        for reason, n in expected.items():
            assert ingest.metric(f'seatwatch_ingest_rejects_total{{reason="{reason}"}}') == n
        assert ingest.process is not None and ingest.process.poll() is None
        # A reject keeps a truncated payload and a detail naming the key at fault; no ghost sensor tag.
        row = influx.query("SELECT * FROM rejects WHERE reason = 'missing_key' LIMIT 1")[0].rows()[0]
        assert row["detail"] == "ts is missing" and len(row["payload"]) <= 512
        assert not influx.query("SELECT count(detail) FROM rejects WHERE sensor =~ /ghost/")
    finally:
        assert ingest.stop() == 0


def test_two_processes_split_one_shared_subscription(
    mqtt_url: str, influx_url: str, influx_db: str, influx: InfluxQLClient, site_id: str, tmp_path: Path
) -> None:
    site_file = write_site(tmp_path / "site.toml", site_id, sensors=50)
    first = _ingest(tmp_path, site_file, mqtt_url, influx_url, influx_db, f"{site_id}-1")
    second = _ingest(tmp_path, site_file, mqtt_url, influx_url, influx_db, f"{site_id}-2")
    try:
        publish_readings(mqtt_url, site_id, make_readings(20_000, sensors=50, seed=6), per_message=50)
        assert wait_for_count(influx, NOISE_COUNT, 20_000) == 20_000
        time.sleep(0.5)
        shares = [p.metric("seatwatch_ingest_readings_total") for p in (first, second)]
        assert sum(shares) >= 20_000 and min(shares) >= 5_000, shares
    finally:
        assert first.stop() == 0
        assert second.stop() == 0


def test_site_file_reload_moves_a_sensor_and_ignores_a_broken_file(
    mqtt_url: str, influx_url: str, influx_db: str, influx: InfluxQLClient, site_id: str, tmp_path: Path
) -> None:
    site_file = write_site(tmp_path / "site.toml", site_id, sensors=2)
    ingest = _ingest(tmp_path, site_file, mqtt_url, influx_url, influx_db, f"{site_id}-r")
    try:
        now_s = int(time.time())
        moved_at = now_s - 100
        text = site_file.read_text()
        site_file.write_text(text + "[[zones]]\nkind = 'agent'\n")  # invalid: must be ignored
        time.sleep(3)
        when = datetime.fromtimestamp(moved_at, UTC).isoformat()
        before = 'seat = "S-0001"\nfrom = 2020-01-01T00:00:00Z'
        moved = text.replace(before, f"{before}\nuntil = {when}")
        moved += '[[seats]]\nid = "S-new"\nzone = "agents"\nx = 9.0\ny = 9.0\n'
        moved += f'[[installations]]\nsensor = "nz-0001"\nseat = "S-new"\nfrom = {when}\n'
        site_file.write_text(moved)
        time.sleep(3)
        readings = [
            Reading("nz-0001", n, (moved_at + dt) * 1000, 1.0, laeq=50.0) for n, dt in enumerate((-50, 50))
        ]
        client = publisher(mqtt_url)
        publish_payloads(client, [(batch_topic(site_id, BRIDGE), encode(readings))])
        client.disconnect()
        client.loop_stop()
        assert wait_for_count(influx, NOISE_COUNT, 2) == 2
        rows = influx.query("SELECT laeq, seat FROM noise")[0].rows()
        assert [row["seat"] for row in rows] == ["S-0001", "S-new"]
        assert "site file changed but is invalid" in ingest.output()
    finally:
        assert ingest.stop() == 0
