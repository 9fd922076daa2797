"""The InfluxDB schema as code: every measurement seatwatch writes or reads, its tags and its fields.

docs/contracts.md ("InfluxDB schema") is the contract; these names are the only spelling of it in code, so
a writer (ingest's line protocol, the analysis's rollups and results) and a reader (the compliance
queries, the dashboards' InfluxQL, the demo's counts) cannot drift apart by a typo. Each measurement is a
namespace class: ``NAME``, one constant per tag and field (with what it means and its unit), and
``TAGS``/``FIELDS`` tuples of all of them. Names are plain ``str``, so f-strings and dict keys produce exactly
the text they always did.

The level of any period is the energy mean of its readings, computed from two sums the database can do
(docs/contracts.md, docs/standards.md §5): :func:`level_from_exposure` in Python, :data:`LEVEL_QL` in
InfluxQL. Never ``mean(laeq)``: it averages decibels arithmetically and reads low.
"""

from __future__ import annotations

import math
from typing import Final

from seatwatch.core.influxql import quote_ident


class Tag:
    """Tag keys shared by several measurements."""

    SITE: Final = "site"
    """The site id of the site file."""
    ZONE: Final = "zone"
    """The zone id the seat belongs to."""
    SEAT: Final = "seat"
    """The seat id: on a reading, where its sensor was installed *at the reading's time*."""
    SENSOR: Final = "sensor"
    """The sensor id of the site file."""


READING_TAGS: Final = (Tag.SITE, Tag.ZONE, Tag.SEAT, Tag.SENSOR)
"""The tags of every reading point (``noise``, ``light``); its time is the interval start."""


class Noise:
    """One noise reading per point (written by ingest, ingest/reading_points.py)."""

    NAME: Final = "noise"
    TAGS: Final = READING_TAGS
    LAEQ: Final = "laeq"
    """A-weighted Leq over the interval, dB re 20 µPa, calibrated."""
    LAFMAX: Final = "lafmax"
    """Fast-weighted maximum over the interval, dB, calibrated (optional)."""
    LAFMIN: Final = "lafmin"
    """Fast-weighted minimum over the interval, dB, calibrated (optional)."""
    DUR: Final = "dur"
    """Interval length, s: the seconds this reading covers."""
    EXPOSURE: Final = "exposure"
    """dur·10^(laeq/10): A-weighted sound exposure relative to (20 µPa)²·1 s (:func:`exposure`)."""
    RAW_LAEQ: Final = "raw_laeq"
    """LAeq as the device measured it, dB, uncalibrated."""
    BELOW_FLOOR: Final = "below_floor"
    """Boolean: the level is within 3 dB of the sensor's noise floor (docs/standards.md §7)."""
    CAL: Final = "cal"
    """The calibration record id applied, or ``none``."""
    FIELDS: Final = (LAEQ, LAFMAX, LAFMIN, DUR, EXPOSURE, RAW_LAEQ, BELOW_FLOOR, CAL)


class Light:
    """One light reading per point (written by ingest)."""

    NAME: Final = "light"
    TAGS: Final = READING_TAGS
    LUX: Final = "lux"
    """Illuminance, lx, calibrated."""
    RAW_LUX: Final = "raw_lux"
    """Illuminance as the device measured it, lx, uncalibrated."""
    DUR: Final = "dur"
    """Interval length, s."""
    CAL: Final = "cal"
    """The calibration record id applied, or ``none``."""
    FIELDS: Final = (LUX, RAW_LUX, DUR, CAL)


READING_FIELD: Final = {Noise.NAME: Noise.DUR, Light.NAME: Light.LUX}
"""Per reading measurement, a field every one of its points carries: what counts or picks its readings."""


class Rejects:
    """Refused readings: one point per message and reason (and sensor), at receive time (ingest)."""

    NAME: Final = "rejects"
    SITE: Final = Tag.SITE
    REASON: Final = "reason"
    """The refusal reason (docs/contracts.md, "Reading payload")."""
    SENSOR: Final = Tag.SENSOR
    """The sensor, only when it is one of the site's (empty, so left out, otherwise)."""
    TAGS: Final = (SITE, REASON, SENSOR)
    DETAIL: Final = "detail"
    """What was wrong with the first refusal of the point, naming the key and index."""
    PAYLOAD: Final = "payload"
    """The refused text, at most 512 characters."""
    TOPIC: Final = "topic"
    """The MQTT topic the message came on."""
    COUNT: Final = "count"
    """Integer: refusals of this reason (and sensor) in that message."""
    FIELDS: Final = (DETAIL, PAYLOAD, TOPIC, COUNT)


