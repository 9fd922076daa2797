"""One short-lived MQTT connection for the calibrate command, built from the site's service settings.

Calibration talks to the broker twice — to read a sensor live and to publish the record retained — and
both must honour the same settings (TLS, username, password from the environment) without ever showing
the password in a message. Its errors are worded as the bridge's and ingest's
(:mod:`seatwatch.core.mqtt_connection`): the user the broker refused, or which CA setting to check when TLS
verification fails — not a bare "cannot reach" for a certificate that did not verify.
"""

from __future__ import annotations

import threading
import uuid

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.reasoncodes import ReasonCode

from seatwatch.core.mqtt_connection import broker_name, failure, refusal
from seatwatch.core.settings import Services

CONNECT_TIMEOUT_S = 10.0


class BrokerError(RuntimeError):
    """The broker could not be reached or refused us; the message names the broker, never a secret."""


def connect(services: Services, purpose: str) -> mqtt.Client:
    """A connected client with its network loop running; ``purpose`` goes into the client id.

    A random client id with a clean session: calibration wants only what happens from now on, and two
    installers calibrating at once must not take over each other's session.
    """
    host, port = services.mqtt_host_port
    client = mqtt.Client(
        CallbackAPIVersion.VERSION2,
        client_id=f"seatwatch-calibrate-{purpose}-{uuid.uuid4().hex[:8]}",
        protocol=mqtt.MQTTv311,
        clean_session=True,
    )
    if services.mqtt_username:
        client.username_pw_set(services.mqtt_username, services.mqtt_password)
    if services.mqtt_tls:
        client.tls_set(ca_certs=services.mqtt_ca_file)
    connected = threading.Event()
    outcome: list[ReasonCode] = []

    def on_connect(
        _client: mqtt.Client, _userdata: object, _flags: object, reason: ReasonCode, _props: object
    ) -> None:
        outcome.append(reason)
        connected.set()

    client.on_connect = on_connect
    try:
        client.connect(host, port, keepalive=30)
    except OSError as exc:
        raise BrokerError(failure(services, exc)) from exc
    client.loop_start()
    if not connected.wait(CONNECT_TIMEOUT_S):
        close(client)
        raise BrokerError(f"{broker_name(services)} did not answer within {CONNECT_TIMEOUT_S:g} s")
    if outcome[0].is_failure:
        close(client)
        raise BrokerError(refusal(services, outcome[0]))
    return client


def close(client: mqtt.Client) -> None:
    """Disconnect cleanly so QoS 1 publications already acknowledged stay delivered."""
    client.disconnect()
    client.loop_stop()
