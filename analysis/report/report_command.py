"""``seatwatch report``: judge a period and write report.json, seats.csv and report.html to a folder."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from analysis.compliance.engine import NoDataError, assess
from analysis.compliance.inputs import InputError, add_common_arguments, load_inputs, report_input_error
from analysis.compliance.windows import PeriodError
from analysis.report.document import report_document
from analysis.report.html import report_html
from analysis.report.seats_csv import write_seats_csv
from seatwatch.config_errors import ConfigError
from seatwatch.influxql import InfluxQLError
from seatwatch.wording import plural


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_common_arguments(parser)
    parser.add_argument("--out", required=True, metavar="DIR", help="folder for report.json/.html, seats.csv")
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


def write_report(doc: dict, out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    (out / "report.json").write_text(json.dumps(doc, ensure_ascii=False, indent=1), encoding="utf-8")
    write_seats_csv(doc, out / "seats.csv")
    (out / "report.html").write_text(report_html(doc), encoding="utf-8")


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
    except (ConfigError, InputError, NoDataError, PeriodError) as exc:
        return report_input_error("report", exc)
    except InfluxQLError as exc:  # the database is down or refuses us: an unavailable prerequisite
        print(f"seatwatch report: {exc}", file=sys.stderr)
        return 2
    doc = report_document(assessment)
    try:
        write_report(doc, out)
    except OSError as exc:
        print(f"seatwatch report: cannot write to {out}: {exc.strerror}", file=sys.stderr)
        return 2
    s = doc["summary"]
    print(
        f"{out}/report.html: {plural(s['seats'], 'seat')} — {s['pass']} pass, {s['marginal']} marginal, "
        f"{s['fail']} fail, {s['insufficient_data']} insufficient data"
    )
    return 0