class BridgeStatus:
    """A bridge's live status as ingest received it; time = when ingest received it."""

    NAME: Final = "bridge_status"
    SITE: Final = Tag.SITE
    BRIDGE: Final = "bridge"
    """The bridge id."""
    INGEST: Final = "ingest"
    """The client id of the ingest process that received it."""
    TAGS: Final = (SITE, BRIDGE, INGEST)
    CLOCK_SKEW_S: Final = "clock_skew_s"
    """Bridge clock − ingest clock, s."""
    OUTBOX: Final = "outbox"
    """Integer: readings waiting in the bridge's outbox."""
    OUTBOX_FULL: Final = "outbox_full"
    """Integer: readings a full disk kept out of the outbox."""
    UNCONFIRMED: Final = "unconfirmed"
    """Integer: batches published but not yet acknowledged end to end."""
    STATE: Final = "state"
    """``online``, ``degraded`` or ``offline``."""
    FIELDS: Final = (CLOCK_SKEW_S, OUTBOX, OUTBOX_FULL, UNCONFIRMED, STATE)


class Calibration:
    """One calibration record per point; time = when it was performed
    (seatwatch/core/calibration_records.py)."""

    NAME: Final = "calibration"
    SITE: Final = Tag.SITE
    SENSOR: Final = Tag.SENSOR
    QUANTITY: Final = "quantity"
    """``noise`` or ``light``."""
    TAGS: Final = (SITE, SENSOR, QUANTITY)
    ID: Final = "id"
    """The record id."""
    METHOD: Final = "method"
    """How the reference was applied (docs/calibration.md)."""
    OFFSET_DB: Final = "offset_db"
    """Noise: dB added to the device's levels."""
    GAIN: Final = "gain"
    """Light: factor applied to the device's lux."""
    VALID_UNTIL_MS: Final = "valid_until_ms"
    """Integer: when the record expires, epoch ms."""
    OPERATOR: Final = "operator"
    """Who calibrated."""
    DRIFT: Final = "drift"
    """Change from the previous record (dB, or the gain ratio)."""
    DRIFT_FLAGGED: Final = "drift_flagged"
    """Boolean: the drift exceeded its limit."""
    RECORD: Final = "record"
    """The full record as JSON."""
    FIELDS: Final = (ID, METHOD, OFFSET_DB, GAIN, VALID_UNTIL_MS, OPERATOR, DRIFT, DRIFT_FLAGGED, RECORD)


class Compliance:
    """One check result per point; time = the assessed period's start
    (analysis/compliance/result_points.py)."""

    NAME: Final = "compliance"
    SITE: Final = Tag.SITE
    ZONE: Final = Tag.ZONE
    SEAT: Final = Tag.SEAT
    """Absent on a zone check (uniformity)."""
    CHECK: Final = "check"
    """The profile's check id."""
    PROFILE: Final = "profile"
    """The rules profile id."""
    TAGS: Final = (SITE, ZONE, SEAT, CHECK, PROFILE)
    VALUE: Final = "value"
    """The measured figure, in the check's unit (dB, lx, m², ratio)."""
    REQUIRED: Final = "required"
    """The profile's required limit."""
    TARGET: Final = "target"
    """The profile's target (better) limit."""
    VERDICT: Final = "verdict"
    """``pass``, ``marginal``, ``fail`` or ``insufficient_data``."""
    COVERAGE: Final = "coverage"
    """Share (0–1) of the check's hours covered by readings."""
    FIELDS: Final = (VALUE, REQUIRED, TARGET, VERDICT, COVERAGE)


class SeatChanges:
    """The change journal: which UTC hours a body of readings touched (seatwatch/core/change_journal.py)."""

    NAME: Final = "seat_changes"
    SITE: Final = Tag.SITE
    TAGS: Final = (SITE,)
    WRITTEN: Final = "written"
    """Integer: ns of the writer's clock when the body was written."""
    FIELDS: Final = (WRITTEN,)


