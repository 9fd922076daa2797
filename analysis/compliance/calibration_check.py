"""The ``calibration`` check: did every sensor that fed a seat have a valid calibration all along?

GB 3096-2008 asks for instruments calibrated before and after measuring (M) and GB/T 5700 for a verified
meter (JJG 245, M): levels from an uncalibrated sensor are not evidence. So calibration is a check of its
own — ``pass`` when, for every installation whose data stands for the seat (proxy resolved, swaps
included) and every quantity its sensor measures, calibration records were valid (``performed_at`` ≤ t <
``valid_until``) over the whole time the sensor was installed within the period; otherwise
``insufficient_data`` naming the sensors and the uncovered spans. A record that lacks its provenance
(operator, reference instrument, the reference's certificate and its validity) still corrects the
readings but is not evidence, so it covers nothing here; the reasons name it. The noise and light checks
judge the data; this one judges whether the data can be trusted, and the seat's verdict is the worst of all.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from analysis.compliance.verdict import CheckResult
from seatwatch.core.calibration_records import CalibrationBook
from seatwatch.core.hours import Interval, clip, complement, merge, total_seconds
from seatwatch.core.site import Installation, Site
from seatwatch.core.vocabulary import Quantity, Verdict

SOURCE = "GB 3096-2008 (calibrate before and after measuring, M); GB/T 5700 / JJG 245 (verified meter, M)"


@dataclass(frozen=True)
class SensorCalibration:
    """One sensor and quantity over the part of the period it was installed: what covered it, what not."""

    sensor: str
    quantity: Quantity
    seat: str
    installed: Interval
    records: tuple[str, ...]
    gaps: tuple[Interval, ...]
    unproven: tuple[str, ...] = ()
    """Records of the span that are not evidence, each as "id: why"."""

    @property
    def valid(self) -> bool:
        return not self.gaps

    def covered_seconds(self) -> float:
        return total_seconds([self.installed]) - total_seconds(self.gaps)


def sensor_calibration(
    site: Site, book: CalibrationBook, inst: Installation, start: datetime, end: datetime
) -> list[SensorCalibration]:
    """Calibration status of each quantity of ``inst``'s sensor over its installed part of [start, end)."""
    span = (max(start, inst.start), min(end, inst.end or end))
    out = []
    for quantity in site.sensors[inst.sensor].measures:
        history = [
            r
            for r in book.history(inst.sensor, quantity)
            if r.performed_at < span[1] and r.valid_until > span[0]
        ]
        problems = {r.id: r.provenance_problems() for r in history}
        evidence = [r for r in history if not problems[r.id]]
        valid = clip(merge((r.performed_at, r.valid_until) for r in evidence), *span)
        unproven = tuple(f"{r.id}: {'; '.join(problems[r.id])}" for r in history if problems[r.id])
        out.append(
            SensorCalibration(
                inst.sensor,
                quantity,
                inst.seat,
                span,
                tuple(r.id for r in evidence),
                tuple(complement(valid, *span)),
                unproven,
            )
        )
    return out


def calibration_result(statuses: list[SensorCalibration]) -> CheckResult:
    """The seat's ``calibration`` check from the statuses of the sensors that fed it."""
    installed = sum(total_seconds([s.installed]) for s in statuses)
    covered = sum(s.covered_seconds() for s in statuses)
    result = CheckResult(
        check="calibration",
        title="Calibration of the sensors that fed the seat",
        value=None,
        required=None,
        target=None,
        unit="",
        direction="",
        source=SOURCE,
        confidence="M",
        verdict=Verdict.PASS,
        coverage=covered / installed if installed else 0.0,
        details={"sensors": ", ".join(sorted({s.sensor for s in statuses}))},
    )
    if not statuses:
        result.verdict = Verdict.INSUFFICIENT_DATA
        result.reasons.append("no sensor was installed for this seat during the period")
        return result
    for s in statuses:
        if s.valid:
            result.reasons.append(
                f"sensor {s.sensor} ({s.quantity}): valid calibration ({', '.join(s.records)})"
            )
            continue
        result.verdict = Verdict.INSUFFICIENT_DATA
        spans = "; ".join(f"{a:%Y-%m-%d %H:%M} to {b:%Y-%m-%d %H:%M} UTC" for a, b in s.gaps)
        result.reasons.append(f"sensor {s.sensor} ({s.quantity}): no valid calibration from {spans}")
        result.reasons.extend(
            f"sensor {s.sensor} ({s.quantity}): record {u} — not evidence" for u in s.unproven
        )
    return result
