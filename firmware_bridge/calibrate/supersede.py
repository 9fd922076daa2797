"""The next record in a sensor's history: its id, its validity, and its drift from the record it replaces.

Records are never edited; a new one supersedes the previous from its time on. The auditor's question is
how far the sensor had wandered since it was last calibrated: for noise the change of offset, judged by
GB 3096's 0.5 dB rule (docs/standards.md §3); for light the relative change of gain, flagged over 10 %.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from seatwatch.core.acoustics.sensitivity import DRIFT_LIMIT_DB, drift_check
from seatwatch.core.calibration_records import CalibrationBook, CalibrationRecord, Instrument
from seatwatch.core.vocabulary import Quantity

LIGHT_DRIFT_LIMIT = 0.10
"""A gain that moved more than 10 % since the previous record is flagged for the auditor."""
METHODS = {Quantity.NOISE: "sound-calibrator", Quantity.LIGHT: "reference-lux-meter"}


def next_record(
    book: CalibrationBook,
    *,
    sensor: str,
    quantity: Quantity,
    result: float,
    reference_value: float,
    instrument: Instrument,
    operator: str,
    pre_deviation: float | None,
    post_deviation: float | None,
    valid_days: int,
    notes: str,
    now: datetime | None = None,
) -> CalibrationRecord:
    """A new record for ``sensor``; ``result`` is the noise offset (dB) or the light gain."""
    performed = (now or datetime.now(UTC)).astimezone(UTC)
    previous = book.in_force(sensor, quantity, performed)
    drift: float | None = None
    flagged = False
    if previous is not None and quantity == Quantity.NOISE and previous.offset_db is not None:
        check = drift_check(previous.offset_db, result, DRIFT_LIMIT_DB)
        drift, flagged = check.drift_db, not check.valid
    elif previous is not None and quantity == Quantity.LIGHT and previous.gain:
        drift = result / previous.gain - 1.0
        flagged = abs(drift) > LIGHT_DRIFT_LIMIT
    return CalibrationRecord(
        id=f"{sensor}-{quantity}-{performed:%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:4]}",
        sensor=sensor,
        quantity=quantity,
        method=METHODS[quantity],
        performed_at=performed,
        valid_until=performed + timedelta(days=valid_days),
        offset_db=result if quantity == Quantity.NOISE else None,
        gain=result if quantity == Quantity.LIGHT else None,
        reference_value=reference_value,
        instrument=instrument,
        operator=operator,
        pre_deviation=pre_deviation,
        post_deviation=post_deviation,
        previous_id=previous.id if previous else None,
        drift=drift,
        drift_flagged=flagged,
        notes=notes,
    )


def describe_drift(record: CalibrationRecord) -> str:
    """One line for the installer and the auditor: the change since the previous record, and its flag."""
    if record.previous_id is None or record.drift is None:
        return "first calibration of this sensor: no drift to report"
    if record.quantity == Quantity.NOISE:
        change, limit = f"{record.drift:+.2f} dB", f"{DRIFT_LIMIT_DB:g} dB"
    else:
        change, limit = f"{100 * record.drift:+.1f} % gain", f"{100 * LIGHT_DRIFT_LIMIT:g} %"
    flag = f" — FLAGGED: drift over {limit}" if record.drift_flagged else f" (within {limit})"
    return f"drift since {record.previous_id}: {change}{flag}"
