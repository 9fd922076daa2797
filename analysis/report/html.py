"""report.html: the auditor's view of a report document, in one self-contained file.

Everything is inline (CSS, SVG, a small script, the data) so the file can be mailed, archived and opened
years later without a network. It shows the summary, the floor plan, per-seat charts, every seat's checks
with value, limits, coverage, reasons and source, the calibration status of each sensor, the profile with
its sources, and how each figure was computed. A limit of confidence L is never shown as the standard's
word: it is marked provisional wherever it appears (STANDARDS.md).
"""

from __future__ import annotations

import json
from datetime import datetime
from html import escape
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from analysis.report.floor_plan import COLOURS, floor_plan_svg

HERE = Path(__file__).resolve().parent
VERDICT_ORDER = ("pass", "marginal", "insufficient_data", "fail")


def _v(verdict: str) -> str:
    return f'<span class="v v-{escape(verdict)}">{escape(verdict.replace("_", " "))}</span>'


def _n(value: float | None, unit: str = "") -> str:
    if value is None:
        return "—"
    text = f"{value:.2f}" if not unit else f"{value:.1f}"
    return escape(f"{text} {unit}".strip())


def _limit(c: dict[str, Any], key: str) -> str:
    if c[key] is None:
        return "—"
    sign = "≤" if c["direction"] == "max" else "≥"
    text = f"{sign} {_n(c[key], c['unit'])}"
    if c["confidence"] == "L":
        tip = "confidence L: provisional, not the standard's word"
        return f'<span class="provisional" title="{escape(tip)}">{text}*</span>'
    return text


def _check_rows(owner: str, extra: str, verdict: str, checks: list[dict[str, Any]], data_attr: str) -> str:
    rows = []
    for i, c in enumerate(checks):
        head = (
            f'<td rowspan="{len(checks)}"><b>{escape(owner)}</b>{extra}</td><td rowspan="{len(checks)}">'
            f"{_v(verdict)}</td>"
            if i == 0
            else ""
        )
        coverage = "—" if c["coverage"] is None else f"{c['coverage']:.0%}"
        rows.append(
            f'<tr class="{"seat-first" if i == 0 else ""}" {data_attr}>{head}<td>{escape(c["check"])}</td>'
            f'<td class="num">{_n(c["value"], c["unit"])}</td><td class="num">{_limit(c, "required")}</td>'
            f'<td class="num">{_limit(c, "target")}</td><td class="num">{coverage}</td>'
            f"<td>{_v(c['verdict'])}</td>"
            f"<td>{'<br>'.join(escape(r) for r in c['reasons'])}</td><td>{escape(c['source'])}</td></tr>"
        )
    return "".join(rows)


CHECK_HEAD = (
    "<tr><th>{what}</th><th>verdict</th><th>check</th><th>value</th><th>required</th><th>target</th>"
    "<th>coverage</th><th>check verdict</th><th>reasons</th><th>source</th></tr>"
)


def _summary(doc: dict[str, Any]) -> str:
    s = doc["summary"]
    tiles = [f'<div class="tile v-seats"><b>{s["seats"]}</b>seats</div>']
    tiles += [
        f'<div class="tile v-{v}"><b>{s[v]}</b>{escape(v.replace("_", " "))}</div>' for v in VERDICT_ORDER
    ]
    return f'<div class="tiles">{"".join(tiles)}</div>'


def _profile(doc: dict[str, Any]) -> str:
    p = doc["profile_detail"]
    rows = []
    for kind, checks in p["zones"].items():
        for c in checks:
            conf = c["confidence"] + (" (provisional)" if c["confidence"] == "L" else "")
            sign = "≤" if c["direction"] == "max" else "≥"
            rows.append(
                f"<tr><td>{escape(kind)}</td><td>{escape(c['id'])}</td><td>{escape(c['metric'])} / "
                f"{escape(c['aggregation'])}</td><td>{escape(c['hours'])}</td><td>{sign} {c['required']:g} "
                f"{escape(c['unit'])}</td><td>{sign} {c['target']:g} {escape(c['unit'])}</td>"
                f"<td>{escape(conf)}</td><td>{escape(c['source'])}</td></tr>"
            )
    return (
        f"<p><b>{escape(p['name'])}</b> ({escape(p['id'])}). {escape(p['description'])}</p>"
        f"<p>Minimum coverage: {doc['method']['min_coverage']:.0%}.</p><table><tr><th>zone kind</th>"
        "<th>check</th><th>metric / aggregation</th><th>hours</th><th>required</th><th>target</th>"
        f"<th>confidence</th><th>source</th></tr>{''.join(rows)}</table>"
    )


