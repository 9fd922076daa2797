"""One short-lived MQTT connection for the calibrate command, built from the site's service settings.

Calibration talks to the broker twice — to read a sensor live and to publish the record retained — and
both must honour the same settings (TLS, username, password from the environment) without ever showing
the password in a message. Its errors are worded as the bridge's and ingest's
(:mod:`seatwatch.core.mqtt_connection`): the user the broker refused, or which CA setting to check when TLS
verification fails — not a bare "cannot reach" for a certificate that did not verify.

The client is :func:`seatwatch.core.mqtt_connection.make_client`'s, so calibrate speaks MQTT v5 and
TLS as the bridge and ingest do. What 3.1.1's ``clean_session=True`` gave, v5 splits in two: ``clean_start``
(start without any earlier session of this id) on the CONNECT, and no ``SessionExpiryInterval`` (the
session ends with the connection). Retained records are published and received as before; a PUBACK now
carries a reason code, and 0x10 "no matching subscribers" is still a record the broker keeps retained.
"""

from __future__ import annotations

import threading
import uuid

import paho.mqtt.client as mqtt
from paho.mqtt.reasoncodes import ReasonCode

from seatwatch.core.mqtt_connection import broker_name, failure, make_client, refusal
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
    client = make_client(services, f"seatwatch-calibrate-{purpose}-{uuid.uuid4().hex[:8]}")
    connected = threading.Event()
    outcome: list[ReasonCode] = []

    def on_connect(
        _client: mqtt.Client, _userdata: object, _flags: object, reason: ReasonCode, _props: object
    ) -> None:
        outcome.append(reason)
        connected.set()

    client.on_connect = on_connect
    try:
        client.connect(host, port, keepalive=30, clean_start=True)
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
