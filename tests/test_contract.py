"""The reading contract: every reason for refusal, and no crash on arbitrary input (hypothesis)."""

from __future__ import annotations

import json
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from seatwatch.core.contract import (
    MAX_PAYLOAD_BYTES,
    REASONS,
    Reading,
    Rejected,
    _parse_one,
    _well_formed,
    encode,
    parse_payload,
)
from seatwatch.core.topics import batch_topic, reading_topic, topic_sensor

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


def test_huge_integers_are_refused_not_raised() -> None:
    """``float()`` of an integer of hundreds of digits overflows; the parser must still never raise."""
    for doc, reason, where in [
        (good(dur=10**400), "out_of_range", "dur is far outside"),
        (good(noise={"laeq": 10**400}), "out_of_range", "noise.laeq is far outside"),
        (good(ts=10**400), "clock_future", "ages in the future"),
    ]:
        readings, rejected = parse(doc)
        assert readings == [] and rejected[0].reason == reason and where in rejected[0].detail


reading_like_values = st.one_of(
    st.sampled_from([1, 0, -1, True, 1.0, 0.0005, 3600.0, 3600.5, 52.3, 160.5, "nz-0001", "a/b", "", NOW]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(min_value=-(10**14), max_value=10**14),
    st.none(),
)
level_objects = st.dictionaries(
    st.sampled_from(["laeq", "lafmax", "lafmin", "lux", "x"]), reading_like_values
)


@settings(max_examples=600, deadline=None)
@given(
    st.dictionaries(
        st.sampled_from(["v", "sensor", "seq", "ts", "dur", "noise", "light", "fw"]),
        st.one_of(reading_like_values, level_objects, st.integers(NOW - 10**12, NOW + 10**6)),
        max_size=3,
    ),
    st.sampled_from(["", reading_topic("s", "nz-0001"), reading_topic("s", "nz-0002")]),
    st.booleans(),
)
def test_the_fast_path_agrees_with_the_checked_path(changes: dict, topic: str, on_good: bool) -> None:
    """``_well_formed`` (ingest's hot path) accepts only what ``_parse_one`` accepts, as the same reading.

    ``on_good``: the changes are made to a valid reading, so that many examples are near-valid."""
    doc = json.loads(json.dumps(good(**changes) if on_good else changes))  # as ingest sees it: parsed JSON
    expected = topic_sensor(topic)
    checked = _parse_one(doc, "", NOW, expected)
    fast = _well_formed(doc, NOW, expected)
    if fast is not None:
        assert isinstance(checked, Reading)
        assert repr((fast, fast.extra)) == repr((checked, checked.extra))  # repr: NaN-safe, extra included


def _level(low: float, high: float) -> st.SearchStrategy[float | None]:
    return st.none() | st.floats(low, high)


@settings(max_examples=300, deadline=None)
@given(
    st.builds(
        Reading,
        st.sampled_from(["nz-0001", "a"]),
        st.integers(0, 10**9),
        st.integers(NOW - 10**11, NOW + 300_000),
        st.floats(0.001, 3600.0),
        _level(0.0, 160.0),
        _level(0.0, 160.0),
        _level(0.0, 160.0),
        _level(0.0, 200_000.0),
        st.dictionaries(st.sampled_from(["fw", "rssi"]), st.integers() | st.text(max_size=4), max_size=2),
    )
)
def test_the_fast_path_takes_what_bridges_send(reading: Reading) -> None:
    doc = json.loads(encode(reading))
    checked = _parse_one(doc, "", NOW, None)
    if not isinstance(checked, Reading):  # e.g. no levels at all, or lafmin above lafmax
        assert _well_formed(doc, NOW, None) is None
        return
    fast = _well_formed(doc, NOW, None)
    assert fast == checked and fast.extra == checked.extra == reading.extra
