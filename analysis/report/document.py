"""The report document (report.json): an assessment as plain data, schema in docs/report-schema.md.

The JSON is the report; the CSV, HTML and PDF are views of it. Keeping one document means the auditor's
PDF, the facilities team's spreadsheet and any other tool read the same numbers, limits, coverage and
reasons. Words a person reads (titles, value labels, the method) are in the document's language
(``lang``); ids, verdict codes and numbers are language-neutral, so the zh-CN and en documents of one
assessment carry the same figures and the same document number.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from analysis.compliance.calibration_check import SensorCalibration
from analysis.compliance.engine import Assessment
from analysis.compliance.verdict import CheckResult
from analysis.report.language import report_gettext
from analysis.report.method import method_notes, value_label
from seatwatch.core.calibration_records import CalibrationBook, CalibrationRecord
from seatwatch.core.rules.profile import Basis, RulesProfile
from seatwatch.core.site import Site
from seatwatch.core.vocabulary import Verdict, ZoneKind

SCHEMA = "seatwatch.report/2"


def _num(value: float | None, digits: int = 3) -> float | None:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return None
    return round(float(value), digits)


def _iso(t: datetime) -> str:
    return t.astimezone(UTC).isoformat().replace("+00:00", "Z")


def site_time(t: datetime, tz: ZoneInfo) -> str:
    """A moment as the site's wall clock with its UTC offset, to the second: '2026-03-02 08:00:00+08:00'."""
    return t.astimezone(tz).isoformat(sep=" ", timespec="seconds")


