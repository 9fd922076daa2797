"""The real ``seatwatch ingest`` consumes over TLS with its own user from the broker we ship.

tests/test_bridge_tls.py proves the bridge's side of deploy/mosquitto/; this is ingest's, configured the
documented way (``mqtts://`` URL; CA file, user name and password from SEATWATCH_MQTT_CA_FILE,
SEATWATCH_MQTT_USERNAME, SEATWATCH_MQTT_PASSWORD). The shipped ACL is written for site sh-pudong-csc, so the
test site uses that id, and readings come from bridge gw-east with its own user (through the bridge's
publisher, as in the other ingest tests). With a wrong password ingest must keep running and say why it
stores nothing, once, naming the broker and the user but never the password; with a CA that did not sign
the broker's certificate, it must say which setting to check.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from seatwatch.core.influxql import InfluxQLClient
from tests.ingest_process import IngestProcess, wait_for_count
from tests.mosquitto_secure import PASSWORDS, SITE, Broker, make_test_ca
from tests.publish_helpers import make_readings, publish_readings, write_site

pytestmark = pytest.mark.integration
pytest_plugins = ["tests.mosquitto_secure"]  # the `broker` fixture

USER = "ingest"
WRONG_PASSWORD = "not-the-ingest-secret"
BRIDGE = "gw-east"  # the ACL lets bridge-gw-east publish batches only under its own bridge id


def secured(ca_file: Path, user: str, password: str) -> dict[str, str]:
    """A client's environment for the deployed broker: a CA file, a user and a password."""
    return {
        "SEATWATCH_MQTT_CA_FILE": str(ca_file),
        "SEATWATCH_MQTT_USERNAME": user,
        "SEATWATCH_MQTT_PASSWORD": password,
    }


def ingest(
    tmp_path: Path,
    broker: Broker,
    influx_url: str,
    influx_db: str,
    password: str,
    ca_file: Path | None = None,
) -> IngestProcess:
    """``seatwatch ingest`` as the user ``ingest``, configured the documented way (module doc)."""
    site_file = write_site(tmp_path / "site.toml", SITE, sensors=5, bridges=[BRIDGE])
    return IngestProcess(
        site_file,
        tmp_path / "state",
        f"mqtts://127.0.0.1:{broker.port}",
        influx_url,
        influx_db,
        f"ingest-tls-{tmp_path.name}",
        env=secured(ca_file or broker.ca_file, USER, password),
    ).start()


def run_refused(process: IngestProcess, marker: str) -> str:
    """Until ``marker`` is logged, then 3 s more (paho retries from 0.1 s, doubling): ingest must keep
    running and log one error, nothing on each retry, and never a password. The error line."""
    try:
        deadline = time.monotonic() + 15
        while marker not in process.output():
            assert process.process is not None and process.process.poll() is None, process.output()
            assert time.monotonic() < deadline, f"no {marker!r} in 15 s: {process.output()}"
            time.sleep(0.1)
        time.sleep(3)
        assert process.process is not None and process.process.poll() is None, "ingest exited"
    finally:
        process.stop()
    output = process.output()
    errors = [line for line in output.splitlines() if "ERROR" in line or "WARNING" in line]
    assert len(errors) == 1, f"one error, nothing on each retry: {errors}"
    assert marker in errors[0], errors[0]
    assert WRONG_PASSWORD not in output and PASSWORDS[USER] not in output, "ingest printed a password"
    return errors[0]


def test_a_wrong_password_is_reported_once_and_ingest_keeps_running(
    broker: Broker, influx_url: str, influx_db: str, tmp_path: Path
) -> None:
    process = ingest(tmp_path, broker, influx_url, influx_db, WRONG_PASSWORD)
    error = run_refused(process, "refused the connection")
    assert f"127.0.0.1:{broker.port}" in error and f"user {USER!r}" in error, error
    # Mosquitto 2.0 answers a wrong password with 0x87 under MQTT v5 (tests/test_deploy_mosquitto.py)
    assert "Not authorized" in error, error


