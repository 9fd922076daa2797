"""Acceptance of issue #8 on the real chain: simulated devices with a known bias on pseudo-terminals, the
real ``seatwatch bridge`` reading them, Mosquitto, ``seatwatch ingest`` into influxd, and ``seatwatch
calibrate`` run as the installer runs it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from analysis.compliance.calibration_check import calibration_result, sensor_calibration
from firmware_bridge.simulate import simulator
from seatwatch.core.calibration_records import load_records
from seatwatch.core.influxql import InfluxQLClient
from seatwatch.core.site_file import load_site
from tests.calibrate_sensor import (
    REFERENCE_SENSOR,
    history,
    provenance,
    seatwatch,
    split_at_record,
    start_seatwatch,
    stop,
    wait_for,
    write_site,
)

pytestmark = pytest.mark.integration


@pytest.fixture
def chain(
    tmp_path: Path, mqtt_url: str, influx_url: str, influx_db: str, site_id: str
) -> Iterator[tuple[Path, simulator.Simulator]]:
    """The site file and its running simulator, bridge and ingest; the device reads +2.3 dB and 0.85 × lux."""
    sensors = REFERENCE_SENSOR.format(port=tmp_path / "ports" / "ref-1")
    site = write_site(tmp_path, site_id, mqtt_url, influx_url, influx_db, sensors)
    bias = simulator.SensorBias(noise_offset_db=2.3, lux_gain=0.85)
    sim = simulator.Simulator(load_site(site), port_dir=tmp_path / "ports", biases={"ref-1": bias}, seed=0)
    sim.start()
    bridge = start_seatwatch(tmp_path / "bridge.log", "bridge", "--site", site, "--bridge", "gw-1")
    ingest = start_seatwatch(tmp_path / "ingest.log", "ingest", "--site", site, "--linger-ms", "50")
    try:
        yield site, sim
    finally:
        stop(bridge)
        stop(ingest)
        sim.stop()


def test_calibration_recovers_the_bias_and_ingest_corrects_from_the_record_on(
    chain: tuple[Path, simulator.Simulator], influx: InfluxQLClient
) -> None:
    site, sim = chain
    sim.set_source("ref-1", noise_db=94.0, lux=520.0)  # calibrator seated, reference lamp at 520 lx
    noise = seatwatch(
        "calibrate", "noise", "--site", site, "--sensor", "ref-1", "--reference-db", "94.0",
        "--duration", "3", "--timeout", "20", "--post-check", *provenance("noise"),
    )  # fmt: skip
    assert noise.returncode == 0, noise.stderr
    light = seatwatch(
        "calibrate", "light", "--site", site, "--sensor", "ref-1", "--reference-lux", "520",
        "--duration", "2", "--timeout", "20", *provenance("light"),
    )  # fmt: skip
    assert light.returncode == 0, light.stderr
    noise_record, light_record = history(site)
    assert noise_record.offset_db == pytest.approx(-2.3, abs=0.1)
    assert light_record.gain is not None and 1.0 / light_record.gain == pytest.approx(0.85, rel=0.01)

    wait_for(lambda: len(split_at_record(influx, "light", "ref-1", light_record)[1]) >= 2)
    before, after = split_at_record(influx, "noise", "ref-1", noise_record)
    assert before and after
    assert all(r["cal"] == "none" and r["laeq"] == r["raw_laeq"] for r in before)
    assert all(r["cal"] == noise_record.id and r["laeq"] == pytest.approx(94.0, abs=0.1) for r in after)
    before, after = split_at_record(influx, "light", "ref-1", light_record)
    assert before and after
    assert all(r["cal"] == "none" and r["lux"] == r["raw_lux"] for r in before)
    assert all(r["cal"] == light_record.id and r["lux"] == pytest.approx(520.0, rel=0.01) for r in after)

    # The compliance engine's calibration check, on the records as stored in InfluxDB: a period that starts
    # before the calibration lacks valid calibration for part of it; one after both records is covered.
    model = load_site(site)
    book = load_records(influx, model.id)
    now = datetime.now(UTC)
    for start, verdict in (
        (noise_record.performed_at - timedelta(seconds=5), "insufficient_data"),
        (light_record.performed_at, "pass"),
    ):
        check = calibration_result(sensor_calibration(model, book, model.installations[0], start, now))
        assert check.verdict == verdict, check.reasons
    # ... and through ``seatwatch analyze`` (periods start on whole minutes) into the compliance points.
    start = noise_record.performed_at.replace(second=0, microsecond=0)
    end = start + timedelta(minutes=2)  # holds the light record too, even when the minute turned between
    result = seatwatch("analyze", "--site", site, "--from", start.isoformat(), "--to", end.isoformat())
    assert result.returncode == 0, result.stderr
    assert _calibration_verdict(influx, start) == "insufficient_data"
    out = site.parent / "report"
    result = seatwatch(
        "report", "--site", site, "--from", start.isoformat(), "--to", end.isoformat(), "--out", out,
        "--lang", "en", "--no-pdf",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    status = {c["quantity"]: c for c in json.loads((out / "report.json").read_text())["calibration"]}
    assert status["noise"]["records"] == [noise_record.id] and not status["noise"]["valid"]
    assert status["light"]["records"] == [light_record.id]
    assert "Instruments and their calibration" in (out / "report.html").read_text()


def _calibration_verdict(influx: InfluxQLClient, start: datetime) -> str:
    series = influx.query(
        'SELECT "verdict" FROM "compliance" WHERE "check" = \'calibration\' AND "seat" = \'A-01\' '
        f"AND time = {int(start.timestamp() * 1000)}ms"
    )
    [row] = series[0].rows()
    return row["verdict"]


def test_without_the_calibrator_the_office_is_refused(chain: tuple[Path, simulator.Simulator]) -> None:
    site, _sim = chain  # no source set: the sensor hears the office
    result = seatwatch(
        "calibrate", "noise", "--site", site, "--sensor", "ref-1", "--duration", "3", "--timeout", "6",
        *provenance("noise"),
    )  # fmt: skip
    assert result.returncode == 1
    assert "calibration refused: level too low" in result.stderr and "nothing was recorded" in result.stderr
    assert history(site) == []
