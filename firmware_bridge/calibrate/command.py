"""``seatwatch calibrate noise|light|list|show|due``: the installer's guided calibration and its history.

``noise`` and ``light`` check their input and the reference's certificate, then guide the installer
(session.py) and keep the result as a record (recording.py). ``list``, ``show`` and ``due`` are the
auditor's view. Bad input exits 2 with a message naming what is wrong; a refused calibration exits 1 and
records nothing; Ctrl-D at a prompt exits 1 and Ctrl-C exits 130, both with nothing recorded.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from rich.console import Console
from rich.table import Table

from firmware_bridge.calibrate import certificate, light, noise, recording
from firmware_bridge.calibrate.broker import BrokerError
from firmware_bridge.calibrate.live_source import LiveReadings
from firmware_bridge.calibrate.prompts import Ended
from firmware_bridge.calibrate.readout import console
from firmware_bridge.calibrate.record_store import HistoryError, RecordStore
from firmware_bridge.calibrate.session import (
    Session,
    UsageError,
    light_plan,
    measure_light,
    measure_noise,
    stdin_is_terminal,
)
from firmware_bridge.calibrate.uncertainty import reference_class
from firmware_bridge.calibrate.window import CalibrationRefused
from seatwatch.core.calibration_records import (
    CalibrationBook,
    CalibrationRecord,
    Instrument,
    certificate_problem,
    missing_provenance,
)
from seatwatch.core.command_startup import EXIT_OK, EXIT_USAGE, load_site_and_services
from seatwatch.core.contract import NOISE_RANGE_DB
from seatwatch.core.i18n import LOCALES
from seatwatch.core.site import Sensor, Site
from seatwatch.core.vocabulary import Quantity
from seatwatch.core.wording import plural

EXIT_REFUSED = 1
EXIT_INTERRUPTED = 130

PROVENANCE_OPTIONS = {
    "operator": "--operator",
    "instrument.model": "--instrument-model",
    "instrument.serial": "--instrument-serial",
    "instrument.accuracy_class": "--instrument-class",
    "instrument.certificate_number": "--instrument-cert-number",
    "instrument.certificate_date": "--instrument-cert-valid-from",
    "instrument.certificate_valid_until": "--instrument-cert-valid-until",
}


def _positive(kind: type[int] | type[float]) -> Callable[[str], float]:
    def parse(text: str) -> float:
        value = kind(text)
        if not (math.isfinite(value) and value > 0):
            raise ValueError
        return value

    parse.__name__ = f"positive {kind.__name__}"
    return parse


def _between(low: float, high: float, unit: str) -> Callable[[str], float]:
    def parse(text: str) -> float:
        value = float(text)
        if not low <= value <= high:
            raise ValueError
        return value

    parse.__name__ = f"number from {low:g} to {high:g} {unit}"
    return parse


def _iso_date(text: str) -> str:
    day = date.fromisoformat(text)
    if not 2000 <= day.year <= 2099:
        raise ValueError
    return day.isoformat()


_iso_date.__name__ = "ISO date (YYYY-MM-DD) in 2000-2099"


def _measuring_arguments(p: argparse.ArgumentParser, duration: float) -> None:
    p.add_argument("--sensor", required=True, help="sensor id")
    p.add_argument(
        "--duration",
        type=_positive(float),
        default=duration,
        metavar="S",
        help="length of the stable window (default %(default)s s)",
    )
    p.add_argument(
        "--timeout",
        type=_positive(float),
        default=60.0,
        metavar="S",
        help="give up after this long without a stable window (default %(default)s s)",
    )
    who = p.add_argument_group("provenance (all required: a record without them is not evidence)")
    who.add_argument("--operator", default="", help="who calibrated (required, no default)")
    who.add_argument(
        "--instrument-model", default="", help="reference instrument model (required, no default)"
    )
    who.add_argument(
        "--instrument-serial", default="", help="reference instrument serial number (required, no default)"
    )
    who.add_argument(
        "--instrument-class", default="", help="e.g. 'IEC 60942 class 1', 'JJG 245 grade 1' (see docs)"
    )
    who.add_argument(
        "--instrument-cert-number",
        default="",
        help="number of the reference's certificate (required, no default)",
    )
    who.add_argument(
        "--instrument-cert-valid-from",
        "--instrument-cert-date",
        dest="instrument_cert_valid_from",
        type=_iso_date,
        metavar="YYYY-MM-DD",
        help="the reference's certificate is valid from (its date; required, no default)",
    )
    who.add_argument(
        "--instrument-cert-valid-until",
        type=_iso_date,
        metavar="YYYY-MM-DD",
        help="the reference's certificate is valid until, inclusive (required, no default)",
    )
    room = p.add_argument_group("ambient conditions (optional; printed on the certificate)")
    room.add_argument(
        "--temperature",
        type=_between(-20, 60, "°C"),
        metavar="°C",
        help="air temperature (default: not entered)",
    )
    room.add_argument(
        "--humidity",
        type=_between(0, 100, "%"),
        metavar="%RH",
        help="relative humidity (default: not entered)",
    )
    room.add_argument(
        "--pressure", type=_between(50, 120, "kPa"), metavar="KPA", help="air pressure (default: not entered)"
    )
    p.add_argument(
        "--confirm-unusual",
        action="store_true",
        help="accept a correction outside the sensor model's usual range (the certificate says so)",
    )
    p.add_argument("--valid-days", type=_positive(int), default=365, help="validity (default %(default)s)")
    p.add_argument("--notes", default="", help="free text kept with the record (default: none)")
    p.add_argument(
        "--certificate",
        type=Path,
        metavar="DIR",
        help="where to write the HTML certificate (default: certificates/ in the state folder)",
    )


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    provenance = (
        "--operator 'Li Wei' --instrument-model 'B&K 4231' --instrument-serial 2458913 \\\n"
        "      --instrument-class 'IEC 60942 class 1' --instrument-cert-number JL-2026-0117 \\\n"
        "      --instrument-cert-valid-from 2026-01-10 --instrument-cert-valid-until 2027-01-09"
    )
    parser.epilog = (
        "examples:\n"
        "  seatwatch calibrate noise --site site.toml --sensor ref-001 --post-check PROVENANCE\n"
        "  seatwatch calibrate light --site site.toml --sensor ref-001 --points 3 PROVENANCE\n"
        "  seatwatch calibrate due --site site.toml --days 30\n"
        "PROVENANCE: --operator, --instrument-model/-serial/-class/-cert-number/-cert-valid-from/-until"
    )
    noise_p = sub.add_parser(
        "noise",
        help="calibrate a noise sensor with a sound calibrator",
        description="Hold a sound calibrator (IEC 60942, 94 or 114 dB at 1 kHz) on the sensor's microphone; "
        "the live readings of a stable window give the offset, kept as a record ingest applies from now on. "
        "The broker is checked first; Ctrl-D at a prompt exits 1, Ctrl-C 130, with nothing recorded.",
        epilog="example:\n  seatwatch calibrate noise --site site.toml --sensor ref-001 --reference-db 94.0 "
        f"--post-check \\\n      {provenance}",
    )
    light_p = sub.add_parser(
        "light",
        help="calibrate a light sensor against a reference lux meter",
        description="Fit the sensor's lux gain against a reference meter held at the work plane (0.75 m). "
        "For each point: set the lighting, wait for the sensor to settle, type what the meter reads. "
        "Points measured earlier: --point RAW:REF.",
        epilog="examples:\n"
        "  seatwatch calibrate light --site site.toml --sensor ref-001 --points 3 PROVENANCE\n"
        "  seatwatch calibrate light --site site.toml --sensor lx-w-01 --point 442:520 --point 180:212 "
        "PROVENANCE\n"
        "PROVENANCE as for noise, with e.g. --instrument-class 'JJG 245 grade 1'",
    )
    list_p = sub.add_parser(
        "list",
        help="list the calibration history",
        description="List every calibration record kept on this machine (calibrations.jsonl), newest last.",
        epilog="example:\n  seatwatch calibrate list --site site.toml --sensor ref-001",
    )
    show_p = sub.add_parser(
        "show",
        help="show one record (and write its certificate)",
        description="Show one calibration record in full; optionally write its printable certificate or "
        "publish it again.",
        epilog="example:\n  seatwatch calibrate show RECORD-ID --site site.toml --html cert.html",
    )
    due_p = sub.add_parser(
        "due",
        help="list sensors whose calibration is missing or due soon",
        description="List the sensors with no valid calibration, or one that expires within --days.",
        epilog="example:\n  seatwatch calibrate due --site site.toml --days 30",
    )
    for p in (noise_p, light_p, list_p, show_p, due_p):
        p.add_argument("--site", required=True, metavar="SITE.toml", help="the site file")
        p.add_argument(
            "--state-dir",
            type=Path,
            metavar="DIR",
            help="folder of calibrations.jsonl (default: SEATWATCH_STATE_DIR, else services.state_dir)",
        )

    noise_p.add_argument(
        "--reference-db",
        type=_positive(float),
        default=94.0,
        metavar="DB",
        help="the calibrator's level in dB re 20 µPa (default: %(default)s)",
    )
    noise_p.add_argument(
        "--max-spread",
        type=_positive(float),
        default=noise.MAX_SPREAD_DB,
        metavar="DB",
        help="largest spread of a stable window, in dB (default: %(default)s)",
    )
    noise_p.add_argument(
        "--post-check",
        action="store_true",
        help="measure a second window with the new offset; refuse if it drifts over 0.5 dB",
    )
    light_p.add_argument(
        "--points",
        type=_positive(int),
        metavar="N",
        help="points to measure live, one lighting level each (default 1)",
    )
    light_p.add_argument(
        "--reference-lux",
        type=_positive(float),
        action="append",
        default=[],
        metavar="LX",
        help="the meter's reading for the next live point instead of asking, in lx (repeatable; for "
        "scripts; default: asked at the prompt)",
    )
    light_p.add_argument(
        "--point",
        action="append",
        default=[],
        metavar="RAW:REF",
        help="a point measured earlier: sensor lux : reference lux (repeatable; default: none)",
    )
    light_p.add_argument(
        "--max-spread-pct",
        type=_positive(float),
        default=100 * light.MAX_SPREAD,
        help="largest spread of a stable window, in %% of its mean (default: %(default)s)",
    )
    light_p.add_argument(
        "--tolerance-pct",
        type=_positive(float),
        default=100 * light.MAX_RESIDUAL,
        help="largest residual of a point, in %% (default: %(default)s)",
    )
    _measuring_arguments(noise_p, 10.0)
    _measuring_arguments(light_p, 3.0)

    list_p.add_argument("--sensor", help="only this sensor (default: every sensor)")
    list_p.add_argument("--json", action="store_true", help="export all records as a JSON array")
    show_p.add_argument("id", help="record id")
    show_p.add_argument("--json", action="store_true", help="the record as JSON, for machines")
    show_p.add_argument(
        "--publish", action="store_true", help="publish the record again (retained) and write it to InfluxDB"
    )
    show_p.add_argument(
        "--html", type=Path, metavar="OUT.html", help="write the printable certificate (default: not written)"
    )
    show_p.add_argument(
        "--lang",
        choices=LOCALES,
        help="language of the certificate (default: the site's locale; other than en, it is bilingual)",
    )
    due_p.add_argument(
        "--days",
        type=int,
        default=30,
        metavar="DAYS",
        help="also list what expires within this many days from now (default: %(default)s)",
    )


@dataclass(frozen=True)
class _Context:
    site: Site
    store: RecordStore
    live: Callable[[Sensor], LiveReadings]
    out: Console
    err: Console


def run(args: argparse.Namespace) -> int:
    err = console(stderr=True)
    store: RecordStore | None = None
    site, services = load_site_and_services(args.site)  # a ConfigError: seatwatch.cli prints it, exit 2
    try:
        store = RecordStore(site.id, services, args.state_dir)
        context = _Context(site, store, lambda s: LiveReadings(services, site.id, s), console(), err)
        return _ACTIONS[args.action](args, context)
    except UsageError as exc:
        print(f"seatwatch calibrate {args.action}: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except CalibrationRefused as exc:
        err.print(f"\ncalibration refused: {exc}\nnothing was recorded.")
        return EXIT_REFUSED
    except Ended as exc:
        err.print(f"{exc}: nothing was recorded.")
        return EXIT_REFUSED
    except (BrokerError, HistoryError) as exc:
        print(f"seatwatch calibrate {args.action}: {exc}", file=sys.stderr)
        return EXIT_REFUSED
    except KeyboardInterrupt:
        kept = store is not None and store.appended
        err.print(
            "\ninterrupted: " + ("the record printed above was kept." if kept else "nothing was recorded.")
        )
        return EXIT_INTERRUPTED


def _sensor(site: Site, sensor_id: str, quantity: str) -> Sensor:
    sensor = site.sensors.get(sensor_id)
    if sensor is None:
        raise UsageError(f"--sensor {sensor_id!r} is not a sensor of site {site.id!r} ({site.path})")
    if quantity not in sensor.measures:
        raise UsageError(f"--sensor {sensor_id!r} measures {', '.join(sensor.measures)}, not {quantity}")
    return sensor


def _instrument(args: argparse.Namespace) -> Instrument:
    """The reference with its provenance, checked before anyone seats a calibrator: missing fields and
    an unknown class are usage errors (2); a certificate that does not cover today refuses (1)."""
    instrument = Instrument(
        args.instrument_model.strip(),
        args.instrument_serial.strip(),
        args.instrument_class.strip(),
        args.instrument_cert_valid_from or "",
        args.instrument_cert_number.strip(),
        args.instrument_cert_valid_until or "",
    )
    missing = missing_provenance(args.operator, instrument)
    if missing:
        options = ", ".join(PROVENANCE_OPTIONS[key] for key in missing)
        raise UsageError(f"a calibration record must name its provenance; missing: {options}")
    try:
        reference_class(instrument.accuracy_class, args.action)
    except ValueError as exc:
        raise UsageError(str(exc)) from exc
    problem = certificate_problem(instrument, datetime.now(UTC).date())
    if problem:
        raise CalibrationRefused(
            f"the reference {instrument.model} (serial {instrument.serial}): {problem} — use a reference "
            "with a current certificate"
        )
    return instrument


def _calibrate(args: argparse.Namespace, context: _Context) -> int:
    sensor = _sensor(context.site, args.sensor, args.action)
    if args.action == "noise" and not NOISE_RANGE_DB[0] < args.reference_db < NOISE_RANGE_DB[1]:
        raise UsageError(f"--reference-db {args.reference_db:g} is not a sound level")
    if args.action == "light":
        light_plan(args)  # bad --point / --points are usage errors, before anything else
    instrument = _instrument(args)
    ref = reference_class(instrument.accuracy_class, args.action)
    if args.action == "noise" and args.reference_db not in (94.0, 114.0):
        context.err.print(
            f"note: calibrators produce 94 or 114 dB (IEC 60942); using {args.reference_db:g} dB"
        )
    session = Session(context.err, context.live, stdin_is_terminal())
    measure = measure_noise if args.action == "noise" else measure_light
    measured = measure(args, session, sensor, ref)
    record = recording.build(args, context.store, context.site, sensor, instrument, measured)
    folder = args.certificate or context.store.path.parent / "certificates"
    return recording.keep(context.out, context.err, context.store, context.site, record, measured, folder)


def _status(book: CalibrationBook, record: CalibrationRecord, now: datetime) -> str:
    current = book.in_force(record.sensor, record.quantity, now)
    if current is None or current.id != record.id:
        return "superseded" if record.performed_at <= now else "future"
    return "in force" if record.valid_at(now) else "expired"


def _list(args: argparse.Namespace, context: _Context) -> int:
    book, source = context.store.book()
    records = sorted(
        (r for s in context.site.sensors for q in Quantity for r in book.history(s, q)),
        key=lambda r: (r.performed_at, r.sensor),
    )
    unknown = len(book) - len(records)
    if args.sensor:
        records = [r for r in records if r.sensor == args.sensor]
    print(f"source: {source}", file=sys.stderr)
    if unknown:
        print(f"note: {unknown} records name sensors not in {args.site}", file=sys.stderr)
    if args.json:
        print(json.dumps([json.loads(r.to_json()) for r in records], indent=2, ensure_ascii=False))
        return EXIT_OK
    now = datetime.now(UTC)
    tz = context.site.hours.timezone  # what the installer's clock said, with the offset
    for r in records:
        result = f"offset {r.offset_db:+.2f} dB" if r.quantity == "noise" else f"gain {r.gain:.4f}"
        flag = "  DRIFT FLAGGED" if r.drift_flagged else ""
        print(
            f"{r.performed_at.astimezone(tz):%Y-%m-%d %H:%M%z}  {r.sensor:<12} {r.quantity:<5}  {result:<18} "
            f"until {r.valid_until.astimezone(tz):%Y-%m-%d}  {_status(book, r, now):<10}  {r.id}{flag}"
        )
    print(plural(len(records), "record"))
    return EXIT_OK


def _show(args: argparse.Namespace, context: _Context) -> int:
    book, source = context.store.book()
    found = [r for s in context.site.sensors for q in Quantity for r in book.history(s, q) if r.id == args.id]
    if not found:
        raise UsageError(f"no calibration record {args.id!r} for site {context.site.id!r} in {source}")
    record = found[0]
    context.err.print(f"source: {source}", soft_wrap=True)
    if args.json:
        print(json.dumps(json.loads(record.to_json()), indent=2, ensure_ascii=False))
    else:
        table = Table(show_header=False, box=None, padding=(0, 1))
        table.add_column(style="bold", no_wrap=True)
        table.add_column(overflow="fold")
        table.add_row("Status", _status(book, record, datetime.now(UTC)))
        for row in certificate.rows(record, context.site):
            table.add_row(row.label, f"[red]{row.value}[/]" if row.flagged else row.value)
        context.out.print(table)
    if args.html:
        print(f"certificate {recording.write_certificate(context.site, record, args.html, args.lang)}")
    if args.publish:
        published, status = recording.distribute(context.err, context.store, context.site, record)
        print(f"published: {published}")
        return status
    return EXIT_OK


def _due(args: argparse.Namespace, context: _Context) -> int:
    book, source = context.store.book()
    print(f"source: {source}", file=sys.stderr)
    now = datetime.now(UTC)
    horizon = now + timedelta(days=args.days)
    tz = context.site.hours.timezone
    lines = []
    for sensor in sorted(context.site.sensors.values(), key=lambda s: s.id):
        for quantity in sensor.measures:
            record = book.in_force(sensor.id, quantity, now)
            if record is None:
                lines.append(f"{sensor.id:<12} {quantity:<5}  missing: never calibrated")
            elif record.valid_until <= now:
                lines.append(
                    f"{sensor.id:<12} {quantity:<5}  expired {record.valid_until.astimezone(tz):%Y-%m-%d}  "
                    f"({record.id})"
                )
            elif record.valid_until <= horizon:
                days = (record.valid_until - now).days
                lines.append(
                    f"{sensor.id:<12} {quantity:<5}  due in {plural(days, 'day')}, "
                    f"{record.valid_until.astimezone(tz):%Y-%m-%d}  "
                    f"({record.id})"
                )
    print("\n".join(lines) if lines else f"every sensor is calibrated for the next {args.days} days")
    if lines:
        verb = "needs" if len(lines) == 1 else "need"
        print(f"{plural(len(lines), 'sensor quantity')} {verb} calibration within {plural(args.days, 'day')}")
    return EXIT_OK


_ACTIONS: dict[str, Callable[[argparse.Namespace, _Context], int]] = {
    "noise": _calibrate,
    "light": _calibrate,
    "list": _list,
    "show": _show,
    "due": _due,
}