class SeatRollup:
    """Per seat and bucket, the aggregates the engine needs (analysis/compliance/rollups.py)."""

    NAME: Final = "seat_rollup"
    SITE: Final = Tag.SITE
    SEAT: Final = Tag.SEAT
    CALENDAR: Final = "calendar"
    """Hash of everything that decides which bucket belongs to which hours (the rollups' calendar key)."""
    HOURS: Final = "hours"
    """The check hours the bucket belongs to, joined by ``+`` (``occupied+night``), or ``none``."""
    TAGS: Final = (SITE, SEAT, CALENDAR, HOURS)
    ENERGY: Final = "energy"
    """Σexposure of the bucket's noise readings, (20 µPa)²·s."""
    DUR: Final = "dur"
    """Σdur of the bucket's noise readings, s."""
    LAFMAX: Final = "lafmax"
    """Highest LAFmax of the bucket, dB."""
    BELOW: Final = "below"
    """Seconds of noise readings below the sensor's floor."""
    LUX: Final = "lux"
    """Mean lux of the bucket's light readings."""
    LUX_N: Final = "lux_n"
    """Number of light readings."""
    LUX_SUM: Final = "lux_sum"
    """Σlux of the light readings (mean × count)."""
    LUX_DUR: Final = "lux_dur"
    """Seconds covered by light readings."""
    LUX_MIN: Final = "lux_min"
    """Lowest light reading, lx."""
    LOCAL_HOUR: Final = "lh"
    """The bucket's local clock hour (0–23)."""
    FIELDS: Final = (ENERGY, DUR, LAFMAX, BELOW, LUX, LUX_N, LUX_SUM, LUX_DUR, LUX_MIN, LOCAL_HOUR)
    """The fixed fields; the level histogram adds one field per 1 dB bin (:func:`level_bin`)."""

    @staticmethod
    def level_bin(level_db: int) -> str:
        """The field holding the seconds of readings whose LAeq lies in [level_db, level_db + 1)."""
        return f"h{level_db}"


class SeatRollupState:
    """One point per analysed bucket: that it was rolled up, and from which journal state."""

    NAME: Final = "seat_rollup_state"
    SITE: Final = Tag.SITE
    CALENDAR: Final = SeatRollup.CALENDAR
    TAGS: Final = (SITE, CALENDAR)
    SEATS: Final = "seats"
    """Integer: data seats rolled up."""
    JOURNAL: Final = "journal"
    """Integer: the change journal's ``written`` for the bucket's hour when it was rolled up."""
    FIELDS: Final = (SEATS, JOURNAL)


class SeatRollupWatermark:
    """How far the hourly upkeep has read (analysis/compliance/upkeep.py); one point, at time 0."""

    NAME: Final = "seat_rollup_watermark"
    SITE: Final = Tag.SITE
    CALENDAR: Final = SeatRollup.CALENDAR
    TAGS: Final = (SITE, CALENDAR)
    WRITTEN: Final = "written"
    """Integer: the newest journal ``written`` (ns) the upkeep has taken in."""
    THROUGH: Final = "through"
    """Integer: epoch ms up to which new hours are rolled up."""
    FIELDS: Final = (WRITTEN, THROUGH)


def exposure(laeq_db: float, dur_s: float) -> float:
    """The ``exposure`` field of a reading: dur·10^(laeq/10), so that levels of any period are sums."""
    return dur_s * 10 ** (laeq_db / 10)


def level_from_exposure(exposure_sum: float, dur_sum: float) -> float | None:
    """LAeq = 10·lg(Σexposure / Σdur): the energy mean of the covered time, in dB.

    None when nothing is covered (``dur_sum`` ≤ 0); −inf for no energy at all, as
    :func:`seatwatch.core.acoustics.decibels.energy_mean` gives for silence.
    """
    if not dur_sum > 0:
        return None
    if exposure_sum <= 0:
        return -math.inf
    return 10 * math.log10(exposure_sum / dur_sum)


def level_ql(exposure_field: str, dur_field: str) -> str:
    """The InfluxQL expression of :func:`level_from_exposure` over two fields, as given (quoted or not)."""
    return f"10*log10(sum({exposure_field})/sum({dur_field}))"


LEVEL_QL: Final = level_ql(quote_ident(Noise.EXPOSURE), quote_ident(Noise.DUR))
"""``10*log10(sum("exposure")/sum("dur"))``: the energy level of ``noise`` in any GROUP BY."""
