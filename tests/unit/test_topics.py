"""MQTT topics (seatwatch/core/topics.py): each formatter read back by the parser, the strings of
docs/contracts.md, and the subscriptions matching exactly the topics they are for."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from hypothesis import given
from hypothesis import strategies as st

from seatwatch.core import topics
from seatwatch.core.topics import Kind, Topic

CONTRACTS = Path(__file__).resolve().parents[2] / "docs" / "contracts.md"
# Ids as the site file allows them: no '/', '+', '#', and a sensor or bridge never starts with '_'.
ids = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9._-]{0,20}", fullmatch=True)

# formatter, the kind it makes, and the Topic its arguments (site, name[, record]) parse back to
ONE_NAME: list[tuple[Callable[[str, str], str], Kind]] = [
    (topics.reading_topic, Kind.READING),
    (topics.batch_topic, Kind.BATCH),
    (topics.ack_topic, Kind.ACK),
    (topics.sensor_status_topic, Kind.SENSOR_STATUS),
    (topics.bridge_status_topic, Kind.BRIDGE_STATUS),
    (topics.ingest_status_topic, Kind.INGEST_STATUS),
    (topics.simulate_topic, Kind.SIMULATE),
]


@pytest.mark.parametrize(("formatter", "kind"), ONE_NAME, ids=[k.value for _, k in ONE_NAME])
@given(site=ids, name=ids)
def test_each_formatter_round_trips_through_the_parser(
    formatter: Callable[[str, str], str], kind: Kind, site: str, name: str
) -> None:
    assert topics.parse(formatter(site, name)) == Topic(kind, site, name)


@given(site=ids, sensor=ids, record=ids)
def test_a_calibration_topic_round_trips_with_its_record(site: str, sensor: str, record: str) -> None:
    assert topics.parse(topics.calibration_topic(site, sensor, record)) == Topic(
        Kind.CALIBRATION, site, sensor, record
    )


@given(site=ids, name=ids)
def test_bridge_and_sensor_are_read_only_from_their_own_topics(site: str, name: str) -> None:
    for formatter, kind in ONE_NAME:
        topic = formatter(site, name)
        bridge_kinds = (Kind.BATCH, Kind.ACK, Kind.BRIDGE_STATUS)
        assert topics.topic_bridge(topic) == (name if kind in bridge_kinds else None), topic
        assert topics.topic_sensor(topic) == (name if kind is Kind.READING else None), topic


def test_the_topics_are_those_of_the_contract() -> None:
    """Every topic of docs/contracts.md's table, with its placeholders filled in, is what the formatter
    makes — and the table has no topic without a formatter."""
    table = CONTRACTS.read_text(encoding="utf-8").split("## MQTT topics", 1)[1].split("###", 1)[0]
    documented = set(re.findall(r"^\| `(seatwatch/v1/[^`]+)`", table, re.M))
    values = {"site": "s1", "sensor": "nz-1", "bridge": "gw-1", "client": "ing-1", "record_id": "c-9"}
    made = {
        topics.reading_topic("s1", "nz-1"),
        topics.batch_topic("s1", "gw-1"),
        topics.ack_topic("s1", "gw-1"),
        topics.sensor_status_topic("s1", "nz-1"),
        topics.bridge_status_topic("s1", "gw-1"),
        topics.ingest_status_topic("s1", "ing-1"),
        topics.calibration_topic("s1", "nz-1", "c-9"),
    }
    assert {template.format(**values) for template in documented} == made


def test_subscriptions_match_exactly_their_topics() -> None:
    every = {
        Kind.READING: topics.reading_topic("s1", "nz-1"),
        Kind.BATCH: topics.batch_topic("s1", "gw-1"),
        Kind.ACK: topics.ack_topic("s1", "gw-1"),
        Kind.SENSOR_STATUS: topics.sensor_status_topic("s1", "nz-1"),
        Kind.BRIDGE_STATUS: topics.bridge_status_topic("s1", "gw-1"),
        Kind.INGEST_STATUS: topics.ingest_status_topic("s1", "ing-1"),
        Kind.CALIBRATION: topics.calibration_topic("s1", "nz-1", "c-9"),
        Kind.SIMULATE: topics.simulate_topic("s1", "nz-1"),
    }
    filters = {
        topics.calibration_subscription("s1"): {Kind.CALIBRATION},
        topics.bridge_status_subscription("s1"): {Kind.BRIDGE_STATUS},
        topics.sensor_status_subscription("s1"): {Kind.SENSOR_STATUS},
        topics.simulate_topic("s1"): {Kind.SIMULATE},
    }
    reading_filters = topics.reading_subscriptions("s1")
    for kind, topic in every.items():
        for topic_filter, kinds in filters.items():
            assert mqtt.topic_matches_sub(topic_filter, topic) == (kind in kinds), (topic_filter, topic)
        matched = any(mqtt.topic_matches_sub(f, topic) for f in reading_filters)
        assert matched == (kind in (Kind.READING, Kind.BATCH)), topic
        assert not mqtt.topic_matches_sub(topics.sensor_status_subscription("s2"), topic)
    assert topics.shared("g", reading_filters[0]) == "$share/g/seatwatch/v1/s1/+/reading"


@pytest.mark.parametrize(
    "topic",
    [
        "",
        "seatwatch/v2/s/nz-1/reading",  # another version of the contract
        "seatwatch/v1/s/nz-1/readings",  # a sensor's topic with a bridge's last level
        "seatwatch/v1/s/_bridge/reading",  # the per-sensor form of a reserved level
        "seatwatch/v1/s/_bridge/gw-1/reading",
        "seatwatch/v1/s/_ingest/i/ack",
        "seatwatch/v1//nz-1/reading",  # an empty level
        "seatwatch/v1/s/_bridge//readings",
        "seatwatch/v1/s/_calibration/nz-1",
        "seatwatch/v1/s/_bridge/gw-1/readings/extra",
    ],
)
def test_anything_else_is_not_a_seatwatch_topic(topic: str) -> None:
    assert topics.parse(topic) is None
    assert topics.topic_bridge(topic) is None and topics.topic_sensor(topic) is None