def test_a_ca_that_did_not_sign_the_broker_is_a_clear_tls_error(
    broker: Broker, influx_url: str, influx_db: str, tmp_path: Path
) -> None:
    make_test_ca(tmp_path / "other-ca")
    process = ingest(
        tmp_path, broker, influx_url, influx_db, PASSWORDS[USER], tmp_path / "other-ca" / "ca.crt"
    )
    error = run_refused(process, "TLS certificate verification")
    assert f"127.0.0.1:{broker.port}" in error and "SEATWATCH_MQTT_CA_FILE" in error, error


def test_readings_are_stored_over_tls_with_ingests_own_user(
    broker: Broker, influx_url: str, influx_db: str, tmp_path: Path
) -> None:
    process = ingest(tmp_path, broker, influx_url, influx_db, PASSWORDS[USER]).wait_ready()
    try:
        bridge_user = f"bridge-{BRIDGE}"
        readings = make_readings(500, sensors=5)
        taken = publish_readings(
            f"mqtts://127.0.0.1:{broker.port}",
            SITE,
            readings,
            timeout_s=20,
            bridge_id=BRIDGE,
            env=secured(broker.ca_file, bridge_user, PASSWORDS[bridge_user]),
        )
        assert taken == len(readings)
        influx = InfluxQLClient(influx_url, influx_db)
        stored = wait_for_count(influx, "SELECT count(laeq) FROM noise", len(readings), timeout_s=20)
        assert stored == len(readings), process.output()[-3000:]
    finally:
        assert process.stop() == 0
    output = process.output()
    assert "ERROR" not in output, output
    assert f"connected to the MQTT broker at 127.0.0.1:{broker.port}" in output, output
    assert PASSWORDS[USER] not in output, "ingest printed its password"


def test_credentials_inside_the_broker_url_work_and_never_show(
    broker: Broker, influx_url: str, influx_db: str, tmp_path: Path
) -> None:
    """``SEATWATCH_MQTT_URL=mqtts://user:password@host:port``: parsed into user and password; the log and
    the status name the broker by host and port only, the wrong password case included."""
    site_file = write_site(tmp_path / "site.toml", SITE, sensors=5, bridges=[BRIDGE])
    url = f"mqtts://{USER}:{PASSWORDS[USER]}@127.0.0.1:{broker.port}"
    process = IngestProcess(
        site_file, tmp_path / "state", url, influx_url, influx_db, "ingest-url-creds",
        env={"SEATWATCH_MQTT_CA_FILE": str(broker.ca_file)},
    ).start().wait_ready()  # fmt: skip
    try:
        bridge_user = f"bridge-{BRIDGE}"
        bridge_url = f"mqtts://{bridge_user}:{PASSWORDS[bridge_user]}@127.0.0.1:{broker.port}"
        readings = make_readings(200, sensors=5)
        publish_readings(
            bridge_url, SITE, readings, timeout_s=90, bridge_id=BRIDGE,
            env={"SEATWATCH_MQTT_CA_FILE": str(broker.ca_file)},
        )  # fmt: skip
        influx = InfluxQLClient(influx_url, influx_db)
        assert wait_for_count(influx, "SELECT count(laeq) FROM noise", 200, timeout_s=20) == 200
    finally:
        assert process.stop() == 0
    output = process.output()
    assert (
        PASSWORDS[USER] not in output and f"connected to the MQTT broker at 127.0.0.1:{broker.port}" in output
    )
    wrong = IngestProcess(
        site_file, tmp_path / "state2", url.replace(PASSWORDS[USER], WRONG_PASSWORD), influx_url, influx_db,
        "ingest-url-wrong", env={"SEATWATCH_MQTT_CA_FILE": str(broker.ca_file)},
    ).start()  # fmt: skip
    error = run_refused(wrong, "refused the connection")
    assert f"user {USER!r}" in error and WRONG_PASSWORD not in wrong.output()
