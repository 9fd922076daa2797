"""seats.csv and zones.csv: one row per seat (or zone) and check, for the spreadsheet auditors filter.

UTF-8 with a byte-order mark, because Excel on Chinese Windows reads a CSV without one as GBK and garbles
every Chinese character. Each row carries the site and the period (site time with offset), so a sheet
pasted into another keeps its context. Headers are in the report's language; ids and verdict codes are
not translated, so filters keep working across languages.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from analysis.report.language import Gettext, report_gettext
from analysis.report.output_files import private_file
from seatwatch.core.vocabulary import Verdict


def _check_headers(_: Gettext) -> list[str]:
    return [
        _("check"),
        _("value label"),
        _("value"),
        _("required"),
        _("target"),
        _("unit"),
        _("verdict"),
        _("coverage"),
        _("confidence"),
        _("source"),
        _("reasons"),
    ]


def _check_cells(c: dict[str, Any]) -> list[Any]:
    return [
        c["check"],
        c["value_label"],
        c["value"],
        c["required"],
        c["target"],
        c["unit"],
        c["verdict"],
        c["coverage"],
        c["confidence"],
        c["source"],
        " | ".join(c["reasons"]),
    ]


def _context(doc: dict[str, Any]) -> list[str]:
    return [doc["site"], doc["site_name"], doc["period"]["from"], doc["period"]["to"]]


def _context_headers(_: Gettext) -> list[str]:
    return [_("site"), _("site name"), _("period from"), _("period to")]


def _write(path: Path, header: list[str], rows: Iterable[list[Any]]) -> None:
    with private_file(path) as f:
        writer = csv.writer(f)
        writer.writerow(header)
        writer.writerows(rows)


def write_seats_csv(doc: dict[str, Any], path: Path) -> None:
    _ = report_gettext(doc["lang"])
    header = [*_context_headers(_), _("seat"), _("zone"), _("seat verdict"), *_check_headers(_)]
    rows = (
        [*_context(doc), s["seat"], s["zone"], s["verdict"], *_check_cells(c)]
        for s in doc["seats"]
        for c in s["checks"]
    )
    _write(path, header, rows)


def write_zones_csv(doc: dict[str, Any], path: Path) -> None:
    """A row per zone check (uniformity), with the zone's seats counted by verdict beside it."""
    _ = report_gettext(doc["lang"])
    header = [
        *_context_headers(_),
        _("zone"),
        _("zone name"),
        _("zone kind"),
        _("area (m²)"),
        _("seats"),
        _("zone verdict"),
        *(_("seats {verdict}").format(verdict=v) for v in Verdict),
        *_check_headers(_),
    ]
    rows = []
    for z in doc["zones"]:
        head = [*_context(doc), z["zone"], z["name"], z["kind"], z["area_m2"], z["seats"], z["verdict"] or ""]
        head += [z["seat_verdicts"][v] for v in Verdict]
        checks = [_check_cells(c) for c in z["checks"]] or [[""] * len(_check_headers(_))]
        rows += [[*head, *cells] for cells in checks]
    _write(path, header, rows)
