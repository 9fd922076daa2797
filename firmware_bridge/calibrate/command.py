"""``seatwatch calibrate noise|light|list|show|due``: the installer's guided calibration and its history.

``noise`` and ``light`` read the sensor live, wait for a stable window, compute the correction and keep
it as a record (record_store.py says where). ``list``, ``show`` and ``due`` are the auditor's view.
Bad input exits 2 with a message naming what is wrong; a refused calibration exits 1 and records nothing.
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

from firmware_bridge.calibrate import certificate, light, noise
from firmware_bridge.calibrate.broker import BrokerError
from firmware_bridge.calibrate.live_source import LiveReadings
from firmware_bridge.calibrate.readout import Readout
from firmware_bridge.calibrate.record_store import HistoryError, RecordStore
from firmware_bridge.calibrate.supersede import describe_drift, next_record
from firmware_bridge.calibrate.window import CalibrationRefused, wait_for_stable
from seatwatch.calibration import CalibrationBook, CalibrationRecord, Instrument
from seatwatch.config_errors import ConfigError
from seatwatch.contract import NOISE_RANGE_DB, Reading
from seatwatch.line_protocol import WriteError
from seatwatch.settings import load_services
from seatwatch.site import Sensor, Site
from seatwatch.site_file import load_site
from seatwatch.wording import plural, site_time

EXIT_REFUSED = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130


class UsageError(ValueError):
    """Bad input on the command line; the message names the option and the value."""


def _positive(kind: type[int] | type[float]) -> Callable[[str], float]:
    def parse(text: str) -> float:
        value = kind(text)
        if not (math.isfinite(value) and value > 0):
            raise ValueError
        return value

    parse.__name__ = f"positive {kind.__name__}"
    return parse


def _iso_date(text: str) -> str:
    return date.fromisoformat(text).isoformat()


_iso_date.__name__ = "ISO date (YYYY-MM-DD)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    parser.epilog = (
        "examples:\n"
        "  seatwatch calibrate noise --site site.toml --sensor ref-001 --reference-db 94.0 --post-check\n"
        "  seatwatch calibrate light --site site.toml --sensor ref-001 --reference-lux 520\n"
        "  seatwatch calibrate due --site site.toml --days 30"
    )
    noise_p = sub.add_parser(
        "noise",
        help="calibrate a noise sensor with a sound calibrator",
        description="Hold a sound calibrator (IEC 60942, 94 or 114 dB at 1 kHz) on the sensor's microphone; "
        "the live readings of a stable window give the offset, kept as a record ingest applies from now on.",
        epilog="example:\n  seatwatch calibrate noise --site site.toml --sensor ref-001 --reference-db 94.0 "
        "--post-check --operator 'Li Wei'",
    )
    light_p = sub.add_parser(
        "light",
        help="calibrate a light sensor against a reference lux meter",
        description="Fit the sensor's lux gain against a reference meter held at the work plane (0.75 m): "
        "live (--reference-lux, repeatable) or from points measured earlier (--point RAW:REF).",
        epilog="examples:\n"
        "  seatwatch calibrate light --site site.toml --sensor ref-001 --reference-lux 520\n"
        "  seatwatch calibrate light --site site.toml --sensor lx-w-01 --point 442:520 --point 180:212",
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
        "--reference-lux",
        type=_positive(float),
        action="append",
        default=[],
        metavar="LX",
        help="reference meter reading now, in lx; paired with the sensor's live reading (repeatable; "
        "default: none, then --point is needed)",
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
    for p, duration in ((noise_p, 10.0), (light_p, 3.0)):
        p.add_argument("--sensor", required=True, help="sensor id")
        p.add_argument(
            "--duration",
            type=_positive(float),
            default=duration,
            metavar="S",
            help="length of the stable window, in seconds (default: %(default)s)",
        )
        p.add_argument(
            "--timeout",
            type=_positive(float),
            default=60.0,
            metavar="S",
            help="give up after this many seconds without a stable window (default: %(default)s)",
        )
        p.add_argument("--operator", default="", help="who calibrated (default: none recorded)")
        p.add_argument("--instrument-model", default="", help="reference instrument model (default: none)")
        p.add_argument(
            "--instrument-serial", default="", help="reference instrument serial number (default: none)"
        )
        p.add_argument(
            "--instrument-class",
            default="",
            help="e.g. 'IEC 60942 class 1', 'GB/T 5700 grade 1' (default: none)",
        )
        p.add_argument(
            "--instrument-cert-date",
            type=_iso_date,
            default=None,
            metavar="YYYY-MM-DD",
            help="date of the reference instrument's own calibration certificate (default: none)",
        )
        p.add_argument(
            "--valid-days",
            type=_positive(int),
            default=365,
            metavar="DAYS",
            help="how many days the record stays valid (default: %(default)s)",
        )
        p.add_argument("--notes", default="", help="free text kept with the record (default: none)")
        p.add_argument(
            "--certificate",
            type=Path,
            metavar="DIR",
            help="also write the HTML certificate here (default: not written)",
        )

    list_p.add_argument("--sensor", help="only this sensor (default: every sensor)")
    list_p.add_argument("--json", action="store_true", help="export all records as a JSON array")
    show_p.add_argument("id", help="record id")
    show_p.add_argument(
        "--publish", action="store_true", help="publish the record again (retained) and write it to InfluxDB"
    )
    show_p.add_argument(
        "--html", type=Path, metavar="OUT.html", help="write the printable certificate (default: not written)"
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


def run(args: argparse.Namespace) -> int:
    try:
        site = load_site(args.site)
        services = load_services(site.services, base=site.path.parent if site.path else None)
        context = _Context(
            site, RecordStore(site.id, services, args.state_dir), lambda s: LiveReadings(services, site.id, s)
        )
        return _ACTIONS[args.action](args, context)
    except ConfigError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        return EXIT_USAGE
    except UsageError as exc:
        print(f"seatwatch calibrate {args.action}: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except CalibrationRefused as exc:
        print(f"\ncalibration refused: {exc}\nnothing was recorded.", file=sys.stderr)
        return EXIT_REFUSED
    except (BrokerError, HistoryError) as exc:
        print(f"seatwatch calibrate {args.action}: {exc}", file=sys.stderr)
        return EXIT_REFUSED
    except KeyboardInterrupt:
        print("\ninterrupted: a record was kept only if its id was printed above.", file=sys.stderr)
        return EXIT_INTERRUPTED


def _sensor(site: Site, sensor_id: str, quantity: str) -> Sensor:
    sensor = site.sensors.get(sensor_id)
    if sensor is None:
        raise UsageError(f"--sensor {sensor_id!r} is not a sensor of site {site.id!r} ({site.path})")
    if quantity not in sensor.measures:
        raise UsageError(f"--sensor {sensor_id!r} measures {', '.join(sensor.measures)}, not {quantity}")
    return sensor


def _noise(args: argparse.Namespace, context: _Context) -> int:
    sensor = _sensor(context.site, args.sensor, "noise")
    if not NOISE_RANGE_DB[0] < args.reference_db < NOISE_RANGE_DB[1]:
        raise UsageError(f"--reference-db {args.reference_db:g} is not a sound level")
    if args.reference_db not in (94.0, 114.0):
        print(
            f"note: calibrators produce 94 or 114 dB (IEC 60942); using {args.reference_db:g} dB",
            file=sys.stderr,
        )
    judge = noise.noise_judge(args.reference_db, args.max_spread, sensor.noise_floor_db)
    readout = Readout(
        sys.stderr, lambda last, v: f"{last:6.2f} dB  Leq {v.value:6.2f} dB  spread {v.spread:.2f} dB"
    )
    what = f"noise readings of {sensor.id}"
    print(
        f"seat the calibrator ({args.reference_db:g} dB, 1 kHz) on {sensor.id}'s microphone…", file=sys.stderr
    )
    with context.live(sensor) as source:
        found = wait_for_stable(source, _laeq, args.duration, args.timeout, judge, readout, what)
        readout.finish()
        offset = noise.noise_offset(args.reference_db, found.value)
        post_deviation = None
        if args.post_check:
            print("post-check: keep the calibrator seated…", file=sys.stderr)
            again = wait_for_stable(source, _laeq, args.duration, args.timeout, judge, readout, what)
            readout.finish()
            check = noise.post_check(args.reference_db, offset, again.value)
            if not check.valid:
                raise CalibrationRefused(
                    f"post-check read {again.value + offset:.2f} dB with the new offset, "
                    f"{check.drift_db:+.2f} dB from {args.reference_db:g} dB "
                    f"(limit {check.limit_db:g} dB, GB 3096): calibrate again"
                )
            post_deviation = check.drift_db
    print(
        f"{sensor.id}: measured {found.value:.2f} dB (energy mean over {args.duration:g} s, spread "
        f"{found.spread:.2f} dB) against the calibrator's {args.reference_db:g} dB\n"
        f"offset {offset:+.2f} dB (calibrated = raw + offset)"
    )
    evidence = f"window {args.duration:g} s: {found.value:.2f} dB, spread {found.spread:.2f} dB"
    return _record(
        args,
        context,
        sensor,
        offset,
        args.reference_db,
        found.value - args.reference_db,
        post_deviation,
        evidence,
    )


def _light(args: argparse.Namespace, context: _Context) -> int:
    sensor = _sensor(context.site, args.sensor, "light")
    try:
        points = [light.parse_point(text) for text in args.point]
    except ValueError as exc:
        raise UsageError(str(exc)) from exc
    if not points and not args.reference_lux:
        raise UsageError("give at least one --reference-lux LX (read live) or --point RAW:REF")
    judge = light.lux_judge(args.max_spread_pct / 100)
    readout = Readout(
        sys.stderr, lambda last, v: f"{last:8.1f} lx  mean {v.value:8.1f} lx  spread {100 * v.spread:.1f} %"
    )
    if args.reference_lux:
        with context.live(sensor) as source:
            for n, reference in enumerate(args.reference_lux):
                if n and sys.stdin.isatty():
                    input(
                        f"place the reference meter for point {n + 1} ({reference:g} lx), then press Enter: "
                    )
                found = wait_for_stable(
                    source,
                    _lux,
                    args.duration,
                    args.timeout,
                    judge,
                    readout,
                    f"light readings of {sensor.id}",
                )
                readout.finish()
                points.append((found.value, reference))
    fit = light.fit_gain(points, args.tolerance_pct / 100)
    for (raw, reference), residual in zip(points, fit.residuals, strict=True):
        print(
            f"  point: sensor {raw:.1f} lx, reference {reference:g} lx, residual {residual:+.1f} lx "
            f"({100 * residual / reference:+.2f} %)"
        )
    print(
        f"{sensor.id}: gain {fit.gain:.4f} (calibrated = raw × gain), worst residual "
        f"{100 * fit.max_relative_residual:.2f} %"
    )
    evidence = "points (sensor lx → reference lx): " + ", ".join(f"{r:.1f}→{e:g}" for r, e in points)
    reference_value = max(e for _, e in points)
    return _record(
        args,
        context,
        sensor,
        fit.gain,
        reference_value,
        light.uncalibrated_deviation(points),
        fit.max_relative_residual,
        evidence,
    )


def _laeq(reading: Reading) -> float | None:
    return reading.laeq


def _lux(reading: Reading) -> float | None:
    return reading.lux


def _record(
    args: argparse.Namespace,
    context: _Context,
    sensor: Sensor,
    result: float,
    reference_value: float,
    pre_deviation: float,
    post_deviation: float | None,
    evidence: str,
) -> int:
    """Build, keep, distribute and (optionally) certify the record; the local history is written first."""
    store = context.store
    book, _source = store.book()
    record = next_record(
        book,
        sensor=sensor.id,
        quantity=args.action,
        result=result,
        reference_value=reference_value,
        instrument=Instrument(
            args.instrument_model,
            args.instrument_serial,
            args.instrument_class,
            args.instrument_cert_date or "",
        ),
        operator=args.operator,
        pre_deviation=pre_deviation,
        post_deviation=post_deviation,
        valid_days=args.valid_days,
        notes=" | ".join(part for part in (args.notes, evidence) if part),
    )
    store.append(record)
    until = site_time(record.valid_until, context.site.hours.timezone)
    print(f"record {record.id}, valid until {until}\n{describe_drift(record)}")
    print(f"kept in the history {store.path}")
    status = _distribute(context, record)
    if args.certificate:
        print(
            f"certificate {_write_certificate(context.site, record, args.certificate / f'{record.id}.html')}"
        )
    return status


def _distribute(context: _Context, record: CalibrationRecord) -> int:
    """Publish retained for ingest and write to InfluxDB; 1 if ingest could not be told (retry later)."""
    store = context.store
    status = 0
    try:
        print(f"published (retained) on {store.publish(record)}")
    except BrokerError as exc:
        print(
            f"warning: not published to ingest yet: {exc}\nwhen the broker is back, run: seatwatch calibrate "
            f"show {record.id} --site {context.site.path} --state-dir {store.path.parent} --publish",
            file=sys.stderr,
        )
        status = EXIT_REFUSED
    try:
        store.write_influx(record)
        print(f"written to InfluxDB database {store.services.influx_db!r}")
    except WriteError as exc:
        print(
            f"note: InfluxDB not written now ({exc}); ingest writes the record when it receives it",
            file=sys.stderr,
        )
    return status


def _write_certificate(site: Site, record: CalibrationRecord, path: Path) -> Path:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(certificate.render(record, site.id, site.name), encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot write the certificate {path}: {exc.strerror}") from exc
    return path


def _status(book: CalibrationBook, record: CalibrationRecord, now: datetime) -> str:
    current = book.in_force(record.sensor, record.quantity, now)
    if current is None or current.id != record.id:
        return "superseded" if record.performed_at <= now else "future"
    return "in force" if record.valid_at(now) else "expired"


def _list(args: argparse.Namespace, context: _Context) -> int:
    book, source = context.store.book()
    records = sorted(
        (r for s in context.site.sensors for q in ("noise", "light") for r in book.history(s, q)),
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
        return 0
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
    return 0


def _show(args: argparse.Namespace, context: _Context) -> int:
    book, source = context.store.book()
    found = [
        r
        for s in context.site.sensors
        for q in ("noise", "light")
        for r in book.history(s, q)
        if r.id == args.id
    ]
    if not found:
        raise UsageError(f"no calibration record {args.id!r} for site {context.site.id!r} in {source}")
    record = found[0]
    print(f"source: {source}", file=sys.stderr)
    print(json.dumps(json.loads(record.to_json()), indent=2, ensure_ascii=False))
    print(f"status: {_status(book, record, datetime.now(UTC))}; {describe_drift(record)}")
    if args.html:
        print(f"certificate {_write_certificate(context.site, record, args.html)}")
    return _distribute(context, record) if args.publish else 0


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
    return 0


_ACTIONS: dict[str, Callable[[argparse.Namespace, _Context], int]] = {
    "noise": _noise,
    "light": _light,
    "list": _list,
    "show": _show,
    "due": _due,
}
