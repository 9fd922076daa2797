"""Every seatwatch MQTT client, built one way; and why one is not connected, said plainly.

:func:`make_client` is the only place a paho client is made (bridge publisher, ingest consumer, calibrate,
the demo and the simulator's rehearsal control topic), so the clients cannot drift apart again: MQTT v5
(reason codes on PUBACK and CONNACK, session expiry), TLS with ``ssl.PROTOCOL_TLS_CLIENT`` (the broker's
certificate verified against ``mqtt_ca_file`` and its host name checked) when the URL says ``mqtts://``,
and the user name and password of the service settings (seatwatch/core/settings.py: the password from the
environment or a file, never shown). Whether a session is clean or persistent is no longer a property of
the client under v5 but of each CONNECT: callers pass ``clean_start`` (and a ``SessionExpiryInterval``
property for a session that outlives the connection) to ``connect``/``connect_async``.

paho hides the reasons a broker will not have us. A refused CONNACK (a wrong user or password: Mosquitto 2.0
answers 0x87 "Not authorized" under MQTT v5) reaches only ``on_connect``; a failed TLS handshake or an
unreachable broker is an exception inside paho's reconnect loop, seen only from ``on_connect_fail``; and a
client started with ``connect_async`` retries for ever without a word. So a bridge with the wrong password
or CA, or an ingest with the wrong user, ran and did nothing, silently.

:func:`refusal` and :func:`failure` put such a reason into words an installer can act on, naming the broker
(host:port) and the user — never the password. :class:`ConnectionLog` is for the long-running clients that
keep retrying: it logs each new reason once as an error (not on every retry, which would flood the journal)
and every successful connection, so the journal shows when a problem ended. paho also calls
``on_disconnect`` after every refused CONNACK, with a misleading "Protocol error": only the loss of a
connection that was up is worth a line (:meth:`ConnectionLog.lost`).
"""

from __future__ import annotations

import logging
import ssl
import sys
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.reasoncodes import ReasonCode

from seatwatch.core.settings import Services


def broker_name(services: Services) -> str:
    """``the MQTT broker at host:port``: the URL's scheme and path say nothing an installer needs."""
    host, port = services.mqtt_host_port
    return f"the MQTT broker at {host}:{port}"


def refusal(services: Services, reason: ReasonCode) -> str:
    """A refused CONNACK, naming the user: most refusals are a wrong user name or password."""
    user = f" for user {services.mqtt_username!r}" if services.mqtt_username else " without a user name"
    return f"{broker_name(services)} refused the connection{user}: {reason}"


def failure(services: Services, exc: BaseException | None) -> str:
    """A connection attempt that raised: TLS verification, another TLS failure, or an unreachable broker.

    A certificate that does not verify is nearly always the wrong CA file, so the message says which
    setting to check rather than leaving the installer with OpenSSL's wording."""
    where = broker_name(services)
    if isinstance(exc, ssl.SSLCertVerificationError):
        return (
            f"TLS certificate verification of {where} failed: {exc.verify_message} "
            "(is mqtt_ca_file / SEATWATCH_MQTT_CA_FILE the CA that signed the broker's certificate?)"
        )
    if isinstance(exc, ssl.SSLError):
        return f"TLS with {where} failed: {exc.reason or exc}"
    return f"cannot reach {where}: {getattr(exc, 'strerror', None) or exc}"


class ConnectionLog:
    """The log of one process's connection to the broker, for clients that keep retrying by themselves.

    ``meanwhile`` tells the reader what happens to the data while not connected (the bridge keeps its
    readings in the outbox, the broker keeps them for ingest). Every client of the process that connects
    with the same settings shares one log, so a reason one of them reported is not repeated by another.
    """

    def __init__(self, services: Services, log: logging.Logger, meanwhile: str) -> None:
        self.services = services
        self._log = log
        self._meanwhile = meanwhile
        self._problem = ""  # the reason last logged for not being connected ("" = none since connected)
        self._up = False  # the broker accepted our last connection and it has not dropped since

    def watch(self, client: mqtt.Client) -> None:
        """Report ``client``'s failed (re)connection attempts, which paho otherwise retries silently."""
        client.on_connect_fail = self._connect_failed

    def accepted(self, reason: ReasonCode, detail: str = "") -> bool:
        """Whether a CONNACK let us in: a refusal is reported, an acceptance logged (``detail`` appended)."""
        if reason.is_failure:
            self.report(refusal(self.services, reason))
            return False
        self._problem = ""
        self._up = True
        self._log.info("connected to %s%s", broker_name(self.services), detail)
        return True

    def lost(self, reason: ReasonCode) -> None:
        """paho's ``on_disconnect``: log the loss of a connection that was up, not each refused retry."""
        if self._up and reason.is_failure:
            self._log.warning(
                "disconnected from %s (%s); %s", broker_name(self.services), reason, self._meanwhile
            )
        self._up = False

    def report(self, problem: str) -> None:
        """Log a reason for not being connected once, not on every retry."""
        if problem != self._problem:
            self._log.error("%s; %s", problem, self._meanwhile)
            self._problem = problem

    def _connect_failed(self, client: mqtt.Client, userdata: Any) -> None:
        """paho calls this from inside its ``except OSError`` around a failed (re)connect: say why."""
        self.report(failure(self.services, sys.exception()))


def make_client(
    services: Services,
    client_id: str,
    *,
    manual_ack: bool = False,
    log: ConnectionLog | None = None,
) -> mqtt.Client:
    """A paho client for ``services``' broker, not yet connected (module doc: v5, TLS, credentials).

    ``manual_ack``: the caller acknowledges each QoS 1 message itself, once it is durable (ingest).
    ``log``: the connection log that reports failed (re)connection attempts — for clients that retry by
    themselves; a one-shot client reports its own single failure instead.
    """
    client = mqtt.Client(
        CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5, manual_ack=manual_ack
    )
    if services.mqtt_username:
        client.username_pw_set(services.mqtt_username, services.mqtt_password)
    if services.mqtt_tls:
        client.tls_set(ca_certs=services.mqtt_ca_file, tls_version=ssl.PROTOCOL_TLS_CLIENT)
    if log is not None:
        log.watch(client)
    return client