class _Builder:
    """Turns one assessment into the document of one language."""

    def __init__(self, a: Assessment, lang: str) -> None:
        self.a, self.lang = a, lang
        self.tz = ZoneInfo(a.site.timezone)
        self._ = report_gettext(lang)
        self.checks = {(kind, c.id): c for kind, cs in a.profile.zones.items() for c in cs}

    def title(self, kind: ZoneKind, c: CheckResult) -> str:
        check = self.checks.get((kind, c.check))
        if check is not None and self.lang == "zh-CN" and check.title_zh:
            return check.title_zh
        return check.title if check is not None else self._("Calibration of the sensors")

    def label(self, kind: ZoneKind, c: CheckResult) -> str:
        check = self.checks.get((kind, c.check))
        if check is None:
            return self._("share of installed sensor time with a valid calibration record")
        return value_label(self._, check, self.a.bucket_minutes)

    def check(self, kind: ZoneKind, c: CheckResult) -> dict[str, Any]:
        details = {k: _num(v) if isinstance(v, float) else v for k, v in c.details.items()}
        return {
            "check": c.check,
            "title": self.title(kind, c),
            "value_label": self.label(kind, c),
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

    def seat(self, s: Any) -> dict[str, Any]:
        kind = self.a.site.zones[s.zone].kind
        return {
            "seat": s.seat,
            "zone": s.zone,
            "x": s.x,
            "y": s.y,
            "data_seat": s.data_seat,
            "verdict": s.verdict,
            "checks": [self.check(kind, c) for c in s.checks],
            "daily": s.daily,
        }

    def zone(self, z: Any) -> dict[str, Any]:
        members = [s for s in self.a.seats if s.zone == z.zone]
        return {
            "zone": z.zone,
            "name": z.name,
            "kind": z.kind,
            "area_m2": z.area_m2,
            "seats": z.seats,
            "verdict": z.verdict,
            "seat_verdicts": {v: sum(s.verdict == v for s in members) for v in Verdict},
            "checks": [self.check(z.kind, c) for c in z.checks],
        }

    def record(self, r: CalibrationRecord) -> dict[str, Any]:
        return {
            "id": r.id,
            "method": r.method,
            "performed_at": site_time(r.performed_at, self.tz),
            "valid_until": site_time(r.valid_until, self.tz),
            "operator": r.operator,
            "reference_value": r.reference_value,
            "instrument": asdict(r.instrument),
        }

    def calibration(self, s: SensorCalibration, book: CalibrationBook | None) -> dict[str, Any]:
        history = {r.id: r for r in book.history(s.sensor, s.quantity)} if book is not None else {}
        sensor = self.a.site.sensors.get(s.sensor)
        return {
            "sensor": s.sensor,
            "model": sensor.model if sensor is not None else "",
            "quantity": s.quantity,
            "seat": s.seat,
            "from": site_time(s.installed[0], self.tz),
            "to": site_time(s.installed[1], self.tz),
            "valid": s.valid,
            "records": list(s.records),
            "record_details": [self.record(history[i]) for i in s.records if i in history],
            "gaps": [[site_time(a, self.tz), site_time(b, self.tz)] for a, b in s.gaps],
        }


def limits_doc(profile: RulesProfile) -> list[dict[str, Any]]:
    """Every limit of the profile — per zone kind, check and requirement/target — with its clause and
    confidence, so the report argues each number it judges by. A check without ``basis`` entries (an
    older or site-made profile) gets one row whose clause is its free-text source."""
    rows = []
    for kind, checks in profile.zones.items():
        for c in checks:
            for basis in c.basis or (Basis("both", "", c.source, c.confidence),):
                rows.append(
                    {
                        "zone_kind": kind,
                        "check": c.id,
                        "limit": basis.limit,
                        "value": c.target if basis.limit == "target" else c.required,
                        "unit": c.unit,
                        "direction": c.direction,
                        "standard": basis.standard,
                        "clause": basis.clause,
                        "confidence": basis.confidence,
                        "provisional": basis.confidence == "L",
                    }
                )
    return rows


def profile_doc(p: RulesProfile) -> dict[str, Any]:
    return {
        "id": p.id,
        "name": p.name,
        "description": p.description,
        "description_zh": p.description_zh,
        "min_coverage": p.min_coverage,
        "clock_hours": {k: {"start": v.start, "end": v.end} for k, v in p.clock_hours.items()},
        "zones": {kind: [asdict(c) for c in checks] for kind, checks in p.zones.items()},
    }


def document_number(a: Assessment) -> str:
    """SW-<site>-<first day>-<last day>-<8 hex of the figures>: the same data gives the same number in
    every language and on every run, so a filed copy can be matched to a fresh one."""
    figures = {
        "profile": a.profile.id,
        "period": [_iso(a.start), _iso(a.end)],
        "seats": [
            [s.seat, s.verdict, [[c.check, c.value, c.verdict, c.coverage] for c in s.checks]]
            for s in a.seats
        ],
        "zones": [[z.zone, [[c.check, c.value, c.verdict] for c in z.checks]] for z in a.zones],
        "calibration": [[s.sensor, s.quantity, list(s.records), s.valid] for s in a.calibration],
    }
    digest = hashlib.sha256(json.dumps(figures, sort_keys=True, default=str).encode()).hexdigest()
    tz = ZoneInfo(a.site.timezone)
    first = a.start.astimezone(tz).strftime("%Y%m%d")
    last = (a.days[-1] if a.days else a.start).astimezone(tz).strftime("%Y%m%d")
    return f"SW-{a.site.id}-{first}-{last}-{digest[:8].upper()}"


def report_document(
    a: Assessment, lang: str = "en", book: CalibrationBook | None = None, number: str | None = None
) -> dict[str, Any]:
    """The report.json document of an assessment in ``lang`` ('zh-CN' or 'en'); ``book`` adds each
    calibration record's instrument, operator and dates; ``number`` overrides the document number."""
    b = _Builder(a, lang)
    site: Site = a.site
    return {
        "schema": SCHEMA,
        "lang": lang,
        "document_number": number or document_number(a),
        "site": site.id,
        "site_name": site.name,
        "timezone": site.timezone,
        "profile": a.profile.id,
        "from": _iso(a.start),
        "to": _iso(a.end),
        "period": {"from": site_time(a.start, b.tz), "to": site_time(a.end, b.tz), "days": len(a.days)},
        "generated_at": site_time(a.generated_at, b.tz),
        "summary": a.summary(),
        "seats": [b.seat(s) for s in a.seats],
        "zones": [b.zone(z) for z in a.zones],
        "calibration": [b.calibration(s, book) for s in a.calibration],
        "profile_detail": profile_doc(a.profile),
        "standards": [asdict(s) for s in a.profile.standards.values()],
        "limits": limits_doc(a.profile),
        "method": {
            "bucket_minutes": a.bucket_minutes,
            "source": a.source,
            "min_coverage": a.min_coverage,
            "days": [d.date().isoformat() for d in a.days],
            "notes": method_notes(b._, a.bucket_minutes, a.min_coverage),
        },
    }
