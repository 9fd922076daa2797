"""Every InfluxQL statement the dashboards run, in one place, so they can be reviewed for energy-correctness.

Decibels are averaged as energy (docs/design.md principle 1): a level over any period — one ``$__interval``
bucket, five minutes, a whole range — is ``10*log10(sum("exposure")/sum("dur"))``, never ``mean("laeq")``,
which is arithmetic and too low whenever the level varies. Each statement uses only what InfluxQL on
InfluxDB 1.6.7 runs (docs/dependencies.md), which also holds for 2.x's v1 compatibility API. Grafana's macros
(``$timeFilter``, ``$__interval``, ``$__interval_ms``) and the ``$seat`` variable are left for Grafana to
expand.
"""

from __future__ import annotations

from collections.abc import Sequence

from seatwatch.core.influxql import quote_ident, quote_string
from seatwatch.core.schema import (
    LEVEL_QL,
    READING_FIELD,
    BridgeStatus,
    Calibration,
    Compliance,
    Light,
    Noise,
    Rejects,
    Tag,
)

LEVEL = LEVEL_QL
RANGE = "$timeFilter"
# "Now" on the floor overview: the energy level of the last five minutes, and what reported within it.
CURRENT = "time > now() - 5m"
SEAT = f"{quote_ident(Tag.SEAT)} =~ /^$seat$/"
SENSOR = f"{quote_ident(Tag.SENSOR)} =~ /^$sensor$/"
# A sensor is "silent" (stale) when it sent nothing for this long: the health tables and the alert agree.
SILENT_MINUTES = 10
VERDICTS = ("pass", "marginal", "fail", "insufficient_data")
# Quoted identifiers of the schema (seatwatch/core/schema.py), as every statement below spells them.
NOISE, LIGHT = quote_ident(Noise.NAME), quote_ident(Light.NAME)
DUR, LAFMAX, LUX = quote_ident(Noise.DUR), quote_ident(Noise.LAFMAX), quote_ident(Light.LUX)
BY_SEAT, BY_SENSOR = f"GROUP BY {quote_ident(Tag.SEAT)}", f"GROUP BY {quote_ident(Tag.SENSOR)}"
COMPLIANCE, VERDICT = quote_ident(Compliance.NAME), quote_ident(Compliance.VERDICT)
CALIBRATION, VALID_UNTIL = quote_ident(Calibration.NAME), quote_ident(Calibration.VALID_UNTIL_MS)
CALIBRATION_QUANTITY = quote_ident(Calibration.QUANTITY)
REJECTS, REJECT_DETAIL = quote_ident(Rejects.NAME), quote_ident(Rejects.DETAIL)


def _site(site: str) -> str:
    return f"{quote_ident(Tag.SITE)} = {quote_string(site)}"


def _zones(zones: Sequence[str]) -> str:
    """A tag match for several zones; ids are restricted to regex-safe characters except '.'."""
    return f"{quote_ident(Tag.ZONE)} =~ /^(" + "|".join(z.replace(".", r"\.") for z in zones) + ")$/"


# -- levels per seat -------------------------------------------------------------------------------
def seat_levels(site: str, when: str, zones: Sequence[str] = ()) -> str:
    """Each seat's LAeq over ``when`` (energy mean), optionally within some zones."""
    where = " AND ".join([_site(site), *([_zones(zones)] if zones else []), when])
    return f'SELECT {LEVEL} AS "LAeq" FROM {NOISE} WHERE {where} {BY_SEAT}'


def seat_lux(site: str, when: str, zones: Sequence[str]) -> str:
    """Each seat's mean illuminance over ``when``; lux is linear, so the arithmetic mean is right."""
    where = f"{_site(site)} AND {_zones(zones)} AND {when}"
    return f'SELECT mean({LUX}) AS "lux" FROM {LIGHT} WHERE {where} {BY_SEAT}'


# -- one seat over time ----------------------------------------------------------------------------
def seat_laeq_series(site: str) -> str:
    return (
        f'SELECT {LEVEL} AS "LAeq" FROM {NOISE} WHERE {_site(site)} AND {SEAT} AND {RANGE} '
        "GROUP BY time($__interval) fill(none)"
    )


