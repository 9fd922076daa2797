"""Calibration records arrive from the network: every malformed one is refused with the key named.

The cases are those measured against a running ingest (a NaN offset, a list as id, a date in year 1 that
overflowed ``astimezone``, an offset as a string that broke every batch of that sensor, a gain ≤ 0).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from seatwatch.core.calibration_records import BadRecord, CalibrationRecord


def _doc(**changes: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "id": "cal-1",
        "sensor": "nz-0001",
        "quantity": "noise",
        "method": "sound-calibrator",
        "performed_at": "2026-11-30T09:00:00+08:00",
        "valid_until": "2027-11-30T09:00:00+08:00",
        "offset_db": 1.5,
        "instrument": {"model": "B&K 4231", "serial": "123", "accuracy_class": "1"},
    }
    doc.update(changes)
    return {k: v for k, v in doc.items() if v is not ...}


def test_a_good_record_round_trips() -> None:
    record = CalibrationRecord.from_json(json.dumps(_doc()))
    assert record.performed_at == datetime(2026, 11, 30, 1, 0, tzinfo=UTC)
    assert record.apply(60.0) == 61.5
    assert CalibrationRecord.from_json(record.to_json()) == record


@pytest.mark.parametrize(
    ("changes", "named"),
    [
        ({"offset_db": float("nan")}, "offset_db is nan"),
        ({"offset_db": float("inf")}, "offset_db is inf"),
        ({"offset_db": "5"}, "offset_db must be a number, not str"),
        ({"offset_db": True}, "offset_db must be a number, not bool"),
        ({"offset_db": 10**400}, "offset_db is far too large"),
        ({"offset_db": ...}, "lacks 'offset_db'"),
        ({"id": ["x"]}, "id must be str, not list"),
        ({"id": ""}, "id is empty"),
        ({"sensor": "a/b"}, "must not contain '/'"),
        ({"quantity": "heat"}, "quantity 'heat'"),
        ({"performed_at": "0001-01-01T00:00:00+01:00"}, "'0001-01-01T00:00:00+01:00' is outside"),
        ({"valid_until": "9999-12-31T23:59:59-14:00"}, "valid_until '9999-12-31T23:59:59-14:00' is outside"),
        ({"performed_at": "2026-11-30T09:00:00"}, "has no time zone"),
        ({"performed_at": "yesterday"}, "is not an ISO 8601 time"),
        ({"performed_at": 1764464400}, "performed_at must be str, not int"),
        ({"valid_until": "2026-11-29T09:00:00+08:00"}, "valid_until is not after performed_at"),
        ({"quantity": "light", "offset_db": ..., "gain": 0.0}, "gain 0.0 is not above 0"),
        ({"quantity": "light", "offset_db": ..., "gain": -3}, "gain -3.0 is not above 0"),
        ({"quantity": "light", "offset_db": ...}, "lacks 'gain'"),
        ({"instrument": ["x"]}, "instrument must be an object"),
        ({"instrument": {"serial": 5}}, "instrument.serial must be str, not int"),
        ({"drift_flagged": "no"}, "drift_flagged must be bool"),
    ],
)
def test_malformed_records_are_refused_naming_the_key(changes: dict[str, Any], named: str) -> None:
    with pytest.raises(BadRecord) as caught:
        CalibrationRecord.from_json(json.dumps(_doc(**changes)))
    assert named in str(caught.value)


@pytest.mark.parametrize("text", [b"", b"{", b"[1]", b"null", b"[" * 100_000, "\u00ff".encode("latin-1")])
def test_what_is_not_a_record_object_is_refused(text: bytes) -> None:
    with pytest.raises(BadRecord):
        CalibrationRecord.from_json(text)
