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

from seatwatch.core.influxql import quote_string

LEVEL = '10*log10(sum("exposure")/sum("dur"))'
RANGE = "$timeFilter"
# "Now" on the floor overview: the energy level of the last five minutes, and what reported within it.
CURRENT = "time > now() - 5m"
SEAT = '"seat" =~ /^$seat$/'
SENSOR = '"sensor" =~ /^$sensor$/'
# A sensor is "silent" (stale) when it sent nothing for this long: the health tables and the alert agree.
SILENT_MINUTES = 10
VERDICTS = ("pass", "marginal", "fail", "insufficient_data")
# The field every point of a measurement carries, to count or pick its readings by.
READING_FIELD = {"noise": "dur", "light": "lux"}


def _site(site: str) -> str:
    return f'"site" = {quote_string(site)}'


def _zones(zones: Sequence[str]) -> str:
    """A tag match for several zones; ids are restricted to regex-safe characters except '.'."""
    return '"zone" =~ /^(' + "|".join(z.replace(".", r"\.") for z in zones) + ")$/"


# -- levels per seat -------------------------------------------------------------------------------
def seat_levels(site: str, when: str, zones: Sequence[str] = ()) -> str:
    """Each seat's LAeq over ``when`` (energy mean), optionally within some zones."""
    where = " AND ".join([_site(site), *([_zones(zones)] if zones else []), when])
    return f'SELECT {LEVEL} AS "LAeq" FROM "noise" WHERE {where} GROUP BY "seat"'


def seat_lux(site: str, when: str, zones: Sequence[str]) -> str:
    """Each seat's mean illuminance over ``when``; lux is linear, so the arithmetic mean is right."""
    where = f"{_site(site)} AND {_zones(zones)} AND {when}"
    return f'SELECT mean("lux") AS "lux" FROM "light" WHERE {where} GROUP BY "seat"'


# -- one seat over time ----------------------------------------------------------------------------
def seat_laeq_series(site: str) -> str:
    return (
        f'SELECT {LEVEL} AS "LAeq" FROM "noise" WHERE {_site(site)} AND {SEAT} AND {RANGE} '
        "GROUP BY time($__interval) fill(none)"
    )


def seat_lafmax_series(site: str) -> str:
    """LAFmax of a bucket is the maximum of the readings' maxima (a maximum, never an average)."""
    return (
        f'SELECT max("lafmax") AS "LAFmax" FROM "noise" WHERE {_site(site)} AND {SEAT} AND {RANGE} '
        "GROUP BY time($__interval) fill(none)"
    )


def seat_lux_series(site: str) -> str:
    return (
        f'SELECT mean("lux") AS "lux" FROM "light" WHERE {_site(site)} AND {SEAT} AND {RANGE} '
        "GROUP BY time($__interval) fill(none)"
    )


def limit_line(site: str, quantity: str, zones: Sequence[str], value: float, name: str) -> str:
    """A horizontal line at a profile limit, present only while the selected seat (in ``zones``) has data.

    A panel's thresholds are fixed, but the limit depends on the selected seat's zone kind; a query per
    zone kind draws the line of whichever kind the seat belongs to, and nothing for the others.
    """
    measurement = quantity
    field = READING_FIELD[quantity]
    return (
        f'SELECT count("{field}") * 0 + {value!r} AS "{name}" FROM "{measurement}" '
        f"WHERE {_site(site)} AND {_zones(zones)} AND {SEAT} AND {RANGE} "
        "GROUP BY time($__interval) fill(none)"
    )


# -- sensors ---------------------------------------------------------------------------------------
def last_reading(site: str, quantity: str) -> str:
    """Each sensor's last reading in the range (those of ``$sensor``); the row's time is when it arrived
    (a single selector keeps it)."""
    field = READING_FIELD[quantity]
    where = f"{_site(site)} AND {SENSOR} AND {RANGE}"
    return f'SELECT last("{field}") AS "{field}" FROM "{quantity}" WHERE {where} GROUP BY "sensor"'


def recent_readings(site: str, quantity: str, column: str, minutes: int = SILENT_MINUTES) -> str:
    """Readings per sensor in the last ``minutes``: a sensor of the site file without a row is silent."""
    where = f"{_site(site)} AND time > now() - {minutes}m"
    count = f'count("{READING_FIELD[quantity]}")'
    return f'SELECT {count} AS "{column}" FROM "{quantity}" WHERE {where} GROUP BY "sensor"'


def sensors_at_seat(site: str) -> str:
    """The sensors whose noise readings stood for the selected seat within the range."""
    return (
        f'SELECT last("dur") AS "last dur" FROM "noise" WHERE {_site(site)} AND {SEAT} AND {RANGE} '
        'GROUP BY "sensor"'
    )


