"""Zero loss, zero doubles: 100,000 readings through ``kill -9`` (twice with the other member up, then both
members), a broker restart and a 30 s database outage, on a private Mosquitto and a private influxd that
this test owns (acceptance of issue #4).

Two ingest processes split the run on the default shared subscription. Mosquitto 2.0.11 forgets shared
subscriptions when it restarts, so readings published before ingest subscribes again match no one; the
publisher is a bridge (tests/publish_helpers.py), which keeps every batch until ingest confirms it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from seatwatch.core.influxql import InfluxQLClient
from tests.ingest_process import IngestProcess, count, wait_for_count
from tests.publish_helpers import make_readings, publish_readings, write_site
from tests.services import ServerProcess

pytestmark = [pytest.mark.integration, pytest.mark.slow]

TOTAL = 100_000
PER_MESSAGE = 100
MESSAGES_PER_S = 20  # 2,000 readings/s: the run lasts ~50 s, so every fault lands in the middle of it


def test_no_reading_lost_or_doubled_through_kills_broker_restart_and_db_outage(
    private_mosquitto: Callable[[], ServerProcess],
    private_influxd: Callable[[], ServerProcess],
    site_id: str,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    broker, database = private_mosquitto(), private_influxd()
    mqtt_url, influx_url = broker.url, database.url
    influx = InfluxQLClient(influx_url, "faults")
    influx.command('CREATE DATABASE "faults"')
    site_file = write_site(tmp_path / "site.toml", site_id, sensors=50)
    # v1 explicitly: "auto" would wait for the database to answer /ping before starting.
    ingest, other = (
        IngestProcess(
            site_file, tmp_path / "state", mqtt_url, influx_url, "faults", f"{site_id}-{n}", api="v1"
        )
        for n in (1, 2)
    )
    ingest.start().wait_ready()
    other.start().wait_ready()

    readings = make_readings(TOTAL, sensors=50, seed=11)
    failure: list[BaseException] = []

    def publish() -> None:
        try:
            publish_readings(mqtt_url, site_id, readings, per_message=PER_MESSAGE, rate=MESSAGES_PER_S)
        except BaseException as exc:  # reported by the main thread
            failure.append(exc)

    publisher = threading.Thread(target=publish)
    started = time.monotonic()
    publisher.start()

    def at(second: float) -> None:
        time.sleep(max(0.0, started + second - time.monotonic()))

    try:
        at(4)
        ingest.kill()  # 1st kill -9, with the database up
        ingest.start()
        at(8)
        database.stop()  # 30 s outage: batches go to the spool
        at(14)
        assert ingest.metric("seatwatch_ingest_spool_batches") > 0
        ingest.kill()  # 2nd kill -9, with a full spool and the database down
        ingest.start().wait_ready()
        at(24)
        # Both members down across the broker restart, so that it forgets their shared subscriptions and
        # readings published until they are back match no one (PUBACK 0x10): the publisher resends them,
        # as it resends every batch ingest has not confirmed.
        ingest.kill()
        other.kill()
        broker.restart()  # persistence keeps the queued messages
        at(28)
        ingest.start().wait_ready()
        other.start().wait_ready()
        at(38)
        database.start()
        publisher.join(timeout=180)
        assert not failure, failure
        assert not publisher.is_alive()
        stored = wait_for_count(influx, "SELECT count(laeq) FROM noise", TOTAL, timeout_s=120)
        time.sleep(2)  # anything doubled or late would show now
        assert count(influx, "SELECT count(laeq) FROM noise") == TOTAL, (stored, ingest.output()[-3000:])
        assert count(influx, "SELECT count(lux) FROM light") == TOTAL
        assert not influx.query("SELECT count(detail) FROM rejects")
        assert ingest.metric("seatwatch_ingest_spool_batches") == 0
        assert other.metric("seatwatch_ingest_spool_batches") == 0
        assert 0 < other.metric("seatwatch_ingest_readings_total") < TOTAL  # the run was split
        # the window was there: some batches went unconfirmed (no subscriber, or lost) and were resent
        assert any("not confirmed by ingest in time" in m for m in caplog.messages)
    finally:
        for process in (ingest, other):
            if process.process and process.process.poll() is None:
                process.stop()
