"""The ``compliance`` points an assessment writes to InfluxDB (docs/design.md contract).

Tags ``site, zone, seat, check, profile``; fields ``value, required, target, verdict, coverage``; timestamp =
period start. Writing the same period again overwrites the same points (same series and time), so a
scheduled ``analyze`` can recompute a period idempotently. Zone checks (uniformity) carry no ``seat`` tag.
"""

from __future__ import annotations

from analysis.compliance.engine import Assessment
from analysis.compliance.verdict import CheckResult
from seatwatch.core.line_protocol import line
from seatwatch.core.schema import Compliance


def _point(a: Assessment, zone: str, seat: str, c: CheckResult, ts_ns: int) -> str:
    tags = {
        Compliance.SITE: a.site.id,
        Compliance.ZONE: zone,
        Compliance.SEAT: seat,
        Compliance.CHECK: c.check,
        Compliance.PROFILE: a.profile.id,
    }
    fields = {
        Compliance.VALUE: c.value,
        Compliance.REQUIRED: c.required,
        Compliance.TARGET: c.target,
        Compliance.VERDICT: c.verdict,
        Compliance.COVERAGE: c.coverage,
    }
    return line(Compliance.NAME, tags, fields, ts_ns)


def compliance_lines(a: Assessment) -> list[str]:
    ts_ns = int(a.start.timestamp()) * 1_000_000_000
    lines = [_point(a, s.zone, s.seat, c, ts_ns) for s in a.seats for c in s.checks]
    lines += [_point(a, z.zone, "", c, ts_ns) for z in a.zones for c in z.checks]
    return lines