def _calibration(doc: dict[str, Any]) -> str:
    rows = []
    for c in doc["calibration"]:
        gaps = "; ".join(f"{a} – {b}" for a, b in c["gaps"]) or "—"
        rows.append(
            f"<tr><td>{escape(c['sensor'])}</td><td>{escape(c['quantity'])}</td><td>{escape(c['seat'])}</td>"
            f"<td>{escape(c['from'])} – {escape(c['to'])}</td>"
            f"<td>{_v('pass' if c['valid'] else 'insufficient_data')}"
            f"</td><td>{escape(', '.join(c['records']) or '—')}</td><td>{escape(gaps)}</td></tr>"
        )
    return (
        "<table><tr><th>sensor</th><th>quantity</th><th>seat</th><th>installed (UTC)</th><th>status</th>"
        f"<th>records</th><th>not covered</th></tr>{''.join(rows)}</table>"
    )


def report_html(doc: dict[str, Any]) -> str:
    """The whole page for a report document."""
    css = (HERE / "report.css").read_text(encoding="utf-8")
    script = (HERE / "report.js").read_text(encoding="utf-8")
    data = json.dumps(doc, ensure_ascii=False).replace("</", "<\\/")
    seats = "".join(
        _check_rows(
            s["seat"],
            f"<br><small>{escape(s['zone'])}"
            + (f", data of {escape(s['data_seat'])}" if s["data_seat"] != s["seat"] else "")
            + "</small>",
            s["verdict"],
            s["checks"],
            f'data-seat="{escape(s["seat"])}"',
        )
        for s in doc["seats"]
    )
    zones = "".join(
        _check_rows(
            z["name"],
            f"<br><small>{escape(z['kind'])}, {z['seats']} seats</small>",
            z["verdict"],
            z["checks"],
            "",
        )
        for z in doc["zones"]
        if z["checks"]
    )
    legend = "".join(
        f'<span><i style="background:{COLOURS[v]}"></i>{escape(v.replace("_", " "))}</span>'
        for v in VERDICT_ORDER
    )
    method = "".join(f"<dt>{escape(k)}</dt><dd>{escape(v)}</dd>" for k, v in doc["method"]["notes"].items())
    provisional = any(c["confidence"] == "L" for s in doc["seats"] for c in s["checks"])
    title = escape(doc["site_name"] or doc["site"])
    tz = ZoneInfo(doc["timezone"])
    local = " to ".join(
        datetime.fromisoformat(doc[k]).astimezone(tz).strftime("%Y-%m-%d %H:%M") for k in ("from", "to")
    )
    meta = (
        f"Site <b>{escape(doc['site'])}</b> · period {escape(local)} {escape(doc['timezone'])} "
        f"({escape(doc['from'])} to {escape(doc['to'])}) · profile <b>{escape(doc['profile'])}</b> · "
        f"generated {escape(doc['generated_at'])}"
    )
    note = (
        '<p class="note">* Limits marked with an asterisk have confidence L: provisional values, to be '
        "confirmed, not the standard's word.</p>"
        if provisional
        else ""
    )
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>Compliance report — {title}</title>
<style>{css}</style></head><body>
<h1>Workplace compliance — {title}</h1>
<p class="meta">{meta}</p>
{_summary(doc)}
{note}
<h2>Floor plan</h2>
<div class="legend">{legend}</div>
{floor_plan_svg(doc)}
<h2>Seat charts</h2>
<label>Seat <select id="seat-select"></select></label> (or click a seat on the plan or in the table)
<div class="charts" id="seat-charts"></div>
<h2>Seats and checks</h2>
<table id="seats">{CHECK_HEAD.format(what="seat")}{seats}</table>
<h2>Zones</h2>
<table id="zones">{CHECK_HEAD.format(what="zone")}{zones}</table>
<h2>Calibration of each sensor</h2>
{_calibration(doc)}
<h2>Profile and sources</h2>
{_profile(doc)}
<h2>How each figure was computed</h2>
<p>Buckets of {doc["method"]["bucket_minutes"]} min, aligned so that each lies wholly inside or outside the
hours of every check. Figures computed from: <b>{escape(doc["method"]["source"])}</b>.</p><dl>{method}</dl>
<script type="application/json" id="report-data">{data}</script>
<script>{script}</script>
</body></html>
"""
