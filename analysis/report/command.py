"""``seatwatch report``: judge a period and write report.json, seats.csv, zones.csv, report.html and
report.pdf to a private folder, in the site's language or the one ``--lang`` names."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from analysis.compliance.engine import NoDataError, assess
from analysis.compliance.inputs import InputError, add_common_arguments, load_inputs, report_input_error
from analysis.compliance.verdict import counts_text
from analysis.compliance.windows import PeriodError
from analysis.report.document import report_document
from analysis.report.html import report_html
from analysis.report.output_files import prepare_folder, private_file
from analysis.report.pdf import PdfUnavailable, write_pdf
from analysis.report.seats_csv import write_seats_csv, write_zones_csv
from seatwatch.core.calibration_records import load_records
from seatwatch.core.command_startup import EXIT_OK, EXIT_USAGE
from seatwatch.core.i18n import LOCALES, normalize_locale
from seatwatch.core.influxql import InfluxQLError
from seatwatch.core.wording import plural


def _lang(text: str) -> str:
    try:
        return normalize_locale(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from exc


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_common_arguments(parser)
    parser.add_argument(
        "--out", required=True, metavar="DIR", help="folder for report.json/.html/.pdf, seats.csv, zones.csv"
    )
    parser.add_argument(
        "--source",
        choices=("auto", "raw", "rollups"),
        default="auto",
        help="what to judge from: auto = the rollups 'seatwatch analyze' wrote when they cover the period, "
        "else the raw readings (default: %(default)s)",
    )
    parser.epilog = (
        "example (dates in the site's time zone):\n"
        "  seatwatch report --site /etc/seatwatch/site.toml --from 2026-11-01 --to 2026-12-01 --out nov/"
    )
    parser.add_argument(
        "--lang",
        type=_lang,
        metavar="|".join(LOCALES),
        help="language of the report (default: the site file's locale)",
    )
    parser.add_argument(
        "--document-number", metavar="TEXT", help="your document number (default: derived from the figures)"
    )
    parser.add_argument("--no-pdf", action="store_true", help="skip report.pdf")


def write_report(doc: dict, out: Path, pdf: bool = True) -> None:
    """Write the report files; raises PdfUnavailable after the others are written if the PDF cannot be."""
    warning = prepare_folder(out)
    if warning:
        print(f"seatwatch report: warning: {warning}", file=sys.stderr)
    with private_file(out / "report.json", encoding="utf-8") as f:
        f.write(json.dumps(doc, ensure_ascii=False, indent=1))
    write_seats_csv(doc, out / "seats.csv")
    write_zones_csv(doc, out / "zones.csv")
    html = report_html(doc)
    with private_file(out / "report.html", encoding="utf-8") as f:
        f.write(html)
    if pdf:
        write_pdf(html, out / "report.pdf")


def run(args: argparse.Namespace) -> int:
    out = Path(args.out)
    try:
        inputs = load_inputs(args)
        if out.exists() and not out.is_dir():
            raise InputError(f"--out {out} exists and is not a folder")
        assessment = assess(
            inputs.site,
            inputs.profile,
            inputs.client,
            inputs.start,
            inputs.end,
            args.min_coverage,
            args.source,
        )
        book = load_records(inputs.client, inputs.site.id)
    except (InputError, NoDataError, PeriodError) as exc:  # a ConfigError: seatwatch.cli prints it, exit 2
        return report_input_error("report", exc)
    except InfluxQLError as exc:  # the database is down or refuses us: an unavailable prerequisite
        print(f"seatwatch report: {exc}", file=sys.stderr)
        return EXIT_USAGE
    lang = args.lang or inputs.site.locale
    doc = report_document(assessment, lang, book, args.document_number)
    try:
        write_report(doc, out, pdf=not args.no_pdf)
    except OSError as exc:
        print(f"seatwatch report: cannot write to {out}: {exc.strerror}", file=sys.stderr)
        return EXIT_USAGE
    except PdfUnavailable as exc:
        print(f"seatwatch report: report.pdf not written: {exc}", file=sys.stderr)
        return EXIT_USAGE
    s = doc["summary"]
    print(f"{out}/report.html: {plural(s['seats'], 'seat')} — {counts_text(s)} ({lang})")
    return EXIT_OK