def seat_lafmax_series(site: str) -> str:
    """LAFmax of a bucket is the maximum of the readings' maxima (a maximum, never an average)."""
    return (
        f'SELECT max({LAFMAX}) AS "LAFmax" FROM {NOISE} WHERE {_site(site)} AND {SEAT} AND {RANGE} '
        "GROUP BY time($__interval) fill(none)"
    )


def seat_lux_series(site: str) -> str:
    return (
        f'SELECT mean({LUX}) AS "lux" FROM {LIGHT} WHERE {_site(site)} AND {SEAT} AND {RANGE} '
        "GROUP BY time($__interval) fill(none)"
    )


def limit_line(site: str, quantity: str, zones: Sequence[str], value: float, name: str) -> str:
    """A horizontal line at a profile limit, present only while the selected seat (in ``zones``) has data.

    A panel's thresholds are fixed, but the limit depends on the selected seat's zone kind; a query per
    zone kind draws the line of whichever kind the seat belongs to, and nothing for the others.
    """
    measurement = quantity  # a reading measurement is named after its quantity
    field = READING_FIELD[measurement]
    return (
        f'SELECT count({quote_ident(field)}) * 0 + {value!r} AS "{name}" FROM {quote_ident(measurement)} '
        f"WHERE {_site(site)} AND {_zones(zones)} AND {SEAT} AND {RANGE} "
        "GROUP BY time($__interval) fill(none)"
    )


# -- sensors ---------------------------------------------------------------------------------------
def last_reading(site: str, quantity: str) -> str:
    """Each sensor's last reading in the range (those of ``$sensor``); the row's time is when it arrived
    (a single selector keeps it)."""
    field = READING_FIELD[quantity]
    where = f"{_site(site)} AND {SENSOR} AND {RANGE}"
    select = f'SELECT last({quote_ident(field)}) AS "{field}"'
    return f"{select} FROM {quote_ident(quantity)} WHERE {where} {BY_SENSOR}"


def recent_readings(site: str, quantity: str, column: str, minutes: int = SILENT_MINUTES) -> str:
    """Readings per sensor in the last ``minutes``: a sensor of the site file without a row is silent."""
    where = f"{_site(site)} AND time > now() - {minutes}m"
    count = f"count({quote_ident(READING_FIELD[quantity])})"
    return f'SELECT {count} AS "{column}" FROM {quote_ident(quantity)} WHERE {where} {BY_SENSOR}'


def sensors_at_seat(site: str) -> str:
    """The sensors whose noise readings stood for the selected seat within the range."""
    return (
        f'SELECT last({DUR}) AS "last dur" FROM {NOISE} WHERE {_site(site)} AND {SEAT} AND {RANGE} '
        f"{BY_SENSOR}"
    )


def sensors_reporting(site: str, quantity: str) -> str:
    """How many sensors of a quantity sent anything in the last five minutes."""
    field = READING_FIELD[quantity]
    where = f"{_site(site)} AND {CURRENT}"
    inner = (
        f'SELECT count({quote_ident(field)}) AS "n" FROM {quote_ident(quantity)} WHERE {where} {BY_SENSOR}'
    )
    return f'SELECT count("n") AS "{quantity} sensors reporting" FROM ({inner})'


def readings_per_second(site: str, quantity: str) -> str:
    field = READING_FIELD[quantity]
    return (
        f'SELECT count({quote_ident(field)}) * 1000 / $__interval_ms AS "{quantity} readings/s" '
        f"FROM {quote_ident(quantity)} "
        f"WHERE {_site(site)} AND {SENSOR} AND {RANGE} GROUP BY time($__interval) fill(0)"
    )


def seconds_below_floor(site: str) -> str:
    """Seconds each sensor measured within ~3 dB of its self-noise floor (docs/standards.md §7)."""
    return (
        f'SELECT sum({DUR}) AS "below floor s" FROM {NOISE} WHERE {_site(site)} '
        f"AND {quote_ident(Noise.BELOW_FLOOR)} = true AND {SENSOR} AND {RANGE} {BY_SENSOR}"
    )


def seconds_measured(site: str) -> str:
    return (
        f'SELECT sum({DUR}) AS "measured s" FROM {NOISE} WHERE {_site(site)} AND {SENSOR} AND {RANGE} '
        f"{BY_SENSOR}"
    )


