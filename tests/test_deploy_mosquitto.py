"""The Mosquitto configuration we ship (deploy/mosquitto/) really does what docs/security.md promises.

The broker, its test CA and its users come from tests/mosquitto_secure.py. Under MQTT v5 the broker answers
a QoS 1 publish it refuses with PUBACK reason code 0x87 (not authorized); the test also checks what a
subscriber actually receives, which is what matters.
"""

from __future__ import annotations

import ssl
import threading
from collections.abc import Iterator
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from seatwatch.core.site_file import load_site
from tests.conftest import EXAMPLE_SITE
from tests.mosquitto_secure import DEPLOY, PASSWORDS, SITE, Broker, Client, make_test_ca

pytestmark = pytest.mark.integration
pytest_plugins = ["tests.mosquitto_secure"]  # the `broker` fixture

NOT_AUTHORIZED = 0x87
ACCEPTED = (0x00, 0x10)  # success, and success with "no matching subscribers"


@pytest.fixture
def clients(broker: Broker) -> Iterator[list[Client]]:
    made: list[Client] = []
    yield made
    for client in made:
        client.close()


def connected(broker: Broker, clients: list[Client], user: str) -> Client:
    client = Client(broker, user, PASSWORDS[user])
    clients.append(client)
    assert client.connect() == 0, f"{user} was refused"
    return client


def test_bridge_publishes_under_its_own_site_only(broker: Broker, clients: list[Client]) -> None:
    ingest = connected(broker, clients, "ingest")
    # ingest subscribes as `seatwatch ingest` does: on a shared subscription (docs/scale-out.md)
    assert ingest.subscribe(f"$share/seatwatch-ingest/seatwatch/v1/{SITE}/+/reading") == 1
    assert ingest.subscribe(f"$share/seatwatch-ingest/seatwatch/v1/{SITE}/_bridge/+/readings") == 1
    east = connected(broker, clients, "bridge-gw-east")

    allowed = [f"seatwatch/v1/{SITE}/ref-001/reading", f"seatwatch/v1/{SITE}/_bridge/gw-east/readings"]
    for topic in allowed:
        assert east.publish(topic) in ACCEPTED, topic
    refused = [
        "seatwatch/v1/other-site/ref-001/reading",  # another site
        f"seatwatch/v1/{SITE}/_bridge/gw-west/readings",  # another bridge's batch topic
        f"seatwatch/v1/{SITE}/_bridge/gw-east/ack",  # a forged acknowledgement, even of its own batches
        f"seatwatch/v1/{SITE}/_bridge/gw-west/ack",
        f"seatwatch/v1/{SITE}/_calibration/ref-001/forged",  # calibration records
        "elsewhere/entirely",
    ]
    for topic in refused:
        assert east.publish(topic) == NOT_AUTHORIZED, topic
    assert sorted(ingest.received()) == sorted(allowed)


def test_bridge_reads_only_its_own_acknowledgements(broker: Broker, clients: list[Client]) -> None:
    """Mosquitto 2.0 may grant a wildcard SUBACK, but the per-message read check must deliver only the
    bridge's own ack topic — not another bridge's acks, readings or records."""
    east = connected(broker, clients, "bridge-gw-east")
    for topic in (f"seatwatch/v1/{SITE}/#", "#"):
        assert east.subscribe(topic) in (1, NOT_AUTHORIZED), topic
    west = connected(broker, clients, "bridge-gw-west")
    assert west.publish(f"seatwatch/v1/{SITE}/_bridge/gw-west/readings") in ACCEPTED
    assert west.publish(f"seatwatch/v1/{SITE}/nz-w-01/reading") in ACCEPTED
    calibrate = connected(broker, clients, "calibrate")
    assert calibrate.publish(f"seatwatch/v1/{SITE}/_calibration/ref-001/rec-1") in ACCEPTED
    ingest = connected(broker, clients, "ingest")
    assert ingest.publish(f"seatwatch/v1/{SITE}/_bridge/gw-west/ack") in ACCEPTED
    assert ingest.publish(f"seatwatch/v1/{SITE}/_bridge/gw-east/ack") in ACCEPTED
    received = east.received()  # once per matching subscription: two wildcards, two copies
    assert received and set(received) == {f"seatwatch/v1/{SITE}/_bridge/gw-east/ack"}


