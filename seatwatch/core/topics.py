"""Every MQTT topic seatwatch publishes or subscribes to: one formatter each, and one parser for all.

docs/contracts.md ("MQTT topics") is the contract; bridges, ingest, the calibration command, the demo and
the rehearsal simulator build their topics here, so a publisher and its subscriber cannot spell one
differently. The layout is ``seatwatch/v1/{site}/...``: a sensor's own topics are ``{sensor}/reading``
and ``{sensor}/status``; everything else sits under a level starting with ``_`` (``_bridge``, ``_ingest``,
``_calibration``, ``_simulate``), which a sensor id can never be, so the two never collide.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

ROOT = "seatwatch/v1"


class Kind(StrEnum):
    """What a topic carries (:func:`parse`)."""

    READING = "reading"  # a sensor's own readings
    BATCH = "batch"  # a bridge's batch of its sensors' readings
    ACK = "ack"  # ingest's end-to-end confirmation of a bridge's batches
    SENSOR_STATUS = "sensor_status"  # retained, by the bridge that owns the sensor
    BRIDGE_STATUS = "bridge_status"  # retained, by the bridge
    INGEST_STATUS = "ingest_status"  # retained, by an ingest process
    CALIBRATION = "calibration"  # retained calibration record, by ``seatwatch calibrate``
    SIMULATE = "simulate"  # control of the rehearsal simulator's sources


# (level under the site, last level) -> kind, for topics of the form ROOT/site/_level/id/last.
_UNDERSCORED = {
    ("_bridge", "readings"): Kind.BATCH,
    ("_bridge", "ack"): Kind.ACK,
    ("_bridge", "status"): Kind.BRIDGE_STATUS,
    ("_ingest", "status"): Kind.INGEST_STATUS,
    ("_simulate", "source"): Kind.SIMULATE,
}
_OWN = {"reading": Kind.READING, "status": Kind.SENSOR_STATUS}


def reading_topic(site: str, sensor: str) -> str:
    return f"{ROOT}/{site}/{sensor}/reading"


def batch_topic(site: str, bridge: str) -> str:
    return f"{ROOT}/{site}/_bridge/{bridge}/readings"


def ack_topic(site: str, bridge: str) -> str:
    """Where ingest confirms the batches of ``bridge`` it made durable (docs/contracts.md, "End-to-end
    acknowledgement")."""
    return f"{ROOT}/{site}/_bridge/{bridge}/ack"


def sensor_status_topic(site: str, sensor: str) -> str:
    return f"{ROOT}/{site}/{sensor}/status"


def bridge_status_topic(site: str, bridge: str) -> str:
    return f"{ROOT}/{site}/_bridge/{bridge}/status"


def ingest_status_topic(site: str, client_id: str) -> str:
    return f"{ROOT}/{site}/_ingest/{client_id}/status"


def calibration_topic(site: str, sensor: str, record_id: str) -> str:
    """Where a calibration record is kept, retained: one topic per record, so none replaces another."""
    return f"{ROOT}/{site}/_calibration/{sensor}/{record_id}"


def simulate_topic(site: str, sensor: str = "+") -> str:
    """The rehearsal simulator's control topic of ``sensor`` (all of them by default: a filter)."""
    return f"{ROOT}/{site}/_simulate/{sensor}/source"


def reading_subscriptions(site: str) -> list[str]:
    """Topic filters that carry a site's readings: per-sensor topics and bridge batches."""
    return [reading_topic(site, "+"), batch_topic(site, "+")]


def sensor_status_subscription(site: str) -> str:
    return sensor_status_topic(site, "+")


def bridge_status_subscription(site: str) -> str:
    return bridge_status_topic(site, "+")


def calibration_subscription(site: str) -> str:
    return calibration_topic(site, "+", "+")


def shared(group: str, topic_filter: str) -> str:
    """A shared subscription: the broker gives each message to one subscriber of ``group``."""
    return f"$share/{group}/{topic_filter}"


@dataclass(frozen=True, slots=True)
class Topic:
    """A parsed topic: its kind, site, the sensor / bridge / ingest client it names, and for a
    calibration record the record id."""

    kind: Kind
    site: str
    name: str
    record: str | None = None


def parse(topic: str) -> Topic | None:
    """The :class:`Topic` of a seatwatch topic; None for anything else (a filter's ``+`` is just a name)."""
    parts = topic.split("/")
    if len(parts) not in (5, 6) or "/".join(parts[:2]) != ROOT or not all(parts[2:]):
        return None
    site, level = parts[2], parts[3]
    if len(parts) == 5:
        kind = _OWN.get(parts[4])
        return Topic(kind, site, level) if kind is not None and not level.startswith("_") else None
    if level == "_calibration":
        return Topic(Kind.CALIBRATION, site, parts[4], parts[5])
    kind = _UNDERSCORED.get((level, parts[5]))
    return Topic(kind, site, parts[4]) if kind is not None else None


def topic_bridge(topic: str) -> str | None:
    """The bridge named by a bridge topic (``.../_bridge/ID/...``); None for a per-sensor topic."""
    parsed = parse(topic)
    if parsed is not None and parsed.kind in (Kind.BATCH, Kind.ACK, Kind.BRIDGE_STATUS):
        return parsed.name
    return None


def topic_sensor(topic: str) -> str | None:
    """The sensor named by a per-sensor reading topic; None for a bridge batch topic."""
    parsed = parse(topic)
    return parsed.name if parsed is not None and parsed.kind is Kind.READING else None