def rejects_by_reason(site: str) -> str:
    return (
        f'SELECT count({REJECT_DETAIL}) AS "rejects" FROM {REJECTS} WHERE {_site(site)} AND {RANGE} '
        f"GROUP BY time($__interval), {quote_ident(Rejects.REASON)} fill(none)"
    )


def bridge_clock_skew(site: str) -> str:
    """Each bridge's wall clock minus ingest's (``bridge_status``, written by ingest from live statuses).
    Readings carry the bridge's time, so a skew of seconds moves them in the seat charts: fix NTP."""
    skew, bridge = quote_ident(BridgeStatus.CLOCK_SKEW_S), quote_ident(BridgeStatus.BRIDGE)
    return (
        f'SELECT last({skew}) AS "skew s" FROM {quote_ident(BridgeStatus.NAME)} WHERE {_site(site)} '
        f"AND {RANGE} GROUP BY time($__interval), {bridge} fill(none)"
    )


def calibration_due(site: str, quantity: str) -> str:
    """Each sensor's latest calibration of ``quantity``: the field is when it expires.

    No time filter: a calibration a year old is exactly the one whose due date matters.
    """
    return (
        f'SELECT last({VALID_UNTIL}) AS "valid until" FROM {CALIBRATION} '
        f"WHERE {_site(site)} AND {CALIBRATION_QUANTITY} = {quote_string(quantity)} {BY_SENSOR}"
    )


# -- compliance ------------------------------------------------------------------------------------
def latest_verdict_count(site: str, verdict: str) -> str:
    """How many (seat, check) pairs have ``verdict`` as their latest result within the range."""
    inner = (
        f'SELECT last({VERDICT}) AS "verdict" FROM {COMPLIANCE} WHERE {_site(site)} AND {RANGE} '
        f"{BY_SEAT}, {quote_ident(Compliance.CHECK)}"
    )
    return f'SELECT count({VERDICT}) AS "{verdict}" FROM ({inner}) WHERE {VERDICT} = {quote_string(verdict)}'


def verdicts_per_day(site: str, verdict: str, timezone: str) -> str:
    """Results per local calendar day of the site (``tz()`` puts day boundaries at local midnight)."""
    return (
        f'SELECT count({VERDICT}) AS "{verdict}" FROM {COMPLIANCE} WHERE {_site(site)} '
        f"AND {VERDICT} = {quote_string(verdict)} AND {RANGE} "
        f"GROUP BY time(1d) fill(0) tz({quote_string(timezone)})"
    )


def failures_per_seat(site: str) -> str:
    return (
        f'SELECT count({VERDICT}) AS "fail" FROM {COMPLIANCE} WHERE {_site(site)} '
        f"AND {VERDICT} = 'fail' AND {RANGE} {BY_SEAT}"
    )


# -- alert rules (dashboards/alert_rules.py): $timeFilter is the rule's relative time range ----------
def sensor_readings(site: str, quantity: str, sensor: str) -> str:
    """One sensor's readings in the range: no row at all when it is silent."""
    field = READING_FIELD[quantity]
    return (
        f'SELECT count({quote_ident(field)}) AS "readings" FROM {quote_ident(quantity)} WHERE {_site(site)} '
        f"AND {quote_ident(Tag.SENSOR)} = {quote_string(sensor)} AND {RANGE}"
    )


def calibrations_since(site: str, sensor: str, quantity: str, days: int) -> str:
    """Calibrations of one sensor and quantity performed in the last ``days`` (a point's time is when)."""
    return (
        f'SELECT count({VALID_UNTIL}) AS "calibrations" FROM {CALIBRATION} '
        f"WHERE {_site(site)} AND {quote_ident(Calibration.SENSOR)} = {quote_string(sensor)} "
        f"AND {CALIBRATION_QUANTITY} = {quote_string(quantity)} AND time > now() - {days}d"
    )


def site_readings(site: str) -> str:
    """Noise readings of the whole site stored in the range: none means ingest is down or lagging."""
    return f'SELECT count({DUR}) AS "readings" FROM {NOISE} WHERE {_site(site)} AND {RANGE}'


def site_rejects(site: str) -> str:
    return f'SELECT count({REJECT_DETAIL}) AS "rejects" FROM {REJECTS} WHERE {_site(site)} AND {RANGE}'
