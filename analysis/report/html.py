"""report.html: the auditor's document, one self-contained file that is also the source of report.pdf.

Everything is inline (CSS, SVG, a small script, the data) so the file can be mailed, archived and opened
years later without a network. On screen it adds per-seat charts and a seat selector; printed (and as the
PDF) it is an A4 document: cover page with document number, summary, floor plan, seat and zone tables whose
headers repeat and whose seats never split across pages, instruments and their calibration, the method and
the standards basis argued clause by clause, a sign-off block, and "page x of y". Words come from the
report's gettext catalog (``lang``); standards are cited by their Chinese titles with the English beside
them. A limit of confidence L is never shown as the standard's word: it is marked provisional.
"""

from __future__ import annotations

import json
from html import escape
from pathlib import Path
from typing import Any

from analysis.report.floor_plan import floor_plan_svg
from analysis.report.language import Gettext, report_gettext, verdict_word, zone_kind_word
from seatwatch.core.vocabulary import VERDICT_COLOURS, Quantity, Verdict

HERE = Path(__file__).resolve().parent
FONTS = '"Noto Sans CJK SC", "Source Han Sans SC", sans-serif'  # margin boxes do not inherit the body's


class _Page:
    def __init__(self, doc: dict[str, Any]) -> None:
        self.doc = doc
        self._: Gettext = report_gettext(doc["lang"])

    def v(self, verdict: Verdict | None) -> str:
        return f'<span class="v v-{escape(verdict or "none")}">{escape(verdict_word(self._, verdict))}</span>'

    @staticmethod
    def n(value: float | None, unit: str = "") -> str:
        if value is None:
            return "—"
        text = f"{value:.2f}" if not unit else f"{value:.1f}"
        return escape(f"{text} {unit}".strip())

    def limit(self, c: dict[str, Any], key: str) -> str:
        if c[key] is None:
            return "—"
        sign = "≤" if c["direction"] == "max" else "≥"
        text = f"{sign} {self.n(c[key], c['unit'])}"
        if c["confidence"] == "L":
            return f'<span class="provisional">{text}*</span>'
        return text

    def check_cells(self, c: dict[str, Any]) -> str:
        """A check's cells; reasons only when it did not pass (the value and limits say why a pass is one,
        and report.json and seats.csv keep every reason)."""
        coverage = "—" if c["coverage"] is None else f"{c['coverage']:.0%}"
        reasons = "" if c["verdict"] == Verdict.PASS else "<br>".join(escape(r) for r in c["reasons"])
        return (
            f'<td title="{escape(c["title"])}">{escape(c["value_label"])}</td>'
            f'<td class="num">{self.n(c["value"], c["unit"])}</td>'
            f'<td class="num">{self.limit(c, "required")}</td>'
            f'<td class="num">{self.limit(c, "target")}</td><td class="num">{coverage}</td>'
            f"<td>{self.v(c['verdict'])}</td>"
            f'<td class="reasons">{reasons}</td>'
        )

    def check_head(self, what: str) -> str:
        _ = self._
        cells: tuple[str, ...] = (what, _("verdict"), _("check and value"), _("value"), _("required"))
        cells += (_("target"), _("coverage"), _("check verdict"), _("reasons"))
        return "<thead><tr>" + "".join(f"<th>{escape(c)}</th>" for c in cells) + "</tr></thead>"

    def seats(self) -> str:
        groups = []
        for s in self.doc["seats"]:
            extra = escape(s["zone"])
            if s["data_seat"] != s["seat"]:
                extra += escape(self._(", readings of seat {seat}").format(seat=s["data_seat"]))
            rows = []
            for i, c in enumerate(s["checks"]):
                head = (
                    f'<td rowspan="{len(s["checks"])}"><b>{escape(s["seat"])}</b>'
                    f"<br><small>{extra}</small></td>"
                    f'<td rowspan="{len(s["checks"])}">{self.v(s["verdict"])}</td>'
                    if i == 0
                    else ""
                )
                rows.append(f"<tr>{head}{self.check_cells(c)}</tr>")
            groups.append(f'<tbody class="seat" data-seat="{escape(s["seat"])}">{"".join(rows)}</tbody>')
        head = self.check_head(self._("seat"))
        return f'<table id="seats">{head}{"".join(groups)}</table>'

    def seat_counts(self, counts: dict[str, int]) -> str:
        return " · ".join(f"{escape(verdict_word(self._, v))} {counts.get(v, 0)}" for v in Verdict)

    def zones(self) -> str:
        _ = self._
        seats, by_verdict, none = _("{n} seats"), _("seats by verdict"), _("no zone checks")
        groups = []
        for z in self.doc["zones"]:
            about = (
                f"<b>{escape(z['name'] or z['zone'])}</b><br><small>{escape(z['zone'])}, "
                f"{escape(zone_kind_word(_, z['kind']))}, {z['area_m2']:g} m², "
                f"{escape(seats.format(n=z['seats']))}</small>"
            )
            counts = f'<tr><td colspan="7" class="counts">{escape(by_verdict)}: ' + (
                f"{self.seat_counts(z['seat_verdicts'])}</td></tr>"
            )
            checks = z["checks"] or [None]
            rows = []
            for i, c in enumerate(checks):
                head = (
                    f'<td rowspan="{len(checks) + 1}">{about}</td><td rowspan="{len(checks) + 1}">'
                    f"{self.v(z['verdict'])}</td>"
                    if i == 0
                    else ""
                )
                body = self.check_cells(c) if c else f'<td colspan="7">{escape(none)}</td>'
                rows.append(f"<tr>{head}{body}</tr>")
            groups.append(f'<tbody class="zone">{"".join(rows)}{counts}</tbody>')
        head = self.check_head(_("zone"))
        return f'<table id="zones">{head}{"".join(groups)}</table>'

    def calibration(self) -> str:
        _ = self._
        head = (
            _("sensor and model"),
            _("quantity"),
            _("seat and time installed"),
            _("status"),
            _("calibration record: id, performed, valid until"),
            _("operator"),
            _("reference instrument (model, serial, class, certificate date)"),
        )
        groups = [self.sensor_rows(c) for c in self.doc["calibration"]]
        thead = "<thead><tr>" + "".join(f"<th>{escape(h)}</th>" for h in head) + "</tr></thead>"
        return f'<table id="calibration">{thead}{"".join(groups)}</table>'

    def record_cells(self, r: dict[str, Any]) -> str:
        inst = r["instrument"]
        kit = ", ".join(x for x in (inst["model"], inst["serial"], inst["accuracy_class"]) if x)
        if inst["certificate_date"]:
            kit += "; " + self._("certificate") + " " + inst["certificate_date"]
        return (
            f"<td>{escape(r['id'])}<br><small>{escape(r['performed_at'])}<br>{escape(r['valid_until'])}</small>"
            f"</td><td>{escape(r['operator'])}</td><td>{escape(kit or '—')}</td>"
        )

    def sensor_rows(self, c: dict[str, Any]) -> str:
        """One sensor and quantity: who it is, where and when it was installed, and each record."""
        _ = self._
        gaps = "; ".join(f"{a} – {b}" for a, b in c["gaps"])
        status = self.v(Verdict.PASS if c["valid"] else Verdict.INSUFFICIENT_DATA)
        if gaps:
            status += "<br><small>" + escape(_("not covered") + ": " + gaps) + "</small>"
        quantity = _("noise") if c["quantity"] == Quantity.NOISE else _("light")
        span = max(len(c["record_details"]), 1)
        period = self.doc["period"]
        if (c["from"], c["to"]) == (period["from"], period["to"]):
            installed = '<small class="whole-period">' + escape(_("the whole period")) + "</small>"
        else:
            installed = f"<small>{escape(c['from'])} – {escape(c['to'])}</small>"
        lead = (
            f'<td rowspan="{span}"><b>{escape(c["sensor"])}</b><br><small>{escape(c["model"])}</small></td>'
            f'<td rowspan="{span}">{escape(quantity)}</td><td rowspan="{span}">{escape(c["seat"])}<br>'
            f'{installed}</td><td rowspan="{span}">{status}</td>'
        )
        if not c["record_details"]:
            text = ", ".join(c["records"]) or _("no record")
            return f'<tbody class="sensor"><tr>{lead}<td colspan="3">{escape(text)}</td></tr></tbody>'
        rows = [
            f"<tr>{lead if i == 0 else ''}{self.record_cells(r)}</tr>"
            for i, r in enumerate(c["record_details"])
        ]
        return f'<tbody class="sensor">{"".join(rows)}</tbody>'

    def standard_title(self, sid: str) -> str:
        std = next((s for s in self.doc["standards"] if s["id"] == sid), None)
        if std is None:
            return escape(sid)
        return f"{escape(std['id'])}《{escape(std['title_zh'])}》<i>{escape(std['title_en'])}</i>"

    def basis(self) -> str:
        _ = self._
        p = self.doc["profile_detail"]
        zh = self.doc["lang"] == "zh-CN"
        description = p["description_zh"] if zh and p["description_zh"] else p["description"]
        notes = []
        for s in self.doc["standards"]:
            if s["note_en"]:
                translation = (
                    '<p class="translation">' + escape(_("Chinese rendering:") + " " + s["note_zh"]) + "</p>"
                    if s["note_zh"]
                    else ""
                )
                said = escape(_("Its explanatory note says:"))
                notes.append(
                    f"<p>{self.standard_title(s['id'])} — {said}</p>"
                    f"<blockquote>“{escape(s['note_en'])}”</blockquote>{translation}"
                )
        standards = "".join(f"<li>{self.standard_title(s['id'])}</li>" for s in self.doc["standards"])
        rows = []
        for row in self.doc["limits"]:
            sign = "≤" if row["direction"] == "max" else "≥"
            which = {"required": _("required"), "target": _("target"), "both": _("required and target")}
            conf = row["confidence"] + (" — " + _("provisional") if row["provisional"] else "")
            cls = ' class="provisional-row"' if row["provisional"] else ""
            rows.append(
                f"<tr{cls}><td>{escape(zone_kind_word(_, row['zone_kind']))}</td>"
                f"<td>{escape(row['check'])}</td>"
                f'<td>{escape(which[row["limit"]])}</td><td class="num">{sign} {row["value"]:g} '
                f"{escape(row['unit'])}</td><td>{self.standard_title(row['standard'])}</td>"
                f"<td>{escape(row['clause'])}</td><td>{escape(conf)}</td></tr>"
            )
        provisional = _(
            "{n} of these {total} limits have confidence L and are provisional: values to be confirmed, not "
            "the standard's word. No limit here is the association standard's own value, which was not "
            "available; a site holding its text replaces these values in its own profile."
        ).format(n=sum(r["provisional"] for r in self.doc["limits"]), total=len(self.doc["limits"]))
        head = (
            _("zone kind"),
            _("check"),
            _("limit"),
            _("value"),
            _("standard"),
            _("clause"),
            _("confidence"),
        )
        thead = "<thead><tr>" + "".join(f"<th>{escape(h)}</th>" for h in head) + "</tr></thead>"
        cited = _("Standards cited (official Chinese title, English title):")
        every = _("Every limit this profile judges by, with its clause and confidence:")
        return (
            f"{''.join(notes)}<p>{escape(description)}</p>"
            f"<p>{escape(cited)}</p><ul>{standards}</ul><p>{escape(every)}</p>"
            f'<table id="limits">{thead}<tbody>{"".join(rows)}</tbody></table>'
            f'<p class="note">{escape(provisional)}</p>'
        )

    def method(self) -> str:
        _ = self._
        m = self.doc["method"]
        sources = {
            "raw": _("the readings, aggregated per bucket in the database"),
            "rollups": _("the hourly rollups computed from the same aggregates (they give the same figures)"),
        }
        said = _("Figures in this report were computed from {source}.").format(
            source=sources.get(m["source"], m["source"])
        )
        notes = "".join(f"<dt>{escape(n['heading'])}</dt><dd>{escape(n['text'])}</dd>" for n in m["notes"])
        return f"<p>{escape(said)}</p><dl>{notes}</dl>"

    def sign_off(self) -> str:
        _ = self._
        roles = (_("Prepared by"), _("Reviewed by"), _("Approved by"))
        words = (_("Name:"), _("Signature:"), _("Date:"))
        rows = "".join(
            f"<tr><th>{escape(r)}</th>"
            + "".join(f'<td class="line">{escape(w)}</td>' for w in words)
            + "</tr>"
            for r in roles
        )
        return f'<table class="signoff">{rows}</table>'

    def page_css(self) -> str:
        """@page rules: A4, the document number at the top, "page x of y" in the report's language."""
        pattern = self._("Page {page} of {pages}")
        parts = []
        for piece in pattern.replace("{pages}", "\0pages\0").replace("{page}", "\0page\0").split("\0"):
            if piece in ("page", "pages"):
                parts.append(f"counter({piece})")
            elif piece:
                parts.append(json.dumps(piece, ensure_ascii=False))
        number = json.dumps(self._("Document number") + " " + self.doc["document_number"], ensure_ascii=False)
        return (
            f"@page {{ size: A4; margin: 18mm 14mm 18mm 14mm; "
            f"@top-right {{ content: {number}; font: 8pt {FONTS}; color: #566; }} "
            f"@bottom-center {{ content: {' '.join(parts)}; font: 8pt {FONTS}; word-spacing: 0.25em; }} }}"
        )

    def facts(self) -> str:
        _ = self._
        d = self.doc
        rows = (
            (_("Site"), f"{d['site_name']} ({d['site']})"),
            (_("Period"), f"{d['period']['from']} — {d['period']['to']}"),
            (_("Time zone"), d["timezone"]),
            (_("Rules profile"), f"{d['profile_detail']['name']} ({d['profile']})"),
            (_("Document number"), d["document_number"]),
            (_("Generated"), d["generated_at"]),
        )
        body = "".join(f"<tr><th>{escape(k)}</th><td>{escape(v)}</td></tr>" for k, v in rows)
        return f'<table class="facts">{body}</table>'

    def summary(self) -> str:
        s = self.doc["summary"]
        seats = escape(self._("seats"))
        tiles = [f'<div class="tile v-seats"><b>{s["seats"]}</b>{seats}</div>']
        tiles += [
            f'<div class="tile v-{v}"><b>{s[v]}</b>{escape(verdict_word(self._, v))}</div>' for v in Verdict
        ]
        return f'<div class="tiles">{"".join(tiles)}</div>'

    def render(self) -> str:
        _ = self._
        d = self.doc
        css = (HERE / "report.css").read_text(encoding="utf-8")
        script = (HERE / "report.js").read_text(encoding="utf-8")
        data = json.dumps(d, ensure_ascii=False).replace("</", "<\\/")
        legend = "".join(
            f'<span><i style="background:{VERDICT_COLOURS[v]}"></i>{escape(verdict_word(_, v))}</span>'
            for v in Verdict
        )
        title = escape(_("Workplace noise and lighting compliance report"))
        provisional = any(c["confidence"] == "L" for s in d["seats"] for c in s["checks"])
        starred = _(
            "* Limits marked with an asterisk have confidence L: provisional values, to be confirmed, "
            "not the standard's word."
        )
        note = f'<p class="note">{escape(starred)}</p>' if provisional else ""
        judged = _(
            "{seats} seats were judged over the period against the limits below. A seat's verdict is the "
            "worst of its checks; a zone's is that of its own checks."
        ).format(seats=d["summary"]["seats"])
        ui = {
            "noise_chart": _("LAeq over occupied hours, per day"),
            "light_chart": _("lowest hourly mean illuminance over occupied hours, per day"),
            "no_readings": _("no readings"),
            "colours": dict(VERDICT_COLOURS),  # the charts' required (fail) and target (pass) lines
        }
        h = {
            "compliance_snapshot": escape(_("Compliance snapshot")),
            "summary": escape(_("Summary")),
            "floor_plan": escape(_("Floor plan")),
            "seat_charts": escape(_("Seat charts")),
            "seat": escape(_("Seat")),
            "seats_and_checks": escape(_("Seats and checks")),
            "zones": escape(_("Zones")),
            "instruments_and_their_calibration": escape(_("Instruments and their calibration")),
            "method": escape(_("Method")),
            "standards_basis": escape(_("Standards basis")),
            "sign_off": escape(_("Sign-off")),
        }
        return f"""<!DOCTYPE html>
<html lang="{escape(d["lang"])}"><head><meta charset="utf-8">
<title>{title} — {escape(d["site_name"] or d["site"])}</title>
<style>{self.page_css()}
{verdict_css()}
{css}</style></head><body>
<section class="cover">
<p class="kicker">{h["compliance_snapshot"]}</p>
<h1>{title}</h1>
<p class="site-name">{escape(d["site_name"] or d["site"])}</p>
{self.facts()}
{self.summary()}
</section>
<section id="summary">
<h2>{h["summary"]}</h2>
<p>{escape(judged)}</p>
{note}
<h2>{h["floor_plan"]}</h2>
<div class="legend">{legend}</div>
{floor_plan_svg(d)}
</section>
<section id="zone-table">
<h2>{h["zones"]}</h2>
{self.zones()}
</section>
<section class="interactive">
<h2>{h["seat_charts"]}</h2>
<label>{h["seat"]} <select id="seat-select"></select></label>
<div class="charts" id="seat-charts"></div>
</section>
<section id="seat-table">
<h2>{h["seats_and_checks"]}</h2>
{self.seats()}
</section>
<section id="instruments">
<h2>{h["instruments_and_their_calibration"]}</h2>
{self.calibration()}
</section>
<section id="method">
<h2>{h["method"]}</h2>
{self.method()}
</section>
<section id="basis">
<h2>{h["standards_basis"]}</h2>
{self.basis()}
</section>
<section id="sign-off">
<h2>{h["sign_off"]}</h2>
{self.sign_off()}
</section>
<script type="application/json" id="report-data">{data}</script>
<script type="application/json" id="report-ui">{json.dumps(ui, ensure_ascii=False)}</script>
<script>{script}</script>
</body></html>
"""


def verdict_css() -> str:
    """The verdict labels' and tiles' colours (``v-<verdict>``), the floor plan's: one map for all."""
    return " ".join(
        f".v-{verdict} {{ background: {colour}; }}" for verdict, colour in VERDICT_COLOURS.items()
    )


def report_html(doc: dict[str, Any]) -> str:
    """The whole page for a report document."""
    return _Page(doc).render()
