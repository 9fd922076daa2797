"""The reading contract: every reason for refusal, and no crash on arbitrary input (hypothesis)."""

from __future__ import annotations

import json
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from seatwatch.contract import (
    MAX_PAYLOAD_BYTES,
    REASONS,
    Reading,
    Rejected,
    batch_topic,
    encode,
    parse_payload,
    reading_topic,
)

NOW = 1_764_230_400_000


def good(**changes: object) -> dict:
    doc = {
        "v": 1,
        "sensor": "nz-0001",
        "seq": 123,
        "ts": NOW,
        "dur": 1.0,
        "noise": {"laeq": 52.3, "lafmax": 60.2, "lafmin": 45.0},
        "light": {"lux": 412.0},
    }
    doc.update(changes)
    return doc


def parse(doc: object, topic: str = "") -> tuple[list[Reading], list[Rejected]]:
    return parse_payload(json.dumps(doc).encode(), topic=topic, now_ms=NOW)


def test_the_design_example_parses() -> None:
    readings, rejected = parse(good(), reading_topic("site", "nz-0001"))
    assert rejected == []
    assert readings == [Reading("nz-0001", 123, NOW, 1.0, 52.3, 60.2, 45.0, 412.0)]


def test_arrays_mix_good_and_bad_elements_and_extra_keys_survive() -> None:
    readings, rejected = parse(
        [good(seq=1, fw="1.2"), good(seq=2, dur="1"), good(seq=3)], batch_topic("s", "gw")
    )
    assert [r.seq for r in readings] == [1, 3]
    assert readings[0].extra == {"fw": "1.2"}
    assert [(r.reason, r.sensor) for r in rejected] == [("wrong_type", "nz-0001")]
    assert "[1].dur" in rejected[0].detail


def test_encode_round_trips() -> None:
    sent = [Reading("a", 1, NOW, 1.0, laeq=40.0), Reading("b", 2, NOW, 0.5, lux=300.0)]
    assert parse_payload(encode(sent), now_ms=NOW)[0] == sent
    assert parse_payload(encode(sent[0]), now_ms=NOW)[0] == sent[:1]


@pytest.mark.parametrize(
    ("payload", "reason", "where"),
    [
        (b"{not json", "bad_json", "not JSON"),
        (b"42", "not_object", "payload"),
        (json.dumps(good(v=2)).encode(), "bad_version", "v is 2"),
        (
            json.dumps({k: v for k, v in good().items() if k != "seq"}).encode(),
            "missing_key",
            "seq is missing",
        ),
        (json.dumps(good(seq=True)).encode(), "wrong_type", "seq must be int"),
        (json.dumps(good(noise={"laeq": "loud"})).encode(), "wrong_type", "noise.laeq must be a number"),
        (
            json.dumps(good(noise={"laeq": 52.0, "lafmax": 40.0, "lafmin": 45.0})).encode(),
            "out_of_range",
            "lafmin",
        ),
        (
            b'{"v":1,"sensor":"a","seq":1,"ts":1764230400000,"dur":1,"noise":{"laeq":NaN}}',
            "not_finite",
            "laeq",
        ),
        (json.dumps(good(light={"lux": -3.0})).encode(), "out_of_range", "light.lux -3"),
        (json.dumps(good(noise={"laeq": 200.0})).encode(), "out_of_range", "noise.laeq 200"),
        (json.dumps(good(dur=0)).encode(), "out_of_range", "dur"),
        (json.dumps(good(ts=1_500_000_000_000)).encode(), "clock_past", "before 2020"),
        (json.dumps(good(ts=NOW + 6 * 60 * 1000)).encode(), "clock_future", "360 s in the future"),
        (json.dumps(good(noise=None, light=None)).encode(), "missing_key", "neither"),
        (json.dumps(good(sensor="a/b")).encode(), "wrong_type", "not a sensor id"),
        (b" " * (MAX_PAYLOAD_BYTES + 1), "too_large", "exceeds"),
    ],
)
def test_each_refusal_names_its_reason_and_place(payload: bytes, reason: str, where: str) -> None:
    readings, rejected = parse_payload(payload, now_ms=NOW)
    assert readings == []
    assert len(rejected) == 1
    assert rejected[0].reason == reason
    assert reason in REASONS
    assert where in rejected[0].detail


def test_a_sensor_cannot_publish_on_another_sensors_topic() -> None:
    _, rejected = parse(good(), reading_topic("site", "nz-0002"))
    assert rejected[0].reason == "sensor_mismatch"


@settings(max_examples=400, deadline=None)
@given(st.binary(max_size=2048))
def test_arbitrary_bytes_never_crash(payload: bytes) -> None:
    readings, rejected = parse_payload(payload, now_ms=NOW)
    assert len(readings) + len(rejected) >= 1 or payload.strip() == b"[]"
    for r in rejected:
        assert r.reason in REASONS


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=8),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=20,
)


@settings(max_examples=400, deadline=None)
@given(
    st.dictionaries(st.sampled_from(["v", "sensor", "seq", "ts", "dur", "noise", "light", "x"]), json_values)
)
def test_arbitrary_reading_shaped_objects_are_either_valid_or_refused(doc: dict) -> None:
    payload = json.dumps(doc).encode()
    readings, rejected = parse_payload(payload, now_ms=NOW)
    assert len(readings) + len(rejected) == 1
    for r in readings:
        assert all(math.isfinite(x) for x in (r.dur, r.laeq or 0, r.lux or 0))
