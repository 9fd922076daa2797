"""The closed vocabularies every stage shares: quantities, zone kinds, metrics, verdicts, reject reasons.

Each is an :class:`enum.StrEnum`, so a member compares equal to, hashes like and formats as the string the
contracts name (``Verdict.PASS == "pass"``, ``f"{Quantity.NOISE}"`` is ``noise``): files, MQTT payloads,
InfluxDB points, report.json and the dashboards carry exactly the strings they carried before, while code
that builds or tests them can only use a value that exists. Parse a string from a file or a message with
``Kind(text)`` (``ValueError`` when it is not a member) and say which key held it and what is allowed.

:data:`VERDICT_COLOURS` is the one colour of each verdict: the report (the auditor's document) and the
Grafana dashboards both paint with it, so a seat looks the same on screen and on paper.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from types import MappingProxyType
from typing import TypeVar

V = TypeVar("V", bound=StrEnum)


class Quantity(StrEnum):
    """What a sensor measures: the ``noise`` and ``light`` objects of a reading (docs/contracts.md), a
    sensor's ``measures`` in the site file (docs/site-file.md), a calibration record's ``quantity``."""

    NOISE = "noise"
    """A-weighted sound level, dB(A) re 20 µPa (docs/standards.md §3, §5)."""
    LIGHT = "light"
    """Illuminance, lx (docs/standards.md §2, §6)."""


class ZoneKind(StrEnum):
    """A zone's ``kind`` in the site file (docs/site-file.md); a rules profile gives each kind its checks
    (``[zones.<kind>]``, seatwatch/core/rules/README.md), and a kind it leaves out has none."""

    AGENT = "agent"
    """Agent seats: the workstations of the call centre floor."""
    TRAINING = "training"
    """A training room."""
    MEETING = "meeting"
    """A meeting room."""
    RECEPTION = "reception"
    """The reception area."""
    REST = "rest"
    """A rest area."""


class Metric(StrEnum):
    """What a profile check measures (``metric`` of a check, seatwatch/core/rules/README.md); how the
    engine computes each is in docs/compliance.md, "Figures"."""

    LAEQ = "laeq"
    """A seat's LAeq over the check's hours, an energy mean (docs/standards.md §5)."""
    LAFMAX = "lafmax"
    """A seat's highest Fast-weighted maximum level in the check's hours."""
    LUX = "lux"
    """A seat's illuminance: lowest hourly mean or time mean (docs/standards.md §2)."""
    UNIFORMITY = "uniformity"
    """A zone's illuminance uniformity U0 = min/mean of its seats' mean lux (GB 50034)."""
    AREA_PER_SEAT = "area_per_seat"
    """A zone's floor area divided by its seats (docs/standards.md §4)."""


class Verdict(StrEnum):
    """A check's, seat's or zone's compliance verdict (docs/compliance.md, "Verdicts"; the ``verdict``
    field of the ``compliance`` measurement, docs/contracts.md). Members are in order of severity:
    a seat's verdict is the worst of its checks, and a measured failure outranks a gap in the data."""

    PASS = "pass"
    """Meets the check's target."""
    MARGINAL = "marginal"
    """Meets the requirement but not the stricter target."""
    INSUFFICIENT_DATA = "insufficient_data"
    """Readings cover less than the profile's ``min_coverage`` of the hours, or the data is not
    evidence (no valid calibration; a level mostly below the sensor's floor): it could hide a failure."""
    FAIL = "fail"
    """Misses the requirement."""


class RejectReason(StrEnum):
    """Why ingest refused a payload element: the ``reason`` of a refusal, counted in the metrics and the
    ingest status and stored as the ``reason`` tag of the ``rejects`` measurement (docs/contracts.md)."""

    TOO_LARGE = "too_large"
    """The payload is over 64 KiB, refused whole."""
    BAD_JSON = "bad_json"
    """The payload is not JSON."""
    NOT_OBJECT = "not_object"
    """An element is not a reading object."""
    MISSING_KEY = "missing_key"
    """A required key is absent (or neither ``noise`` nor ``light`` is given)."""
    WRONG_TYPE = "wrong_type"
    """A key holds the wrong type of value."""
    NOT_FINITE = "not_finite"
    """A number is NaN or infinite."""
    OUT_OF_RANGE = "out_of_range"
    """A number is outside its physical range."""
    BAD_VERSION = "bad_version"
    """The contract version ``v`` is not the one this ingest understands."""
    CLOCK_PAST = "clock_past"
    """The reading's time is before 2020: the sending clock is wrong."""
    CLOCK_FUTURE = "clock_future"
    """The reading's time is more than five minutes in the future."""
    SENSOR_MISMATCH = "sensor_mismatch"
    """A per-sensor topic carries another sensor's reading."""
    UNKNOWN_SENSOR = "unknown_sensor"
    """The sensor is not in the site file."""
    NOT_INSTALLED = "not_installed"
    """The sensor was not installed at any seat at the reading's time."""
    WRONG_BRIDGE = "wrong_bridge"
    """A bridge's batch carries a sensor the site file gives to another bridge."""
    BAD_CALIBRATION = "bad_calibration"
    """A calibration record ingest could not accept."""
    INTERNAL_ERROR = "internal_error"
    """A bug in ingest: that reading alone is refused, with the traceback logged."""


VERDICT_COLOURS: Mapping[Verdict, str] = MappingProxyType(
    {
        Verdict.PASS: "#2e7d32",
        Verdict.MARGINAL: "#f2a900",
        Verdict.INSUFFICIENT_DATA: "#8a8f98",
        Verdict.FAIL: "#c62828",
    }
)
"""The colour of each verdict, in every view: the report's floor plan, legend and verdict labels, and the
dashboards' verdict counts, limit bands and floor plan (where "no data" takes insufficient data's grey)."""


def member_of(kind: type[V], value: object) -> V | None:
    """The member of ``kind`` whose value is ``value``, or None, for a reader that reports a bad value with
    the key that held it. (``kind(value)`` raises; ``value in kind`` raises TypeError for a non-member
    before Python 3.12.)"""
    if not isinstance(value, str):
        return None
    try:
        return kind(value)
    except ValueError:
        return None
