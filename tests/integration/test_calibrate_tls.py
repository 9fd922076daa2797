"""``seatwatch calibrate`` talks MQTT v5 over TLS with its own user to the broker we ship.

tests/test_bridge_tls.py and tests/test_ingest_tls.py prove the bridge's and ingest's side of
deploy/mosquitto/; this is calibrate's, whose client is built by the same factory
(seatwatch/core/mqtt_connection.py) since it moved from MQTT 3.1.1 to v5. A record must still be published
retained where every ingest finds it, and a wrong password must be said once, naming the broker and the
user, never the password. The shipped ACL lets the user ``calibrate`` write the records topics of site
sh-pudong-csc only, so the test site uses that id.
"""

from __future__ import annotations

import os
import queue
import subprocess
import sys
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.reasoncodes import ReasonCode

from firmware_bridge.calibrate.broker import BrokerError, close, connect
from seatwatch.core.calibration_records import CalibrationRecord
from seatwatch.core.settings import Services, load_services
from seatwatch.core.topics import calibration_subscription
from tests.calibrate_sensor import REPO, history, provenance, words, write_site
from tests.mosquitto_secure import PASSWORDS, SITE, Broker, make_test_ca

pytestmark = pytest.mark.integration
pytest_plugins = ["tests.mosquitto_secure"]  # the `broker` fixture

USER = "calibrate"
WRONG_PASSWORD = "not-the-calibrate-secret"


def secured(ca_file: Path, password: str) -> dict[str, str]:
    """calibrate's environment for the deployed broker, configured the documented way."""
    return {
        "SEATWATCH_MQTT_CA_FILE": str(ca_file),
        "SEATWATCH_MQTT_USERNAME": USER,
        "SEATWATCH_MQTT_PASSWORD": password,
    }


def services(broker: Broker, password: str, ca_file: Path | None = None) -> Services:
    return load_services(
        {"mqtt_url": f"mqtts://127.0.0.1:{broker.port}"}, env=secured(ca_file or broker.ca_file, password)
    )


def calibrate_light(site: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """``seatwatch calibrate light`` with one entered point (no live readings needed), InfluxDB absent."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("SEATWATCH_")}
    return subprocess.run(
        [sys.executable, "-m", "seatwatch", "calibrate", "light", "--site", str(site), "--sensor", "lx-2",
         "--point", "442:520", *provenance("light")],
        cwd=REPO, env={**clean, **env}, capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL,
    )  # fmt: skip


def retained_records(client: mqtt.Client) -> list[mqtt.MQTTMessage]:
    """The retained messages on the site's records topics, as a newly started ingest receives them."""
    received: queue.Queue[mqtt.MQTTMessage] = queue.Queue()
    subscribed: queue.Queue[list[ReasonCode]] = queue.Queue()
    client.on_message = lambda _c, _u, message: received.put(message)
    client.on_subscribe = lambda _c, _u, _mid, codes, _p: subscribed.put(codes)
    client.subscribe(calibration_subscription(SITE), qos=1)
    [code] = subscribed.get(timeout=10)
    assert code.value == 1, f"SUBACK {code}: the ACL must let calibrate read the records topics"
    messages = []
    try:
        while True:
            messages.append(received.get(timeout=1.0))
    except queue.Empty:
        return messages


def test_a_record_is_published_retained_over_tls_with_calibrates_own_user(
    broker: Broker, tmp_path: Path
) -> None:
    site = write_site(tmp_path, SITE, f"mqtts://127.0.0.1:{broker.port}", "http://127.0.0.1:9", "seatwatch")
    result = calibrate_light(site, secured(broker.ca_file, PASSWORDS[USER]))
    assert result.returncode == 0, result.stderr
    [record] = history(site)
    client = connect(services(broker, PASSWORDS[USER]), "check")
    try:
        messages = retained_records(client)
    finally:
        close(client)
    assert [m.retain for m in messages] == [True]
    assert CalibrationRecord.from_json(messages[0].payload) == record


def test_calibrates_client_speaks_mqtt_v5(broker: Broker) -> None:
    """Only MQTT v5 gives a PUBACK a reason code: 0x10 "No matching subscribers" for a record nobody
    subscribes to yet — which the broker keeps retained all the same (see the test above)."""
    client = connect(services(broker, PASSWORDS[USER]), "v5")
    reasons: queue.Queue[ReasonCode] = queue.Queue()
    client.on_publish = lambda _c, _u, _mid, reason, _p: reasons.put(reason)
    try:
        topic = calibration_subscription(SITE).replace("+/+", "v5-probe/none")
        client.publish(topic, b"", qos=1, retain=True)  # empty retained: leaves nothing behind
        assert reasons.get(timeout=10).value == 0x10
    finally:
        close(client)


def test_a_wrong_password_is_said_once_naming_the_user_never_the_password(
    broker: Broker, tmp_path: Path
) -> None:
    with pytest.raises(BrokerError) as refused:
        connect(services(broker, WRONG_PASSWORD), "wrong")
    message = str(refused.value)
    assert f"127.0.0.1:{broker.port} refused the connection for user 'calibrate'" in message, message
    assert WRONG_PASSWORD not in message

    site = write_site(tmp_path, SITE, f"mqtts://127.0.0.1:{broker.port}", "http://127.0.0.1:9", "seatwatch")
    result = calibrate_light(site, secured(broker.ca_file, WRONG_PASSWORD))
    assert result.returncode == 1, result.stderr
    # stdout's summary says "Published NOT YET" with the reason; stderr warns once
    warnings = words(result.stderr)  # as said, however it was wrapped to 80 columns
    assert warnings.count("refused the connection for user 'calibrate'") == 1, warnings
    output = result.stdout + result.stderr
    assert WRONG_PASSWORD not in output and PASSWORDS[USER] not in output, "calibrate printed a password"
    assert len(history(site)) == 1, "the record is kept locally for a later publication"


def test_a_ca_that_did_not_sign_the_broker_is_a_clear_tls_error(broker: Broker, tmp_path: Path) -> None:
    make_test_ca(tmp_path / "other")
    with pytest.raises(BrokerError) as failed:
        connect(services(broker, PASSWORDS[USER], tmp_path / "other" / "ca.crt"), "wrong-ca")
    assert "TLS certificate verification" in str(failed.value) and "mqtt_ca_file" in str(failed.value)
