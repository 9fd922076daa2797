"""A printable calibration certificate for one record: one self-contained HTML page, and its facts as rows.

Auditors file paper. The page needs no network (inline CSS, no fonts or scripts), prints on one A4 sheet
(@media print), and states what the numbers mean and which rules they were judged by, so it stands on
its own next to the sensor's asset sheet: times in the site's own time with the UTC offset, the sensor's
model and the seat it stood at, the reference and its certificate, the ambient conditions, the expanded
uncertainty with its budget, and a date line beside each signature. ``calibrate show`` prints the same
rows as text, so the screen and the paper never disagree.

Every sentence a reader sees goes through gettext's ``_`` (the standard marker Babel extracts), so the
page can be translated (e.g. into Chinese) by adding a catalogue, without touching this code.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from html import escape
from pathlib import Path

from firmware_bridge.calibrate.supersede import LIGHT_DRIFT_LIMIT, describe_drift
from firmware_bridge.calibrate.uncertainty import ReferenceClass, reference_class
from seatwatch.core.acoustics.sensitivity import DRIFT_LIMIT_DB
from seatwatch.core.calibration_records import CalibrationRecord
from seatwatch.core.i18n import translator
from seatwatch.core.site import Site
from seatwatch.core.wording import site_time

Gettext = Callable[[str], str]
CATALOGS = Path(__file__).with_name("locale")
DOMAIN = "certificate"


def english(message: str) -> str:
    """The untranslated ``_``: message ids are the English text."""
    return message


def N_(message: str) -> str:  # noqa: N802 (gettext's conventional name, which extraction looks for)
    """Marks a message for extraction; it is translated where it is used."""
    return message


_WORDS = (N_("noise"), N_("light"), N_("sound-calibrator"), N_("reference-lux-meter"))
"""Record values the certificate shows translated."""

_CSS = """
body { font: 10pt/1.4 "Noto Sans", "Noto Sans CJK SC", system-ui, sans-serif; margin: 1.5em auto;
       max-width: 48em; color: #111; }
h1 { font-size: 1.45em; margin: 0; } .sub { color: #444; margin: .2em 0 .8em; }
h2 { font-size: 1.05em; margin: 1.1em 0 .3em; border-bottom: 2px solid #333; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: .22em .5em; border-bottom: 1px solid #ccc; vertical-align: top; }
th { width: 15em; font-weight: 600; } td.num, th.num { text-align: right; width: auto; }
.en { display: block; font-weight: 400; font-size: .78em; color: #555; }
h1 .en { font-size: .55em; color: #444; }
.flag { color: #a00; font-weight: 700; } .warn { border: 2px solid #a00; padding: .4em .6em; }
.sign { display: grid; grid-template-columns: 2fr 1fr; column-gap: 2.5em; row-gap: 2.8em; margin-top: 3.4em; }
.line { border-top: 1px solid #000; padding-top: .2em; }
footer { font-size: .85em; color: #444; margin-top: 1.6em; }
@media print {
  body { margin: 0; max-width: none; font-size: 8.5pt; line-height: 1.3; }
  th, td { padding: .1em .4em; } h2 { margin: .7em 0 .2em; } th .en { display: inline; margin-left: .5em; }
  .sign { margin-top: 2.2em; row-gap: 2.2em; break-inside: avoid; }
  @page { size: A4; margin: 12mm 14mm; }
}
"""


@dataclass(frozen=True)
class Row:
    label: str  # the English message id: the page translates it (and shows both when bilingual)
    value: str
    flagged: bool = False


def _when(moment: datetime, site: Site) -> str:
    """``2026-12-01 20:45:10+08:00 (Asia/Shanghai)``: the site's clock with its offset, never bare UTC."""
    return f"{site_time(moment, site.hours.timezone)} ({site.timezone})"


def _unit(record: CalibrationRecord) -> str:
    return "dB" if record.quantity == "noise" else "%"


def _result(record: CalibrationRecord, _: Gettext = english) -> str:
    if record.quantity == "noise":
        return _("offset {offset} dB (calibrated level = raw level + offset)").format(
            offset=f"{record.offset_db:+.2f}"
        )
    return _("gain {gain} (calibrated lux = raw lux × gain, through zero)").format(gain=f"{record.gain:.4f}")


def _deviation(record: CalibrationRecord, value: float | None, missing: str, _: Gettext = english) -> str:
    if value is None:
        return missing
    return f"{value:+.2f} dB" if record.quantity == "noise" else f"{100 * value:.1f} %"


def deviation_words(record: CalibrationRecord, _: Gettext = english) -> str:
    """The sensor's error before calibration: measured − reference (noise), worst raw point (light)."""
    words = _deviation(record, record.pre_deviation, _("not measured"), _)
    if record.quantity == "noise" and record.pre_deviation is not None and record.reference_value:
        words += " " + _("(the sensor read {level} dB against {reference} dB)").format(
            level=f"{record.reference_value + record.pre_deviation:.2f}",
            reference=f"{record.reference_value:g}",
        )
    elif record.quantity == "light" and record.pre_deviation is not None:
        words += " " + _("(worst point, raw reading against the reference meter)")
    return words


def post_check_words(record: CalibrationRecord, _: Gettext = english) -> str:
    """Noise: the corrected level the post-check read; light: the fit's worst residual."""
    if record.quantity == "light":
        if record.post_deviation is None:
            return _("one point: its residual cannot be checked")
        return _("worst residual {value} over {n} points").format(
            value=f"{100 * record.post_deviation:.2f} %", n=len(record.points) or "the"
        )
    if record.post_deviation is None or not record.reference_value:
        return _("not run")
    return _("{level} dB corrected, {drift} dB from {reference} dB (limit {limit} dB): passed").format(
        level=f"{record.reference_value + record.post_deviation:.2f}",
        drift=f"{record.post_deviation:+.2f}",
        reference=f"{record.reference_value:g}",
        limit=f"{DRIFT_LIMIT_DB:g}",
    )


def _class(record: CalibrationRecord) -> ReferenceClass | None:
    try:
        return reference_class(record.instrument.accuracy_class, record.quantity)
    except ValueError:
        return None


def uncertainty_words(record: CalibrationRecord, _: Gettext = english, budget: bool = True) -> str:
    """``U = 0.29 dB (k = 2)`` and (``budget``) its standard uncertainties, or why there is none
    (records from before budgets)."""
    u = record.uncertainty
    if "expanded" not in u:
        return _("not stated in this record")
    unit = _unit(record)
    relative = _(" of the gain") if record.quantity == "light" else ""
    head = _("U = {U} {unit}{relative} (k = {k})").format(
        U=f"{u['expanded']:.2f}", unit=unit, relative=relative, k=f"{u.get('k', 2):g}"
    )
    if not budget:
        return head + _("; budget below")
    parts = [
        f"{_(name)} {u[key]:.3f} {unit}"
        for key, name in (
            ("reference", N_("reference instrument")),
            ("repeatability", N_("repeatability")),
            ("resolution", N_("resolution")),
            ("fit", N_("fit")),
        )
        if key in u
    ]
    return head + _("; standard uncertainties: {parts}").format(parts="; ".join(parts))


_CONFIDENCE = {
    "H": "",
    "M": N_(" (from one secondary source)"),
    "L": N_(" (from recollection, to be confirmed)"),
}


def _reference(record: CalibrationRecord, _: Gettext = english) -> str:
    inst = record.instrument
    known = _class(record)
    words = [inst.model or _("model not recorded"), _("serial {serial}").format(serial=inst.serial or "—")]
    words.append(known.label if known else inst.accuracy_class or _("class not recorded"))
    if known:
        words.append(
            _("tolerance ±{tol} {unit}").format(tol=f"{known.tolerance:g}", unit=known.unit)
            + (_(_CONFIDENCE[known.confidence]) if known.confidence != "H" else "")
        )
    return ", ".join(words)


def _reference_certificate(record: CalibrationRecord, _: Gettext = english) -> str:
    inst = record.instrument
    if not inst.certificate_number and not inst.certificate_valid_until:
        return _("not recorded") + (
            " " + _("(dated {day})").format(day=inst.certificate_date) if inst.certificate_date else ""
        )
    return _("no. {number}, valid {start} to {end}").format(
        number=inst.certificate_number or "—",
        start=inst.certificate_date or "—",
        end=inst.certificate_valid_until or "—",
    )


def _ambient(record: CalibrationRecord, _: Gettext = english) -> str:
    parts = []
    if record.ambient_temperature_c is not None:
        parts.append(f"{record.ambient_temperature_c:g} °C")
    if record.ambient_humidity_pct is not None:
        parts.append(_("{rh} % relative humidity").format(rh=f"{record.ambient_humidity_pct:g}"))
    if record.ambient_pressure_kpa is not None:
        parts.append(f"{record.ambient_pressure_kpa:g} kPa")
    return ", ".join(parts) if parts else _("not entered by the installer")


def _usual_range(record: CalibrationRecord, _: Gettext = english) -> Row:
    if not record.usual_range:
        return Row(N_("Model's usual range"), _("not checked (record from before plausibility limits)"))
    if record.outside_usual_range:
        return Row(
            N_("Model's usual range"),
            _("OUTSIDE the model's usual range ({range}): confirmed by the operator").format(
                range=record.usual_range
            ),
            True,
        )
    return Row(N_("Model's usual range"), _("within {range}").format(range=record.usual_range))


def rows(
    record: CalibrationRecord, site: Site, budget_below: bool = False, _: Gettext = english
) -> list[Row]:
    """The certificate's facts, in reading order (the page and ``calibrate show`` both use them); with
    ``budget_below`` the uncertainty row defers its budget to the page's own table."""
    sensor = site.sensors.get(record.sensor)
    model = record.sensor_model or (sensor.model if sensor else "") or _("not given in the site file")
    if record.seat:
        seat = record.seat
    else:
        installed = site.installation_at(record.sensor, record.performed_at)
        seat = installed.seat if installed else _("not installed at that time")
    problems = record.provenance_problems()
    out = [
        Row(N_("Certificate / record no."), record.id),
        Row(N_("Site"), f"{site.name} ({site.id})"),
        Row(N_("Sensor"), record.sensor),
        Row(N_("Sensor model"), model),
        Row(N_("Seat at that time"), seat),
        Row(N_("Quantity, method"), f"{_(record.quantity)}, {_(record.method)}"),
        Row(N_("Performed"), _when(record.performed_at, site)),
        Row(N_("Valid until"), _when(record.valid_until, site)),
        Row(N_("Ambient conditions"), _ambient(record, _)),
        Row(
            N_("Reference value") if record.quantity == "noise" else N_("Largest reference reading"),
            f"{record.reference_value:g} {'dB' if record.quantity == 'noise' else 'lx'}"
            if record.reference_value
            else "—",
        ),
        Row(N_("Reference instrument"), _reference(record, _)),
        Row(N_("Reference's certificate"), _reference_certificate(record, _)),
        Row(N_("Result"), _result(record, _)),
        _usual_range(record, _),
        Row(
            N_("Expanded uncertainty"),
            uncertainty_words(record, _, budget=not budget_below),
        ),
        Row(N_("Deviation before calibration"), deviation_words(record, _)),
        Row(N_("Post-check") if record.quantity == "noise" else N_("Fit"), post_check_words(record, _)),
        Row(N_("Supersedes"), record.previous_id or _("— (first calibration)")),
        Row(N_("Drift"), describe_drift(record), record.drift_flagged),
        Row(N_("Operator"), record.operator or "—"),
        Row(N_("Notes"), record.notes or "—"),
    ]
    if problems:
        out.append(Row(N_("Not evidence"), "; ".join(problems), True))
    return out


def _standards(record: CalibrationRecord, _: Gettext = english) -> str:
    if record.quantity == "noise":
        return _(
            "Reference: sound calibrator per IEC 60942:2017 (class 1: level within 0.25 dB; 94 dB or 114 dB "
            "at 1 kHz). Drift rule: GB 3096-2008 — a change over {limit} dB between calibrations invalidates "
            "the measurements in between."
        ).format(limit=f"{DRIFT_LIMIT_DB:g}")
    return _(
        "Reference: illuminance meter, grade 1 per GB/T 5700 (verified per JJG 245), at the 0.75 m work "
        "plane. The sensor's gain is fitted through zero (a dark room reads 0 lx). A gain change over "
        "{limit} % since the previous calibration is flagged."
    ).format(limit=f"{100 * LIGHT_DRIFT_LIMIT:g}")


def _points_table(record: CalibrationRecord, _: Gettext = english) -> str:
    if len(record.points) < 1 or record.gain is None:
        return ""
    head = "".join(
        f"<th class=num>{escape(h)}</th>"
        for h in (
            _("Point"),
            _("Sensor (lx)"),
            _("Reference meter (lx)"),
            _("Calibrated (lx)"),
            _("Residual"),
        )
    )
    body = ""

    def residual(ref: float, calibrated: float) -> str:
        return f"{100 * (ref - calibrated) / ref:+.2f} %" if len(record.points) > 1 else _("— (one point)")

    for n, (raw, ref) in enumerate(record.points, start=1):
        calibrated = raw * record.gain
        body += (
            f"<tr><td class=num>{n}</td><td class=num>{raw:.1f}</td><td class=num>{ref:g}</td>"
            f"<td class=num>{calibrated:.1f}</td>"
            f"<td class=num>{residual(ref, calibrated)}</td></tr>"
        )
    title = _("Points of the fit")
    return f"<h2>{escape(title)}</h2><table><tr>{head}</tr>{body}</table>"


def _signature(role: str, date: str) -> str:
    """A signature line with a date line beside it (both already HTML)."""
    return f"<div class=line>{role}</div><div class=line>{date}</div>"


_BUDGET = {
    "reference": (N_("reference instrument: its class tolerance"), N_("rectangular: tolerance / √3")),
    "repeatability": (
        N_("repeatability: the stable window's readings"),
        N_("normal: standard deviation of the mean"),
    ),
    "resolution": (N_("resolution: the sensor reports in 0.1 steps"), N_("rectangular: half a step / √3")),
    "fit": (N_("fit: the points' relative residuals"), N_("normal: root mean square over n − 1")),
}


def _budget_table(record: CalibrationRecord, _: Gettext = english) -> str:
    u = record.uncertainty
    if "expanded" not in u:
        return ""
    unit = _unit(record)
    k = f"{u.get('k', 2.0):g}"
    head = "".join(
        f"<th{' class=num' if n == 2 else ''}>{escape(h)}</th>"
        for n, h in enumerate((_("Contribution"), _("Distribution"), _("Standard uncertainty")))
    )
    body = ""
    for key, (what, how) in _BUDGET.items():
        if key in u:
            body += (
                f"<tr><td>{escape(_(what))}</td><td>{escape(_(how))}</td>"
                f"<td class=num>{u[key]:.3f} {unit}</td></tr>"
            )
    combined = u["expanded"] / u.get("k", 2.0)
    _combined, _rss = _("combined standard uncertainty"), _("root sum of squares")
    _expanded = _("expanded uncertainty U")
    _coverage = _("coverage factor k = {k} (about 95 %)").format(k=k)
    body += (
        f"<tr><th>{escape(_combined)}</th>"
        f"<td>{escape(_rss)}</td>"
        f"<td class=num>{combined:.3f} {unit}</td></tr>"
        f"<tr><th>{escape(_expanded)}</th>"
        f"<td>{escape(_coverage)}</td>"
        f"<td class=num><b>{u['expanded']:.2f} {unit}</b></td></tr>"
    )
    title = _("Uncertainty budget") + (_(" (relative to the gain)") if record.quantity == "light" else "")
    return f"<h2>{escape(title)}</h2><table><tr>{head}</tr>{body}</table>"


def render(record: CalibrationRecord, site: Site, lang: str | None = None) -> str:
    """The certificate page of ``record`` in ``lang`` (default: the site's locale); every value from the
    record is HTML-escaped. A page in another language than English is bilingual: each label and the
    title carry the English beside the translation, as an auditor abroad or an engineer may need."""
    lang = lang or site.locale
    _ = translator(CATALOGS, DOMAIN, lang).gettext
    both = lang != "en"

    def label(text: str) -> str:
        english = f"<span class=en>{escape(text)}</span>" if both else ""
        return f"{escape(_(text))}{english}"

    facts = rows(record, site, budget_below=True, _=_)
    body = "\n".join(
        f"<tr><th>{label(r.label)}</th><td{' class=flag' if r.flagged else ''}>{escape(r.value)}</td></tr>"
        for r in facts
    )
    warning = ""
    if record.outside_usual_range:
        words = _(
            "The correction lies outside the usual range of this sensor model; "
            "the operator confirmed it on site."
        )
        warning = f"<p class=warn>{escape(words)}</p>"
    sub = f"seatwatch — {site.name} · " + _("times in site time ({zone})").format(zone=site.timezone)
    title = _("Calibration certificate")
    heading = label(N_("Sensor calibration certificate"))
    operator = label(N_("Operator signature")) + (f" — {escape(record.operator)}" if record.operator else "")
    date = label(N_("Date"))
    signatures = _signature(operator, date) + _signature(label(N_("Reviewed by (auditor)")), date)
    footer = _(
        "This certificate reproduces calibration record {id} as stored in the site's append-only "
        "calibration history. Records are never edited; a later record supersedes this one."
    ).format(id=record.id)
    return f"""<!doctype html>
<html lang="{escape(lang)}"><head><meta charset="utf-8">
<title>{escape(title)} {escape(record.id)}</title><style>{_CSS}</style></head>
<body>
<h1>{heading}</h1>
<p class="sub">{escape(sub)}</p>
{warning}
<table>
{body}
</table>
{_points_table(record, _)}
{_budget_table(record, _)}
<p>{escape(_standards(record, _))}</p>
<div class="sign">{signatures}</div>
<footer>{escape(footer)}</footer>
</body></html>
"""