def test_ingest_publishes_only_its_status_and_acknowledgements(broker: Broker, clients: list[Client]) -> None:
    ingest = connected(broker, clients, "ingest")
    assert ingest.publish(f"seatwatch/v1/{SITE}/_ingest/ingest-1/status") in ACCEPTED
    assert ingest.publish(f"seatwatch/v1/{SITE}/_bridge/gw-east/ack") in ACCEPTED
    assert ingest.publish(f"seatwatch/v1/{SITE}/_bridge/gw-east/readings") == NOT_AUTHORIZED
    assert ingest.publish(f"seatwatch/v1/{SITE}/ref-001/reading") == NOT_AUTHORIZED
    assert ingest.publish(f"seatwatch/v1/{SITE}/_calibration/ref-001/forged") == NOT_AUTHORIZED


def test_calibrate_writes_records_and_reads_live_readings(broker: Broker, clients: list[Client]) -> None:
    calibrate = connected(broker, clients, "calibrate")
    assert calibrate.subscribe(f"seatwatch/v1/{SITE}/ref-001/reading") == 1
    assert calibrate.publish(f"seatwatch/v1/{SITE}/_calibration/ref-001/rec-2") in ACCEPTED
    assert calibrate.publish(f"seatwatch/v1/{SITE}/ref-001/reading") == NOT_AUTHORIZED
    east = connected(broker, clients, "bridge-gw-east")
    assert east.publish(f"seatwatch/v1/{SITE}/ref-001/reading") in ACCEPTED
    assert calibrate.received() == [f"seatwatch/v1/{SITE}/ref-001/reading"]


@pytest.mark.parametrize(
    ("username", "password"),
    [(None, None), ("bridge-gw-east", "wrong password"), ("nobody", "east-secret")],
    ids=["anonymous", "wrong-password", "unknown-user"],
)
def test_refused_clients(
    broker: Broker, clients: list[Client], username: str | None, password: str | None
) -> None:
    client = Client(broker, username, password)
    clients.append(client)
    assert client.connect() in (0x86, 0x87), "bad user name or password / not authorized"


def test_tls_needs_the_right_ca(broker: Broker, tmp_path: Path) -> None:
    """A client that trusts another CA refuses the broker; with the test CA it connects (shown above)."""
    make_test_ca(tmp_path / "other")
    client = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
    client.tls_set(ca_certs=str(tmp_path / "other" / "ca.crt"))
    with pytest.raises(ssl.SSLCertVerificationError):
        client.connect("127.0.0.1", broker.port)


def test_plain_mqtt_is_not_served(broker: Broker) -> None:
    """The only listener speaks TLS: a plain-text MQTT client never gets a CONNACK."""
    client = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
    client.username_pw_set("ingest", PASSWORDS["ingest"])
    answered = threading.Event()
    client.on_connect = lambda *_: answered.set()
    client.connect("127.0.0.1", broker.port)
    client.loop_start()
    try:
        assert not answered.wait(2)
    finally:
        client.loop_stop()


def test_acl_covers_every_bridge_of_the_example_site() -> None:
    site = load_site(EXAMPLE_SITE)
    acl = (DEPLOY / "seatwatch.acl").read_text()
    assert site.id == SITE
    for bridge in site.bridges:
        block = f"user bridge-{bridge}\n"
        assert block in acl
        own = acl.split(block)[1].split("\n\n")[0]
        assert f"topic write seatwatch/v1/{site.id}/_bridge/{bridge}/readings" in own
        assert f"topic write seatwatch/v1/{site.id}/_bridge/{bridge}/status" in own
        reads = [x for x in own.splitlines() if x.startswith("topic read")]
        assert reads == [f"topic read seatwatch/v1/{site.id}/_bridge/{bridge}/ack"]
