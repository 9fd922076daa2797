"""Readings to points, the spool and the sink's ack discipline — without servers."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from ingest.health import Metrics
from ingest.reading_points import PointMaker
from ingest.sink import Retry, Sink
from ingest.spool import Spool
from seatwatch.core.calibration_records import CalibrationBook, CalibrationRecord
from seatwatch.core.contract import Reading, encode
from seatwatch.core.line_protocol import WriteError
from seatwatch.core.site_file import load_site
from seatwatch.core.vocabulary import Quantity
from tests.publish_helpers import write_site

TS = 1_764_230_400_000  # 2025-11-27T08:00:00Z
TOPIC = "seatwatch/v1/s/_bridge/gw-1/readings"


def _maker(tmp_path: Path, records: tuple[CalibrationRecord, ...] = ()) -> PointMaker:
    site_file = write_site(tmp_path / "site.toml", "s", sensors=3)
    with site_file.open("a") as handle:  # known, never installed
        handle.write('[[sensors]]\nid = "nz-spare"\nbridge = "gw-1"\nmeasures = ["light"]\ndriver = "mqtt"\n')
    return PointMaker(load_site(site_file), CalibrationBook(list(records)))


def _fields(point: str) -> dict[str, str]:
    return dict(kv.split("=", 1) for kv in point.split(" ")[1].split(","))


def test_calibration_in_force_floor_and_exposure(tmp_path: Path) -> None:
    at = datetime.fromtimestamp(TS / 1000, UTC)
    until = at.replace(year=2030)
    records = (
        CalibrationRecord("n1", "nz-0001", Quantity.NOISE, "m", at.replace(year=2024), until, offset_db=2.0),
        CalibrationRecord("n2", "nz-0001", Quantity.NOISE, "m", at.replace(second=30), until, offset_db=-1.0),
        CalibrationRecord("l1", "nz-0001", Quantity.LIGHT, "m", at.replace(year=2024), until, gain=1.5),
    )
    maker = _maker(tmp_path, records)
    readings = [
        Reading("nz-0001", 1, TS, 2.0, laeq=33.0, lafmax=40.0, lafmin=30.0, lux=100.0),  # n1: 35.0 < 32+3? no
        Reading("nz-0001", 2, TS + 60_000, 1.0, laeq=34.0),  # n2 in force: 33.0 < 35 -> below floor
        Reading("nz-0002", 3, TS, 1.0, laeq=50.0),  # no record
    ]
    out = maker.convert(encode(readings), TOPIC)
    assert out.readings == 3 and not out.rejects and len(out.lines) == 4
    noise1, light1, noise2, noise3 = (_fields(x) for x in out.lines)
    assert out.lines[0].startswith("noise,seat=S-0001,sensor=nz-0001,site=s,zone=agents ")
    assert out.lines[0].endswith(f" {TS * 1_000_000}")
    assert (noise1["laeq"], noise1["lafmax"], noise1["lafmin"], noise1["raw_laeq"]) == (
        "35.0",
        "42.0",
        "32.0",
        "33.0",
    )
    assert float(noise1["exposure"]) == pytest.approx(2.0 * 10**3.5) and noise1["below_floor"] == "false"
    assert noise1["cal"] == '"n1"' and noise1["dur"] == "2.0"
    assert (light1["lux"], light1["raw_lux"], light1["dur"], light1["cal"]) == (
        "150.0",
        "100.0",
        "2.0",
        '"l1"',
    )
    assert list(light1) == ["lux", "raw_lux", "dur", "cal"]  # docs/contracts.md: light points carry dur
    assert (noise2["laeq"], noise2["cal"], noise2["below_floor"]) == ("33.0", '"n2"', "true")
    assert (noise3["laeq"], noise3["cal"]) == ("50.0", '"none"')


def test_unknown_and_uninstalled_sensors_become_rejects(tmp_path: Path) -> None:
    maker = _maker(tmp_path)
    payload = encode(
        [Reading("ghost, x=1", 1, TS, 1.0, laeq=40.0), Reading("nz-0001", 2, TS, 1.0, laeq=40.0)]
    )
    out = maker.convert(payload, TOPIC)
    assert out.readings == 1 and dict(out.rejects) == {"unknown_sensor": 1}
    reject = out.lines[-1]
    assert reject.startswith("rejects,reason=unknown_sensor,site=s ")  # a stranger's id never becomes a tag
    out = maker.convert(encode(Reading("nz-spare", 1, TS, 1.0, lux=5.0)), TOPIC)
    assert dict(out.rejects) == {"not_installed": 1} and "sensor=nz-spare" in out.lines[0]
    first, second = maker.convert(b"nonsense", TOPIC).lines[0], maker.convert(b"nonsense", TOPIC).lines[0]
    assert int(second.rsplit(" ", 1)[1]) > int(first.rsplit(" ", 1)[1])  # rejects never overwrite each other


def test_spool_keeps_order_and_survives_a_restart(tmp_path: Path) -> None:
    spool = Spool(tmp_path / "spool", max_bytes=100)
    spool.push(["a 1", "b 2"])
    spool.push(["c 3"])
    (tmp_path / "spool" / "x.tmp").write_text("half a batch")  # a crash mid-write
    again = Spool(tmp_path / "spool", max_bytes=100)
    assert len(again) == 2 and again.stored_bytes == len("a 1\nb 2") + len("c 3")
    assert again.peek() == ["a 1", "b 2"]
    again.pop()
    again.push(["d 4"])
    assert again.peek() == ["c 3"] and not again.has_room(100)
    assert not list((tmp_path / "spool").glob("*.tmp"))


class FlakyWriter:
    """Answers like influxd: no answer while ``down`` is set; 400 for a batch holding a line with "bad"
    (influxd 1.x stores the good lines of such a batch too: here, to be strict, it stores nothing)."""

    user = None

    def __init__(self) -> None:
        self.down = threading.Event()
        self.stored: list[list[str]] = []

    def write(self, lines: list[str]) -> None:
        if self.down.is_set():
            raise WriteError("down", True)
        if any("bad" in x for x in lines):
            raise WriteError("400 field type conflict", False, 400, "field type conflict")
        self.stored.append(list(lines))

    def create_database(self) -> None:
        raise AssertionError("never asked: no 404 here")

    def close(self) -> None:
        pass


def _wait_for(condition: Callable[[], bool], timeout_s: float = 5.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def test_sink_acks_only_durable_batches_and_replays_in_order(tmp_path: Path) -> None:
    writer, acked = FlakyWriter(), list[str]()
    spool, refused = Spool(tmp_path / "spool", 1 << 20), Spool(tmp_path / "refused", 1 << 20)
    retry = Retry(attempts=2, first_s=0.01, max_s=0.05)
    sink = Sink(writer, spool, refused, Metrics(), acked.extend, 2, 0.05, 100, retry)
    stop = threading.Event()
    thread = threading.Thread(target=sink.run, args=(stop,))
    thread.start()
    writer.down.set()
    sink.add(["p1", "p2"], "m1", readings=2)
    sink.add(["p3", "p4"], "m2", readings=2)
    _wait_for(lambda: len(acked) == 2)
    assert acked == ["m1", "m2"] and writer.stored == []  # durable in the spool, so acknowledged
    writer.down.clear()
    sink.add(["p5"], "m3", readings=1)
    _wait_for(lambda: len(acked) == 3)
    sink.add(["bad"], "m4")
    _wait_for(lambda: len(acked) == 4)
    stop.set()
    thread.join()
    assert acked == ["m1", "m2", "m3", "m4"]
    assert [x for batch in writer.stored for x in batch] == ["p1", "p2", "p3", "p4", "p5"]
    assert len(Spool(tmp_path / "refused", 1 << 20)) == 1  # kept aside, not retried forever
    assert json.loads(json.dumps(sink.metrics.snapshot()))["spool_batches"] == 0
