"""The report document (report.json): an assessment as plain data, schema in docs/report-schema.md.

The JSON is the report; the CSV and HTML are views of it. Keeping one document means the auditor's HTML,
the facilities team's spreadsheet and any other tool read the same numbers, limits, coverage and reasons.
"""

from __future__ import annotations

import math
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any

from analysis.compliance.calibration_check import SensorCalibration
from analysis.compliance.engine import Assessment
from analysis.compliance.verdict import CheckResult
from analysis.rules.profile import Profile

SCHEMA = "seatwatch.report/1"

METHOD = {
    "noise": "LAeq = 10·lg(Σexposure / Σdur) over the buckets in the check's hours: energy mean, never the "
    "arithmetic mean of dB (IEC 61672-1, STANDARDS.md §5). laeq_p10/laeq_p90 (percentiles of the readings' "
    "LAeq, not a sound level meter's LAF10/LAF90) come from a 1 dB histogram in which each "
    "bucket's 10/30/50/70/90th percentiles of the 1-min LAeq values hold a fifth of its covered time "
    "(±0.5 dB for steady levels). LAFmax is the maximum.",
    "source": "Figures come from the readings aggregated per bucket in the database, or from the hourly "
    "rollups that 'seatwatch analyze' writes from the same aggregates (method.source); both give the same "
    "figures.",
    "light": "Mean lux is the time mean over the check's hours; 'hourly_min' checks judge the lowest bucket "
    "(hour) mean, because a requirement missed during any occupied hour is what matters (STANDARDS.md §2). "
    "The share of covered time in buckets below the requirement and their local clock hours are reported.",
    "uniformity": "U0 = min / mean of the seats' mean lux over occupied hours, seats with enough coverage "
    "only (GB 50034-2024 clause 4.2.1).",
    "area": "Zone usable area ÷ the zone's seats (JGJ/T 67-2019 clause 4.2.3).",
    "coverage": "Seconds covered by readings (Σdur) within the check's hours ÷ the length of those hours "
    "(DESIGN.md). Light points carry no duration: their count × the sensor's median reporting interval.",
    "calibration": "Pass when every sensor whose data fed the seat had a valid calibration record over the "
    "whole time it was installed within the period; otherwise insufficient_data naming the sensors.",
    "verdict": "pass = meets the target; marginal = meets the requirement only; fail = misses it; "
    "insufficient_data = coverage under the minimum. A seat's verdict is the worst of its checks "
    "(pass < marginal < insufficient_data < fail).",
    "hours": "Occupied hours come from the site calendar in the site's time zone (DST and shifts crossing "
    "midnight included); unoccupied hours are the rest of the period.",
}


def _num(value: float | None, digits: int = 3) -> float | None:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return None
    return round(float(value), digits)


def check_doc(c: CheckResult) -> dict[str, Any]:
    details = {k: _num(v) if isinstance(v, float) else v for k, v in c.details.items()}
    return {
        "check": c.check,
        "title": c.title,
        "value": _num(c.value),
        "required": c.required,
        "target": c.target,
        "unit": c.unit,
        "direction": c.direction,
        "verdict": c.verdict,
        "coverage": _num(c.coverage),
        "reasons": list(c.reasons),
        "source": c.source,
        "confidence": c.confidence,
        "details": details,
    }


def profile_doc(p: Profile) -> dict[str, Any]:
    return {
        "id": p.id,
        "name": p.name,
        "description": p.description,
        "min_coverage": p.min_coverage,
        "clock_hours": {k: {"start": v.start, "end": v.end} for k, v in p.clock_hours.items()},
        "zones": {kind: [asdict(c) for c in checks] for kind, checks in p.zones.items()},
    }


def _iso(t: datetime) -> str:
    return t.astimezone(UTC).isoformat().replace("+00:00", "Z")


def calibration_doc(s: SensorCalibration) -> dict[str, Any]:
    return {
        "sensor": s.sensor,
        "quantity": s.quantity,
        "seat": s.seat,
        "from": _iso(s.installed[0]),
        "to": _iso(s.installed[1]),
        "valid": s.valid,
        "records": list(s.records),
        "gaps": [[_iso(a), _iso(b)] for a, b in s.gaps],
    }


def report_document(a: Assessment) -> dict[str, Any]:
    """The report.json document of an assessment."""
    return {
        "schema": SCHEMA,
        "site": a.site.id,
        "site_name": a.site.name,
        "timezone": a.site.timezone,
        "profile": a.profile.id,
        "from": _iso(a.start),
        "to": _iso(a.end),
        "generated_at": _iso(a.generated_at),
        "summary": a.summary(),
        "seats": [
            {
                "seat": s.seat,
                "zone": s.zone,
                "x": s.x,
                "y": s.y,
                "data_seat": s.data_seat,
                "verdict": s.verdict,
                "checks": [check_doc(c) for c in s.checks],
                "daily": s.daily,
            }
            for s in a.seats
        ],
        "zones": [
            {
                "zone": z.zone,
                "name": z.name,
                "kind": z.kind,
                "area_m2": z.area_m2,
                "seats": z.seats,
                "verdict": z.verdict,
                "checks": [check_doc(c) for c in z.checks],
            }
            for z in a.zones
        ],
        "calibration": [calibration_doc(s) for s in a.calibration],
        "profile_detail": profile_doc(a.profile),
        "method": {
            "bucket_minutes": a.bucket_minutes,
            "source": a.source,
            "min_coverage": a.min_coverage,
            "days": [d.date().isoformat() for d in a.days],
            "notes": METHOD,
        },
    }