def sensors_reporting(site: str, quantity: str) -> str:
    """How many sensors of a quantity sent anything in the last five minutes."""
    field = READING_FIELD[quantity]
    where = f"{_site(site)} AND {CURRENT}"
    inner = f'SELECT count("{field}") AS "n" FROM "{quantity}" WHERE {where} GROUP BY "sensor"'
    return f'SELECT count("n") AS "{quantity} sensors reporting" FROM ({inner})'


def readings_per_second(site: str, quantity: str) -> str:
    field = READING_FIELD[quantity]
    return (
        f'SELECT count("{field}") * 1000 / $__interval_ms AS "{quantity} readings/s" FROM "{quantity}" '
        f"WHERE {_site(site)} AND {SENSOR} AND {RANGE} GROUP BY time($__interval) fill(0)"
    )


def seconds_below_floor(site: str) -> str:
    """Seconds each sensor measured within ~3 dB of its self-noise floor (docs/standards.md §7)."""
    return (
        f'SELECT sum("dur") AS "below floor s" FROM "noise" WHERE {_site(site)} AND "below_floor" = true '
        f'AND {SENSOR} AND {RANGE} GROUP BY "sensor"'
    )


def seconds_measured(site: str) -> str:
    return (
        f'SELECT sum("dur") AS "measured s" FROM "noise" WHERE {_site(site)} AND {SENSOR} AND {RANGE} '
        'GROUP BY "sensor"'
    )


def rejects_by_reason(site: str) -> str:
    return (
        f'SELECT count("detail") AS "rejects" FROM "rejects" WHERE {_site(site)} AND {RANGE} '
        'GROUP BY time($__interval), "reason" fill(none)'
    )


def bridge_clock_skew(site: str) -> str:
    """Each bridge's wall clock minus ingest's (``bridge_status``, written by ingest from live statuses).
    Readings carry the bridge's time, so a skew of seconds moves them in the seat charts: fix NTP."""
    return (
        f'SELECT last("clock_skew_s") AS "skew s" FROM "bridge_status" WHERE {_site(site)} AND {RANGE} '
        'GROUP BY time($__interval), "bridge" fill(none)'
    )


def calibration_due(site: str, quantity: str) -> str:
    """Each sensor's latest calibration of ``quantity``: the field is when it expires.

    No time filter: a calibration a year old is exactly the one whose due date matters.
    """
    return (
        'SELECT last("valid_until_ms") AS "valid until" FROM "calibration" '
        f'WHERE {_site(site)} AND "quantity" = {quote_string(quantity)} GROUP BY "sensor"'
    )


# -- compliance ------------------------------------------------------------------------------------
def latest_verdict_count(site: str, verdict: str) -> str:
    """How many (seat, check) pairs have ``verdict`` as their latest result within the range."""
    inner = (
        f'SELECT last("verdict") AS "verdict" FROM "compliance" WHERE {_site(site)} AND {RANGE} '
        'GROUP BY "seat", "check"'
    )
    return f'SELECT count("verdict") AS "{verdict}" FROM ({inner}) WHERE "verdict" = {quote_string(verdict)}'


def verdicts_per_day(site: str, verdict: str, timezone: str) -> str:
    """Results per local calendar day of the site (``tz()`` puts day boundaries at local midnight)."""
    return (
        f'SELECT count("verdict") AS "{verdict}" FROM "compliance" WHERE {_site(site)} '
        f'AND "verdict" = {quote_string(verdict)} AND {RANGE} '
        f"GROUP BY time(1d) fill(0) tz({quote_string(timezone)})"
    )


def failures_per_seat(site: str) -> str:
    return (
        f'SELECT count("verdict") AS "fail" FROM "compliance" WHERE {_site(site)} '
        f'AND "verdict" = \'fail\' AND {RANGE} GROUP BY "seat"'
    )


# -- alert rules (dashboards/alert_rules.py): $timeFilter is the rule's relative time range ----------
def sensor_readings(site: str, quantity: str, sensor: str) -> str:
    """One sensor's readings in the range: no row at all when it is silent."""
    field = READING_FIELD[quantity]
    return (
        f'SELECT count("{field}") AS "readings" FROM "{quantity}" WHERE {_site(site)} '
        f'AND "sensor" = {quote_string(sensor)} AND {RANGE}'
    )


def calibrations_since(site: str, sensor: str, quantity: str, days: int) -> str:
    """Calibrations of one sensor and quantity performed in the last ``days`` (a point's time is when)."""
    return (
        'SELECT count("valid_until_ms") AS "calibrations" FROM "calibration" '
        f'WHERE {_site(site)} AND "sensor" = {quote_string(sensor)} '
        f'AND "quantity" = {quote_string(quantity)} AND time > now() - {days}d'
    )


def site_readings(site: str) -> str:
    """Noise readings of the whole site stored in the range: none means ingest is down or lagging."""
    return f'SELECT count("dur") AS "readings" FROM "noise" WHERE {_site(site)} AND {RANGE}'


def site_rejects(site: str) -> str:
    return f'SELECT count("detail") AS "rejects" FROM "rejects" WHERE {_site(site)} AND {RANGE}'
