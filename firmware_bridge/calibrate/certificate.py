"""A printable calibration certificate for one record: one self-contained HTML page.

Auditors file paper. The page needs no network (inline CSS, no fonts or scripts), prints on one A4 sheet
(@media print), and states what the numbers mean and which rules they were judged by, so it stands on
its own next to the sensor's asset sheet.
"""

from __future__ import annotations

from html import escape

from analysis.acoustics.calibration import DRIFT_LIMIT_DB
from firmware_bridge.calibrate.supersede import LIGHT_DRIFT_LIMIT, describe_drift
from seatwatch.calibration import CalibrationRecord

_CSS = """
body { font: 11pt/1.45 system-ui, sans-serif; margin: 2em auto; max-width: 46em; color: #111; }
h1 { font-size: 1.5em; margin-bottom: 0; } .sub { color: #555; margin-top: .2em; }
table { border-collapse: collapse; width: 100%; margin: 1em 0; }
th, td { text-align: left; padding: .3em .6em; border-bottom: 1px solid #ccc; vertical-align: top; }
th { width: 16em; font-weight: 600; } .flag { color: #a00; font-weight: 700; }
.sign { display: flex; gap: 3em; margin-top: 3em; } .sign div { flex: 1; border-top: 1px solid #000; }
footer { font-size: .85em; color: #444; margin-top: 2em; }
@media print { body { margin: 0; max-width: none; font-size: 10pt; } @page { size: A4; margin: 18mm; } }
"""


def _result(record: CalibrationRecord) -> str:
    if record.quantity == "noise":
        return f"offset {record.offset_db:+.2f} dB (calibrated level = raw level + offset)"
    return f"gain {record.gain:.4f} (calibrated lux = raw lux × gain, through zero)"


def _deviation(record: CalibrationRecord, value: float | None) -> str:
    if value is None:
        return "not measured"
    return f"{value:+.2f} dB" if record.quantity == "noise" else f"{100 * value:.1f} %"


def _standards(record: CalibrationRecord) -> str:
    if record.quantity == "noise":
        return (
            "Reference: sound calibrator per IEC 60942:2017 (class 1: level within 0.25 dB; 94 dB or 114 dB "
            "at 1 kHz). Drift rule: GB 3096-2008 — a change over "
            f"{DRIFT_LIMIT_DB:g} dB between calibrations invalidates the measurements in between."
        )
    return (
        "Reference: illuminance meter, grade 1 per GB/T 5700 (verified per JJG 245), at the 0.75 m work "
        "plane. The sensor's gain is fitted through zero (a dark room reads 0 lx). A gain change over "
        f"{100 * LIGHT_DRIFT_LIMIT:g} % since the previous calibration is flagged."
    )


def render(record: CalibrationRecord, site_id: str, site_name: str) -> str:
    """The certificate page of ``record``; every value from the record is HTML-escaped."""
    inst = record.instrument
    reference_unit = "dB" if record.quantity == "noise" else "lx"
    drift = describe_drift(record)
    rows = [
        ("Certificate / record id", record.id),
        ("Site", f"{site_name} ({site_id})"),
        ("Sensor", record.sensor),
        ("Quantity", record.quantity),
        ("Method", record.method),
        ("Performed (UTC)", record.performed_at.strftime("%Y-%m-%d %H:%M:%S")),
        ("Valid until (UTC)", record.valid_until.strftime("%Y-%m-%d %H:%M:%S")),
        (
            "Reference value",
            f"{record.reference_value:g} {reference_unit}" if record.reference_value else "—",
        ),
        (
            "Reference instrument",
            " · ".join(v for v in (inst.model, f"serial {inst.serial}" if inst.serial else "") if v) or "—",
        ),
        ("Instrument class", inst.accuracy_class or "—"),
        ("Instrument's own certificate", inst.certificate_date or "—"),
        ("Result", _result(record)),
        ("Deviation before calibration", _deviation(record, record.pre_deviation)),
        ("Deviation after calibration", _deviation(record, record.post_deviation)),
        ("Supersedes", record.previous_id or "— (first calibration)"),
        ("Drift", drift),
        ("Operator", record.operator or "—"),
        ("Notes", record.notes or "—"),
    ]
    body = "\n".join(
        f"<tr><th>{escape(k)}</th><td{' class=flag' if k == 'Drift' and record.drift_flagged else ''}>"
        f"{escape(v)}</td></tr>"
        for k, v in rows
    )
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>Calibration certificate {escape(record.id)}</title><style>{_CSS}</style></head>
<body>
<h1>Sensor calibration certificate</h1>
<p class="sub">seatwatch — {escape(site_name)}</p>
<table>
{body}
</table>
<p>{escape(_standards(record))}</p>
<div class="sign"><div>Operator signature</div><div>Reviewed by (auditor)</div></div>
<footer>This certificate reproduces calibration record {escape(record.id)} as stored in the site's
append-only calibration history. Records are never edited; a later record supersedes this one.</footer>
</body></html>
"""
